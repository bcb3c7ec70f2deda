"""Sheets as spreadsheet programs save them: tab-separated text is read, and text in another
encoding than UTF-8 gets a message that says what to change, with nothing written."""

from __future__ import annotations

from pathlib import Path

from kg.read.stats import stats
from kg.store import open_store
from tests.sheets import FINDING, STUDY

STUDY_COLUMNS = ["study_id", "title", "authors", "year", "doi", "design"]
FINDING_COLUMNS = ["finding_id", "study_id", "statement", "finding_kind", "professional_groups"]


def write(folder: Path, separator: str, encoding: str) -> Path:
    folder.mkdir()
    for name, columns, row in (
        ("studies", STUDY_COLUMNS, STUDY),
        ("findings", FINDING_COLUMNS, {**FINDING, "statement": "Sygeplejersker på afdelingen."}),
    ):
        lines = [separator.join(columns), separator.join(row.get(c, "") for c in columns)]
        (folder / f"{name}.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return folder


def test_a_tab_separated_sheet_imports(cli, fresh_store_path, tmp_path):
    ran = cli("import", str(write(tmp_path / "tabs", "\t", "utf-8")), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert "imported 1 study (newstudy2025) with 1 findings" in ran.out


def test_a_latin1_sheet_is_refused_with_what_to_change_and_nothing_written(
    cli, fresh_store_path, tmp_path
):
    before = stats(open_store(fresh_store_path))["triples"]
    ran = cli("import", str(write(tmp_path / "latin", ",", "latin-1")), store=fresh_store_path)
    assert ran.exit_code == 2
    assert "not UTF-8 text (row 2 cannot be read); save the CSV as 'CSV UTF-8'" in ran.err
    assert "Traceback" not in ran.err
    assert stats(open_store(fresh_store_path))["triples"] == before
