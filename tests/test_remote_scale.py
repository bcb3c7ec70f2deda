"""qikg on a SPARQL server holding thousands of study graphs, where naming every graph in each
query failed (Virtuoso: response headers past 100 KB at 4,023 graphs; docs/deploy.md).

A real Oxigraph server and a real Virtuoso (tests/servers.py), each started for this module,
get the bundled graphs plus 4,100 small synthetic study graphs (bench/generate.py's studies,
one finding each, copied under new ids to be quick), loaded around qikg as N-Quads, as on a
server filled before this version: qikg then makes its stand-in for its graphs on the first
query (kg.store.remote). Answers must equal the embedded store's holding the same graphs, and
no query may carry more than a handful of graph IRIs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from kg.errors import StoreUnavailable
from kg.namespaces import INFERRED_GRAPH, STUDY_GRAPH_PREFIX, study_graph
from kg.read.findings import finding
from kg.remove import remove_study
from kg.resources import queries_dir
from kg.store import Store, open_store
from kg.store.history import change
from kg.store.remote import RemoteStore
from tests.conftest import REPO, need, sorted_rows
from tests.servers import Server, oxigraph_binary, start_oxigraph, start_virtuoso

pytestmark = pytest.mark.server
#: Study graphs on the server: past the 4,023 at which every query to Virtuoso failed.
STUDIES = 4_100
#: Studies generated; each is copied under new ids up to STUDIES.
GENERATED = 100
#: Graph IRIs a query may carry (a stand-in, the inferred graph, a placeholder).
MAX_GRAPHS = 5
FOREIGN = "urn:example:not-qikg"
#: Virtuoso set up as docs/deploy.md asks: ResultSetMaxRows above the largest answer (cq12 has
#: more than the stock 10,000 rows here), and no refusal on its estimate of a query's time (at
#: 4,000 studies it refused cq19, estimated at 510 s, which runs in under a second elsewhere).
DEPLOYED = {"SPARQL": {"ResultSetMaxRows": "1000000", "MaxQueryCostEstimationTime": "0"}}
SYNTH = re.compile(rb"synth(\d{5})")


@pytest.fixture(scope="module")
def scale_store(tmp_path_factory: pytest.TempPathFactory, built_store_path: str) -> Iterator[Store]:
    """The embedded store: the bundled graphs plus STUDIES synthetic study graphs."""
    folder = tmp_path_factory.mktemp("scale")
    subprocess.run(
        [sys.executable, "bench/generate.py", "--studies", str(GENERATED)]
        + ["--findings-per-study", "1", "--out", str(folder / "corpus")],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    lines = (folder / "corpus" / "corpus.nq").read_bytes().splitlines(keepends=True)
    studies = [line for line in lines if STUDY_GRAPH_PREFIX.encode() in line]
    shared = [line for line in lines if STUDY_GRAPH_PREFIX.encode() not in line]
    copies = -(-STUDIES // GENERATED)
    out = list(shared)
    for k in range(copies):
        out += [
            SYNTH.sub(lambda m, k=k: b"synth%05d" % (k * GENERATED + int(m[1])), line)
            for line in studies
        ]
    graphs: dict[str, list[str]] = {}
    for line in out:
        text = line.decode().rstrip()
        head, _, graph = text[:-1].rstrip().rpartition(" ")
        graphs.setdefault(graph.strip("<>"), []).append(head + " .\n")
    path = folder / "store"
    shutil.copytree(built_store_path, path)
    store = open_store(str(path))
    with change("import"):
        store.replace_graphs({g: "".join(triples) for g, triples in graphs.items()})
    assert sum(g.startswith(STUDY_GRAPH_PREFIX) for g in store.graph_names()) > STUDIES
    yield store
    store.close()


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, scale_store: Store
) -> Iterator[Server]:
    """A server holding the scale store's graphs and one graph that is not qikg's, loaded
    around qikg (N-Quads to Oxigraph's Graph Store, Virtuoso's bulk loader)."""
    folder = tmp_path_factory.mktemp(request.param)
    data = folder / "scale.nq"
    data.write_bytes(
        scale_store.dump("nq")
        + f"<urn:example:f> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/qikg/ontology#Finding> <{FOREIGN}> .\n".encode()
    )
    if request.param == "oxigraph":
        binary = oxigraph_binary()
        if binary is None:
            need("oxigraph", "the Oxigraph server binary, from the oxigraph wheel")
        started = start_oxigraph(folder / "db", str(binary))
        response = httpx.post(
            started.url.replace("/query", "/store"),
            content=data.read_bytes(),
            headers={"Content-Type": "application/n-quads"},
            timeout=300,
        )
        assert response.status_code in (200, 201, 204), response.text
    else:
        binary = need("virtuoso-t", "Virtuoso, a SPARQL server qikg supports (virtuoso-opensource)")
        isql = need("isql-vt", "Virtuoso's SQL client (virtuoso-opensource)")
        started = start_virtuoso(folder / "db", binary, isql, DEPLOYED)
        shutil.copy(data, started.folder / "scale.nq")
        load = subprocess.run(
            [isql, str(started.sql_port), "dba", "dba"]
            + [f"exec=ld_dir('{started.folder}', 'scale.nq', 'urn:x'); rdf_loader_run();"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert load.returncode == 0 and "Error" not in load.stdout + load.stderr, load.stdout
    yield started
    started.stop()


class Recorded(RemoteStore):
    """A remote store that keeps the graph IRIs each request carries."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.carried: list[int] = []

    def _send(self, method, url, read_timeout=None, **kwargs):  # type: ignore[no-untyped-def]
        data = kwargs.get("data") or {}
        dataset = sum(len(v) for k, v in data.items() if k.endswith("graph-uri"))
        text = str(data.get("query", "")) + str(kwargs.get("content", b""))
        self.carried.append(dataset + text.count(STUDY_GRAPH_PREFIX))
        return super()._send(method, url, read_timeout, **kwargs)


def _rows(store: Store, sparql: str, include_inferred: bool = True) -> list[tuple]:
    return sorted(
        tuple(row.values())
        for row in store.query(sparql, include_inferred=include_inferred).values()
    )


COUNT = "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a qikg:Finding }"


def test_thousands_of_study_graphs_answer_as_embedded(server: Server, scale_store: Store) -> None:
    cq = queries_dir() / "cq02-findings-per-study.rq"
    ref = "synth04100/F1"
    with Recorded(server.url) as store:
        assert store.query("ASK {}").boolean  # makes the stand-in (once per server)
        store.carried.clear()
        assert store.query("ASK { ?f a qikg:Finding }").boolean
        assert _rows(store, COUNT) == _rows(scale_store, COUNT)
        assert int(_rows(store, COUNT)[0][0]) > STUDIES  # and the foreign finding is not seen
        expected = _rows(scale_store, cq.read_text())
        assert len(expected) > STUDIES
        assert _rows(store, cq.read_text()) == expected
        page = finding(store, ref)
        assert page is not None and page == finding(scale_store, ref)
        assert not store.query("ASK { ?s <urn:qikg:history#verb> ?v }").boolean
        assert store.carried and max(store.carried) <= MAX_GRAPHS, store.carried


def test_inferred_graph_left_out_when_asked(server: Server, scale_store: Store) -> None:
    ask = "ASK { <urn:x:s> <urn:x:p> <urn:x:o> }"
    inferred = {str(INFERRED_GRAPH): "<urn:x:s> <urn:x:p> <urn:x:o> .\n"}
    with open_store(server.url) as store:
        for backend in (store, scale_store):
            with change("reason"):
                backend.replace_graphs(inferred)
        try:
            for backend in (store, scale_store):
                assert backend.query(ask).boolean
                assert not backend.query(ask, include_inferred=False).boolean
            assert _rows(store, COUNT, False) == _rows(scale_store, COUNT, False)
        finally:
            for backend in (store, scale_store):
                with change("reason"):
                    backend.replace_graphs({}, drop=tuple(inferred))


def test_replace_and_undo_one_study_among_thousands(server: Server, scale_store: Store) -> None:
    graph = study_graph("synth00042")
    original = scale_store.dump("nt", graph).decode()
    kept = [line for line in original.splitlines() if "/finding/" not in line]
    with open_store(server.url) as store:
        before = _rows(store, COUNT)
        with change("import"):
            store.replace_graphs({graph: "\n".join(kept) + "\n"})
        assert int(_rows(store, COUNT)[0][0]) == int(before[0][0]) - 1
        assert store.dump("nt", graph).decode().count("\n") == len(kept)
        store.undo()
        assert _rows(store, COUNT) == before
        assert sorted(store.dump("nt", graph).decode().splitlines()) == sorted(
            original.splitlines()
        )


def test_graph_queries_and_remove_among_thousands(server: Server, scale_store: Store) -> None:
    """Queries that say GRAPH (qikg's statistics, `qikg import` and `qikg remove` use them)
    among more graphs than Virtuoso takes as named graphs (4,094), where they failed with
    "Receive buffer too long": a GRAPH ?g sees qikg's graphs and no other (not the foreign
    one, the union graph, the history or the snapshots), a GRAPH with an IRI sees that graph
    (and the request names no other, on either server),
    and `qikg remove` of one study works and is undone."""
    every = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    foreign = "ASK { GRAPH ?g { <urn:example:f> ?p ?o } }"
    one = study_graph("synth00007")
    constant = f"SELECT ?f WHERE {{ GRAPH <{one}> {{ ?f a qikg:Finding }} }}"
    with Recorded(server.url) as store:
        assert store.query("ASK {}").boolean  # makes the stand-in (once per server)
        store.carried.clear()
        assert _rows(store, constant) == _rows(scale_store, constant) != []
        assert max(store.carried) <= MAX_GRAPHS, store.carried  # names only the graph it reads
        assert _rows(store, every) == _rows(scale_store, every)
        assert not store.query(foreign).boolean
        if server.name == "virtuoso":  # Oxigraph server takes them all as parameters
            assert max(store.carried) <= MAX_GRAPHS, store.carried
        before = _rows(store, COUNT)
        removal = remove_study(store, "synth00007")
        assert removal.committed and int(removal.findings) == 1
        assert int(_rows(store, COUNT)[0][0]) == int(before[0][0]) - 1
        assert not store.query(f"ASK {{ GRAPH <{one}> {{ ?s ?p ?o }} }}").boolean
        store.undo()
        assert _rows(store, COUNT) == before
        assert _rows(store, constant) == _rows(scale_store, constant)


#: Virtuoso refuses a GROUP_CONCAT longer than a row of its temporary tables may hold ("SR319:
#: Max row length is exceeded when trying to store a string of 5466 chars into a temp col", when
#: it sorts the groups): these questions concatenate the ids of thousands of studies. A limit of
#: the engine, reported upstream (openlink/virtuoso-opensource issues 118 and 371).
VIRTUOSO_ROW_LENGTH = {"cq03-enablers-across-studies", "cq07-barriers"}


@pytest.mark.parametrize(
    "path", sorted(queries_dir().glob("cq*.rq")), ids=lambda p: p.stem.split("-")[0]
)
def test_every_competency_question_among_thousands(
    server: Server, scale_store: Store, path: Path, request: pytest.FixtureRequest
) -> None:
    """Each competency question gives the embedded store's rows, none cut short. On Virtuoso the
    two that concatenate thousands of study ids are strict expected failures, refused with SR319
    only."""
    virtuoso = server.name == "virtuoso"
    row_length = virtuoso and path.stem in VIRTUOSO_ROW_LENGTH
    if row_length:
        request.applymarker(
            pytest.mark.xfail(strict=True, raises=StoreUnavailable, reason="Virtuoso SR319")
        )
    text = path.read_text(encoding="utf-8")
    with open_store(server.url) as store:
        try:
            result = store.query(text)
        except StoreUnavailable as exc:
            if row_length and "SR319" not in str(exc):
                pytest.fail(f"{path.name} failed otherwise than by SR319: {exc}")
            raise
        assert not result.truncated
        assert sorted_rows(result) == sorted_rows(scale_store.query(text)), path.name
