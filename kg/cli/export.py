"""``qikg export``."""

from pathlib import Path

import click

from kg.cli.common import Context, pass_context
from kg.errors import BadInput
from kg.namespaces import graph_iri
from kg.release import export_provenance


@click.command("export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ttl", "trig", "nq", "nt", "jsonld"]),
    default="trig",
    show_default=True,
)
@click.option(
    "--graph",
    "graph",
    metavar="NAME",
    help="One graph: ontology, shapes, inferred, study/<id>, or a full IRI.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@pass_context
def command(ctx: Context, fmt: str, graph: str | None, output: Path | None) -> None:
    """Export the graph, or one named graph, as RDF.

    Without --graph, trig and nq keep the named graphs; ttl, nt and jsonld merge them. With -o,
    FILE.provenance.ttl is written beside it: the versions of qikg, the ontology and the store
    (qikg history), the date, the licence and the studies with their DOIs, for citing it.

    \b
    Example:
      qikg export --format trig -o qikg.trig
      qikg export --graph study/carstensen2024 --format ttl
    """
    store = ctx.store()
    data = store.dump(fmt, graph_iri(graph) if graph else None)
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    about = output.with_name(output.name + ".provenance.ttl")
    provenance = export_provenance(store, output.name, graph_iri(graph) if graph else None)
    try:
        for path, content in ((output, data), (about, provenance.encode())):
            tmp = path.with_name(path.name + ".part")
            tmp.write_bytes(content)
            tmp.replace(path)
    except OSError as exc:
        raise BadInput(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"wrote {len(data):,} bytes to {output} (provenance: {about.name})", err=True)
