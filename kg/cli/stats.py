"""``qikg stats``."""

import json

import click

from kg.cli.common import Context, pass_context
from kg.read.stats import stats


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@pass_context
def command(ctx: Context, as_json: bool) -> None:
    """Show what the graph holds: triples, graphs, studies, findings, concepts.

    \b
    Example:
      qikg stats --json
    """
    numbers = stats(ctx.store())
    if as_json:
        click.echo(json.dumps(numbers, indent=2))
        return
    click.echo(f"triples   {numbers['triples']:>9,}")
    for key in ("studies", "findings", "quotes", "concepts"):
        click.echo(f"{key:<9} {numbers[key]:>9,}")
    click.echo(f"inferred  {numbers['inferred']:>9}")
    click.echo("graphs:")
    for name, count in numbers["graphs"].items():
        click.echo(f"  {name:<40} {count:>9,}")
