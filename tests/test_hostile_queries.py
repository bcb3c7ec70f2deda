"""Hostile queries on every read surface: refused by parsing, nothing reaches the network (a local
listener counts every connection), the store unchanged, each refusal within bounded time, and
the endpoint still fair to other clients while someone runs runaway queries."""

from __future__ import annotations

import http.client
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from kg.errors import BadInput, QueryTooLarge
from kg.store import worker
from kg.store.embedded import EmbeddedStore
from kg.store.pool import QueryPool
from kg.store.remote import RemoteStore
from tests.conftest import IN_CI, run_cli
from tests.hostile import NAMES, Listener, hostile_queries
from tests.servers import start_serve, stop_group

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
STUDIES = "SELECT ?id WHERE { ?s a qikg:Study ; dcterms:identifier ?id }"
NESTINGS = {
    "groups": lambda d: "SELECT * WHERE " + "{" * d + " ?s ?p ?o " + "}" * d,
    "brackets": lambda d: "SELECT * WHERE { FILTER(" + "(" * d + "1" + ")" * d + ") }",
    "optionals": lambda d: "SELECT * WHERE { " + "OPTIONAL { ?s ?p ?o " * d + "}" * d + " }",
    "unions": lambda d: "SELECT * WHERE " + "{ { ?s ?p ?o } UNION " * d + "{ ?s ?p ?o }" + " }" * d,
}


@pytest.fixture(scope="module")
def store_copy(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("hostile") / "store"
    shutil.copytree(built_store_path, path)
    return str(path)


@pytest.fixture(scope="module")
def store(store_copy: str) -> Iterator[EmbeddedStore]:
    opened = EmbeddedStore(store_copy)
    yield opened
    opened.close()


@pytest.fixture(scope="module")
def sizes(store: EmbeddedStore) -> dict[str, int]:
    """The store's graphs before any hostile query: every test checks they are unchanged."""
    return store.graph_sizes()


@pytest.fixture(scope="module")
def endpoint(store_copy: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base, proc = start_serve(
        store_copy,
        tmp_path_factory.mktemp("logs"),
        "--timeout",
        "8",
        "--max-answer-mb",
        "1",
        "--allow-host",
        "qikg.example.org",
    )
    yield base
    stop_group(proc)


@pytest.fixture(autouse=True)
def _untouched(listener: Listener) -> Iterator[None]:
    """No test here may make a connection to the listener."""
    before = len(listener.connections)
    yield
    assert listener.connections[before:] == [], "a query reached the network"


# -- every surface refuses the whole corpus ----------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("timeout", [None, 10.0], ids=["in-process", "worker"])
def test_the_kg_api_refuses(store, sizes, listener, name, timeout) -> None:
    with pytest.raises(BadInput) as refused:
        store.query(hostile_queries(listener.url)[name], timeout=timeout)
    assert "\n" not in str(refused.value)
    assert store.graph_sizes() == sizes


@pytest.mark.parametrize("name", NAMES)
def test_qikg_query_refuses_with_exit_2(store_copy, store, sizes, listener, name) -> None:
    ran = run_cli("query", hostile_queries(listener.url)[name], store=store_copy)
    assert ran.exit_code == 2, ran.err
    assert len(ran.err.strip().splitlines()) == 1 and "Traceback" not in ran.err
    assert ran.out == ""
    assert store.graph_sizes() == sizes


@pytest.mark.parametrize("name", NAMES)
def test_the_remote_backend_refuses_before_sending_anything(listener, name) -> None:
    remote = RemoteStore(listener.url)  # pointed at the trap itself: any request is caught
    try:
        with pytest.raises(BadInput):
            remote.query(hostile_queries(listener.url)[name], timeout=5)
    finally:
        remote.close()


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("how", ["get", "form", "body"])
def test_the_endpoint_refuses(endpoint, store, sizes, listener, name, how) -> None:
    query = hostile_queries(listener.url)[name]
    if how == "get":
        response = httpx.get(f"{endpoint}/sparql", params={"query": query})
    elif how == "form":
        response = httpx.post(f"{endpoint}/sparql", data={"query": query})
    else:
        response = httpx.post(
            f"{endpoint}/query",
            content=query.encode(),
            headers={"Content-Type": "application/sparql-query"},
        )
    assert response.status_code in (400, 403), response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert store.graph_sizes() == sizes


def test_refusals_say_what_was_refused(store, listener) -> None:
    queries = hostile_queries(listener.url)
    expected = {
        "service-in-filter-exists": "SERVICE",
        "service-variable-from-values": "SERVICE",
        "load": "LOAD",
        "insert-where-service": "read-only",
        "drop-all": "DROP",
        "declared-extension-function": "http://www.openlinksw.com/schemas/bif#http_get",
        "virtuoso-http-get": "prefix bif:",
        "select-then-drop-all": "syntax error at line 1",
    }
    for name, words in expected.items():
        with pytest.raises(BadInput, match=words.replace(".", r"\.").replace("#", r"\#")):
            store.query(queries[name])


# -- a second wall: the query workers cannot open a socket -------------------------------------


def _needs_seccomp() -> None:
    if worker.seccomp is None:
        message = "pyseccomp/libseccomp is missing: query workers are not confined"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def test_a_worker_cannot_reach_the_network_even_past_the_parser(listener) -> None:
    """The engine itself, in a process confined as each query worker is, given SERVICE queries
    that never met the parser: the kernel refuses the socket, nothing arrives."""
    _needs_seccomp()
    script = f"""
import pyoxigraph as ox
from kg.store.worker import confine, run_query
assert confine(0)
for silent in ("", "SILENT "):
    query = "SELECT * WHERE {{ SERVICE " + silent + "<{listener.url}> {{ ?s ?p ?o }} }}"
    try:
        print(run_query(ox.Store(), query, 10))
    except OSError as exc:
        print("refused:", exc)
"""
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0, ran.stderr
    assert "refused: Permission denied" in ran.stdout and "LEAKED" not in ran.stdout


def test_a_query_past_its_memory_cap_is_stopped_and_the_worker_replaced(store_copy) -> None:
    doubling = "".join(f" BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(30))
    hog = f'SELECT (STRLEN(?x30) AS ?n) WHERE {{ BIND("{"0123456789" * 10}" AS ?x0){doubling} }}'
    pool = QueryPool(Path(store_copy), size=1, memory=300)
    try:
        start = time.monotonic()
        with pytest.raises(QueryTooLarge, match="300 MB"):
            pool.run({"query": hog, "limit": 10}, 60)
        assert time.monotonic() - start < 30
        assert pool.run({"query": "ASK { ?s ?p ?o }", "limit": 1}, 10)["boolean"] is True
    finally:
        pool.close()


# -- bounds on what a caller sends -------------------------------------------------------------


@pytest.mark.parametrize("kind", list(NESTINGS))
def test_deep_nesting_is_refused_with_a_message(store, endpoint, kind) -> None:
    query = NESTINGS[kind](10_000)
    with pytest.raises(BadInput, match="nests"):
        store.query(query, timeout=10)
    start = time.monotonic()
    response = httpx.post(f"{endpoint}/sparql", data={"query": query})
    assert time.monotonic() - start < 1.0
    assert response.status_code == 400 and "nests" in response.text
    assert httpx.get(f"{endpoint}/sparql", params={"query": STUDIES}).status_code == 200


def test_ordinary_nesting_still_runs(store) -> None:
    for kind, make in NESTINGS.items():
        assert store.query(make(8), timeout=10).kind == "select", kind


def test_a_20_mb_body_is_refused_before_it_is_read(endpoint) -> None:
    body = b"SELECT * WHERE { ?s ?p ?o } #" + b"x" * (20 * 1024 * 1024)
    start = time.monotonic()
    response = httpx.post(
        f"{endpoint}/sparql", content=body, headers={"Content-Type": "application/sparql-query"}
    )
    assert time.monotonic() - start < 1.0
    assert response.status_code == 413 and "larger than" in response.text


def test_a_body_without_a_length_is_cut_as_it_streams(endpoint) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"SELECT * WHERE { ?s ?p ?o } #"
        for _ in range(40):
            yield b"x" * (1024 * 1024)

    response = httpx.post(
        f"{endpoint}/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"}
    )
    assert response.status_code == 413


def test_a_query_longer_than_the_limit_is_refused(store, endpoint) -> None:
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 300_000
    with pytest.raises(BadInput, match="characters"):
        store.query(query)
    response = httpx.post(f"{endpoint}/sparql", data={"query": query})
    assert response.status_code == 413 and "262,144 characters" in response.text


def test_a_1_mb_url_gets_an_answer_not_a_dropped_connection(endpoint) -> None:
    # httpx refuses to send a URL this long; http.client sends what it is given, as curl would
    host, port = endpoint.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    query = urlencode({"query": STUDIES + " #" + "x" * 1_100_000})
    connection.request("GET", f"/sparql?{query}")
    response = connection.getresponse()
    assert response.status == 414 and b"POST" in response.read()
    connection.close()


def test_a_48_kb_hostile_text_is_refused_fast_while_health_answers(endpoint) -> None:
    hostile = 'SELECT * WHERE { ?s ?p """' + '\\"' * 24_000
    health: list[float] = []

    def poll() -> None:
        for _ in range(5):
            start = time.monotonic()
            httpx.get(f"{endpoint}/health")
            health.append(time.monotonic() - start)

    poller = threading.Thread(target=poll)
    start = time.monotonic()
    poller.start()
    response = httpx.post(f"{endpoint}/sparql", data={"query": hostile})
    took = time.monotonic() - start
    poller.join()
    assert response.status_code == 400 and "syntax error" in response.text
    assert took < 1.0
    assert max(health) < 1.0


def test_a_query_slow_to_parse_is_stopped_by_its_time_limit_not_the_server(endpoint) -> None:
    # pyparsing reads this at a few KB a second: checked in a worker, the time limit stops it
    slow = "SELECT * WHERE { ?s ?p ?o " + "FILTER(?o = 1) " * 15_000 + "}"
    answers: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: answers.append(
            _client("127.0.0.4").post(f"{endpoint}/sparql", data={"query": slow})
        )
    )
    thread.start()
    time.sleep(1.0)
    start = time.monotonic()
    assert httpx.get(f"{endpoint}/health").status_code == 200
    assert httpx.get(f"{endpoint}/sparql", params={"query": STUDIES}).status_code == 200
    assert time.monotonic() - start < 1.0
    thread.join(30)
    assert answers[0].status_code == 504 and "time limit" in answers[0].text


# -- who may ask, and fairness -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example", 400),
        ("evil.example:80", 400),
        ("127.0.0.1.evil.example", 400),
        ("localhost", 200),
        ("qikg.example.org", 200),
    ],
)
def test_only_requests_naming_this_server_are_answered(endpoint, host, status) -> None:
    port = endpoint.rsplit(":", 1)[1]
    response = httpx.get(
        f"{endpoint}/sparql",
        params={"query": STUDIES},
        headers={"Host": host if ":" in host else f"{host}:{port}"},
    )
    assert response.status_code == status
    if status == 400:
        assert "allow-host" in response.text


def _client(address: str) -> httpx.Client:
    """A client whose requests come from ``address`` (another loopback address than the rest)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)


def test_two_runaway_queries_do_not_lock_out_another_client(endpoint) -> None:
    answers: list[httpx.Response] = []
    greedy = _client("127.0.0.2")

    def runaway() -> None:
        answers.append(greedy.post(f"{endpoint}/sparql", data={"query": RUNAWAY}))

    threads = [threading.Thread(target=runaway) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(1.0)
    third = greedy.post(f"{endpoint}/sparql", data={"query": STUDIES})
    other = _client("127.0.0.3")
    times = []
    for _ in range(5):
        start = time.monotonic()
        response = other.get(f"{endpoint}/sparql", params={"query": STUDIES})
        times.append(time.monotonic() - start)
        assert response.status_code == 200
    for thread in threads:
        thread.join(30)
    assert max(times) < 1.0, times
    assert third.status_code == 429 and third.headers["retry-after"] == "1"
    assert sorted(a.status_code for a in answers) == [504, 504]


def test_an_answer_past_its_size_cap_is_cut_and_says_so(endpoint, store) -> None:
    big = (
        "SELECT ?s (CONCAT(?t, ?t, ?t, ?t, ?t, ?t, ?t, ?t, ?t, ?t, ?t, ?t) AS ?big) "
        "WHERE { ?s ?p ?t FILTER(isLiteral(?t)) }"
    )
    response = httpx.get(f"{endpoint}/sparql", params={"query": big})
    assert response.status_code == 200 and response.headers["x-qikg-truncated"] == "true"
    assert 0.5 * 1024 * 1024 < len(response.content) < 1.2 * 1024 * 1024
    for timeout in (None, 10.0):
        result = store.query(big, timeout=timeout, max_bytes=10_000)
        assert result.truncated and 0 < len(result) < store.query(big).__len__()
