"""Build coding sheets for tests, in every form a researcher may hand qikg."""

from __future__ import annotations

from pathlib import Path

from kg.sheets import FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.write import write_tables

STUDY = {
    "study_id": "newstudy2025",
    "title": "Nurses and quality improvement teams in a regional collaborative",
    "authors": "Hansen A; Jensen B",
    "year": "2025",
    "doi": "10.1234/qikg.test.1",
    "journal": "J Test 1(1):1-10",
    "country": "Denmark",
    "design": "primary qualitative",
    "design_note": "Qualitative interview study",
    "qic": "Danish Healthcare Quality Programme – Learning and Quality Teams (LKT)",
    "sample_size": "24",
}
FINDING = {
    "finding_id": "F1",
    "study_id": "newstudy2025",
    "statement": "Nurses said that lack of time limited their work in the improvement team.",
    "finding_kind": "participants' account",
    "theme": "Time",
    "professional_groups": "nurse",
    "roles": "QI team member",
    "qic_components": "PDSA cycle",
    "barriers": "lack of time",
    "outcomes": "engagement",
    "outcome_direction": "worsened",
    "quote": "We never had the time to do the PDSA work properly.",
    "quote_source": "Results, p. 4",
    "coder": "Test Coder",
    "coded_on": "2025-03-01",
}


def finding(**changes: str) -> dict[str, str]:
    """The valid example finding with some cells changed."""
    return {**FINDING, **changes}


def study(**changes: str) -> dict[str, str]:
    """The valid example study with some cells changed."""
    return {**STUDY, **changes}


def write_sheet(
    path: Path,
    studies: list[dict[str, str]] | None = None,
    findings: list[dict[str, str]] | None = None,
    extra_columns: tuple[str, ...] = (),
) -> Path:
    """Write a coding sheet; the suffix of ``path`` picks .xlsx, .zip, or a folder."""
    studies = [STUDY] if studies is None else studies
    findings = [FINDING] if findings is None else findings
    tables = {}
    if studies:
        tables["studies"] = (STUDY_COLUMNS, studies)
    tables["findings"] = (FINDING_COLUMNS + list(extra_columns), findings)
    write_tables(tables, path)
    return path


def many_studies(studies: int, per_study: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Rows of ``studies`` valid studies (``big0000``, ...) with ``per_study`` findings each."""
    ids = [f"big{i:04d}" for i in range(studies)]
    return (
        [study(study_id=sid, doi=f"10.1234/qikg.{sid}") for sid in ids],
        [finding(study_id=sid, finding_id=f"F{j}") for sid in ids for j in range(per_study)],
    )
