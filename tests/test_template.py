"""The coding-sheet template cannot trap anyone: its examples are never imported, its label
columns have dropdowns, and `qikg validate` and `qikg import --dry-run` agree on every file."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from kg.sheets import FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.examples import EXAMPLE_FINDING, EXAMPLE_STUDY
from kg.sheets.write import write_tables
from kg.store import open_store
from kg.studies import study_ids
from tests.sheets import FINDING, STUDY, finding, write_sheet


@pytest.fixture
def template(cli, fresh_store_path: str, tmp_path: Path) -> Path:
    out = tmp_path / "t.xlsx"
    assert cli("template", "-o", str(out), store=fresh_store_path).exit_code == 0
    return out


def verdicts(cli, store: str, path: Path) -> tuple:
    """(exit code, report text) of validate and of import --dry-run, for the same file."""
    checked = cli("validate", str(path), store=store)
    tried = cli("import", str(path), "--dry-run", store=store)
    return (checked.exit_code, checked.out + checked.err), (tried.exit_code, tried.err)


def test_the_untouched_template_imports_nothing_and_says_where_the_examples_are(
    cli, fresh_store_path, template
):
    before = study_ids(open_store(fresh_store_path))
    (checked, said), (tried, told) = verdicts(cli, fresh_store_path, template)
    assert checked == tried == 1
    for text in (said, told):
        assert "holds no studies and no findings" in text
        assert "example studies" in text and "your own study" in text
    assert cli("import", str(template), store=fresh_store_path).exit_code == 1
    assert study_ids(open_store(fresh_store_path)) == before


def test_the_examples_are_on_sheets_of_their_own(template):
    book = openpyxl.load_workbook(template)
    assert {"studies", "findings", "reviews", "example studies", "example findings"} <= set(
        book.sheetnames
    )
    assert book["studies"].max_row == 1 and book["findings"].max_row == 1
    assert book["example studies"]["A2"].value == EXAMPLE_STUDY["study_id"]


def test_label_columns_have_dropdowns_from_the_vocabulary_sheet(template):
    book = openpyxl.load_workbook(template)
    findings = book["findings"]
    header = [c.value for c in findings[1]]
    lists = {}
    for check in findings.data_validations.dataValidation:
        for cells in check.sqref.ranges:
            lists[header[cells.min_col - 1]] = check
    assert {"professional_groups", "enablers", "barriers", "outcomes", "outcome_direction"} <= set(
        lists
    )
    check = lists["outcome_direction"]
    assert check.type == "list" and check.formula1.startswith("=vocabulary!")
    assert not check.showErrorMessage  # "nurse; physician" stays allowed
    column = check.formula1.split("!$")[1].split("$")[0]
    vocab = book["vocabulary"]
    listed = [c.value for c in vocab[column][1:] if c.value]
    assert vocab[f"{column}1"].value == "outcome_direction"
    assert {"improved", "worsened", "no change", "mixed", "intended", "not measured"} <= set(listed)
    design = list(book["studies"].data_validations.dataValidation)
    assert design, "the studies sheet's design column has no dropdown"


def test_an_example_row_copied_into_the_sheet_is_refused_with_replace_or_delete(
    cli, fresh_store_path, tmp_path
):
    sheet = write_sheet(tmp_path / "copied.xlsx", [EXAMPLE_STUDY], [EXAMPLE_FINDING])
    (checked, said), (tried, told) = verdicts(cli, fresh_store_path, sheet)
    assert checked == tried == 1
    for text in (said, told):
        assert "this is the template's example study: replace it" in text
        assert "this is the template's example finding: replace its statement" in text
    assert "example2025" not in study_ids(open_store(fresh_store_path))


def test_a_finding_that_kept_the_examples_codes_gets_a_warning(cli, fresh_store_path, tmp_path):
    codes = {c: EXAMPLE_FINDING[c] for c in FINDING_COLUMNS if c in EXAMPLE_FINDING}
    kept = finding(
        **{c: v for c, v in codes.items() if c not in ("statement", "quote", "finding_id")}
    )
    kept.update(study_id=STUDY["study_id"], finding_id="F1", statement=FINDING["statement"])
    sheet = write_sheet(tmp_path / "kept.xlsx", [STUDY], [kept])
    ran = cli("import", str(sheet), "--dry-run", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert "every code of the template's example finding" in ran.err


def test_an_empty_reviews_sheet_is_fine(cli, fresh_store_path, tmp_path):
    folder = tmp_path / "sheet"
    write_sheet(folder, [STUDY], [FINDING])
    (folder / "reviews.csv").write_text(
        ",".join(["review_finding_id", "review", "statement", "supporting_findings"]) + "\n",
        encoding="utf-8",
    )
    (checked, said), (tried, told) = verdicts(cli, fresh_store_path, folder)
    assert checked == tried == 0, said + told
    assert "reviews sheet" not in said + told


def test_validate_and_dry_run_agree_on_a_study_already_in_the_graph(
    cli, fresh_store_path, tmp_path
):
    sheet = write_sheet(tmp_path / "s.xlsx")
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    (checked, said), (tried, told) = verdicts(cli, fresh_store_path, sheet)
    assert checked == tried == 1
    assert "already in the graph" in said and "already in the graph" in told
    replaced = cli("validate", str(sheet), "--replace", store=fresh_store_path)
    assert replaced.exit_code == 0, replaced.out + replaced.err


def test_the_csv_template_keeps_its_examples_in_files_no_import_reads(
    cli, fresh_store_path, tmp_path
):
    out = tmp_path / "template"
    assert cli("template", "-o", str(out), store=fresh_store_path).exit_code == 0
    with (out / "example-studies.csv").open(encoding="utf-8") as f:
        assert next(csv.DictReader(f))["study_id"] == EXAMPLE_STUDY["study_id"]
    with (out / "studies.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == STUDY_COLUMNS and list(reader) == []
    write_tables({"studies": (STUDY_COLUMNS, [STUDY])}, out)  # the researcher fills one in
    ran = cli("validate", str(out), store=fresh_store_path)
    assert "example" not in ran.out + ran.err


def test_the_enabler_list_leaves_out_determinants_named_as_barriers(template):
    book = openpyxl.load_workbook(template)
    vocab = book["vocabulary"]
    header = [c.value for c in vocab[1]]

    def listed(column: str) -> set[str]:
        index = header.index(column)
        return {row[index] for row in vocab.iter_rows(min_row=2, values_only=True) if row[index]}

    enablers, barriers = listed("enablers"), listed("barriers")
    assert {"lack of time", "tribalism", "data collection burden"} <= barriers - enablers
    assert {"protected time", "leadership support"} <= enablers & barriers


def test_a_barrier_named_determinant_coded_as_enabler_gets_a_warning(
    cli, fresh_store_path, tmp_path
):
    sheet = write_sheet(tmp_path / "s.xlsx", [STUDY], [finding(enablers="lack of time")])
    ran = cli("import", str(sheet), "--dry-run", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert '"lack of time" names a barrier: as an enabler it says the opposite' in ran.err
