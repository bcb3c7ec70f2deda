"""Shared fixtures: a store built from the bundled data, and a way to run the CLI in-process."""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from urllib.parse import urlparse

import pytest

from kg.build import build
from kg.sparql import QueryResult
from kg.store import open_store
from tests.servers import start_explorer

#: Fixtures shared by several modules (the network trap of the hostile-input tests).
pytest_plugins = ["tests.hostile"]

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def sorted_rows(result: QueryResult) -> list[tuple]:
    """A query's rows as a sorted list of value tuples. GROUP_CONCAT's order is the engine's
    choice, so ", "-joined values are compared as sorted parts."""
    return sorted(
        tuple(", ".join(sorted((v or "").split(", "))) for v in row.values())
        for row in result.values()
    )


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


# --- the explorer in a real browser (tests/test_browser*.py, tests/test_sparql_editor.py) ------

#: Debian's Chromium as Playwright drives it here (it cannot download its own browsers): no
#: sandbox in a container, no GPU, and nothing that calls home.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The explorer's page once its script has finished running.
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
#: ms a step that checks, imports or builds may take on 2 busy cores.
LONG = 120_000
#: A tab tall enough that each step's screenshot shows the whole step.
TALL_TAB = {"width": 1400, "height": 1800}


def idle(page, timeout: float = LONG) -> None:
    """Wait until the rerun an event starts has finished."""
    page.wait_for_timeout(300)  # a rerun starts a moment after the event that caused it
    page.wait_for_selector(IDLE, timeout=timeout)


def need_playwright() -> ModuleType:
    """``playwright.sync_api``; without it, skip (at a module's top: the whole module), but fail
    under CI=true, as :func:`need` does for a missing tool."""
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        message = "playwright is not installed (the browser tests drive chromium with it)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message, allow_module_level=True)


@pytest.fixture(scope="module")
def explorer(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The explorer's base URL, served over a copy of the bundled store for one test module (a
    module that needs another store defines its own ``explorer``)."""
    folder = tmp_path_factory.mktemp("explorer")
    shutil.copytree(built_store_path, folder / "store")
    with start_explorer(folder / "store", folder) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright; skipped without chromium or playwright (a failure
    under CI=true)."""
    chromium = need("chromium", "the browser tests drive Debian's chromium")
    with need_playwright().sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def viewport() -> dict[str, int]:
    """The size of a browser test's tab (a module that shoots its pages larger overrides it)."""
    return {"width": 1400, "height": 1600}


@contextlib.contextmanager
def offline_tab(browser, viewport: dict[str, int]) -> Iterator:
    """A new tab that refuses, and records, any request that would leave this machine; the test
    fails at the end if there was one (the explorer works offline)."""
    tab = browser.new_page(viewport=viewport, accept_downloads=True)
    tab.set_default_timeout(60_000)  # a busy CI machine took past 30 s to show a select box
    outside: list[str] = []

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname in (
            "127.0.0.1",
            "localhost",
        ):
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    tab.route("**/*", only_local)
    try:
        yield tab
    finally:
        tab.close()
    assert not outside, f"the explorer tried to reach the network: {outside}"


@pytest.fixture
def page(browser, explorer: str, viewport: dict[str, int]) -> Iterator:
    """A fresh offline tab (offline_tab) for a test of the ``explorer``."""
    with offline_tab(browser, viewport) as tab:
        yield tab


def visit(page, base: str, path: str, heading: str, timeout: float = 30_000) -> None:
    """Open a page of the explorer and wait until its script has finished."""
    page.goto(f"{base}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for(timeout=timeout)
    page.wait_for_selector(IDLE, timeout=timeout)


def choose(page, key: str, typed: str, exact: bool = False) -> None:
    """Pick an option of the select box with this key by typing it, as a user does in a long list
    (only the options on screen are in the page): the first option holding ``typed``, or with
    ``exact`` the option named exactly that. Clicking the box's input, not its frame, opens it
    every time."""
    box = page.locator(f".st-key-{key} input").first
    box.click()
    box.fill(typed)
    options = page.get_by_role("option")
    pick = (
        options.filter(has_text=typed).first
        if not exact
        else options.get_by_text(typed, exact=True)
    )
    pick.click()
    idle(page)


#: Where the browser tests' screenshots go (tests/test_browser_steps.py puts its own in docs/img/).
SCREENSHOTS = REPO / "test-output" / "screenshots"


def shoot(page, name: str, folder: Path = SCREENSHOTS, locator=None) -> Path:
    """Save a screenshot of the tab (or of ``locator`` only) as ``folder/name.png``."""
    folder.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # let charts finish drawing
    path = folder / f"{name}.png"
    (locator if locator is not None else page).screenshot(path=str(path))
    return path
