"""Coding sheets: the spreadsheet format researchers code findings in (docs/coding-sheet.md)."""

from kg.coding import COLUMNS

STUDY_COLUMNS = [
    "study_id",
    "title",
    "authors",
    "year",
    "doi",
    "journal",
    "country",
    "design",
    "qic",
    "clinical_area",
    "participants",
    "sample_size",
]
#: The columns that hold codes, one per coding dimension (kg.coding).
CONCEPT_COLUMNS = COLUMNS
FINDING_COLUMNS = [
    "finding_id",
    "study_id",
    "statement",
    "theme",
    *CONCEPT_COLUMNS,
    "quote",
    "quote_source",
    "confidence",
    "coder",
    "coded_on",
]
REQUIRED = {
    "studies": ("study_id", "title", "authors", "year"),
    "findings": ("finding_id", "study_id", "statement"),
}
