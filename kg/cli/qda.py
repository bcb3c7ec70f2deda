"""``qikg import-qda`` and ``qikg mapping-template``: REFI-QDA projects and codebooks in."""

from pathlib import Path

import click

from kg.cli.common import Context, pass_context
from kg.errors import DataProblem
from kg.qda import QdaResult, import_qda, mapping_template

_IN = click.Path(path_type=Path)


@click.command("import-qda")
@click.argument("path", type=_IN)
@click.option(
    "--study",
    "study_id",
    required=True,
    metavar="STUDY_ID",
    help="The study the project belongs to (import its studies-sheet row first).",
)
@click.option(
    "--mapping",
    type=_IN,
    metavar="MAP.sssom.tsv",
    help="SSSOM table mapping the codes to the vocabulary (see mapping-template).",
)
@click.option("--dry-run", is_flag=True, help="Check everything, write nothing.")
@click.option("--replace", is_flag=True, help="Replace the QDA data the study already holds.")
@pass_context
def import_qda_command(
    ctx: Context, path: Path, study_id: str, mapping: Path | None, dry_run: bool, replace: bool
) -> None:
    """Import a REFI-QDA project (.qdpx) or codebook (.qdc) into a study.

    Codes become the study's own SKOS codebook, coded selections become quotes anchored in their
    sources, and codes marked as findings in the mapping table become findings coded with the
    mapped concepts. All or nothing: any violation and nothing is written. See
    docs/qda-import.md.

    \b
    Example:
      qikg import my-study.xlsx          # study hansen2025 (its studies-sheet row), first
      qikg mapping-template interviews.qdpx -o interviews.sssom.tsv
      qikg import-qda interviews.qdpx --study hansen2025 --mapping interviews.sssom.tsv --dry-run
    """
    try:
        result = import_qda(ctx.store(), path, study_id, mapping, dry_run=dry_run, replace=replace)
    except DataProblem as exc:
        failed = getattr(exc, "result", None)
        if failed is not None:
            _show(failed)
        raise
    _show(result)
    click.echo(result.summary())


def _show(result: QdaResult) -> None:
    if result.anchoring.total:
        click.echo(result.anchoring.to_text(), err=True)
    if result.report.problems:
        click.echo(result.report.to_text(), err=True)


@click.command("mapping-template")
@click.argument("path", type=_IN)
@click.option(
    "-o",
    "--output",
    type=_IN,
    required=True,
    metavar="MAP.sssom.tsv",
    help="Where to write the SSSOM TSV table.",
)
@pass_context
def mapping_template_command(ctx: Context, path: Path, output: Path) -> None:
    """Write an SSSOM mapping table for the codes of a .qdpx or .qdc, with suggested matches.

    Each code gets the closest vocabulary label as a skos:closeMatch (justification
    semapv:LexicalMatching, with a confidence) for you to confirm, change or clear; mark the
    codes that are findings with "yes" in the finding column.

    \b
    Example:
      qikg mapping-template interviews.qdpx -o interviews.sssom.tsv
    """
    rows = mapping_template(ctx.store(), path, output)
    click.echo(f"wrote {rows} codes with suggested matches to {output}", err=True)


commands = [import_qda_command, mapping_template_command]
