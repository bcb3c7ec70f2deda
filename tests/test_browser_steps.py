"""A researcher's first day in a real browser: from an empty store to a review finding with its
GRADE-CERQual assessment and a SoQF download, every step in the explorer (issue #16).

The explorer runs on a loopback port over a new, empty store; Chromium does each step as a user
does and a screenshot of each lands in ``docs/img/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import need
from tests.servers import free_port
from tests.test_explorer import coding_sheet

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "img"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
LONG = 120_000  # ms: building the store and looking for candidates take seconds on 2 busy cores
STATEMENT = (
    "Lack of time between learning sessions appears to limit professionals' improvement work "
    "across collaboratives."
)


@pytest.fixture
def explorer(tmp_path: Path) -> Iterator[str]:
    """The explorer on a free loopback port over an empty store in a temporary folder."""
    store = tmp_path / "store"
    port = free_port()
    log = open(tmp_path / "streamlit.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(REPO / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env={**os.environ, "QIKG_STORE": str(store)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp_path / 'streamlit.log').read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture
def page(explorer):
    """A tab of Debian's Chromium that refuses, and records, any request leaving the machine."""
    chromium = need("chromium", "the browser tests drive Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 1800}, accept_downloads=True)
        outside: list[str] = []

        def only_local(route) -> None:
            host = urlparse(route.request.url).hostname
            if route.request.url.startswith("data:") or host in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                outside.append(route.request.url)
                route.abort()

        tab.route("**/*", only_local)
        yield tab
        browser.close()
    assert not outside, f"the explorer tried to reach the network: {outside}"


def idle(page) -> None:
    page.wait_for_timeout(300)  # a rerun starts a moment after the event that caused it
    page.wait_for_selector(IDLE, timeout=LONG)


def shoot(page, name: str, locator=None) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(500)  # let charts finish drawing
    if locator is not None:
        locator.screenshot(path=str(SHOTS / f"{name}.png"))
    else:
        page.screenshot(path=str(SHOTS / f"{name}.png"))


def keyed(page, key: str):
    """The element of the widget with this key (Streamlit marks it ``st-key-KEY``)."""
    return page.locator(f".st-key-{key}")


def type_into(page, key: str, text: str) -> None:
    """Type into a text area or input and leave it, as a user does (Streamlit reads it on blur)."""
    box = keyed(page, key).locator("textarea, input").first
    box.fill(text)
    box.press("Tab")
    idle(page)


def choose(page, key: str, option: str) -> None:
    keyed(page, key).get_by_role("button", name="Open").click()
    page.get_by_role("option", name=option, exact=True).click()
    idle(page)


def test_from_an_empty_store_to_a_review_finding_and_its_soqf(page, explorer, tmp_path):
    # 1. the empty store is built from the bundled data
    page.goto(explorer)
    page.get_by_text("is empty").wait_for(timeout=LONG)
    shoot(page, "steps-1-empty-store")
    page.get_by_role("button", name="Build the store now").click()
    page.get_by_text("Findings per study").wait_for(timeout=LONG)
    idle(page)

    # 2. a coding sheet is checked, then imported
    page.goto(f"{explorer}/validate")
    page.get_by_role("heading", name="Validate & import").wait_for(timeout=LONG)
    idle(page)
    sheet = tmp_path / "my-study.zip"
    sheet.write_bytes(coding_sheet())
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(sheet))
    page.get_by_text("Ready to import").wait_for(timeout=LONG)
    idle(page)
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Imported explorertest2025").wait_for(timeout=LONG)
    idle(page)
    shoot(page, "steps-2-imported-sheet")

    # 3. a candidate review finding that draws on the new study is accepted
    page.goto(f"{explorer}/synthesis")
    page.get_by_role("heading", name="Synthesis").wait_for(timeout=LONG)
    idle(page)
    keyed(page, "synthesis_candidates").locator("label").click()
    candidates = page.locator("[data-testid='stExpander']").filter(has_text="explorertest2025/F1")
    candidates.first.wait_for(state="attached", timeout=LONG)
    idle(page)
    candidate = candidates.filter(has=page.locator("summary", has_text="lack of time")).first
    candidate.locator("summary").click()
    accept = candidate.get_by_role("button", name="Accept: write it as a review finding")
    accept.wait_for()
    shoot(page, "steps-3-candidate", candidate)
    accept.click()
    idle(page)
    supporting = keyed(page, "rf_supporting_findings").locator("textarea")
    assert "explorertest2025/F1" in supporting.input_value()

    # 4. its statement and GRADE-CERQual assessment are written
    type_into(page, "rf_statement", STATEMENT)
    for column, level, why in [
        (
            "methodological_limitations",
            "minor concerns",
            "Two studies did not say how they analysed.",
        ),
        ("coherence", "no or very minor concerns", "The findings agree."),
        ("adequacy", "moderate concerns", "Some studies give thin data."),
        ("relevance", "minor concerns", "Mostly Danish and British settings."),
    ]:
        choose(page, f"rf_{column}", level)
        type_into(page, f"rf_{column}_explanation", why)
    choose(page, "rf_confidence", "moderate confidence")
    type_into(page, "rf_confidence_explanation", "Minor to moderate concerns about adequacy.")
    type_into(page, "rf_assessor", "Browser Tester")
    keyed(page, "rf_check").get_by_role("button").click()
    page.get_by_text("Ready to import").first.wait_for(timeout=LONG)
    idle(page)
    shoot(page, "steps-4-assessment")

    # 5. it is imported, and opens in the Summary of Qualitative Findings
    keyed(page, "rf_import").get_by_role("button").click()
    page.get_by_text("Imported review bundled").wait_for(timeout=LONG)
    page.get_by_role("heading", name="Review finding RF4").wait_for(timeout=LONG)
    idle(page)
    page.get_by_role("heading", name="Synthesis").scroll_into_view_if_needed()
    shoot(page, "steps-5-review-finding")

    # 6. the SoQF downloads, with the new review finding and its assessment
    with page.expect_download(timeout=LONG) as download:
        page.get_by_text("SoQF (md)").click()
    soqf = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Summary of Qualitative Findings" in soqf
    row = next(line for line in soqf.splitlines() if line.startswith("| RF4 |"))
    assert STATEMENT in row and "Moderate confidence" in row
    assert "Minor concerns: Two studies did not say how they analysed." in soqf
    assert download.value.suggested_filename == "qikg-soqf-bundled.md"
    shoot(page, "steps-6-soqf-download")
