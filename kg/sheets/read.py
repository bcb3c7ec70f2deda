"""Read a coding sheet into plain tables: an .xlsx workbook, a folder or a .zip of CSV files.

Every cell becomes a stripped string and keeps its sheet, row and column, so each problem can be
reported where the researcher will find it. Nothing is evaluated: formulas are refused, and text
such as ``=cmd|...`` stays text.

Files are untrusted: an .xlsx or .zip passes kg.archive's checks (size, ratio, members) before a
byte is inflated, and a sheet is read as far as its content goes, never as far as its declared
``<dimension>`` says, with at most ``MAX_ROWS`` rows, ``MAX_COLUMNS`` columns and ``MAX_CELLS``
cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

from kg.archive import UNREADABLE, open_zip, reading
from kg.errors import BadInput
from kg.sheets import REQUIRED
from kg.sheets.cells import restore_cell

SHEETS = ("studies", "findings", "reviews")
MAX_CELL_CHARS = 32_767  # Excel's own limit
#: Rows read from a sheet, counted as a spreadsheet program numbers them (empty rows too). The
#: largest sheet we measured holds 120,750 findings (docs/coding-sheet.md); openpyxl reads about
#: 100,000 rows a second, so a sheet of millions of formatted but empty rows is refused in ~2 s.
MAX_ROWS = 200_000
MAX_COLUMNS = 16_384  # Excel's own limit
#: Cells read from a sheet, a row counting as many as its last used column: 150,000 findings of
#: 20 columns (that sheet of 120,750 findings has 1.9 million). An .xlsx is read at about 150,000
#: cells a second (2 million formatted empty cells: 13.7 s), so no sheet takes much over 20 s.
MAX_CELLS = 3_000_000
#: What no text cell holds: NUL (binary data) or bytes that are not UTF-8 (decoded as surrogates).
_NOT_TEXT = re.compile("[\x00\udc80-\udcff]")


@dataclass
class Row:
    """One data row: ``number`` is the row number a spreadsheet program shows (header is row 1)."""

    number: int
    cells: dict[str, str]

    def get(self, column: str) -> str:
        return self.cells.get(column, "")


@dataclass
class Table:
    """One sheet: its name in messages (``findings.csv``, ``sheet "findings"``), columns, rows."""

    name: str
    columns: list[str]
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)

    def where(self, row: int, column: str | None = None) -> str:
        """Where a cell is, in the researcher's words: ``findings.csv row 7, column roles``."""
        return f"{self.name} row {row}" + (f", column {column}" if column else "")


def read_tables(path: str | Path) -> dict[str, Table]:
    """The ``studies``, ``findings`` (and optional ``reviews``) tables of a coding sheet.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "studies.csv").write_text("study_id,title\\nx,A title\\n", encoding="utf-8-sig")
    >>> _ = (d / "findings.csv").write_text("finding_id,study_id,statement\\n", encoding="utf-8")
    >>> tables = read_tables(d)
    >>> tables["studies"].rows[0]
    Row(number=2, cells={'study_id': 'x', 'title': 'A title'})
    """
    path = Path(path)
    if not path.exists():
        raise BadInput(f"no such file or folder: {path}")
    if path.is_dir():
        tables = _read_csv_folder(path)
    elif path.suffix.lower() == ".zip":
        tables = _read_zip(path)
    elif path.suffix.lower() in (".xlsx", ".xlsm"):
        tables = _read_workbook(path)
    elif path.suffix.lower() == ".csv":
        raise BadInput(
            f"{path.name}: a coding sheet is two CSV files (studies.csv and findings.csv): "
            "give the folder or a .zip that holds them, or an .xlsx workbook"
        )
    else:
        raise BadInput(f"{path.name}: not a coding sheet (.xlsx, a folder or .zip of CSV files)")
    return tables


#: The largest source text read (a long open-access article is about 100 KB of text).
MAX_SOURCE_CHARS = 2_000_000


def read_sources(path: str | Path) -> dict[str, str]:
    """The source texts a folder or .zip coding sheet carries: ``sources/{study_id}.txt``, the
    text each study was coded from, verbatim (UTF-8). An .xlsx workbook carries none.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "sources").mkdir()
    >>> _ = (d / "sources" / "s1.txt").write_text("Results: it helped.", encoding="utf-8")
    >>> read_sources(d)
    {'s1': 'Results: it helped.'}
    """
    path = Path(path)
    found: dict[str, bytes] = {}
    if path.is_dir():
        for file in sorted((path / "sources").glob("*.txt")):
            if file.stat().st_size > MAX_SOURCE_CHARS * 4:
                raise BadInput(f"sources/{file.name}: a source text larger than any article")
            found[file.stem] = file.read_bytes()
    elif path.suffix.lower() == ".zip":
        with open_zip(path, path.name, "not a readable .zip file") as archive:
            for info in archive.infolist():
                parts = Path(info.filename).parts
                if len(parts) >= 2 and parts[-2] == "sources" and parts[-1].endswith(".txt"):
                    if info.file_size > MAX_SOURCE_CHARS * 4:
                        raise BadInput(f"{info.filename}: a source text larger than any article")
                    with reading(path.name, info.filename), archive.open(info) as stream:
                        found[Path(parts[-1]).stem] = stream.read()
    texts = {}
    for study, raw in found.items():
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"sources/{study}.txt is not UTF-8 text (byte {exc.start}): save it as UTF-8"
            ) from None
        texts[study] = text.replace("\r\n", "\n")
    return texts


def split_tables(tables: dict[str, Table], findings: int) -> Iterator[dict[str, Table]]:
    """The sheet in parts of whole studies, each with about ``findings`` finding rows, so that a
    large sheet can be turned into RDF and checked a part at a time.

    The rows of one study (its studies row and its findings rows, grouped by ``study_id``) stay
    together; the first part carries the problems found while reading, the last the reviews.

    >>> t = Table("findings.csv", ["finding_id", "study_id", "statement"],
    ...           [Row(n, {"study_id": s}) for n, s in enumerate("aabcab", start=2)])
    >>> [[r.number for r in part["findings"].rows] for part in split_tables({"findings": t}, 2)]
    [[2, 3, 6], [4, 7], [5]]
    """
    groups: dict[str, dict[str, list[Row]]] = {}
    for name in ("studies", "findings"):
        for row in tables[name].rows if name in tables else []:
            groups.setdefault(row.get("study_id"), {}).setdefault(name, []).append(row)
    parts: list[dict[str, list[Row]]] = []
    size = findings
    for group in groups.values():
        if size >= findings:
            parts.append({})
            size = 0
        for name, rows in group.items():
            parts[-1].setdefault(name, []).extend(rows)
        size += len(group.get("findings", ())) or 1
    lacking = any(c not in t.columns for n, t in tables.items() for c in REQUIRED.get(n, ()))
    if len(parts) < 2 or lacking:  # a sheet that lacks a column is refused whole, in one part
        yield tables
        return
    for number, chunk in enumerate(parts, start=1):
        part = {
            name: replace(
                table, rows=chunk.get(name, []), problems=table.problems if number == 1 else []
            )
            for name, table in tables.items()
            if name != "reviews"
        }
        if number == len(parts) and "reviews" in tables:
            part["reviews"] = tables["reviews"]
        yield part


def _read_csv_folder(folder: Path) -> dict[str, Table]:
    tables = {}
    for name in SHEETS:
        file = folder / f"{name}.csv"
        if file.exists():
            with file.open("rb") as stream:
                tables[name] = _read_csv(stream, file.name)
    if not tables:
        found = ", ".join(sorted(p.name for p in folder.iterdir())[:8]) or "nothing"
        raise BadInput(
            f"{folder}: expected studies.csv and findings.csv in the folder (found: {found})"
        )
    return tables


def _read_zip(path: Path) -> dict[str, Table]:
    with open_zip(path, path.name, "not a readable .zip file") as archive:
        members = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = Path(info.filename).parts
            stem = Path(info.filename).name
            if (
                stem.lower().endswith(".csv")
                and stem[:-4].lower() in SHEETS
                and "__MACOSX" not in parts
            ):
                members[stem[:-4].lower()] = info
        if not members:
            raise BadInput(f"{path.name}: the archive holds no studies.csv or findings.csv")
        tables = {}
        for name, info in members.items():
            # a member never unpacks past its stated size: zipfile stops and checks the CRC
            with reading(path.name, info.filename), archive.open(info) as stream:
                tables[name] = _read_csv(stream, Path(info.filename).name)
        return tables


def _read_csv(stream: IO[bytes], name: str) -> Table:
    """A CSV table, parsed as it is read: the file is never held whole in memory. Commas, the
    semicolons Excel writes in most European locales (Danish among them), or tabs (a sheet
    saved as "Text (Tab delimited)"), as the csv module's sniffer finds in the header row."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    header = text.readline()
    try:
        delimiter = csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:  # one column, or no header: the standard comma
        delimiter = ","
    try:
        rows = csv.reader(itertools.chain([header], text), delimiter=delimiter)
        return _table(name, _text_rows(rows, name))
    except csv.Error as exc:
        raise BadInput(f"{name}: not valid CSV ({exc})") from None


def _text_rows(reader: Iterable[list[str]], name: str) -> Iterator[tuple[int, list[str]]]:
    """The numbered rows; BadInput at the first that holds binary data or bytes not UTF-8."""
    for number, values in enumerate(reader, start=1):
        bad = _NOT_TEXT.search("".join(values))
        if bad and bad[0] == "\x00":
            raise BadInput(f"{name}: holds binary data, not CSV text")
        if bad:
            raise BadInput(
                f"{name}: not UTF-8 text (row {number} cannot be read); save the CSV as "
                "'CSV UTF-8' and try again"
            )
        yield number, values


def _bounded(numbered: Iterable[tuple[int, list[str]]], name: str) -> Iterator[tuple[int, list]]:
    """The rows, with BadInput at the first past ``MAX_ROWS``, ``MAX_COLUMNS`` or ``MAX_CELLS``."""
    cells = 0
    for number, values in numbered:
        if number > MAX_ROWS:
            raise BadInput(
                f"{name}: refused: it has rows past row {MAX_ROWS:,} (if only formatted and "
                f"empty); qikg reads at most {MAX_ROWS:,} rows a sheet: delete the rows below "
                "your data, or split the sheet"
            )
        if len(values) > MAX_COLUMNS:
            raise BadInput(
                f"{name}: refused: row {number:,} has more than {MAX_COLUMNS:,} columns; qikg "
                f"reads at most {MAX_COLUMNS:,}"
            )
        cells += len(values)
        if cells > MAX_CELLS:
            raise BadInput(
                f"{name}: refused: more than {MAX_CELLS:,} cells (at row {number:,}); qikg reads "
                f"at most {MAX_CELLS:,} cells a sheet: delete the empty rows and columns around "
                "your data, or split the sheet"
            )
        yield number, values


def _table(name: str, numbered: Iterable[tuple[int, list[str]]]) -> Table:
    rows = _bounded(numbered, name)
    header: list[str] | None = None
    for _, values in rows:
        if any(v.strip() for v in values):
            header = [v.strip().lower() for v in values]
            break
    if header is None:
        return Table(name, [])
    table = Table(name, [h for h in header if h])
    seen = set()
    for column in table.columns:
        if column in seen:
            raise BadInput(f"{name}: the column {column!r} appears twice in the header row")
        seen.add(column)
    for number, values in rows:
        if not any(str(v).strip() for v in values):
            continue
        cells = {}
        for column, value in zip(header, values, strict=False):
            value = restore_cell(str(value)).strip()  # "'=x" as qikg writes "=x" (kg.sheets.cells)
            if column and value:
                if len(value) > MAX_CELL_CHARS:
                    table.problems.append(
                        (number, column, "the cell is longer than 32,767 characters")
                    )
                cells[column] = value
        table.rows.append(Row(number, cells))
    return table


def _read_workbook(path: Path) -> dict[str, Table]:
    import openpyxl

    open_zip(path, path.name, "not a readable .xlsx workbook").close()  # before openpyxl inflates
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except UNREADABLE as exc:
        raise BadInput(f"{path.name}: the workbook is damaged or truncated ({exc})") from None
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise BadInput(
            f"{path.name}: not a readable .xlsx workbook ({type(exc).__name__})"
        ) from None
    try:
        tables = {}
        for sheet in book.worksheets:
            name = sheet.title.strip().lower()
            if name in SHEETS:
                tables[name] = _read_worksheet(sheet, f'{path.name} sheet "{sheet.title}"')
        if not tables:
            found = ", ".join(repr(s.title) for s in book.worksheets)
            raise BadInput(
                f"{path.name}: expected sheets named 'studies' and 'findings' (found: {found})"
            )
        return tables
    except (KeyError, ValueError, *UNREADABLE) as exc:
        raise BadInput(
            f"{path.name}: the workbook is damaged or truncated ({exc or type(exc).__name__})"
        ) from None
    finally:
        book.close()


def _read_worksheet(sheet: object, name: str) -> Table:
    formulas: list[tuple[int, int, str]] = []

    def numbered() -> Iterator[tuple[int, list[str]]]:
        # Rows as far as the content goes: a declared <dimension> may stop short of the data
        # (the rows below it were dropped) or claim a million rows that are not there.
        sheet.reset_dimensions()  # type: ignore[attr-defined]
        for number, cells in enumerate(sheet.iter_rows(), start=1):  # type: ignore[attr-defined]
            out = []
            for index, cell in enumerate(cells):
                value = cell.value
                if getattr(cell, "data_type", None) == "f":
                    formulas.append((number, index, str(value)))
                    value = ""
                out.append(_cell_text(value))
            yield number, out

    table = _table(name, numbered())
    for number, index, value in formulas:
        column = table.columns[index] if index < len(table.columns) else f"#{index + 1}"
        table.problems.append(
            (
                number,
                column,
                f"the cell holds a formula ({value[:40]}); qikg reads values only: "
                "paste the value as text",
            )
        )
    return table


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
