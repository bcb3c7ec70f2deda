"""``qikg`` with the suggested start-up fix, for before/after numbers (a prototype, not product code).

    .venv/bin/python bench/prototype_cli.py --store DIR query 'SELECT ...' --format csv

The product's ``kg/cli/__init__.py`` imports every verb's module (and with them FastAPI, uvicorn,
pyshacl, owlready2, ...) before it runs any verb. This runs the same click command, importing only
the module of the verb asked for. ``QIKG_BENCH_PATCHES=union,names-not-sizes`` also applies
bench/prototype.py's patches.
"""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

#: verb -> module of kg/cli that defines it (the verbs the benchmark runs).
VERBS = {"query": "query", "serve": "serve"}


def main() -> None:
    import click

    package = types.ModuleType("kg.cli")  # kg.cli without running its __init__
    package.__path__ = [str(ROOT / "kg" / "cli")]
    sys.modules["kg.cli"] = package
    if os.environ.get("QIKG_BENCH_PATCHES"):
        import prototype

        prototype.apply(os.environ["QIKG_BENCH_PATCHES"].split(","))
    import importlib

    from kg.cli.common import Context

    args = sys.argv[1:]
    verb = next(a for a in args if a in VERBS)
    module = importlib.import_module(f"kg.cli.{VERBS[verb]}")

    @click.group()
    @click.option("--store")
    @click.pass_context
    def cli(ctx: click.Context, store: str | None) -> None:
        ctx.obj = Context(store, False)
        ctx.call_on_close(ctx.obj.close)

    cli.add_command(module.command)
    cli.main(args=args, prog_name="qikg", standalone_mode=True)


if __name__ == "__main__":
    main()
