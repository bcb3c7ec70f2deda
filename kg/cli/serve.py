"""``qikg serve``."""

import ipaddress

import click
import uvicorn

from kg.cli.common import Context, pass_context
from kg.serve import DEFAULT_MAX_ROWS, DEFAULT_TIMEOUT, create_app


@click.command("serve")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; loopback keeps the endpoint on this machine.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=7878, show_default=True)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=DEFAULT_TIMEOUT,
    show_default=True,
    help="Stop each query after this many seconds.",
)
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_ROWS,
    show_default=True,
    help="Most rows (or triples) one answer holds.",
)
@click.option(
    "--cors",
    "cors",
    multiple=True,
    metavar="ORIGIN",
    help="Let web pages from ORIGIN query the endpoint ('*' for any); repeatable.",
)
@pass_context
def command(
    ctx: Context, host: str, port: int, timeout: float, max_rows: int, cors: tuple[str, ...]
) -> None:
    """Serve the graph as a read-only SPARQL 1.1 endpoint, with a query page.

    Queries go to http://HOST:PORT/sparql (GET ?query= or POST); the page at http://HOST:PORT/
    tries them in a browser. Updates, LOAD and SERVICE are refused.

    \b
    Example:
      qikg serve --port 7878
      curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * WHERE { ?s a qikg:Study }' \\
           http://127.0.0.1:7878/sparql
    """
    store = ctx.store()
    app = create_app(store, timeout=timeout, max_rows=max_rows, cors=cors)
    if not _loopback(host):
        click.echo(
            f"qikg: warning: listening on {host}: other machines can query the graph", err=True
        )
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"qikg: SPARQL endpoint at http://{shown}:{port}/sparql, query page at "
        f"http://{shown}:{port}/ (Ctrl+C to stop)",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
