"""``qikg serve`` as users meet it: a real server process on a copy of the bundled store, asked by
real SPARQL clients (SPARQLWrapper, rdflib's SPARQLStore, plain httpx)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, POST, TSV, TURTLE, XML, SPARQLWrapper

from kg.build import bundled_studies
from tests.conftest import need
from tests.servers import oxigraph_binary, start_oxigraph, start_serve, stop_group

pytestmark = pytest.mark.server

STUDIES = "SELECT ?id WHERE { ?s a qikg:Study ; dcterms:identifier ?id }"
#: How many studies the bundled store holds.
N_STUDIES = len(bundled_studies())
STUDY_TYPES = "CONSTRUCT { ?s a qikg:Study } WHERE { ?s a qikg:Study }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
MAX_ROWS = 100


@pytest.fixture(scope="module")
def store_copy(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("serve") / "store"
    shutil.copytree(built_store_path, path)
    return str(path)


@pytest.fixture(scope="module")
def endpoint(store_copy: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``qikg serve --timeout 2 --max-rows 100`` (no CORS)."""
    base, proc = start_serve(
        store_copy, tmp_path_factory.mktemp("logs"), "--timeout", "2", "--max-rows", str(MAX_ROWS)
    )
    yield base
    stop_group(proc)


@pytest.fixture(scope="module")
def cors_endpoint(store_copy: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of ``qikg serve --cors https://app.example.org`` (default limits)."""
    base, proc = start_serve(
        store_copy, tmp_path_factory.mktemp("logs"), "--cors", "https://app.example.org"
    )
    yield base
    stop_group(proc)


def triple_count(base: str) -> int:
    response = httpx.get(f"{base}/sparql", params={"query": COUNT})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


# -- real clients ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
@pytest.mark.parametrize("method", ["GET", POST])
def test_sparqlwrapper_select(endpoint: str, fmt: str, method: str) -> None:
    client = SPARQLWrapper(f"{endpoint}/sparql")
    client.setQuery(STUDIES)
    client.setReturnFormat(fmt)
    client.setMethod(method)
    answer = client.queryAndConvert()
    if fmt == JSON:
        ids = [row["id"]["value"] for row in answer["results"]["bindings"]]
    elif fmt == XML:
        ids = [node.firstChild.data for node in answer.getElementsByTagName("literal")]
    else:
        rows = list(csv.reader(io.StringIO(answer.decode()), delimiter="," if fmt == CSV else "\t"))
        ids = [row[0].strip('"') for row in rows[1:]]
    assert len(ids) == N_STUDIES and "carstensen2024" in ids


@pytest.mark.parametrize("fmt", [TURTLE, JSONLD])
def test_sparqlwrapper_construct(endpoint: str, fmt: str) -> None:
    client = SPARQLWrapper(f"{endpoint}/sparql")
    client.setQuery(STUDY_TYPES)
    client.setReturnFormat(fmt)
    answer = client.queryAndConvert()
    graph = (
        answer
        if isinstance(answer, rdflib.Graph)
        else rdflib.Graph().parse(data=answer, format="turtle")
    )
    assert len(graph) == N_STUDIES


def test_sparqlwrapper_ask(endpoint: str) -> None:
    client = SPARQLWrapper(f"{endpoint}/query")
    client.setQuery("ASK { ?s a qikg:Finding }")
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True


def test_rdflib_sparqlstore(endpoint: str) -> None:
    graph = rdflib.Graph(store=SPARQLStore(f"{endpoint}/sparql"))
    rows = list(graph.query("SELECT ?id WHERE { ?s a qikg:Study ; dcterms:identifier ?id }"))
    assert len(rows) == N_STUDIES and rdflib.Literal("carstensen2024") in {row[0] for row in rows}


# -- the protocol with plain HTTP -------------------------------------------------------------


def _ask(
    base: str, how: str, query: str, accept: str | None = None, **params: str
) -> httpx.Response:
    headers = {"Accept": accept} if accept else {}
    if how == "get":
        return httpx.get(f"{base}/sparql", params={"query": query, **params}, headers=headers)
    if how == "form":
        return httpx.post(f"{base}/sparql", data={"query": query, **params}, headers=headers)
    headers["Content-Type"] = "application/sparql-query"
    return httpx.post(f"{base}/sparql", params=params, content=query.encode(), headers=headers)


def _ids(response: httpx.Response) -> list[str]:
    """The ``?id`` column of a SELECT answer in any of the four results formats."""
    kind = response.headers["content-type"].split(";")[0]
    if kind == "text/csv":  # lossy: oxigraph won't parse it, and needs no parser
        return [row["id"] for row in csv.DictReader(io.StringIO(response.text))]
    formats = {
        "application/sparql-results+json": ox.QueryResultsFormat.JSON,
        "application/sparql-results+xml": ox.QueryResultsFormat.XML,
        "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    }
    answer = ox.parse_query_results(response.content, format=formats[kind])
    return [row["id"].value for row in answer]


@pytest.mark.parametrize("how", ["get", "form", "body"])
@pytest.mark.parametrize(
    ("accept", "media"),
    [
        (None, "application/sparql-results+json"),
        ("*/*", "application/sparql-results+json"),
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.4, text/tab-separated-values;q=0.9", "text/tab-separated-values"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/sparql-results+json"),
    ],
)
def test_select_negotiation(endpoint: str, how: str, accept: str | None, media: str) -> None:
    response = _ask(endpoint, how, STUDIES, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    assert len(_ids(response)) == N_STUDIES
    assert "x-qikg-truncated" not in response.headers


@pytest.mark.parametrize("how", ["get", "form", "body"])
@pytest.mark.parametrize(
    ("accept", "media", "fmt"),
    [
        (None, "text/turtle", ox.RdfFormat.TURTLE),
        ("text/turtle", "text/turtle", ox.RdfFormat.TURTLE),
        ("application/n-triples", "application/n-triples", ox.RdfFormat.N_TRIPLES),
        ("application/ld+json", "application/ld+json", ox.RdfFormat.JSON_LD),
        (
            "application/ld+json;q=0.5, text/turtle;q=0.1",
            "application/ld+json",
            ox.RdfFormat.JSON_LD,
        ),
    ],
)
def test_construct_negotiation(
    endpoint: str, how: str, accept: str | None, media: str, fmt
) -> None:
    response = _ask(endpoint, how, STUDY_TYPES, accept)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == media
    assert len(list(ox.parse(response.content, format=fmt))) == N_STUDIES


@pytest.mark.parametrize(
    ("fmt", "media"), [("csv", "text/csv"), ("xml", "application/sparql-results+xml")]
)
def test_format_parameter_beats_accept(endpoint: str, fmt: str, media: str) -> None:
    response = _ask(endpoint, "get", STUDIES, "application/sparql-results+json", format=fmt)
    assert response.headers["content-type"].split(";")[0] == media


def test_unacceptable_and_unknown_formats(endpoint: str) -> None:
    assert _ask(endpoint, "get", STUDIES, "image/png").status_code == 406
    response = _ask(endpoint, "get", STUDIES, format="pdf")
    assert response.status_code == 400 and "unknown format" in response.text


# -- read-only, errors and limits -------------------------------------------------------------


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {
            "content": b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
            "headers": {"Content-Type": "application/sparql-update"},
        },
        {"data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
        {"data": {"update": "DROP ALL"}},
        {"data": {"query": "LOAD <http://127.0.0.1:9/data.ttl>"}},
        {"data": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}},
        {"data": {"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"}},
    ],
    ids=["sparql-update", "form-update", "form-drop-all", "load", "insert-as-query", "service"],
)
def test_writes_are_refused(endpoint: str, request_kwargs: dict) -> None:
    before = triple_count(endpoint)
    response = httpx.post(f"{endpoint}/sparql", **request_kwargs)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/plain")
    assert "read-only" in response.text
    assert triple_count(endpoint) == before


def test_update_by_get_is_refused(endpoint: str) -> None:
    response = httpx.get(f"{endpoint}/sparql", params={"update": "CLEAR ALL"})
    assert response.status_code == 403 and "read-only" in response.text


def test_malformed_query_names_line_and_column(endpoint: str) -> None:
    response = _ask(endpoint, "form", "SELECT ?s WHERE {\n  ?s ?p }")
    assert response.status_code == 400
    assert re.search(r"line 2, column \d+", response.text)


def test_missing_query_and_dataset_parameters(endpoint: str) -> None:
    assert httpx.get(f"{endpoint}/sparql").status_code == 400
    response = _ask(endpoint, "get", STUDIES, **{"default-graph-uri": "urn:g"})
    assert response.status_code == 400


def test_row_cap_truncates_and_says_so(endpoint: str) -> None:
    response = _ask(endpoint, "get", "SELECT * WHERE { ?s ?p ?o }")
    assert response.headers["x-qikg-truncated"] == "true"
    assert len(response.json()["results"]["bindings"]) == MAX_ROWS


def test_slow_query_times_out_while_others_answer(endpoint: str) -> None:
    slow: dict = {}

    def run_slow() -> None:
        start = time.monotonic()
        slow["response"] = _ask(endpoint, "form", SLOW)
        slow["seconds"] = time.monotonic() - start

    thread = threading.Thread(target=run_slow)
    thread.start()
    time.sleep(0.3)
    start = time.monotonic()
    quick = _ask(endpoint, "get", STUDIES)
    quick_seconds = time.monotonic() - start
    thread.join(30)
    assert quick.status_code == 200 and len(_ids(quick)) == N_STUDIES
    assert quick_seconds < 1.5, "a normal query waited for the slow one"
    assert slow["response"].status_code == 504
    assert "time limit" in slow["response"].text
    assert slow["seconds"] < 8
    assert _ask(endpoint, "get", STUDIES).status_code == 200  # the server is still serving


# -- the rest of the surface ------------------------------------------------------------------


def test_cors_only_when_configured(endpoint: str, cors_endpoint: str) -> None:
    origin = {"Origin": "https://app.example.org"}
    plain = httpx.get(f"{endpoint}/sparql", params={"query": STUDIES}, headers=origin)
    assert "access-control-allow-origin" not in plain.headers
    allowed = httpx.get(f"{cors_endpoint}/sparql", params={"query": STUDIES}, headers=origin)
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.org"
    other = httpx.get(
        f"{cors_endpoint}/sparql",
        params={"query": STUDIES},
        headers={"Origin": "https://evil.example"},
    )
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(
        f"{cors_endpoint}/sparql",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert "x-qikg-truncated" not in allowed.headers  # default row cap (10,000) not reached


def test_query_page_works_offline(endpoint: str) -> None:
    response = httpx.get(f"{endpoint}/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<textarea" in page and 'fetch("sparql"' in page
    assert not re.search(r"https?://", page), "the page must not load anything from elsewhere"


def test_health(endpoint: str) -> None:
    graphs = httpx.get(
        f"{endpoint}/sparql", params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"}
    )
    health = httpx.get(f"{endpoint}/health").json()
    assert health["status"] == "ok"
    assert health["graphs"] == len(graphs.json()["results"]["bindings"])
    # the copies in memory (kg.store.memory): the workers' (the server's own process reads disk)
    assert health["memory"]["copy"] == -1
    assert health["memory"]["of"] == 3 and 0 <= health["memory"]["workers"] <= 3
    assert json.loads(httpx.get(f"{endpoint}/query", params={"query": "ASK {}"}).text)["boolean"]


def test_when_its_sparql_server_goes_down_health_and_queries_say_so(tmp_path: Path) -> None:
    binary = oxigraph_binary() or need(
        "oxigraph", "the Oxigraph server binary (pip install oxigraph)"
    )
    server = start_oxigraph(tmp_path / "oxigraph", str(binary))
    try:
        base, proc = start_serve(server.url, tmp_path)
    finally:
        server.stop()
    try:
        health = httpx.get(f"{base}/health")
        assert health.status_code == 503 and health.json()["status"] == "unavailable"
        assert server.url in health.json()["error"]
        answer = httpx.get(f"{base}/sparql", params={"query": STUDIES})
        assert answer.status_code == 503 and server.url in answer.text
    finally:
        stop_group(proc)
