"""``qikg docs``."""

from pathlib import Path

import click

from kg.docs import write_docs


@click.command("docs")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the HTML into.",
)
def command(output: Path) -> None:
    """Write HTML documentation of the ontology: classes, properties and every concept scheme.

    \b
    Example:
      qikg docs -o site/ontology    # then open site/ontology/index.html in a browser
    """
    pages = write_docs(output)
    click.echo(f"wrote {len(pages)} pages to {output} (start at {output / 'index.html'})")
