"""Coding sheets: the spreadsheet format researchers code findings in (docs/coding-sheet.md)."""

from kg.coding import COLUMNS

#: The version of the coding-sheet contract these columns make (docs/coding-sheet.md).
CONTRACT = "0.3"
STUDY_COLUMNS = [
    "study_id",
    "title",
    "authors",
    "year",
    "doi",
    "journal",
    "country",
    "design",
    "design_note",
    "qic",
    "qic_id",
    "clinical_area",
    "participants",
    "sample_size",
    "source_url",
    "source_licence",
]
#: The columns that hold codes, one per coding dimension (kg.coding).
CONCEPT_COLUMNS = COLUMNS
FINDING_COLUMNS = [
    "finding_id",
    "study_id",
    "statement",
    "finding_kind",
    "theme",
    *CONCEPT_COLUMNS[: CONCEPT_COLUMNS.index("outcomes") + 1],
    "outcome_direction",
    *CONCEPT_COLUMNS[CONCEPT_COLUMNS.index("outcomes") + 1 :],
    "quote",
    "quote_source",
    "coder",
    "coder_orcid",
    "coded_on",
]
REQUIRED = {
    "studies": ("study_id", "title", "authors", "year"),
    "findings": ("finding_id", "study_id", "statement"),
}
#: Columns that earlier contracts had and this one retired: what a sheet that still has one is
#: told to do (it is never refused for it, and nothing in the column is dropped without a word).
RETIRED = {
    "findings": {
        "confidence": "GRADE-CERQual rates review findings, not the findings of a single study, "
        "so the findings sheet's confidence column is no longer read (qikg 0.3): give confidence "
        "to the review findings that cite these findings, in the reviews sheet, and delete the "
        "column",
    },
}
#: Columns added by this contract: what a sheet without one (written for qikg 0.2 or earlier)
#: gets instead, and the warning that says so.
ADDED = {
    "findings": {
        "outcome_direction": "the sheet has no outcome_direction column (it was written for qikg "
        '0.2 or earlier): its {n} finding(s) with outcomes are stored with the direction "not '
        'stated" (or the one a retired outcome label names); add the column and say for each whether the outcome improved, worsened, did '
        "not change, was mixed, was only intended, or was not measured",
        "finding_kind": "the sheet has no finding_kind column (it was written for qikg 0.2 or "
        "earlier): its {n} finding(s) are stored without a kind; add the column and say for each "
        "whether it is an empirical result, participants' account, authors' interpretation, "
        "recommendation or context description",
    },
}
