"""``qikg explore``: the Streamlit explorer."""

import os
import socket
import subprocess
import sys

import click

from kg.cli.common import Context, pass_context
from kg.errors import BadInput
from kg.resources import app_path


@click.command("explore")
@click.option("--port", type=int, default=8501, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; loopback keeps the explorer on this machine.",
)
@pass_context
def command(ctx: Context, port: int, host: str) -> None:
    """Open the explorer in your browser (builds the store on first use).

    \b
    Example:
      qikg explore --port 8600
    """
    from kg.explorer.settings import streamlit_options  # imports streamlit: only when exploring

    require_free(host, port)
    store = ctx.store()
    env = {**os.environ, "QIKG_STORE": store.descriptor}
    store.close()
    click.echo(f"qikg: explorer at http://{host}:{port} (Ctrl+C to stop)", err=True)
    args = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app_path()),
        "--server.address",
        host,
        "--server.port",
        str(port),
        *streamlit_options(),  # the explorer's own settings, wherever it is started
    ]
    try:
        sys.exit(subprocess.call(args, env=env))
    except KeyboardInterrupt:
        sys.exit(0)


def require_free(host: str, port: int) -> None:
    """BadInput, before anything starts, when another program listens on the port."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Streamlit's server does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise BadInput(
                f"port {port} on {host} is taken ({exc.strerror}): another program, or another "
                "explorer, uses it; choose another with --port, e.g. qikg explore --port 8600"
            ) from None
