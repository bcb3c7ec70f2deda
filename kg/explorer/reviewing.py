"""Write a review finding from the explorer as a row of a reviews sheet, imported as one.

The explorer has no rule of its own: the row joins the other rows of its review (as
``qikg export-reviews`` writes them), the table is written as a reviews sheet and imported
through :func:`kg.importer.import_path`, exactly as ``qikg import --replace`` imports the sheet a
researcher edited. So the same code reads the words, checks the shapes and writes the graph.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from kg.importer import ImportResult, import_path
from kg.sheets.write import write_tables
from kg.store import Store
from kg.synthesis.model import DEFAULT_REVIEW, REVIEW_COLUMNS, review_graph
from kg.synthesis.reviews import ReviewFinding
from kg.synthesis.suggest import Suggestion, skeleton_rows
from kg.text import slug

#: A reviews table: its columns and rows, as kg.sheets.write.write_tables takes one sheet.
ReviewTable = tuple[list[str], list[dict[str, str]]]


def next_id(findings: Sequence[ReviewFinding]) -> str:
    """The first ``RF{n}`` after every numbered review finding id in use.

    >>> next_id([ReviewFinding("x", "RF2", "r", "s"), ReviewFinding("y", "RF10", "r", "s")])
    'RF11'
    >>> next_id([])
    'RF1'
    """
    numbers = [re.fullmatch(r"RF(\d+)", f.review_finding_id) for f in findings]
    return f"RF{1 + max((int(m[1]) for m in numbers if m), default=0)}"


def blank_row(findings: Sequence[ReviewFinding], review: str) -> dict[str, str]:
    """A new row of ``review`` with a free id and every other cell empty."""
    return {
        **dict.fromkeys(REVIEW_COLUMNS, ""),
        "review_finding_id": next_id(findings),
        "review": review,
    }


def suggestion_row(
    suggestion: Suggestion, findings: Sequence[ReviewFinding], review: str
) -> dict[str, str]:
    """A candidate as ``qikg suggest-synthesis -o`` writes its row (supporting findings filled
    in, the shared concepts in ``shared_concepts``), with a free id in ``review``."""
    row = skeleton_rows([suggestion])[0]
    return {**row, "review_finding_id": next_id(findings), "review": review}


def review_name(row: dict[str, str]) -> str:
    """The review a row belongs to (an empty cell is the default review, as on import)."""
    return row.get("review", "").strip() or DEFAULT_REVIEW


def review_table(findings: Sequence[ReviewFinding], row: dict[str, str]) -> ReviewTable:
    """The reviews table of the row's review: its review findings as they are in the graph
    (``ReviewFinding.row``), with ``row`` in place of the one with its id, or added last."""
    review = review_name(row)
    rows = [f.row() for f in findings if f.review == review]
    ids = [r["review_finding_id"] for r in rows]
    rid = row.get("review_finding_id", "").strip()
    if rid in ids:
        rows[ids.index(rid)] = row
    else:
        rows.append(row)
    extra = sorted({c for r in rows for c in r} - set(REVIEW_COLUMNS))
    return REVIEW_COLUMNS + extra, rows


def import_review(store: Store, table: ReviewTable, review: str, *, dry_run: bool) -> ImportResult:
    """Import the table of ``review`` as a reviews sheet (``qikg import``; with ``--replace`` when
    the review is already in the graph, since the table holds the whole review). Raise what
    ``import_path`` raises: Violations (with ``.report``) when anything is wrong."""
    replace = review_graph(review) in set(store.graph_names())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"reviews-{slug(review) or 'review'}.xlsx"
        write_tables({"reviews": table}, path)
        return import_path(store, path, replace=replace, dry_run=dry_run)


__all__ = [
    "ReviewTable",
    "blank_row",
    "import_review",
    "next_id",
    "review_name",
    "review_table",
    "suggestion_row",
]
