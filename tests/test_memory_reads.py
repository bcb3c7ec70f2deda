"""Long-running readers answer from memory (kg.store.memory) and stay exactly current: every
commit made by another process is seen by the next read, incrementally where the history names
the graphs it touched, whole after an undo; no read ever sees half of a commit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.store import open_store
from kg.store.embedded import EmbeddedStore
from kg.store.memory import MemoryView
from kg.store.views import database_dir
from tests.conftest import REPO

G = "https://w3id.org/qikg/graph/study/"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def triples(n: int, tag: str) -> str:
    return "".join(f"<urn:{tag}:{i}> <urn:p> <urn:o{i}> .\n" for i in range(n))


def write_elsewhere(root: Path, code: str) -> None:
    """Run a write in another process, as a ``qikg import`` beside the explorer would."""
    program = "from kg.store.embedded import EmbeddedStore\n" + textwrap.dedent(code)
    subprocess.run(
        [sys.executable, "-c", program, str(root)], cwd=REPO, check=True, capture_output=True
    )


def wait_for_copy(store: EmbeddedStore) -> None:
    """Wait until the copy in memory is loaded (reads go to disk meanwhile)."""
    deadline = time.monotonic() + 30
    while store._view._copy is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert store._view._copy is not None


def count(store: EmbeddedStore, **kwargs: float) -> int:
    return int(store.query(COUNT, **kwargs).values()[0]["n"])


@pytest.fixture
def reader(tmp_path: Path):
    root = tmp_path / "store"
    EmbeddedStore(root).replace_graphs({G + "a": triples(3, "a"), G + "b": triples(2, "b")})
    store = EmbeddedStore(root, in_memory=True)
    wait_for_copy(store)
    yield root, store
    store.close()


def test_a_reader_in_memory_sees_each_commit_of_another_process_by_reloading_its_graphs(reader):
    root, store = reader
    assert count(store) == 5
    copy = store._view._copy
    write_elsewhere(
        root,
        f"EmbeddedStore(__import__('sys').argv[1]).replace_graphs({{'{G}a': '''{triples(7, 'a')}'''}})",
    )
    assert count(store) == 9
    assert store._view._copy is copy  # brought up to date in place, not loaded again
    write_elsewhere(
        root, f"EmbeddedStore(__import__('sys').argv[1]).replace_graphs({{}}, drop=('{G}b',))"
    )
    assert count(store) == 7
    assert store.graph_names() == [G + "a"]


def test_after_an_undo_the_reader_loads_the_store_again_and_answers_as_before(reader):
    root, store = reader
    write_elsewhere(
        root,
        f"EmbeddedStore(__import__('sys').argv[1]).replace_graphs({{'{G}c': '<urn:c> <urn:p> <urn:o> .'}})",
    )
    assert count(store) == 6
    copy = store._view._copy
    write_elsewhere(root, "EmbeddedStore(__import__('sys').argv[1]).undo()")
    assert count(store) == 5
    assert store._view._copy is not copy
    assert G + "c" not in store.graph_names()


def test_query_workers_with_a_time_limit_answer_from_memory_and_follow_writes(reader):
    root, store = reader
    assert count(store, timeout=20) == 5
    assert store._pool is not None
    request = {"query": COUNT, "limit": None}
    deadline = time.monotonic() + 30
    while not store._pool.run(request, 20)["memory"]:  # from disk until its copy is loaded
        assert time.monotonic() < deadline, "the worker never answered from memory"
        time.sleep(0.05)
    while store.memory_status() != {"copy": 1, "workers": 2, "of": 2}:  # what /health says
        assert time.monotonic() < deadline, store.memory_status()
        count(store, timeout=20)
    assert EmbeddedStore(root).memory_status() is None  # a one-shot reader reads the disk
    write_elsewhere(
        root,
        f"EmbeddedStore(__import__('sys').argv[1]).replace_graphs({{'{G}b': '''{triples(4, 'b')}'''}})",
    )
    assert count(store, timeout=20) == 7
    assert store._pool is not None and store._pool.in_memory


def test_a_worker_stopped_at_its_time_limit_is_replaced_and_the_next_query_answers(reader):
    _, store = reader
    slow = (
        "SELECT (COUNT(*) AS ?n) WHERE { "
        + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(9))
        + " }"
    )
    from kg.errors import QueryTimeout

    with pytest.raises(QueryTimeout):
        store.query(slow, timeout=0.5)
    assert count(store, timeout=20) == 5


def test_a_commit_left_by_a_writer_that_died_is_seen_too(reader):
    """A writer killed after its transaction committed, before it switched the generation: the
    data changed without a history line; the reader loads the store again."""
    root, store = reader
    assert count(store) == 5
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    database = ox.Store(str(database_dir(root)))
    database.add(
        ox.Quad(
            ox.NamedNode("urn:x"),
            ox.NamedNode("urn:p"),
            ox.NamedNode("urn:y"),
            ox.NamedNode(G + "a"),
        )
    )
    database.flush()
    del database
    (root / "writer").write_text(f"pid {dead.stdout.strip()}\n")
    assert count(store) == 6


def test_no_read_sees_half_of_a_commit(tmp_path: Path):
    """Every commit writes two graphs of equal size; a reader counting both, again and again while
    another process commits, must always find them equal."""
    root = tmp_path / "store"
    EmbeddedStore(root).replace_graphs({G + "a": triples(1, "a"), G + "b": triples(1, "b")})
    store = EmbeddedStore(root, in_memory=True)
    wait_for_copy(store)
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    seen: set[tuple[int, int]] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            rows = {r["g"]: int(r["n"]) for r in store.query(query).values()}
            seen.add((rows.get(G + "a", 0), rows.get(G + "b", 0)))

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    write_elsewhere(
        root,
        f"""
        import sys, time
        store = EmbeddedStore(sys.argv[1])
        for n in range(2, 40):
            text = lambda tag: "".join(f"<urn:{{tag}}:{{i}}> <urn:p> <urn:o{{i}}> .\\n" for i in range(n))
            store.replace_graphs({{"{G}a": text("a"), "{G}b": text("b")}})
            time.sleep(0.02)
        """,
    )
    time.sleep(0.3)
    stop.set()
    for thread in readers:
        thread.join()
    assert all(a == b for a, b in seen), sorted(seen)
    assert (39, 39) in seen  # the last commit was seen, within the moment the test waited
    assert len(seen) > 2  # and commits were seen as they came
    store.close()


def test_memory_reads_can_be_turned_off(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("QIKG_READ_IN_MEMORY", "0")
    store = open_store(str(tmp_path / "s"), in_memory=True)
    assert not isinstance(store._view, MemoryView)
    monkeypatch.delenv("QIKG_READ_IN_MEMORY")
    store = open_store(str(tmp_path / "s"), in_memory=True)
    assert isinstance(store._view, MemoryView)
    assert not isinstance(open_store(str(tmp_path / "s"))._view, MemoryView)  # one-shot: disk
    assert os.environ.get("QIKG_READ_IN_MEMORY") is None


def test_the_explorer_holds_one_copy_its_sparql_worker_reads_the_disk(tmp_path: Path):
    """``in_memory="process"`` (the explorer): the pages read the copy, the SPARQL page's worker
    the disk, so the process tree holds the store in memory once."""
    root = tmp_path / "store"
    EmbeddedStore(root).replace_graphs({G + "a": triples(3, "a")})
    store = EmbeddedStore(root, pool_size=1, in_memory="process")
    wait_for_copy(store)
    assert count(store) == 3 and count(store, timeout=20) == 3
    request = {"query": COUNT, "limit": None, "prefixes": {}}
    assert store._pool is not None and not store._pool.in_memory
    assert store._pool.run(request, 20)["memory"] is False
    assert store.memory_status() == {"copy": 1, "workers": 0, "of": 0}
    store.close()
