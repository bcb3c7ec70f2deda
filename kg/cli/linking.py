"""``qikg related`` and ``qikg compare``: findings linked across studies."""

import json

import click

from kg.cli.common import Context, pass_context
from kg.read.compare import COMPARE_COLUMNS, compare
from kg.read.related import related
from kg.sheets.cells import csv_text


@click.command("related")
@click.argument("finding")
@click.option(
    "--min-shared",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Fewest shared concepts a related finding must have.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def related_command(ctx: Context, finding: str, min_shared: int, as_json: bool) -> None:
    """Findings of other studies that share concepts with FINDING (study_id/finding_id).

    Sharing follows the hierarchy (nurse meets health professional) and the CFIR alignment
    (lack of time meets Available Resources). A concept coded in both counts 1, one reached
    through the hierarchy or an alignment 0.5.

    \b
    Example:
      qikg related carstensen2024/F7 --min-shared 2
    """
    found = related(ctx.store(), finding, min_shared)
    if as_json:
        click.echo(json.dumps([r.__dict__ for r in found], indent=2, ensure_ascii=False))
        return
    if not found:
        click.echo(f"no finding in another study shares {min_shared}+ concepts with {finding}")
        return
    for r in found:
        click.echo(f"{r.score:>4.1f}  {r.study}/{r.finding_id}  shares: {', '.join(r.shared)}")
        click.echo(f"      {r.statement}")


@click.command("compare")
@click.option("--rows", type=click.Choice(["studies"]), default="studies", show_default=True)
@click.option(
    "--cols",
    "columns",
    type=click.Choice(list(COMPARE_COLUMNS)),
    default="professional_groups",
    show_default=True,
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
)
@pass_context
def compare_command(ctx: Context, rows: str, columns: str, fmt: str) -> None:
    """The study x concept matrix: how many findings of each study are coded with each concept.

    \b
    Example:
      qikg compare --cols enablers
      qikg compare --cols cfir --format csv > cfir-by-study.csv
    """
    matrix = compare(ctx.store(), columns)
    table = matrix.rows()
    header = ["study"] + [label for _, label in matrix.concepts]
    if fmt == "json":
        click.echo(json.dumps({"columns": columns, "rows": table}, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(csv_text(header, ([row[h] for h in header] for row in table)), nl=False)
    else:
        width = max(len(s) for s, _ in matrix.studies) if matrix.studies else 5
        click.echo(" " * width + "  " + "  ".join(f"{i + 1:>3}" for i in range(len(header) - 1)))
        for row in table:
            counts = "  ".join(f"{row[h] or '.':>3}" for h in header[1:])
            click.echo(f"{row['study']:<{width}}  {counts}")
        click.echo("")
        for i, label in enumerate(header[1:], start=1):
            click.echo(f"{i:>3}  {label}")


commands = [related_command, compare_command]
