"""The Summary of Qualitative Findings (SoQF) table and the Evidence Profile, as GRADE-CERQual
lays them out (Lewin et al. 2018), in Markdown, CSV, Word (.docx) or HTML.

The SoQF table has one row per review finding with the columns GRADE-CERQual guidance uses;
the Evidence Profile follows it, with each component's concerns and their explanation. A CSV
holds one table, so there one row per review finding carries both tables' columns.
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path

from kg.errors import BadInput
from kg.sheets.cells import csv_text
from kg.synthesis.model import COMPONENTS
from kg.synthesis.reviews import ReviewFinding

SOQF_TITLE = "Summary of Qualitative Findings"
PROFILE_TITLE = "GRADE-CERQual Evidence Profile"
SOQF_COLUMNS = [
    "#",
    "Summary of review finding",
    "Studies contributing to the review finding",
    "CERQual assessment of confidence",
    "Explanation of CERQual assessment",
]
PROFILE_COLUMNS = [
    "#",
    "Summary of review finding",
    *[c.title for c in COMPONENTS],
    "CERQual assessment of confidence",
]
NOT_ASSESSED = "Not assessed yet"

Table = tuple[list[str], list[list[str]]]


def soqf_table(findings: list[ReviewFinding]) -> Table:
    """The SoQF table: columns and one row per review finding.

    >>> rf = ReviewFinding("x", "RF1", "r", "A finding.", confidence="low confidence")
    >>> soqf_table([rf])[1]
    [['RF1', 'A finding.', '', 'Low confidence', '']]
    """
    rows = [
        [
            f.review_finding_id,
            f.statement,
            f.studies_text,
            _sentence(f.confidence) or NOT_ASSESSED,
            f.confidence_explanation,
        ]
        for f in findings
    ]
    return SOQF_COLUMNS, rows


def evidence_profile(findings: list[ReviewFinding]) -> Table:
    """The Evidence Profile: each component's concerns and explanation per review finding."""
    rows = [
        [
            f.review_finding_id,
            f.statement,
            *[_judged(f, c.column) for c in COMPONENTS],
            _sentence(f.confidence) or NOT_ASSESSED,
        ]
        for f in findings
    ]
    return PROFILE_COLUMNS, rows


def _judged(finding: ReviewFinding, column: str) -> str:
    judgement = finding.judgement(column)
    if not judgement.level:
        return NOT_ASSESSED
    level = _sentence(judgement.level)
    return f"{level}: {judgement.explanation}" if judgement.explanation else level


def _sentence(text: str) -> str:
    """The text with a capital first letter: ``low confidence`` -> ``Low confidence``."""
    return text[:1].upper() + text[1:]


def markdown(findings: list[ReviewFinding]) -> bytes:
    """Both tables as Markdown (GitHub pipe tables)."""

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"

    def table(columns: list[str], rows: list[list[str]]) -> list[str]:
        return [line(columns), "|" + " --- |" * len(columns), *map(line, rows)]

    parts = [f"# {SOQF_TITLE}", "", *table(*soqf_table(findings)), ""]
    parts += [f"## {PROFILE_TITLE}", "", *table(*evidence_profile(findings)), ""]
    return "\n".join(parts).encode()


def csv_table(findings: list[ReviewFinding]) -> bytes:
    """One CSV table: the SoQF columns, then each component's concerns and explanation; no cell
    runs as a formula in a spreadsheet program (kg.sheets.cells)."""
    columns, rows = soqf_table(findings)
    columns = columns + [
        f"{c.title} ({part})" for c in COMPONENTS for part in ("concerns", "explanation")
    ]
    for finding, row in zip(findings, rows, strict=True):
        for component in COMPONENTS:
            judgement = finding.judgement(component.column)
            row += [_sentence(judgement.level), judgement.explanation]
    return csv_text(columns, rows).encode("utf-8-sig")


def html_page(findings: list[ReviewFinding]) -> bytes:
    """Both tables in one standalone HTML page."""

    def table(columns: list[str], rows: list[list[str]]) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
        )
        return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>{body}</tbody>\n</table>"

    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:2em}"
        "th,td{border:1px solid #999;padding:.4em;vertical-align:top;text-align:left}"
        "th{background:#eee}"
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{SOQF_TITLE}</title>\n<style>{style}</style>\n</head>\n<body>\n"
        f"<h1>{SOQF_TITLE}</h1>\n{table(*soqf_table(findings))}\n"
        f"<h2>{PROFILE_TITLE}</h2>\n{table(*evidence_profile(findings))}\n</body>\n</html>\n"
    )
    return page.encode()


def docx_document(findings: list[ReviewFinding]) -> bytes:
    """Both tables in a Word document, landscape, one heading each."""
    import docx
    from docx.enum.section import WD_ORIENT

    document = docx.Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    for title, level, (columns, rows) in (
        (SOQF_TITLE, 1, soqf_table(findings)),
        (PROFILE_TITLE, 2, evidence_profile(findings)),
    ):
        document.add_heading(title, level=level)
        table = document.add_table(rows=1, cols=len(columns))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, columns, strict=True):
            cell.text = ""
            cell.paragraphs[0].add_run(text).bold = True
        for row in rows:
            for cell, text in zip(table.add_row().cells, row, strict=True):
                cell.text = text
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


#: The output formats, by name: each renders the review findings as the file's bytes.
FORMATS: dict[str, Callable[[list[ReviewFinding]], bytes]] = {
    "md": markdown,
    "csv": csv_table,
    "docx": docx_document,
    "html": html_page,
}


def format_for(path: Path, fmt: str | None) -> str:
    """The format to write: ``fmt`` if given, else the file's suffix (``.htm`` counts as html).

    >>> format_for(Path("soqf.docx"), None), format_for(Path("soqf.txt"), "md")
    ('docx', 'md')
    """
    chosen = fmt or {".htm": "html", ".markdown": "md"}.get(path.suffix.lower(), path.suffix[1:])
    if chosen.lower() not in FORMATS:
        raise BadInput(
            f"{path.name}: cannot tell the format; use --format {', '.join(FORMATS)} "
            "or a file ending in one of them"
        )
    return chosen.lower()


__all__ = [
    "FORMATS",
    "PROFILE_COLUMNS",
    "SOQF_COLUMNS",
    "csv_table",
    "docx_document",
    "evidence_profile",
    "format_for",
    "html_page",
    "markdown",
    "soqf_table",
]
