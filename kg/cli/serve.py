"""``qikg serve``."""

import ipaddress

import click
import uvicorn

from kg.cli.common import Context, pass_context
from kg.serve import (
    DEFAULT_MAX_ANSWER_MB,
    DEFAULT_MAX_ROWS,
    DEFAULT_PER_CLIENT,
    DEFAULT_TIMEOUT,
    DEFAULT_WORKERS,
    LOOPBACK_NAMES,
    MAX_BODY_BYTES,
    create_app,
)


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
    "--max-answer-mb",
    type=click.IntRange(min=1),
    default=DEFAULT_MAX_ANSWER_MB,
    show_default=True,
    help="Largest answer in MB; a larger one is cut and says so.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=DEFAULT_WORKERS,
    show_default=True,
    help="Queries run at once (each in a worker process of its own).",
)
@click.option(
    "--per-client",
    type=click.IntRange(min=1),
    default=DEFAULT_PER_CLIENT,
    show_default=True,
    help="Queries one client address may run at once; more get HTTP 429.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="A host name requests may use besides HOST and localhost (e.g. the machine's DNS "
    "name); repeatable. Other names are refused, against DNS rebinding.",
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
    ctx: Context,
    host: str,
    port: int,
    timeout: float,
    max_rows: int,
    max_answer_mb: int,
    workers: int,
    per_client: int,
    allow_hosts: tuple[str, ...],
    cors: tuple[str, ...],
) -> None:
    """Serve the graph as a read-only SPARQL 1.1 endpoint, with a query page.

    Queries go to http://HOST:PORT/sparql (GET ?query= or POST); the page at http://HOST:PORT/
    tries them in a browser. Updates, LOAD and SERVICE are refused, every query is bounded in
    time, rows and size, and the workers that run queries cannot open network connections.
    Behind a reverse proxy every request comes from one address: raise --per-client there.

    \b
    Example:
      qikg serve --port 7878
      curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * WHERE { ?s a qikg:Study }' \\
           http://127.0.0.1:7878/sparql
    """
    if per_client >= workers:
        click.echo(
            f"qikg: warning: --per-client {per_client} lets one client hold all {workers} "
            "workers; keep it below --workers",
            err=True,
        )
    ctx.workers, ctx.in_memory = workers, "workers"
    store = ctx.store()
    hosts = [*LOOPBACK_NAMES, *allow_hosts, *([] if _unspecified(host) else [host])]
    app = create_app(
        store,
        timeout=timeout,
        max_rows=max_rows,
        cors=cors,
        hosts=hosts,
        per_client=per_client,
        max_answer_mb=max_answer_mb,
    )
    if not _loopback(host):
        click.echo(
            f"qikg: warning: listening on {host}: other machines can query the graph "
            f"(requests must name {', '.join(hosts)}; see docs/deploy.md)",
            err=True,
        )
    shown = f"[{host}]" if ":" in host else host
    click.echo(
        f"qikg: SPARQL endpoint at http://{shown}:{port}/sparql, query page at "
        f"http://{shown}:{port}/ (Ctrl+C to stop)",
        err=True,
    )
    # h11 reads a request's head whole; room for a GET URL up to the body limit, so that a
    # long one gets the endpoint's own 414 rather than a dropped connection.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        h11_max_incomplete_event_size=MAX_BODY_BYTES + 64 * 1024,
    )


def _unspecified(host: str) -> bool:
    """0.0.0.0 or ::, which no request names as its Host."""
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
