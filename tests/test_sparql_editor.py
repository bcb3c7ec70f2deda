"""The SPARQL page's editor in a real browser: the user's text is theirs, terms complete from the
ontology, a syntax error is marked where it is, and a link reproduces a query and its answer.

The explorer (over a copy of the bundled store), the browser and the offline tab are
tests/conftest.py's fixtures, as for tests/test_browser.py: the same server start, the same skip
(or, under CI=true, failure) without Debian's chromium or playwright, the same refusal of any
request that would leave the machine.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlparse

import pytest

from tests.conftest import IDLE, choose, need_playwright, shoot, visit

pytestmark = pytest.mark.browser
PlaywrightTimeout = need_playwright().TimeoutError

EDITOR = "iframe[title='code_editor.code_editor']"
PER_STUDY = (
    "SELECT ?study (COUNT(?finding) AS ?findings) WHERE {\n"
    "  ?finding a qikg:Finding ; qikg:reportedIn ?study .\n"
    "} GROUP BY ?study ORDER BY DESC(?findings) ?study"
)


def editor(page):
    """The editor's Ace instance, inside the component's frame."""
    return page.frame_locator(EDITOR).locator("#REACT_ACE_EDITOR")


def editor_text(page) -> str:
    """What the editor shows, line by line (Ace draws only what is on screen; ours fits)."""
    return editor(page).locator(".ace_content .ace_text-layer").inner_text()


def focus_editor(page) -> None:
    """Click into the editor until it has the keyboard (a click while the frame is still being
    laid out can land before Ace listens)."""
    keys = editor(page).locator("textarea.ace_text-input")
    for _ in range(5):
        editor(page).locator(".ace_content").click()
        if keys.evaluate("t => t === document.activeElement && document.hasFocus()"):
            return
        page.wait_for_timeout(500)
    pytest.fail("the editor never took the keyboard")


def type_at_end(page, text: str) -> None:
    """Click into the editor, go to the end of the query and type as a user does."""
    focus_editor(page)
    page.keyboard.press("Control+End")
    page.keyboard.type(text, delay=20)


#: True once the page's address holds the query the editor shows (the page puts a query there as
#: it runs it).
RAN_WHAT_IS_SHOWN = """() => {
    const frame = document.querySelector("iframe[title='code_editor.code_editor']");
    const ace = frame && frame.contentWindow.ace;
    const shown = ace && ace.edit(frame.contentDocument.getElementById('REACT_ACE_EDITOR'));
    return shown && new URLSearchParams(location.search).get('query') === shown.getValue();
}"""


def run(page) -> str:
    """Press Run at once (no pause for the editor), wait until the page has run what the editor
    shows, and return the answer's count line (e.g. "2 rows in 3 ms")."""
    page.get_by_role("button", name="Run query").click()
    page.wait_for_function(RAN_WHAT_IS_SHOWN, timeout=30_000)
    page.wait_for_selector(IDLE, timeout=30_000)
    line = page.get_by_text(re.compile(r"^\d[\d,]* rows? in ")).first
    line.wait_for(timeout=30_000)
    return line.inner_text()


def test_a_loaded_question_keeps_every_edit_the_user_makes(page, explorer):
    visit(page, explorer, "sparql", "SPARQL")
    choose(page, "sparql_question", "cq01")
    # the new editor replaces the old one: for a moment the page holds both
    page.wait_for_function(f"document.querySelectorAll({EDITOR!r}).length === 1")
    editor(page).get_by_text("Which studies").wait_for(timeout=20_000)
    loaded = editor_text(page)
    assert loaded.count("PREFIX qikg:") == 1  # the question's own prefixes, not a second block
    first = run(page)
    assert int(first.split()[0]) > 2
    type_at_end(page, "\nLIMIT 2")
    assert run(page).startswith("2 rows")
    assert editor_text(page).rstrip().endswith("LIMIT 2")  # not reverted to the question
    focus_editor(page)
    page.keyboard.press("Control+End")
    page.keyboard.press("Backspace")
    page.keyboard.type("1 # one is enough", delay=20)
    assert run(page).startswith("1 row in")
    shown = editor_text(page)
    assert "LIMIT 1 # one is enough" in shown and "LIMIT 2" not in shown
    linked = parse_qs(urlparse(page.url).query)["query"][0]
    assert linked.endswith("LIMIT 1 # one is enough")


def test_the_editor_highlights_and_completes_ontology_terms(page, explorer):
    visit(page, explorer, "sparql", "SPARQL")
    keyword = editor(page).locator(".ace_keyword", has_text="SELECT").first
    keyword.wait_for(timeout=20_000)
    assert editor(page).locator(".ace_variable, .ace_variable\\.parameter").count() > 0
    type_at_end(page, "\n# qikg:Nur")
    popup = page.frame_locator(EDITOR).locator(".ace_autocomplete")
    popup.wait_for(timeout=10_000)
    first = popup.locator(".ace_line").first
    assert first.inner_text().replace("\n", "").startswith("qikg:Nurse")
    assert "nurse" in first.inner_text()  # its label beside it
    page.keyboard.press("Tab")
    page.wait_for_timeout(300)
    assert editor_text(page).rstrip().endswith("# qikg:Nurse")  # the prefix is not doubled


def test_a_syntax_error_is_marked_at_its_line_and_column(page, explorer):
    visit(page, explorer, "sparql", "SPARQL")
    editor(page).locator(".ace_keyword").first.wait_for(timeout=20_000)
    focus_editor(page)
    page.keyboard.press("Control+A")
    page.keyboard.type("SELECT ?s WHERE { ?s ?p ?o }\nLIMIT ten", delay=20)
    assert editor_text(page).rstrip().endswith("LIMIT ten")
    page.get_by_role("button", name="Run query").click()
    alert = page.locator("[data-testid='stAlertContentError']")
    alert.wait_for(timeout=30_000)
    page.wait_for_selector(IDLE)
    assert "line 2, column 1" in alert.inner_text()
    gutter = editor(page).locator(".ace_gutter-cell.ace_error")
    gutter.wait_for(timeout=10_000)
    assert gutter.inner_text().strip() == "2"
    assert editor(page).locator(".qikg-error").count() == 1
    assert editor_text(page).rstrip().endswith("LIMIT ten")  # the broken text is still there


def test_a_query_link_opens_with_its_query_and_its_answer(page, explorer):
    visit(page, explorer, f"sparql?query={quote(PER_STUDY)}", "SPARQL")
    count = page.get_by_text(re.compile(r"^\d+ rows in ")).first
    count.wait_for(timeout=30_000)
    page.wait_for_selector(IDLE)
    assert editor_text(page).startswith("SELECT ?study (COUNT(?finding) AS ?findings)")
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()  # two columns, numeric
    for name in ("CSV", "TSV", "JSON"):
        page.get_by_role("button", name=f"Download {name}").wait_for()
    type_at_end(page, "\n# qikg:Nur")
    page.frame_locator(EDITOR).locator(".ace_autocomplete").wait_for(timeout=10_000)
    shoot(page, "sparql-editor")


STUDY_LIMIT = "SELECT ?s WHERE { ?s a qikg:Study } ORDER BY ?s\nLIMIT 1"


def expect_rows(page, n: int) -> str:
    """Wait (up to 15 s) until the page shows ``n`` rows; return the count line it shows."""
    try:
        page.wait_for_function(
            """n => [...document.querySelectorAll('[data-testid="stMarkdownContainer"]')]
                   .some(e => e.innerText.startsWith(n + (n === 1 ? ' row in' : ' rows in')))""",
            arg=n,
            timeout=15_000,
        )
    except PlaywrightTimeout:
        pass
    page.wait_for_timeout(600)  # a late second run would show here
    page.wait_for_selector(IDLE, timeout=30_000)
    line = page.get_by_text(re.compile(r"^\d[\d,]* rows? in "))
    if not line.count():
        alerts = page.locator("[data-testid='stAlertContentError']").all_inner_texts()
        return f"no answer (errors: {alerts})"
    return line.first.inner_text()


@pytest.mark.parametrize("how", ["button", "keys"])
def test_typing_then_running_at_once_runs_what_the_editor_shows(page, explorer, how):
    visit(page, explorer, "sparql", "SPARQL")
    editor(page).locator(".ace_keyword").first.wait_for(timeout=20_000)
    focus_editor(page)
    page.keyboard.press("Control+A")
    page.keyboard.type(STUDY_LIMIT, delay=10)
    for n in (2, 3, 4, 5, 1):
        focus_editor(page)
        page.keyboard.press("Control+End")
        page.keyboard.press("Backspace")
        page.keyboard.type(str(n))  # and run at once: no pause for the editor to report
        if how == "button":
            page.get_by_role("button", name="Run query").click()
        else:
            page.keyboard.press("Control+Enter")
        shown = expect_rows(page, n)
        assert shown.startswith(f"{n} row"), f"ran an older text after typing LIMIT {n}: {shown}"
        assert editor_text(page).rstrip().endswith(f"LIMIT {n}"), editor_text(page)
