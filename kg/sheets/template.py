"""The empty coding-sheet template: the sheets with their headers, the example rows on sheets of
their own (never imported), the allowed labels, and dropdown lists of them on the label columns."""

from __future__ import annotations

from pathlib import Path

from kg.sheets import CONCEPT_COLUMNS, FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.examples import EXAMPLE_FINDING, EXAMPLE_REVIEW, EXAMPLE_STUDY
from kg.sheets.write import write_tables
from kg.synthesis.model import REVIEW_COLUMNS
from kg.vocabulary import Vocabulary

#: The columns whose allowed labels the vocabulary sheet lists.
LISTED = ["design", "finding_kind", *CONCEPT_COLUMNS, "outcome_direction"]


def write_template(path: Path, vocab: Vocabulary) -> None:
    """Write the template workbook (or CSV folder/zip): empty ``studies``, ``findings`` and
    ``reviews`` sheets, the example rows on sheets of their own (``example studies``, ...: read
    by no import), and a ``vocabulary`` sheet whose lists feed the label columns' dropdowns."""
    columns = [*LISTED, "confidence", "concern levels"]
    lists = {c: vocab.labels_for(c) for c in LISTED}
    lists["confidence"] = ["high", "moderate", "low", "very low"]
    lists["concern levels"] = [
        "no or very minor concerns",
        "minor concerns",
        "moderate concerns",
        "serious concerns",
    ]
    depth = max(len(v) for v in lists.values())
    vocabulary = [
        {c: (lists[c][i] if i < len(lists[c]) else "") for c in columns} for i in range(depth)
    ]
    workbook = path.suffix.lower() == ".xlsx"
    example = "example " if workbook else "example-"
    write_tables(
        {
            "studies": (STUDY_COLUMNS, []),
            "findings": (FINDING_COLUMNS, []),
            "reviews": (REVIEW_COLUMNS, []),
            f"{example}studies": (STUDY_COLUMNS, [EXAMPLE_STUDY]),
            f"{example}findings": (FINDING_COLUMNS, [EXAMPLE_FINDING]),
            f"{example}reviews": (REVIEW_COLUMNS, [EXAMPLE_REVIEW]),
            "vocabulary": (columns, vocabulary),
        },
        path,
    )
    if workbook:
        _add_dropdowns(path, columns, {c: len(v) for c, v in lists.items()})


#: Rows of the studies, findings and reviews sheets that get the dropdowns.
DROPDOWN_ROWS = 2000
#: Which sheet column takes the list of which vocabulary column.
DROPDOWNS = {
    "studies": {"design": "design"},
    "findings": {c: c for c in ["finding_kind", *CONCEPT_COLUMNS, "outcome_direction"]},
    "reviews": {
        **{
            c: "concern levels"
            for c in ("methodological_limitations", "coherence", "adequacy", "relevance")
        },
        "confidence": "confidence",
    },
}


def _add_dropdowns(path: Path, columns: list[str], sizes: dict[str, int]) -> None:
    """Excel data-validation lists on the label columns. A typed value outside the list is
    allowed (no error box): a cell may hold several labels separated by ``;``, which the import
    reads and checks."""
    import openpyxl
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = openpyxl.load_workbook(path)
    for sheet, wanted in DROPDOWNS.items():
        header = [cell.value for cell in book[sheet][1]]
        for column, listed in wanted.items():
            source = get_column_letter(columns.index(listed) + 1)
            target = get_column_letter(header.index(column) + 1)
            check = DataValidation(
                type="list",
                formula1=f"=vocabulary!${source}$2:${source}${sizes[listed] + 1}",
                allow_blank=True,
                showErrorMessage=False,
                showInputMessage=True,
                promptTitle=column,
                prompt="Pick a label, or type several separated by ;",
            )
            check.add(f"{target}2:{target}{DROPDOWN_ROWS + 1}")
            book[sheet].add_data_validation(check)
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)
