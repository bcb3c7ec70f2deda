"""``qikg serve``'s query page in Chromium against a real server: the Ace editor (served by the
endpoint itself) highlights and completes prefixes and the ontology's terms (with their labels,
from ``/vocabulary.json``), a query runs into a table, a syntax error is marked at its line and
column, a download comes back, and no request leaves 127.0.0.1."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest

from kg.errors import StoreUnavailable
from kg.namespaces import PREFIXES
from kg.serve import MAX_TERMS, VocabularyRoute
from tests import test_browser as shared
from tests.servers import start_serve, stop_group

browser = shared.browser  # Debian's chromium through Playwright (skips, or fails under CI=true)

pytestmark = [pytest.mark.browser, pytest.mark.server]


@pytest.fixture(scope="module")
def endpoint(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    store = tmp_path_factory.mktemp("serve-page") / "store"
    shutil.copytree(built_store_path, store)
    base, proc = start_serve(str(store), store.parent)
    yield base
    stop_group(proc)


@pytest.fixture
def page(browser, endpoint):
    """A tab that refuses, and records, any request that would leave 127.0.0.1."""
    tab = browser.new_page(viewport={"width": 1200, "height": 1000}, accept_downloads=True)
    outside: list[str] = []

    def only_local(route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    tab.route("**/*", only_local)
    tab.goto(f"{endpoint}/")
    tab.locator("#editor .ace_content").wait_for(timeout=20_000)
    yield tab
    tab.close()
    assert not outside, f"the query page tried to reach the network: {outside}"


def replace_query(page, text: str) -> None:
    page.locator("#editor .ace_content").click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text, delay=5)
    page.keyboard.press("Escape")  # close a completion list left open


def test_the_page_runs_a_query_into_a_table(page):
    assert page.locator("#editor .ace_keyword", has_text="SELECT").count() > 0  # highlighted
    replace_query(page, "SELECT ?id WHERE { ?s a qikg:Study ; dcterms:identifier ?id }\nLIMIT 3")
    page.get_by_role("button", name="Run", exact=True).click()
    page.wait_for_function("() => /rows,/.test(document.getElementById('status').textContent)")
    assert page.locator("#status").inner_text().startswith("3 rows,"), page.locator(
        "#out"
    ).inner_text()
    assert page.locator("#out table tr").count() == 4  # a header and three rows
    assert page.locator("#out th").inner_text() == "id"
    assert "query=" in page.url  # a link reproduces the query
    with page.expect_download() as download:
        page.get_by_role("button", name="Download").click()
    assert download.value.suggested_filename == "qikg-results.csv"
    lines = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0] == "id" and len(lines) == 4


def test_a_syntax_error_is_marked_at_its_line_and_column(page):
    replace_query(page, "SELECT ?s WHERE { ?s ?p ?o }\nLIMIT ten")
    page.keyboard.press("Control+Enter")
    error = page.locator("#out .error")
    error.wait_for(timeout=30_000)
    assert "line 2, column 1" in error.inner_text()
    assert page.locator("#editor .ace_gutter-cell.ace_error").inner_text().strip() == "2"
    assert page.locator("#editor .qikg-error").count() == 1


def test_the_editor_completes_qikg_prefixes(page):
    replace_query(page, "SELECT * WHERE { ?s a ")
    page.keyboard.type("dcte", delay=50)
    popup = page.locator(".ace_autocomplete")
    popup.wait_for(timeout=10_000)
    assert "dcterms:" in popup.inner_text().replace("\n", "")
    page.keyboard.press("Tab")
    page.wait_for_function("() => ace.edit('editor').getValue().endsWith('?s a dcterms:')")


def type_and_pick(page, typed: str, term: str, label: str) -> None:
    """Type ``typed`` where the cursor is; the completion list must show ``term`` first, with
    ``label`` beside it; Tab takes it."""
    page.wait_for_function("() => TERMS.size > 0")  # vocabulary.json has arrived
    page.keyboard.type(typed, delay=50)
    first = page.locator(".ace_autocomplete .ace_line").first
    first.wait_for(timeout=10_000)
    shown = first.text_content() or ""  # the typed letters are in spans of their own
    assert term in shown, shown
    assert (first.locator(".ace_completion-meta").text_content() or "").strip() == label
    page.keyboard.press("Tab")


def test_the_editor_completes_qikg_terms_with_their_labels(page):
    replace_query(page, "SELECT * WHERE { ?s a ")
    type_and_pick(page, "qikg:HealthPro", "qikg:HealthProfessional", "health professional")
    page.wait_for_function(
        "() => ace.edit('editor').getValue() === 'SELECT * WHERE { ?s a qikg:HealthProfessional'"
    )


def test_a_prefix_the_query_declares_completes_its_terms(page):
    replace_query(page, "PREFIX q: <https://w3id.org/qikg/ontology#>\nSELECT * WHERE { ?s a ")
    type_and_pick(page, "q:Physi", "q:Physician", "physician")
    page.wait_for_function("() => ace.edit('editor').getValue().endsWith('?s a q:Physician')")


def test_the_vocabulary_is_json_read_only_and_bounded(endpoint):
    answer = httpx.get(f"{endpoint}/vocabulary.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    vocabulary = answer.json()
    assert vocabulary["prefixes"] == PREFIXES
    labels = {t["curie"]: t["label"] for t in vocabulary["terms"]}
    assert labels["qikg:HealthProfessional"] == "health professional"
    assert 100 < len(labels) <= MAX_TERMS
    assert all(c.partition(":")[0] in PREFIXES for c in labels)
    assert httpx.post(f"{endpoint}/vocabulary.json").status_code == 405
    assert (
        httpx.get(f"{endpoint}/vocabulary.json", headers={"Host": "evil.example"}).status_code
        == 400
    )


class _Counting:
    """A store that counts the queries it is asked, and fails them while ``down``."""

    def __init__(self, store=None) -> None:
        self.store, self.asked = store, 0

    def query(self, *args, **kwargs):
        self.asked += 1
        if self.store is None:
            raise StoreUnavailable("the store is down")
        return self.store.query(*args, **kwargs)


def test_the_vocabulary_is_read_once(built_store) -> None:
    store = _Counting(built_store)
    route = VocabularyRoute(store)  # type: ignore[arg-type]
    body = bytes(route().body)
    assert "qikg:HealthProfessional" in {t["curie"] for t in json.loads(body)["terms"]}
    assert route().body == body and store.asked == 1


def test_a_store_that_is_down_is_not_asked_on_every_request() -> None:
    store = _Counting()
    route = VocabularyRoute(store)  # type: ignore[arg-type]
    first = route()
    assert first.status_code == 503 and b"down" in bytes(first.body)
    again = route()  # within VOCABULARY_RETRY_S: answered without asking the store
    assert again.status_code == 503 and int(again.headers["Retry-After"]) > 1
    assert store.asked == 1
    route.failed_at -= 3600  # later, it is asked again, by one request at a time:
    with route.reading:  # while another request reads, the others get 503 without waiting
        assert route().status_code == 503
    assert store.asked == 1
    route()
    assert store.asked == 2


def test_only_the_editor_files_are_served(endpoint):
    assert httpx.get(f"{endpoint}/static/ace/ace.js").status_code == 200
    assert "Ajax.org" in httpx.get(f"{endpoint}/static/ace/LICENSE").text
    for name in ("ace/README.md", "../serve.py", "%2e%2e/serve.py", "ace/../../serve.py"):
        assert httpx.get(f"{endpoint}/static/{name}").status_code == 404, name
    # the Host allow-list covers the page's files too
    assert (
        httpx.get(f"{endpoint}/static/ace/ace.js", headers={"Host": "evil.example"}).status_code
        == 400
    )
