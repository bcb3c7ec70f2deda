"""``qikg query``."""

from pathlib import Path

import click

from kg.cli.common import Context, pass_context
from kg.errors import BadInput
from kg.namespaces import curie
from kg.read.labels import labels
from kg.sparql import QueryResult


@click.command("query")
@click.argument("query_or_file")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "csv", "json", "tsv", "xml", "ttl", "nt", "jsonld"]),
    default="table",
    show_default=True,
    help="Output format (ttl/nt/jsonld for CONSTRUCT).",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=10_000,
    show_default=True,
    help="Most rows to return.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Stop the query after this many seconds.",
)
@click.option("--no-inferred", is_flag=True, help="Leave the inferred graph out of the query.")
@pass_context
def command(
    ctx: Context, query_or_file: str, fmt: str, limit: int, timeout: float, no_inferred: bool
) -> None:
    """Run a read-only SPARQL query (SELECT, ASK, CONSTRUCT, DESCRIBE).

    QUERY_OR_FILE is the query text or a .rq file. The qikg prefixes (qikg:, cfir:, skos:, prov:,
    oa:, dcterms:, ...) are predeclared. Updates, LOAD and SERVICE are refused.

    \b
    Example:
      qikg query 'SELECT ?s ?label WHERE { ?s a qikg:Study ; dcterms:title ?label }'
      qikg query ontology/queries/cq04-enablers-for-group.rq --format csv
    """
    text = _query_text(query_or_file)
    store = ctx.store()
    result = store.query(text, timeout=timeout, limit=limit, include_inferred=not no_inferred)
    if fmt == "table":
        click.echo(render_table(result, labels(store, _iris(result))))
    else:
        if fmt in ("ttl", "nt", "jsonld") and result.kind != "graph":
            fmt = "json"
        click.echo(result.serialize("nt" if fmt == "table" else fmt).decode(), nl=False)
    if result.truncated:
        click.echo(f"qikg: showing the first {limit} rows; raise --limit to see more", err=True)


def _query_text(query_or_file: str) -> str:
    path = Path(query_or_file)
    if path.suffix == ".rq" or ("\n" not in query_or_file and _is_file(path)):
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BadInput(f"no such query file: {query_or_file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"cannot read the query file {query_or_file}: {exc}") from None
    return query_or_file


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a one-line query longer than a file name can be
        return False


def _iris(result: QueryResult) -> list[str]:
    return [t["value"] for row in result.bindings for t in row.values() if t["type"] == "uri"]


def render_table(result: QueryResult, names: dict[str, str]) -> str:
    """A plain-text table with each IRI shortened and its label beside it."""
    if result.kind == "ask":
        return "yes" if result.boolean else "no"
    if result.kind == "graph":
        return result.serialize("ttl").decode()

    def show(term: dict | None) -> str:
        if term is None:
            return ""
        if term["type"] == "uri":
            label = names.get(term["value"])
            short = curie(term["value"])
            return f"{short} ({label})" if label else short
        return " ".join(term["value"].split())

    header = result.variables
    rows = [[show(row.get(v)) for v in header] for row in result.bindings]
    widths = [min(60, max([len(h)] + [len(r[i]) for r in rows])) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            (c if len(c) <= w else c[: w - 1] + "…").ljust(w)
            for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    out = [line(header), line(["-" * w for w in widths])] + [line(r) for r in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''}, {result.elapsed * 1000:.0f} ms)")
    return "\n".join(out)
