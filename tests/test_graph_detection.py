"""Which queries read named graphs, read from their parse (kg.sparql.names_graphs): the remote
store names every qikg graph to those and to no other (#19). A GRAPH at any depth or spelt with
escapes counts; the word "graph" anywhere else does not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from kg.errors import BadInput
from kg.sparql import graph_patterns, names_graphs
from kg.store import worker
from kg.store.remote import NO_GRAPH, UNION, RemoteStore

READS_NAMED = {
    "graph": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
    "lower case": "select * where { graph <urn:g> { ?s ?p ?o } }",
    "sub-query": "SELECT * WHERE { { SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } } } }",
    "filter exists": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }",
    "filter not exists": "ASK { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }",
    "optional": "SELECT * WHERE { ?s ?p ?o OPTIONAL { GRAPH ?g { ?s ?q ?x } } }",
    "minus": "SELECT * WHERE { ?s ?p ?o MINUS { GRAPH ?g { ?s ?p ?o } } }",
    "union": "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }",
    "construct": "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
    "bind in graph": "SELECT ?n WHERE { GRAPH ?g { ?s ?p ?o } BIND(STR(?g) AS ?n) }",
    "escaped keyword": r"SELECT * WHERE { \u0047RAPH ?g { ?s ?p ?o } }",
    "escaped lower case": r"SELECT * WHERE { \u0067raph ?g { ?s ?p ?o } }",
    "from named": "SELECT * FROM NAMED <urn:g> WHERE { ?s ?p ?o }",
    "ask from named": "ASK FROM NAMED <urn:g> { ?s ?p ?o }",
    "describe from named": "DESCRIBE <urn:x> FROM NAMED <urn:g>",
}
READS_DEFAULT = {
    "plain": "SELECT * WHERE { ?s ?p ?o }",
    "variable": "SELECT ?graph WHERE { ?graph ?p ?o }",
    "variable named GRAPH": "SELECT ?GRAPH WHERE { ?s ?p ?GRAPH }",
    "literal": "SELECT * WHERE { ?s ?p 'GRAPH ?g { ?s ?p ?o }' }",
    "long literal": 'SELECT * WHERE { ?s ?p """a graph\nGRAPH <urn:g> {}""" }',
    "iri": "SELECT * WHERE { ?s <https://w3id.org/qikg/graph/shapes> ?o }",
    "prefixed name": "PREFIX graph: <urn:graph#> SELECT * WHERE { ?s graph:GRAPH ?o }",
    "comment": "SELECT * WHERE { ?s ?p ?o } # GRAPH ?g { ?s ?p ?o }",
    "escape in a literal": r"SELECT * WHERE { ?s ?p 'caf\u00e9 \\ graph' }",
    "from": "SELECT * FROM <urn:g> WHERE { ?s ?p ?o }",
    "filter exists": "SELECT * WHERE { ?s ?p ?o FILTER EXISTS { ?s <urn:graph> ?o } }",
    "sub-query": "SELECT * WHERE { { SELECT ?graph WHERE { ?graph ?p ?o } } }",
    "construct": "CONSTRUCT { ?s <urn:graph> ?o } WHERE { ?s ?p ?o }",
}


@pytest.mark.parametrize("name", READS_NAMED)
def test_a_graph_pattern_or_from_named_reads_named_graphs(name: str) -> None:
    assert names_graphs(READS_NAMED[name]) is True


@pytest.mark.parametrize("name", READS_DEFAULT)
def test_the_word_graph_elsewhere_does_not(name: str) -> None:
    assert names_graphs(READS_DEFAULT[name]) is False


def test_the_checking_worker_answers_it() -> None:
    check = {"check_only": True}
    assert worker.answer(None, {**check, "query": READS_NAMED["sub-query"]})["graphs"] is True
    assert worker.answer(None, {**check, "query": READS_DEFAULT["literal"]})["graphs"] is False


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RemoteStore, list[dict]]]:
    """A remote store whose server is a stand-in recording each query request's parameters."""
    sent: list[dict] = []

    def server(request: httpx.Request) -> httpx.Response:
        sent.append(parse_qs(request.content.decode()))
        body: dict[str, dict] = {"head": {"vars": []}, "results": {"bindings": []}}
        return httpx.Response(200, content=json.dumps(body).encode())

    store = RemoteStore("http://127.0.0.1:9/query")
    store._client.close()
    store._client = httpx.Client(transport=httpx.MockTransport(server))
    store._virtuoso, store._stand_in = False, UNION
    graphs = ["https://w3id.org/qikg/graph/study/a", "https://w3id.org/qikg/graph/study/b"]
    monkeypatch.setattr(store, "graph_names", lambda: graphs)
    try:
        yield store, sent
    finally:
        store.close()


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["in process", "checking worker"])
def test_the_remote_store_names_graphs_only_to_a_query_that_reads_them(remote, timeout) -> None:
    store, sent = remote
    store.query(READS_NAMED["filter exists"], timeout=timeout)
    store.query(READS_DEFAULT["variable"], timeout=timeout)
    store.query(READS_DEFAULT["literal"], timeout=timeout)
    named = [request["named-graph-uri"] for request in sent]
    assert named == [
        ["https://w3id.org/qikg/graph/study/a", "https://w3id.org/qikg/graph/study/b"],
        [NO_GRAPH],
        [NO_GRAPH],
    ]
    assert all(request["default-graph-uri"][0] == UNION for request in sent)


@pytest.mark.parametrize("timeout", [None, 30.0], ids=["in process", "checking worker"])
@pytest.mark.parametrize(
    "query",
    [
        "SELECT * FROM <urn:someone-elses> WHERE { ?s ?p ?o }",
        "SELECT * FROM NAMED <urn:someone-elses> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "ASK FROM <urn:x> { ?s ?p ?o }",
        "SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } } }",
    ],
    ids=["FROM", "FROM NAMED", "ask", "no dataset"],
)
def test_a_query_naming_its_own_dataset_is_refused_before_it_reaches_the_server(
    remote, timeout, query
) -> None:
    """A server adds a query's FROM graphs to the ones qikg names: on a server shared with
    other data, that would read graphs that are not qikg's."""
    store, sent = remote
    if "FROM" not in query:
        store.query(query, timeout=timeout)
        assert len(sent) == 1
        return
    with pytest.raises(BadInput, match="FROM and FROM NAMED are not allowed"):
        store.query(query, timeout=timeout)
    assert sent == []


def test_graph_patterns_are_read_from_the_parse_not_the_text() -> None:
    """What a Virtuoso store past 4,000 graphs decides its named graphs from."""
    query = """PREFIX g: <https://w3id.org/qikg/graph/study/>
        SELECT * WHERE { ?s <urn:graph> "GRAPH <urn:not-a-pattern> {}" # GRAPH ?comment
          GRAPH g:a { ?s ?p ?o } FILTER EXISTS { \\u0047RAPH <urn:z> { } } GRAPH g:b\\-c { } }"""
    assert sorted(graph_patterns(query), key=str) == [
        "",  # a prefixed name with an escape: not expanded, so the query gets every graph listed
        "https://w3id.org/qikg/graph/study/a",
        "urn:z",
    ]
    assert graph_patterns("SELECT * WHERE { GRAPH ?g { } GRAPH $h { } }") == (None, None)
    assert graph_patterns("SELECT ?graph WHERE { ?graph ?p 'GRAPH ?g' }") == ()
