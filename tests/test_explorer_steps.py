"""Every step of the explorer writes what the command line writes, checked by the same code.

Each step runs in Streamlit's AppTest as a researcher does it; the data it writes is compared
with what the CLI path (a reviews sheet, an SSSOM table, `qikg export-sheet`) writes.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from streamlit.testing.v1 import AppTest

from kg.sheets.write import write_tables
from kg.store import open_store
from kg.synthesis.model import COMPONENTS, REVIEW_COLUMNS, review_graph
from kg.synthesis.reviews import review_findings
from kg.synthesis.soqf import FORMATS
from kg.synthesis.suggest import suggest
from tests.test_explorer import app_on, no_errors

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
