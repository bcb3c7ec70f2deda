"""``qikg template`` and ``qikg export-sheet``: the coding-sheet format, out."""

from pathlib import Path

import click

from kg.cli.common import Context, pass_context
from kg.sheets.from_rdf import study_source, study_tables
from kg.sheets.template import write_template
from kg.sheets.write import write_tables
from kg.vocabulary import Vocabulary

_OUT = click.Path(path_type=Path)


@click.command("template")
@click.option("-o", "--output", type=_OUT, required=True, help=".xlsx, .zip, or a folder name.")
@pass_context
def template(ctx: Context, output: Path) -> None:
    """Write an empty coding sheet: headers, an example row, and the allowed labels.

    \b
    Example:
      qikg template -o my-study.xlsx
    """
    write_template(output, Vocabulary.from_store(ctx.store()))
    click.echo(f"wrote the coding-sheet template to {output}", err=True)


@click.command("export-sheet")
@click.argument("study_id")
@click.option("-o", "--output", type=_OUT, required=True, help=".xlsx, .zip, or a folder name.")
@pass_context
def export_sheet(ctx: Context, study_id: str, output: Path) -> None:
    """Write a study in the graph back to a coding sheet (round-trips with `qikg import`).

    \b
    The study's source text, if the graph holds it, goes to sources/STUDY_ID.txt: export to a
    folder or .zip to keep it (an .xlsx workbook cannot hold it).

    \b
    Example:
      qikg export-sheet carstensen2024 -o carstensen2024/
    """
    store = ctx.store()
    tables = study_tables(store, study_id, Vocabulary.from_store(store))
    text = study_source(store, study_id)
    write_tables(tables, output, {study_id: text} if text is not None else None)
    click.echo(f"wrote study {study_id} to {output}", err=True)


commands = [template, export_sheet]
