"""``qikg build``."""

import click

from kg.build import build
from kg.cli.common import Context, pass_context


@click.command("build")
@click.option("--fresh", is_flag=True, help="Empty the store first (also drops imported studies).")
@pass_context
def command(ctx: Context, fresh: bool) -> None:
    """Load the ontology, shapes and bundled studies into the store.

    Safe to run again: it replaces the bundled graphs and keeps studies you imported.

    \b
    Example:
      qikg build
      qikg --store ./my-store build --fresh
    """
    report = build(ctx.store(build_if_empty=False), fresh=fresh)
    click.echo(
        f"built: {report.ontology_triples} ontology triples, {len(report.studies)} bundled "
        f"studies, {report.findings} findings"
    )
