"""Shared fixtures: a store built from the bundled data, and a way to run the CLI in-process."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.build import build
from kg.store import open_store

#: Fixtures shared by several modules (the network trap of the hostile-input tests).
pytest_plugins = ["tests.hostile"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(tool: str, why: str) -> str:
    """The path of a system tool; skip the test without it, but fail under CI=true."""
    path = shutil.which(tool)
    if path is None:
        message = f"{tool} is not installed ({why}); .ci/run installs it"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class Ran:
    exit_code: int
    out: str
    err: str


class Terminal(io.StringIO):
    """Captured output that says it is a terminal, as a shell's stderr is when not redirected."""

    def isatty(self) -> bool:
        return True


def run_cli(*args: str, store: str | None = None, terminal: bool = False) -> Ran:
    """Run ``qikg ARGS`` in this process, as a user would from a shell (``terminal``: with
    stderr on a terminal, so that progress bars are drawn)."""
    from kg.cli import main

    out, err = io.StringIO(), Terminal() if terminal else io.StringIO()
    argv = (["--store", store] if store else []) + list(args)
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return Ran(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def built_store_path(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A store folder built once from the bundled ontology and studies; tests must not write to it."""
    path = str(tmp_path_factory.mktemp("built") / "store")
    with open_store(path) as store:
        build(store)
    return path


@pytest.fixture(scope="session")
def built_store(built_store_path: str):
    """The read-only bundled store (see built_store_path)."""
    store = open_store(built_store_path)
    yield store
    store.close()


@pytest.fixture
def fresh_store_path(built_store_path: str, tmp_path: Path) -> str:
    """A private copy of the bundled store, for a test that writes."""
    path = tmp_path / "store"
    shutil.copytree(built_store_path, path)
    return str(path)


@pytest.fixture
def cli():
    """Run the CLI in-process: ``cli("stats", "--json", store=path)``."""
    return run_cli


@pytest.fixture(autouse=True)
def _no_default_store(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never touch the user's own store: the default location is a temp folder in tests."""
    monkeypatch.setenv("QIKG_STORE", str(tmp_path / "default-store"))


REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
