"""``qikg release``."""

from pathlib import Path

import click

from kg.release import DEFAULT_ENDPOINT, write_release


@click.command("release")
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write the release into.",
)
@click.option(
    "--endpoint",
    default=DEFAULT_ENDPOINT,
    show_default=True,
    help="The SPARQL endpoint the VoID description names (where `qikg serve` runs).",
)
def command(output: Path, endpoint: str) -> None:
    """Write the FAIR release files, each named with the version: the merged ontology (OWL
    RDF/XML and Turtle), the ontology and its JSON-LD @context, the shapes, the bundled data
    (TriG, N-Quads), the HTML documentation and their VoID + DCAT description.

    The data comes from a store built afresh from the bundled studies, never from --store.

    \b
    Example:
      qikg release -o dist/
    """
    release = write_release(output, endpoint=endpoint)
    for path in release.files():
        click.echo(path.relative_to(output))
    click.echo(
        f"wrote qikg {release.version}: {len(release.files())} files in {output} "
        f"(described in {release.description.name})",
        err=True,
    )
