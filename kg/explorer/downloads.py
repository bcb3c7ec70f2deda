"""Files the explorer offers for download, written by the code the command line writes them with.

A study's coding sheet is ``qikg export-sheet``'s (kg.sheets.from_rdf + kg.sheets.write); the
filtered findings are the same rows, so the .xlsx is a coding sheet that imports again; every CSV
goes through kg.sheets.cells (no cell runs as a formula).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import streamlit as st

from kg.explorer import ui
from kg.read.findings import FindingFilters, search_findings
from kg.sheets import FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.cells import csv_text
from kg.sheets.from_rdf import TablesOut, study_source, study_tables
from kg.sheets.write import write_tables
from kg.store import Store
from kg.vocabulary import Vocabulary

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def written(tables: TablesOut, suffix: str, sources: dict[str, str] | None = None) -> bytes:
    """The bytes kg.sheets.write.write_tables writes for a file of this suffix."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"sheet{suffix}"
        write_tables(tables, path, sources)
        return path.read_bytes()


def study_sheet(store: Store, study_id: str, suffix: str) -> bytes:
    """A stored study as its coding sheet, as ``qikg export-sheet STUDY -o FILE`` writes it: an
    .xlsx workbook, or a .zip of CSV files that also holds the study's source text. As there,
    a study with a source text is refused as .xlsx (BadInput): a workbook cannot hold the text,
    and a sheet imported again without it would drop it."""
    tables = study_tables(store, study_id, Vocabulary.from_store(store))
    text = study_source(store, study_id)
    return written(tables, suffix, {study_id: text} if text is not None else None)


def findings_tables(
    store: Store, filters: FindingFilters, include_inferred: bool = False
) -> TablesOut:
    """The findings that pass the filters, as coding-sheet tables: their studies' rows and their
    own rows (kg.sheets.from_rdf, the rows ``qikg export-sheet`` writes)."""
    first = search_findings(store, filters, limit=1, include_inferred=include_inferred)
    found = search_findings(
        store, filters, limit=max(first.total, 1), include_inferred=include_inferred
    )
    wanted: dict[str, set[str]] = {}
    for row in found.rows:
        wanted.setdefault(row.study_id, set()).add(row.finding_id)
    vocab = Vocabulary.from_store(store)
    studies: list[dict[str, str]] = []
    findings: list[dict[str, str]] = []
    study_columns, finding_columns = list(STUDY_COLUMNS), list(FINDING_COLUMNS)
    for study_id, ids in wanted.items():
        tables = study_tables(store, study_id, vocab)
        columns, rows = tables["studies"]
        studies += rows
        study_columns += [c for c in columns if c not in study_columns]
        columns, rows = tables["findings"]
        findings += [r for r in rows if r["finding_id"] in ids]
        finding_columns += [c for c in columns if c not in finding_columns]
    return {"studies": (study_columns, studies), "findings": (finding_columns, findings)}


def findings_xlsx(store: Store, filters: FindingFilters, include_inferred: bool = False) -> bytes:
    """The filtered findings as a coding-sheet workbook (studies and findings sheets)."""
    return written(findings_tables(store, filters, include_inferred), ".xlsx")


def findings_csv(store: Store, filters: FindingFilters, include_inferred: bool = False) -> bytes:
    """The filtered findings as one CSV table (the findings sheet's columns), cells made safe."""
    columns, rows = findings_tables(store, filters, include_inferred)["findings"]
    return csv_text(columns, ([r.get(c, "") for c in columns] for r in rows)).encode("utf-8-sig")


def study_downloads(study_id: str) -> None:
    """The study as its coding sheet, as ``qikg export-sheet`` writes it (written on press)."""
    handle = ui.store()
    has_text = ui.cached(study_source, study_id) is not None
    left, right = st.columns(2, width=640)
    left.download_button(
        f"Coding sheet of {study_id} (.xlsx)",
        lambda: study_sheet(handle, study_id, ".xlsx"),
        file_name=f"{study_id}.xlsx",
        mime=XLSX,
        icon=":material/download:",
        key=f"study_xlsx_{study_id}",
        disabled=has_text,
        help="The graph holds the study's source text, which an .xlsx workbook cannot hold: "
        "download the .zip."
        if has_text
        else None,
    )
    right.download_button(
        "… with its source text (.zip)",
        lambda: study_sheet(handle, study_id, ".zip"),
        file_name=f"{study_id}.zip",
        mime="application/zip",
        icon=":material/folder_zip:",
        key=f"study_zip_{study_id}",
        help="A .zip of studies.csv and findings.csv, and sources/ with the study's text if "
        "the graph holds it (an .xlsx workbook cannot hold it).",
    )


__all__ = [
    "findings_csv",
    "findings_tables",
    "findings_xlsx",
    "study_downloads",
    "study_sheet",
    "written",
]
