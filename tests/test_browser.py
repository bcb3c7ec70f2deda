"""The explorer in a real browser: `streamlit run app.py` on a loopback port, driven by Chromium.

Each page is visited as a user would, a screenshot of it is saved under
``test-output/screenshots/``, and no request may leave the machine (the explorer works offline).
"""

from __future__ import annotations

import re
import zipfile
from urllib.parse import quote

import pytest

from kg.namespaces import QIKG

# the explorer (over a copy of the bundled store), the browser and the offline tab are
# tests/conftest.py's fixtures; ``browser`` is named here too for tests/test_serve_page.py,
# which takes it from this module
from tests.conftest import IDLE, browser, need_playwright, shoot, visit  # noqa: F401

pytestmark = pytest.mark.browser
PlaywrightTimeout = need_playwright().TimeoutError


def test_overview_shows_the_seed_study(page, explorer):
    visit(page, explorer, "", "Overview")
    page.get_by_text("Findings per study").wait_for()
    page.get_by_text("Carstensen et al. 2024").first.wait_for()
    shoot(page, "overview")


def test_overview_has_its_own_address(page, explorer):
    visit(page, explorer, "overview", "Overview")
    page.get_by_text("Findings per study").wait_for()
    assert not page.get_by_text("Page not found").count()
    visit(page, explorer, "", "Overview")  # the root goes on to /overview
    page.wait_for_url("**/overview", timeout=30_000)


def test_ontology_tree_opens_a_concept(page, explorer):
    visit(page, explorer, "ontology", "Ontology")
    page.get_by_text("professional groups ·").click()
    page.get_by_role("link", name="health professional", exact=True).click()
    page.get_by_role("heading", name="health professional").wait_for()
    page.wait_for_selector(IDLE)
    page.get_by_role("link", name="nurse", exact=True).click()  # its branch is open now
    page.get_by_role("heading", name="nurse").wait_for()
    page.wait_for_selector(IDLE)
    page.get_by_role("link", name="isco:C2221").wait_for()
    assert "concept=" in page.url
    shoot(page, "ontology")


def test_findings_filter_and_finding_page(page, explorer):
    visit(page, explorer, "findings", "Findings")
    page.get_by_label("Search statements and quotes").fill("bottom-up")
    page.keyboard.press("Enter")
    page.get_by_text("carstensen2024/F6").wait_for()
    page.wait_for_selector(IDLE)
    shoot(page, "findings")
    page.get_by_text("carstensen2024/F6").click()
    page.get_by_role("heading", name="Finding carstensen2024/F6").wait_for()
    page.wait_for_selector(IDLE)
    page.get_by_text("Related findings in other studies").wait_for()
    shoot(page, "finding")


def test_compare_heatmap_cell_opens_its_findings(page, explorer):
    visit(page, explorer, "compare", "Compare")
    cell = page.locator(
        "[data-testid='stVegaLiteChart'] g.mark-rect path[aria-label*='concept: health professional;"
        " study: Carstensen et al. 2024']"
    )
    cell.wait_for()
    page.get_by_text("Download the matrix (CSV)").wait_for()
    shoot(page, "compare")
    found = page.get_by_text("carstensen2024/F1")
    for _ in range(3):  # a click that lands before the chart listens for it is lost: try again
        cell.click()
        try:
            found.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_selector(IDLE)
    page.get_by_text("carstensen2024/F2").wait_for()


def test_synthesis_shows_the_summary_of_qualitative_findings(page, explorer):
    visit(page, explorer, "synthesis", "Synthesis")
    page.get_by_text("Candidate review findings").wait_for()
    shoot(page, "synthesis")


def test_graph_view_draws_and_recentres_on_a_click(page, explorer):
    centre = quote(str(QIKG.HealthProfessional), safe="")
    visit(page, explorer, f"graph?node={centre}", "Graph")
    chart = page.locator("[data-testid='stGraphVizChart'] svg")
    chart.wait_for()
    chart.get_by_text("health professional").first.wait_for()
    assert "https://" not in chart.text_content()
    shoot(page, "graph")
    chart.locator("a", has_text="nurse").first.click()
    page.wait_for_url("**node=*Nurse*")
    page.locator("[data-testid='stGraphVizChart'] svg").wait_for()
    page.wait_for_selector(IDLE)
    page.get_by_text("nurse · professional group").wait_for()


def test_sparql_query_shows_rows(page, explorer):
    visit(page, explorer, "sparql", "SPARQL")
    page.get_by_role("button", name="Run query").click()
    page.get_by_text("rows in").wait_for(timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=60_000)
    shoot(page, "sparql")


def test_validate_reports_a_broken_sheet(page, explorer, tmp_path):
    visit(page, explorer, "validate", "Validate & import")
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr(
            "studies.csv", "study_id,title,authors,year\nbroken2025,A title,Doe J,2025\n"
        )
        archive.writestr(
            "findings.csv",
            "finding_id,study_id,statement,professional_groups\n"
            "F1,broken2025,A statement long enough to be a finding of this study.,nurce\n",
        )
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(broken))
    page.get_by_text("Nothing can be imported").wait_for(timeout=60_000)
    page.wait_for_selector(IDLE)
    # the report, row by row: a short one as a table whose messages are shown whole
    page.locator("[data-testid='stTable']").first.wait_for()
    assert "nurce" in page.locator("[data-testid='stTable']").first.inner_text()
    assert "violation" in page.get_by_text("Nothing can be imported").inner_text()
    assert page.get_by_role("button", name="Import", exact=True).count() == 0
    shoot(page, "validate")


def test_graph_depth_redraws_the_picture_and_goes_into_the_url(page, explorer):
    # a narrow centre: a broad one (health professional) fills the node cap at depth 1 already
    centre = quote(str(QIKG.QISpecialist), safe="")
    visit(page, explorer, f"graph?node={centre}", "Graph")
    nodes = page.locator("[data-testid='stGraphVizChart'] svg g.node")
    nodes.first.wait_for()
    before = nodes.count()
    page.locator(".st-key-graph_depth").get_by_text("2", exact=True).click()
    page.wait_for_url("**depth=2*")
    page.wait_for_selector(IDLE)
    page.wait_for_function(
        "n => document.querySelectorAll(\"[data-testid='stGraphVizChart'] svg g.node\").length > n",
        arg=before,
        timeout=90_000,  # a loaded CI machine draws slowly
    )
    # the picture shows what the caption counts (it stayed at depth 1 while drawn edges first)
    caption = page.get_by_text(re.compile(r"· \d+ nodes, \d+ links")).inner_text()
    assert nodes.count() == int(re.search(r"(\d+) nodes", caption).group(1)) > before
    page.locator(".st-key-graph_depth").get_by_text("1", exact=True).click()  # and back
    page.wait_for_url("**depth=1*")
    page.wait_for_function(
        "n => document.querySelectorAll(\"[data-testid='stGraphVizChart'] svg g.node\").length === n",
        arg=before,
        timeout=90_000,
    )
