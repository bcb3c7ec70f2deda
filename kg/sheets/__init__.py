"""Coding sheets: the spreadsheet format researchers code findings in (docs/coding-sheet.md)."""

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
FINDING_COLUMNS = [
    "finding_id",
    "study_id",
    "statement",
    "theme",
    "professional_groups",
    "roles",
    "qic_components",
    "enablers",
    "barriers",
    "outcomes",
    "concepts",
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
CONCEPT_COLUMNS = [
    "professional_groups",
    "roles",
    "qic_components",
    "enablers",
    "barriers",
    "outcomes",
    "concepts",
]
