"""A researcher's first day in a real browser: from an empty store to a review finding with its
GRADE-CERQual assessment and a SoQF download, every step in the explorer (issue #16).

The explorer runs on a loopback port over a new, empty store; Chromium (tests/conftest.py's
browser and offline tab) does each step as a user does and a screenshot of each lands in
``docs/img/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import LONG, TALL_TAB, choose, idle, need_playwright, shoot
from tests.servers import start_explorer
from tests.test_explorer import coding_sheet

pytestmark = pytest.mark.browser
expect = need_playwright().expect

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "docs" / "img"
STATEMENT = (
    "Lack of time between learning sessions appears to limit professionals' improvement work "
    "across collaboratives."
)


@pytest.fixture
def explorer(tmp_path: Path) -> Iterator[str]:
    """The explorer on a free loopback port over an empty store in a temporary folder."""
    with start_explorer(tmp_path / "store", tmp_path) as base:
        yield base


@pytest.fixture
def viewport() -> dict[str, int]:
    return TALL_TAB


def keyed(page, key: str):
    """The element of the widget with this key (Streamlit marks it ``st-key-KEY``)."""
    return page.locator(f".st-key-{key}")


def type_into(page, key: str, text: str) -> None:
    """Type into a text area or input and leave it, as a user does (Streamlit reads it on blur)."""
    box = keyed(page, key).locator("textarea, input").first
    box.fill(text)
    box.press("Tab")
    idle(page)


def test_from_an_empty_store_to_a_review_finding_and_its_soqf(page, explorer, tmp_path):
    # 1. the empty store is built from the bundled data
    page.goto(explorer)
    page.get_by_text("is empty").wait_for(timeout=LONG)
    shoot(page, "steps-1-empty-store", SHOTS)
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
    shoot(page, "steps-2-imported-sheet", SHOTS)

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
    shoot(page, "steps-3-candidate", SHOTS, candidate)
    accept.click()
    supporting = keyed(page, "rf_supporting_findings").locator("textarea")
    # the rerun that fills the writer can start later than idle()'s pause on a loaded machine
    expect(supporting).to_have_value(re.compile("explorertest2025/F1"), timeout=LONG)
    idle(page)

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
        choose(page, f"rf_{column}", level, exact=True)
        type_into(page, f"rf_{column}_explanation", why)
    choose(page, "rf_confidence", "moderate confidence", exact=True)
    type_into(page, "rf_confidence_explanation", "Minor to moderate concerns about adequacy.")
    type_into(page, "rf_assessor", "Browser Tester")
    keyed(page, "rf_check").get_by_role("button").click()
    page.get_by_text("Ready to import").first.wait_for(timeout=LONG)
    idle(page)
    shoot(page, "steps-4-assessment", SHOTS)

    # 5. it is imported, and opens in the Summary of Qualitative Findings
    keyed(page, "rf_import").get_by_role("button").click()
    page.get_by_text("Imported review bundled").wait_for(timeout=LONG)
    page.get_by_role("heading", name="Review finding RF4").wait_for(timeout=LONG)
    idle(page)
    page.get_by_role("heading", name="Synthesis").scroll_into_view_if_needed()
    shoot(page, "steps-5-review-finding", SHOTS)

    # 6. the SoQF downloads, with the new review finding and its assessment
    with page.expect_download(timeout=LONG) as download:
        page.get_by_text("SoQF (md)").click()
    soqf = Path(download.value.path()).read_text(encoding="utf-8")
    assert "Summary of Qualitative Findings" in soqf
    row = next(line for line in soqf.splitlines() if line.startswith("| RF4 |"))
    assert STATEMENT in row and "Moderate confidence" in row
    assert "Minor concerns: Two studies did not say how they analysed." in soqf
    assert download.value.suggested_filename == "qikg-soqf-bundled.md"
    shoot(page, "steps-6-soqf-download", SHOTS)
