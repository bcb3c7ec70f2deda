"""Write coding-sheet tables as an .xlsx workbook, or a folder or .zip of CSV files."""

from __future__ import annotations

import zipfile
from pathlib import Path

from kg.errors import BadInput
from kg.sheets.cells import csv_text, restore_cell, safe_cell


def write_tables(
    tables: dict[str, tuple[list[str], list[dict[str, str]]]],
    path: Path,
    sources: dict[str, str] | None = None,
) -> None:
    """Write ``{sheet: (columns, rows)}``; text starting with ``=`` stays text, never a formula
    (a CSV cell gets an apostrophe before it, see kg.sheets.cells; an .xlsx cell is typed text).
    ``sources`` (study id: source text) go to ``sources/{study_id}.txt`` of a folder or .zip;
    an .xlsx workbook cannot hold them."""
    suffix = path.suffix.lower()
    sources = sources or {}
    try:
        if suffix == ".xlsx":
            if sources:
                raise BadInput(
                    f"{path.name}: an .xlsx workbook cannot hold the study's source text; "
                    "write a folder or .zip instead"
                )
            _write_workbook(tables, path)
        elif suffix == ".zip":
            tmp = path.with_name(path.name + ".part")
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, (columns, rows) in tables.items():
                    archive.writestr(f"{name}.csv", _csv_text(columns, rows))
                for study, text in sources.items():
                    archive.writestr(f"sources/{study}.txt", text)
            tmp.replace(path)
        elif suffix == "":
            path.mkdir(parents=True, exist_ok=True)
            for name, (columns, rows) in tables.items():
                (path / f"{name}.csv").write_text(_csv_text(columns, rows), encoding="utf-8")
            if sources:
                (path / "sources").mkdir(exist_ok=True)
            for study, text in sources.items():
                (path / "sources" / f"{study}.txt").write_text(text, encoding="utf-8")
        else:
            raise BadInput(f"{path.name}: write a coding sheet as .xlsx, .zip or a folder name")
    except OSError as exc:
        raise BadInput(f"cannot write {path}: {exc.strerror}") from None


def _csv_text(columns: list[str], rows: list[dict[str, str]]) -> str:
    return csv_text(columns, ([row.get(c, "") for c in columns] for row in rows))


def _typed_text(text: str) -> str:
    """An .xlsx text cell: typed text needs no apostrophe, but the reader takes one off before a
    formula's start in any sheet (a qikg CSV may come back saved as .xlsx), so text that would
    lose one gets one more."""
    return text if restore_cell(text) == text else safe_cell(text)


def _write_workbook(tables: dict[str, tuple[list[str], list[dict[str, str]]]], path: Path) -> None:
    import openpyxl
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (columns, rows) in tables.items():
        sheet = book.create_sheet(name)
        sheet.append(columns)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([row.get(c, "") for c in columns])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.value = _typed_text(cell.value)
                    cell.data_type = "s"  # never let "=..." become a formula
        sheet.freeze_panes = "A2"
        for index, column in enumerate(columns, start=1):
            width = max([len(column)] + [min(60, len(str(r.get(column, "")))) for r in rows])
            sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = width + 2
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)
