"""Files into and out of the explorer in a real browser (issue #16): a REFI-QDA project's codes
mapped in the explorer's table and imported, a study exported to its coding sheet, and the
filtered findings downloaded.

Each file is judged by what it holds, against what the command line writes or what the store
answers: the mapping table is ``qikg mapping-template``'s, edited, and imports as ``qikg
import-qda --mapping`` does; the exported workbook is ``qikg export-sheet``'s; the downloaded
findings are exactly the ones the filters match. The explorer runs over a copy of the bundled
store with two more studies (one with a finding, one waiting for its QDA project); Chromium is
tests/conftest.py's. A screenshot of each step lands in ``docs/img/`` (as in
tests/test_browser_steps.py).
"""

from __future__ import annotations

import csv
import io
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest

from kg.namespaces import QIKG, study_graph
from kg.qda import read_qda
from kg.qda.mapping import read_mapping
from kg.read.findings import FindingFilters, search_findings, studies
from kg.store import open_store
from kg.vocabulary import Vocabulary
from tests.conftest import (
    LONG,
    REPO,
    TALL_TAB,
    choose,
    idle,
    need_playwright,
    run_cli,
    shoot,
    visit,
)
from tests.servers import start_explorer
from tests.sheets import FINDING, STUDY, study, write_sheet
from tests.test_qda import write_qdpx

pytestmark = pytest.mark.browser
PlaywrightTimeout = need_playwright().TimeoutError

SHOTS = REPO / "docs" / "img"
#: The study a QDA project is imported into: its studies-sheet row only, as docs/qda-import.md
#: asks (kept apart from STUDY, whose finding an export test reads).
QDA_STUDY = study(study_id="qdastudy2025", doi="10.1234/qikg.test.qda")
SEED = "carstensen2024"  # the bundled study, which has its source text in the graph


@pytest.fixture(scope="module")
def served(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The store the explorer serves: the bundled one, STUDY with its finding, and QDA_STUDY."""
    folder = tmp_path_factory.mktemp("files")
    store = folder / "store"
    shutil.copytree(built_store_path, store)
    for sheet in (
        write_sheet(folder / "new.xlsx"),
        write_sheet(folder / "qda.xlsx", studies=[QDA_STUDY], findings=[]),
    ):
        ran = run_cli("import", str(sheet), store=str(store))
        assert ran.exit_code == 0, ran.err
    return store


@pytest.fixture(scope="module")
def explorer(served: Path) -> Iterator[str]:
    with start_explorer(served, served.parent) as base:
        yield base


@pytest.fixture
def viewport() -> dict[str, int]:
    return TALL_TAB


def download(page, button, folder: Path) -> Path:
    """Press a download button; the file the browser received, saved in ``folder`` under the
    name the explorer gave it."""
    with page.expect_download(timeout=LONG) as arrived:
        button.click()
    saved = folder / "downloads" / arrived.value.suggested_filename
    saved.parent.mkdir(exist_ok=True)
    arrived.value.save_as(saved)
    return saved


def sheet_rows(book: openpyxl.Workbook, name: str) -> list[dict[str, str]]:
    """A sheet's rows as dicts by its header row (empty cells as "")."""
    rows = book[name].iter_rows(values_only=True)
    header = [str(c) for c in next(rows)]
    return [
        {h: "" if c is None else str(c) for h, c in zip(header, row, strict=False)}
        for row in rows
        if any(c is not None for c in row)
    ]


# --- a study exported to its coding sheet -------------------------------------------------------


def test_a_study_exports_to_the_coding_sheet_export_sheet_writes(page, explorer, served, tmp_path):
    visit(page, explorer, "overview", "Overview", timeout=LONG)
    choose(page, "overview_export", f"({STUDY['study_id']})")
    xlsx = page.get_by_role("button", name=f"Coding sheet of {STUDY['study_id']} (.xlsx)")
    xlsx.wait_for()
    shoot(page, "steps-study-export", SHOTS)
    exported = download(page, xlsx, tmp_path)
    assert exported.name == f"{STUDY['study_id']}.xlsx"
    mine = openpyxl.load_workbook(exported, read_only=True)
    cli_book = tmp_path / "cli.xlsx"
    ran = run_cli("export-sheet", STUDY["study_id"], "-o", str(cli_book), store=str(served))
    assert ran.exit_code == 0, ran.err
    theirs = openpyxl.load_workbook(cli_book, read_only=True)
    assert {"studies", "findings"} <= set(mine.sheetnames)
    for name in ("studies", "findings"):
        assert sheet_rows(mine, name) == sheet_rows(theirs, name), name
    (finding,) = sheet_rows(mine, "findings")  # the study's one finding, with its codes
    assert finding["finding_id"] == "F1" and finding["statement"] == FINDING["statement"]
    assert finding["professional_groups"] == "nurse" and finding["barriers"] == "lack of time"
    assert [r["study_id"] for r in sheet_rows(mine, "studies")] == [STUDY["study_id"]]

    # a study whose source text is in the graph comes as a .zip that holds it
    choose(page, "overview_export", f"({SEED})")
    assert page.get_by_role("button", name=f"Coding sheet of {SEED} (.xlsx)").is_disabled()
    zipped = download(
        page, page.get_by_role("button", name="… with its source text (.zip)"), tmp_path
    )
    cli_zip = tmp_path / "cli.zip"
    ran = run_cli("export-sheet", SEED, "-o", str(cli_zip), store=str(served))
    assert ran.exit_code == 0, ran.err
    assert members(zipped) == members(cli_zip)
    assert members(zipped)[f"sources/{SEED}.txt"]
    with open_store(str(served)) as store:
        stored = search_findings(store, FindingFilters(studies=(seed_iri(store),)), limit=1000)
    rows = list(csv.DictReader(io.StringIO(members(zipped)["findings.csv"].decode("utf-8-sig"))))
    assert {f"{r['study_id']}/{r['finding_id']}" for r in rows} == {r.ref for r in stored.rows}


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def seed_iri(store) -> str:
    return next(s.iri for s in studies(store) if s.study_id == SEED)


# --- the filtered findings downloaded -----------------------------------------------------------


def test_the_downloaded_findings_are_exactly_the_filtered_ones(page, explorer, served, tmp_path):
    visit(page, explorer, "findings", "Findings", timeout=LONG)
    picker = page.locator(".st-key-filter_professional_groups input").first
    picker.click()
    picker.fill("nurse")
    page.get_by_role("option").filter(has_text="nurse (").first.click()
    page.keyboard.press("Escape")  # close the list (it stays open for more choices)
    idle(page)
    with open_store(str(served)) as store:
        everything = search_findings(store, FindingFilters(), limit=1).total
        wanted = search_findings(
            store, FindingFilters(professional_groups=(str(QIKG.Nurse),)), limit=10_000
        )
    refs = {r.ref for r in wanted.rows}
    assert 1 < len(refs) == wanted.total < everything, "a real filter: some findings, not all"
    page.get_by_text(f"{len(refs)} findings match").wait_for(timeout=LONG)
    shoot(page, "steps-findings-download", SHOTS)

    book = openpyxl.load_workbook(
        download(
            page, page.get_by_role("button", name="Download these findings (.xlsx)"), tmp_path
        ),
        read_only=True,
    )
    found = sheet_rows(book, "findings")
    assert len(found) == len(refs)  # no row twice
    assert {f"{r['study_id']}/{r['finding_id']}" for r in found} == refs
    assert {r["study_id"] for r in sheet_rows(book, "studies")} == {r.split("/")[0] for r in refs}

    text = download(
        page, page.get_by_role("button", name="Download these findings (.csv)"), tmp_path
    )
    rows = list(csv.DictReader(io.StringIO(text.read_text(encoding="utf-8-sig"))))
    assert len(rows) == len(refs)
    assert {f"{r['study_id']}/{r['finding_id']}" for r in rows} == refs


# --- a QDA project's codes mapped in the table, then imported -----------------------------------

#: The table's columns, in the grid's order (kg.qda.mapping.COLUMNS), and the codes' rows.
OBJECT_ID, ROLE = 3, 9
THEME, OTHER = 6, 7  # "Tidspres begrænser forbedringsarbejdet" and "Andet"
ROW_PX, HEADER_PX = 35, 35  # Streamlit's data grid: row and header heights


def select_cell(page, grid, col: int, row: int) -> None:
    """Select a cell of the grid (a canvas) as a user does: a click on the row, then the arrow
    keys to the column (a column's place on the canvas depends on the widths and the scroll)."""
    page.keyboard.press("Escape")  # nothing selected: the next selection is the click's
    selected = page.locator(f"tr[aria-rowindex='{row + 2}'] td[aria-selected='true']").first
    for _ in range(5):  # a click while the grid is still being drawn again can be lost
        grid.locator(".dvn-scroller").first.click(
            position={"x": 20, "y": HEADER_PX + ROW_PX * row + ROW_PX / 2}
        )
        try:
            selected.wait_for(state="attached", timeout=2_000)
            break
        except PlaywrightTimeout:
            continue
    page.wait_for_timeout(300)
    at = int((selected.get_attribute("data-testid") or "").rsplit("-", 2)[1])
    for _ in range(abs(col - at)):
        page.keyboard.press("ArrowRight" if col > at else "ArrowLeft")
    # the grid's accessible table (Glide Data Grid's) says which cell is selected
    page.locator(f"[data-testid='glide-cell-{col}-{row}'][aria-selected='true']").wait_for(
        state="attached", timeout=10_000
    )


def edit_cell(page, grid, col: int, row: int, text: str) -> None:
    """Open a cell's editor, type over its value (a text, or an option of a list) and commit."""
    select_cell(page, grid, col, row)
    page.keyboard.press("Enter")
    page.get_by_test_id("portal").locator(".gdg-clip-region").wait_for(timeout=10_000)
    page.keyboard.type(text, delay=20)
    page.keyboard.press("Enter")
    idle(page)
    cell = page.locator(f"[data-testid='glide-cell-{col}-{row}']")
    assert cell.text_content() == text


def test_a_qda_projects_codes_are_mapped_in_the_table_and_imported(
    page, explorer, served, built_store_path, tmp_path
):
    sid = QDA_STUDY["study_id"]
    qdpx = write_qdpx(tmp_path / "p.qdpx")
    visit(page, explorer, "validate", "Validate & import", timeout=LONG)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(qdpx))
    page.get_by_text("Map the codes to the vocabulary").wait_for(timeout=LONG)
    idle(page)
    choose(page, "qda_study", sid)
    page.wait_for_timeout(1_000)  # the grid is drawn again for the study's check
    idle(page)
    table = page.get_by_role("button", name="Download the mapping table (SSSOM TSV)")

    # the suggested matches are filled in: the untouched table is `qikg mapping-template`'s
    template = tmp_path / "cli.sssom.tsv"
    ran = run_cli("mapping-template", str(qdpx), "-o", str(template), store=str(served))
    assert ran.exit_code == 0, ran.err
    shown = download(page, table, tmp_path).read_text(encoding="utf-8").splitlines()
    assert shown == template.read_text(encoding="utf-8").splitlines()

    # the researcher corrects two matches: the theme is about lack of time, as a barrier, and
    # "Andet" (other) matches no concept
    grid = page.locator("[data-testid='stDataFrame']").first
    edit_cell(page, grid, OBJECT_ID, THEME, "qikg:LackOfTime")
    edit_cell(page, grid, ROLE, THEME, "barrier")
    edit_cell(page, grid, OBJECT_ID, OTHER, "sssom:NoTermFound")
    shoot(page, "steps-qda-mapping", SHOTS)
    edited = tmp_path / "edited.sssom.tsv"
    shutil.copyfile(download(page, table, tmp_path), edited)  # the next download has its name
    project = read_qda(qdpx)
    with open_store(str(served)) as store:
        mapping = read_mapping(edited, project, sid, Vocabulary.from_store(store))
    assert not mapping.problems and len(mapping.rows) == len(project.codes)
    by_code = {project.codes[r.code].name: r for r in mapping.rows}
    theme = by_code["Tidspres begrænser forbedringsarbejdet"]
    assert theme.concept == str(QIKG.LackOfTime) and theme.role == "barrier" and theme.finding
    assert by_code["Andet"].concept is None
    assert by_code["Sygeplejersker"].concept == str(QIKG.Nurse)  # a suggestion kept as it was
    line = next(r for r in edited.read_text(encoding="utf-8").splitlines() if "\tTidspres" in r)
    assert "semapv:ManualMappingCuration" in line and "\tlack of time\t" in line

    # imported, it writes what `qikg import-qda --mapping` writes with the downloaded table
    page.get_by_role("button", name="Import", exact=True).click()
    page.get_by_text(f"imported p.qdpx into study {sid}").wait_for(timeout=LONG)
    idle(page)
    other = tmp_path / "cli-store"
    shutil.copytree(built_store_path, other)
    sheet = write_sheet(tmp_path / "qda.xlsx", studies=[QDA_STUDY], findings=[])
    assert run_cli("import", str(sheet), store=str(other)).exit_code == 0
    ran = run_cli(
        "import-qda", str(qdpx), "--study", sid, "--mapping", str(edited), store=str(other)
    )
    assert ran.exit_code == 0, ran.err
    assert study_triples(served, sid) == study_triples(other, sid)


def study_triples(path: Path, sid: str) -> set[str]:
    with open_store(str(path)) as store:
        lines = store.dump("nt", study_graph(sid)).decode().splitlines()
    assert len(lines) > 50, "the QDA project's findings and quotes are in the study's graph"
    return set(lines)
