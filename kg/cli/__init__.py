"""The ``qikg`` command line: one thin verb per module in this package, each calling the kg API.

A module ``kg/cli/<verb>.py`` defines ``command`` (a click command) or ``commands`` (a list of
them); they are found and added here, so a new verb is a new file and nothing else changes.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

import click

from kg.cli.common import Context
from kg.errors import QikgError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--store",
    metavar="PATH_OR_URL",
    envvar="QIKG_STORE",
    help="Store folder, or http(s):// URL of a SPARQL 1.1 server. Default: $QIKG_STORE, "
    "else a folder in your user data directory.",
)
@click.option("--debug", is_flag=True, help="Show the full traceback of an error.")
@click.version_option(package_name="qikg")
@click.pass_context
def cli(ctx: click.Context, store: str | None, debug: bool) -> None:
    """qikg: coded findings on health-care professions and quality improvement, as one graph.

    \b
    Examples:
      qikg build                 load the ontology and bundled studies
      qikg stats                 what the graph holds
      qikg query 'SELECT ...'    ask a SPARQL question
    """
    ctx.obj = Context(store, debug)
    ctx.call_on_close(ctx.obj.close)


for _info in pkgutil.iter_modules(__path__):
    _module = importlib.import_module(f"{__name__}.{_info.name}")
    _single = getattr(_module, "command", None)
    for _command in getattr(_module, "commands", [_single] if _single else []):
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one line on stderr and an exit code."""
    debug = "--debug" in (argv if argv is not None else sys.argv)
    try:
        cli.main(args=argv, prog_name="qikg", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("qikg: stopped", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except QikgError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"qikg: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        else:
            click.echo(
                f"qikg: internal error: {type(exc).__name__}: {exc} (run with --debug for details)",
                err=True,
            )
        sys.exit(3)
    sys.exit(0)
