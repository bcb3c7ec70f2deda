"""The ``qikg`` command line: one thin verb per module in this package, each calling the kg API.

A module ``kg/cli/<name>.py`` defines ``command`` (a click command) or ``commands`` (a list of
them), and ``VERBS`` below names the module of each verb: a verb's module (and what it needs, such
as FastAPI or pyshacl) is imported only when that verb runs, so ``qikg query`` starts fast.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from types import ModuleType

import click

from kg.cli.common import Context
from kg.errors import QikgError

#: Each verb and the module of this package that defines it.
VERBS = {
    "build": "build",
    "compare": "linking",
    "docs": "docs",
    "explore": "explore",
    "history": "history",
    "export": "export",
    "export-reviews": "synthesis",
    "export-sheet": "sheets",
    "import": "importing",
    "import-qda": "qda",
    "mapping-template": "qda",
    "nanopub": "synthesis",
    "query": "query",
    "reason": "reason",
    "related": "linking",
    "release": "release",
    "remove": "remove",
    "restore": "history",
    "serve": "serve",
    "soqf": "synthesis",
    "stats": "stats",
    "suggest-synthesis": "synthesis",
    "template": "sheets",
    "undo": "history",
    "validate": "importing",
}


def module_commands(module: ModuleType) -> list[click.Command]:
    """The click commands a verb module defines."""
    single = getattr(module, "command", None)
    return list(getattr(module, "commands", [single] if single else []))


class _Verbs(click.Group):
    """A group that imports a verb's module only when the verb is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(VERBS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in VERBS:
            return None
        module = importlib.import_module(f"{__name__}.{VERBS[name]}")
        return next(c for c in module_commands(module) if c.name == name)


@click.group(
    cls=_Verbs, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
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
      qikg build     # load the ontology and the bundled studies
      qikg stats     # what the graph holds
      qikg query 'SELECT ?study WHERE { ?study a qikg:Study }'    # ask a SPARQL question
    """
    ctx.obj = Context(store, debug)
    ctx.call_on_close(ctx.obj.close)


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
