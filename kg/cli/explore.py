"""``qikg explore``: the Streamlit explorer."""

import os
import subprocess
import sys

import click

from kg.cli.common import Context, pass_context
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
