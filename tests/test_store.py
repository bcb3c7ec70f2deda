"""The embedded store: persistence, atomic replacement, read-only queries, bounds, several processes."""

import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from kg.errors import BadInput, Conflict, QueryTimeout, ReadOnly, StoreUnavailable
from kg.namespaces import INFERRED_GRAPH, study_graph
from kg.store import open_store
from kg.store.base import WRITE_ATTEMPTS, on_current_version
from kg.store.embedded import EmbeddedStore
from kg.store.views import copy_dir

G = study_graph("t")
NT = "".join(f"<urn:s{i}> <urn:p> <urn:o{i % 7}> .\n" for i in range(200))
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def test_data_survives_close_and_reopen(tmp_path):
    with open_store(str(tmp_path / "s")) as store:
        store.replace_graphs({G: NT})
    with open_store(str(tmp_path / "s")) as again:
        assert again.graph_sizes() == {G: 200}
        assert again.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").values() == [{"n": "200"}]


def test_replace_swaps_a_graph_as_a_unit(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT, study_graph("other"): "<urn:x> <urn:y> <urn:z> .\n"})
    store.replace_graphs({G: "<urn:a> <urn:b> <urn:c> .\n"})
    assert store.graph_sizes() == {G: 1, study_graph("other"): 1}


def test_a_failed_write_changes_nothing(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT})
    with pytest.raises(BadInput, match="nothing was written"):
        store.replace_graphs({G: "<urn:a> <urn:b> .\n"})  # malformed: no object
    assert store.graph_sizes() == {G: 200}


@pytest.mark.parametrize(
    "update",
    [
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }",
        "LOAD <http://example.org/x.ttl>",
        "DELETE WHERE { ?s ?p ?o }",
        "CLEAR ALL",
        "DROP GRAPH <urn:g>",
    ],
)
def test_updates_are_refused_and_change_nothing(tmp_path, update):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT})
    with pytest.raises(ReadOnly, match="read-only"):
        store.query(update)
    assert store.graph_sizes() == {G: 200}


def test_service_is_refused(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    with pytest.raises(ReadOnly, match="SERVICE"):
        store.query("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")


def test_keywords_inside_strings_and_iris_are_not_updates(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    text = 'SELECT ?x WHERE { VALUES ?x { "INSERT DATA" <urn:load> } } # DELETE'
    assert len(store.query(text)) == 2


def test_syntax_error_names_line_and_column(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    with pytest.raises(BadInput, match=r"line 2, column \d+"):
        store.query("SELECT *\nWHERE { ?s ?p }")


def test_row_cap_truncates_and_says_so(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT})
    result = store.query("SELECT ?s WHERE { ?s ?p ?o }", limit=10)
    assert len(result) == 10 and result.truncated
    assert not store.query("SELECT ?s WHERE { ?s ?p ?o }", limit=500).truncated


ODD_TERMS = (
    '<urn:a> <urn:p> "plain" .\n'
    '<urn:a> <urn:p> "en sætning"@da .\n'
    '<urn:a> <urn:p> "says \\"so\\"\\nthen \\\\ tab\\t"^^<http://www.w3.org/2001/XMLSchema#string> .\n'
    '<urn:a> <urn:p> "3"^^<http://www.w3.org/2001/XMLSchema#integer> .\n'
    '<urn:a> <urn:p> "æøå 🙂 \\u0001 },{\\"x\\""@da-dk .\n'
    '<urn:a> <urn:p> "two\\r\\nlines\\rand a CR"@en .\n'
    "<urn:a> <urn:p> _:b1 .\n_:b1 <urn:p> <urn:é> .\n"
)


def test_engine_written_rows_equal_rows_taken_one_by_one(tmp_path):
    """The two ways a SELECT's rows are made (the engine's SPARQL JSON, or term by term when only
    a row cap bounds the answer) give the same bindings, odd terms and unbound variables too."""
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: ODD_TERMS})
    text = "SELECT ?s ?o ?none WHERE { ?s ?p ?o OPTIONAL { ?o <urn:q> ?none } } ORDER BY STR(?o)"
    whole = store.query(text)
    by_rows = store.query(text, timeout=30, limit=1000)
    as_text = store.query(text, timeout=30)  # a worker's answer, as the engine wrote it
    assert len(whole) == 8 and not whole.truncated and not by_rows.truncated
    assert whole.bindings == by_rows.bindings
    assert as_text.document and as_text.rows is None  # not read until asked for
    assert as_text.bindings == whole.bindings
    assert json.loads(as_text.serialize("json")) == json.loads(by_rows.serialize("json"))
    for fmt in ("csv", "tsv", "xml"):
        assert as_text.serialize(fmt) == by_rows.serialize(fmt), fmt
    assert {
        "o": {"type": "literal", "value": "en sætning", "xml:lang": "da"},
        "s": {"type": "uri", "value": "urn:a"},
    } in whole.bindings


def test_a_worker_answers_in_utf8_whatever_the_locale(tmp_path, monkeypatch):
    """A worker sends the engine's text as it is, framed by its length in characters: an ASCII
    locale, carriage returns and characters outside the BMP neither fail nor shift the next
    answer."""
    monkeypatch.setenv("PYTHONIOENCODING", "ascii")
    monkeypatch.setenv("LC_ALL", "C")
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: ODD_TERMS})
    text = "SELECT ?o WHERE { ?s ?p ?o } ORDER BY STR(?o)"
    for _ in range(3):  # each answer read whole, none running into the next
        assert store.query(text, timeout=30).bindings == store.query(text).bindings
        assert store.query("ASK { <urn:a> ?p ?o }", timeout=30).boolean is True
    store.close()


def test_an_answer_past_its_byte_budget_keeps_only_whole_rows(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT})
    text = "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?s"
    whole = store.query(text)
    for budget in (300, 1_000, 5_000):
        cut = store.query(text, timeout=30, max_bytes=budget)
        assert cut.truncated and 0 < len(cut) < len(whole), budget
        assert cut.bindings == whole.bindings[: len(cut)]
    assert not store.query(text, timeout=30, max_bytes=10**6).truncated
    capped = store.query(text, timeout=30, limit=5, max_bytes=10**6)
    assert capped.truncated and capped.bindings == whole.bindings[:5]


def test_a_query_past_its_timeout_is_stopped_and_the_store_keeps_answering(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT})
    start = time.monotonic()
    with pytest.raises(QueryTimeout, match="time limit of 0.5 s"):
        store.query(SLOW, timeout=0.5)
    assert time.monotonic() - start < 10
    assert store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout=10).values() == [
        {"n": "200"}
    ]
    store.close()


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
INFERRED = str(INFERRED_GRAPH)


def counts(store: EmbeddedStore, **kwargs) -> tuple[str, str]:
    """Triples with and without the inferred graph (``kwargs``: the query's time limit)."""
    return tuple(
        store.query(COUNT, include_inferred=inferred, **kwargs).values()[0]["n"]
        for inferred in (True, False)
    )


#: What a writer script prints right before it calls ``replace_graphs``.
WRITING = "writing"


def kill_mid_write(script: str, began: Callable[[], bool], delay: float) -> None:
    """Run ``script`` in a Python process of its own and SIGKILL it ``delay`` seconds after its
    write began: the script prints WRITING right before it writes, then the test waits until
    ``began()`` sees the write change the store's files. Fails unless the kill found the writer
    still at work, so a kill that lands before the write starts (or after it ends) cannot pass.
    """
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == WRITING, "the writer failed before writing"
        deadline = time.monotonic() + 60
        while not began():
            assert writer.poll() is None, "the writer ended before its write was seen to begin"
            assert time.monotonic() < deadline, "the write was not seen to begin within 60 s"
            time.sleep(0.005)
        time.sleep(delay)
        writer.kill()
    finally:
        writer.kill()
        writer.wait()
    assert writer.returncode == -signal.SIGKILL, "the write had finished before the kill"


def copies(path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if "without" in p.name)


@pytest.mark.parametrize("timeout", [None, 30])
def test_inferred_graph_can_be_left_out(tmp_path, timeout):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT, INFERRED: "<urn:i> <urn:p> <urn:o> .\n"})
    assert counts(store, timeout=timeout) == ("201", "200")
    store.close()


@pytest.mark.parametrize("write", ["transaction", "bulk"])
def test_writes_carry_the_copy_without_the_inferred_graph_over(tmp_path, request, write):
    """Leaving the inferred graph out reads a copy of the database without it (the union of all
    graphs is fast; naming each graph is not). Each write updates the copy, so no reader has to
    make it again; a failed write keeps it."""
    if write == "bulk":
        request.getfixturevalue("bulk")
    path = tmp_path / "s"
    store = EmbeddedStore(path)
    store.replace_graphs({G: NT})
    store.replace_graphs({INFERRED: "<urn:i> <urn:p> <urn:o> .\n"})  # as `qikg reason` does
    made = copies(path)
    assert len(made) == 1
    assert counts(store) == ("201", "200")
    store.replace_graphs({study_graph("two"): "<urn:a> <urn:b> <urn:c> .\n"})
    store.replace_graphs({}, extend={INFERRED: "<urn:j> <urn:p> <urn:o> .\n"})
    assert len(copies(path)) == 1 and copies(path) != made
    carried = copies(path)
    assert counts(store) == ("203", "201")
    with pytest.raises(BadInput):
        store.replace_graphs({G: "<urn:a> <urn:b> .\n"})
    assert copies(path) == carried and counts(store) == ("203", "201")
    store.replace_graphs({INFERRED: "".join(f"<urn:k{i}> <urn:p> <urn:o> .\n" for i in range(3))})
    assert counts(store) == ("204", "201")  # a new inferred graph, as a second `qikg reason`
    inferred = f"SELECT ?s WHERE {{ GRAPH <{INFERRED}> {{ ?s ?p ?o }} }} ORDER BY ?s"
    assert store.query(inferred).column("s") == [f"urn:k{i}" for i in range(3)]
    store.replace_graphs({}, drop=(G,))
    assert counts(store) == ("4", "1")


def test_a_missing_copy_is_made_by_the_reader_that_needs_it(tmp_path):
    path = tmp_path / "s"
    EmbeddedStore(path).replace_graphs({G: NT, INFERRED: "<urn:i> <urn:p> <urn:o> .\n"})
    for copy in copies(path):
        shutil.rmtree(path / copy)
    store = EmbeddedStore(path)
    assert counts(store) == ("201", "200") and len(copies(path)) == 1
    store.replace_graphs({G: "<urn:a> <urn:b> <urn:c> .\n"})  # and the writer carries it on
    assert counts(store) == ("2", "1") and len(copies(path)) == 1


def test_a_reader_leaving_inferred_out_during_writes_sees_each_commit_whole(tmp_path):
    path = tmp_path / "s"
    writer = EmbeddedStore(path)
    writer.replace_graphs({G: NT, INFERRED: "<urn:i> <urn:p> <urn:o> .\n"})
    done = tmp_path / "writes-done"
    # The reader reads until the writer is done and then once more, however slow the machine
    script = (
        "import os; from kg.store.embedded import EmbeddedStore; "
        f"s = EmbeddedStore({str(path)!r}); last = False\n"
        "while not last:\n"
        f"    last = os.path.exists({str(done)!r})\n"
        "    print(s.query('SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }', "
        "include_inferred=False).values()[0]['n'], flush=True)"
    )
    reader = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    first = reader.stdout.readline()
    for i in range(10):
        writer.replace_graphs({study_graph(f"w{i}"): "<urn:a> <urn:b> <urn:c> .\n"})
        writer.replace_graphs({}, extend={INFERRED: f"<urn:i{i}> <urn:p> <urn:o> .\n"})
        time.sleep(0.1)
    done.touch()
    out, _ = reader.communicate(timeout=60)
    assert reader.returncode == 0
    seen = [int(n) for n in (first + out).split()]
    assert set(seen) <= set(range(200, 211)) and seen == sorted(seen)
    assert seen[0] == 200 and seen[-1] == 210


def test_a_write_killed_half_way_leaves_no_copy_that_disagrees(tmp_path):
    """Killed at several moments after a transaction's write began (the copy without the inferred
    graph set aside, 60,000 triples going in: about 5 s here), the store and its copy are both
    before or both after the write; at least one kill must land before the commit."""
    interrupted = 0
    for n, delay in enumerate((0.0, 0.3, 1.0)):
        path = tmp_path / f"s{n}"
        store = EmbeddedStore(path)
        store.replace_graphs({G: NT, INFERRED: "<urn:i> <urn:p> <urn:o> .\n"})
        assert counts(store) == ("201", "200") and copies(path), "the copy without it is made"
        script = (
            "from kg.store.embedded import EmbeddedStore; "
            "big = ''.join(f'<urn:s{i}> <urn:p> <urn:o{i}> .\\n' for i in range(60000)); "
            f"print({WRITING!r}, flush=True); "
            f"EmbeddedStore({str(path)!r}).replace_graphs({{{study_graph('big')!r}: big}})"
        )
        kill_mid_write(script, lambda path=path: copy_dir(path, "pending").exists(), delay)
        with_inferred, without = (int(n) for n in counts(EmbeddedStore(path)))
        assert (with_inferred, without) in ((201, 200), (60201, 60200)), delay
        interrupted += (with_inferred, without) == (201, 200)
    assert interrupted, "every write had committed before it was killed"


def test_a_reader_sees_what_another_process_wrote(tmp_path):
    path = tmp_path / "s"
    reader = EmbeddedStore(path)
    assert reader.graph_sizes() == {}
    script = (
        "from kg.store import open_store; "
        f"open_store({str(path)!r}).replace_graphs({{{G!r}: '<urn:a> <urn:b> <urn:c> .\\n'}})"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert reader.graph_sizes() == {G: 1}


def test_a_writer_waits_then_names_the_process_holding_the_lock(tmp_path, monkeypatch):
    import kg.store.embedded as embedded

    path = tmp_path / "s"
    EmbeddedStore(path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import pyoxigraph, sys, time; s = pyoxigraph.Store(sys.argv[1]); print('held', flush=True); "
            "time.sleep(30)",
            str(path / "oxigraph"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(embedded, "WRITE_WAIT_SECONDS", 0.5)
        with pytest.raises(StoreUnavailable, match="being written by another process"):
            EmbeddedStore(path).replace_graphs({G: NT})
    finally:
        holder.kill()
        holder.wait()
    EmbeddedStore(path).replace_graphs({G: NT})


def test_unwritable_location_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreUnavailable, match="cannot create the store folder"):
        open_store(str(blocker / "store"))


@pytest.fixture
def bulk(monkeypatch):
    """Every write takes the large-write path (a bulk-loaded copy of the database)."""
    import kg.store.embedded as embedded

    monkeypatch.setattr(embedded, "BULK_BYTES", 0)


def test_a_bulk_write_replaces_drops_and_extends_like_a_transaction(tmp_path, bulk):
    store = EmbeddedStore(tmp_path / "s")
    other, kept = study_graph("other"), study_graph("kept")
    store.replace_graphs({G: NT, other: "<urn:x> <urn:y> <urn:z> .\n", kept: NT})
    store.replace_graphs(
        {G: '<urn:a> <urn:b> "ends with a dot ." .\n'},
        drop=(other,),
        extend={kept: "<urn:new> <urn:p> <urn:o> .\n"},
    )
    assert store.graph_sizes() == {G: 1, kept: 201}
    assert store.query("SELECT ?o WHERE { <urn:a> <urn:b> ?o }").column("o") == [
        "ends with a dot ."
    ]
    folders = sorted(p.name for p in (tmp_path / "s").iterdir() if p.name.startswith("oxigraph"))
    assert len(folders) == 1 and folders[0] != "oxigraph", "the replaced copy is removed"


def test_a_failed_bulk_write_changes_nothing(tmp_path, bulk):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT})
    before = sorted((tmp_path / "s").iterdir())
    with pytest.raises(BadInput, match="nothing was written"):
        store.replace_graphs({G: "<urn:a> <urn:b> .\n"}, drop=(G,))
    assert store.graph_sizes() == {G: 200}
    assert sorted((tmp_path / "s").iterdir()) == before, "no half-written copy is left behind"


def test_a_bulk_write_is_seen_by_readers_and_writers_in_other_processes(tmp_path, bulk):
    path = tmp_path / "s"
    reader = EmbeddedStore(path)
    reader.replace_graphs({G: NT})
    assert reader.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout=30).values() == [
        {"n": "200"}
    ]
    script = (
        "from kg.store import open_store; "
        f"open_store({str(path)!r}).replace_graphs({{{G!r}: '<urn:a> <urn:b> <urn:c> .\\n'}})"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)
    assert reader.graph_sizes() == {G: 1}
    assert reader.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout=30).values() == [
        {"n": "1"}
    ]
    reader.replace_graphs({study_graph("two"): NT})  # a writer opened before the swap follows it
    assert EmbeddedStore(path).graph_sizes() == {G: 1, study_graph("two"): 200}


def test_a_bulk_write_killed_half_way_leaves_the_store_as_it_was(tmp_path):
    """Killed at several moments after a bulk write began (its N-Quads file written, then the
    database copied and 300,000 triples bulk-loaded into the copy: about 6 s here), the store is
    before or after the write, never between; at least one kill must land before the swap."""
    interrupted = 0
    for n, delay in enumerate((0.0, 0.5, 2.0)):
        path = tmp_path / f"s{n}"
        EmbeddedStore(path).replace_graphs({G: NT})
        script = (
            "import kg.store.embedded as e; e.BULK_BYTES = 0; "
            "big = ''.join(f'<urn:s{i}> <urn:p> \"{i}\" .\\n' for i in range(300000)); "
            f"print({WRITING!r}, flush=True); "
            f"e.EmbeddedStore({str(path)!r}).replace_graphs({{'{study_graph('big')}': big}}, drop=({G!r},))"
        )

        def began(path=path) -> bool:  # the new database's N-Quads file, then its folder
            return any(re.fullmatch(r"oxigraph-\d+(\.nq|\.tmp)?", p.name) for p in path.iterdir())

        kill_mid_write(script, began, delay)
        sizes = EmbeddedStore(path).graph_sizes()
        assert sizes in ({G: 200}, {study_graph("big"): 300000}), (delay, sizes)
        interrupted += sizes == {G: 200}
        EmbeddedStore(path).replace_graphs({study_graph("next"): NT})  # and it takes writes again
        leftovers = [p.name for p in path.iterdir() if p.name.startswith("oxigraph")]
        assert len(leftovers) == 1, leftovers
    assert interrupted, "every bulk write had committed before it was killed"


def test_a_reader_sees_a_commit_whose_writer_was_killed_before_it_advanced_the_generation(
    tmp_path,
):
    path = tmp_path / "s"
    EmbeddedStore(path).replace_graphs({G: NT})
    reader = EmbeddedStore(path)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    assert reader.query(count).values() == [{"n": "200"}]
    before = reader.version()
    script = (
        "import os, signal\n"
        "from kg.store.embedded import EmbeddedStore\n"
        "EmbeddedStore._bump_generation = lambda self, folder: os.kill(os.getpid(), signal.SIGKILL)\n"
        f"EmbeddedStore({str(path)!r}).replace_graphs("
        "{'https://w3id.org/qikg/graph/study/late': '<urn:a> <urn:b> <urn:late> .\\n'})\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert ran.returncode == -signal.SIGKILL  # killed after its commit, before the generation
    assert reader.version() != before
    assert reader.query(count).values() == [{"n": "201"}]
    assert reader.query(count, timeout=10).values() == [{"n": "201"}]
    writer = EmbeddedStore(path)  # the next write advances the generation for good
    writer.replace_graphs({study_graph("next"): "<urn:a> <urn:b> <urn:c> .\n"})
    assert not (path / "writer").exists()
    assert reader.query(count).values() == [{"n": "202"}]


def test_a_write_expecting_an_older_version_is_refused_and_writes_nothing(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    store.replace_graphs({G: NT})
    read = store.version()
    store.replace_graphs({study_graph("other"): "<urn:a> <urn:b> <urn:c> .\n"})
    with pytest.raises(Conflict, match=r"another write committed first\); nothing was written"):
        store.replace_graphs({G: "<urn:x> <urn:y> <urn:z> .\n"}, expect=read)
    assert store.graph_sizes()[G] == 200
    store.replace_graphs({G: "<urn:x> <urn:y> <urn:z> .\n"}, expect=store.version())
    assert store.graph_sizes()[G] == 1


def test_a_write_that_keeps_losing_gives_up_with_the_conflict(tmp_path):
    store = EmbeddedStore(tmp_path / "s")
    tries: list[str | None] = []

    def always_late(version: str | None) -> None:
        tries.append(version)
        raise Conflict("the store changed")

    with pytest.raises(Conflict):
        on_current_version(store, always_late)
    assert len(tries) == WRITE_ATTEMPTS
