"""History, undo, restore, remove and the write lock on a SPARQL server, on both servers qikg
supports: a real Oxigraph server and a real Virtuoso (tests/servers.py), each started once for
this module. Without their binaries the tests skip on a laptop and fail under CI=true.

Each test starts from a server holding only the bundled graphs, written as one ``build`` version
(copied from the embedded session store, which is quicker than building again)."""

from __future__ import annotations

import hashlib
import json
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import kg.store.remote_history as rh
from kg.errors import Conflict, StoreUnavailable
from kg.namespaces import GRAPH, INFERRED_GRAPH, study_graph
from kg.read.stats import stats, summary
from kg.sparql import iri_term
from kg.store import Store, open_store
from kg.store.history import change
from kg.store.remote import RemoteStore
from tests.conftest import REPO, need
from tests.servers import Server, oxigraph_binary, start_oxigraph, start_virtuoso
from tests.sheets import finding, study, write_sheet

pytestmark = pytest.mark.server
ROUNDS = 3


@pytest.fixture(scope="module", params=["oxigraph", "virtuoso"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "oxigraph":
        binary = oxigraph_binary()
        if binary is None:
            need("oxigraph", "the Oxigraph server binary, from the oxigraph wheel")
        started = start_oxigraph(folder, str(binary))
    else:
        binary = need("virtuoso-t", "Virtuoso, a SPARQL server qikg supports (virtuoso-opensource)")
        isql = need("isql-vt", "Virtuoso's SQL client, to grant SPARQL_UPDATE")
        started = start_virtuoso(folder, binary, isql)
    yield started
    started.stop()


@pytest.fixture
def url(server: Server, built_store: Store) -> Iterator[str]:
    """The server holding the bundled graphs as one ``build`` version, and nothing else of qikg's."""
    with RemoteStore(server.url) as store:
        wipe(store)
        graphs = {g: built_store.dump("nt", g).decode() for g in built_store.graph_names()}
        with change("build"):
            store.replace_graphs(graphs)
    yield server.url


def wipe(store: RemoteStore) -> None:
    """Drop qikg's graphs and its bookkeeping (history, lock, snapshots) from the server."""
    mine = [g for g in store._all_sizes() if g.startswith((str(GRAPH), "urn:qikg:"))]
    if mine:
        store._update(" ;\n".join(f"DROP SILENT GRAPH {iri_term(g)}" for g in mine))


def content(url: str) -> tuple[int, str]:
    """Triple count and a checksum of qikg's graphs (blank nodes as the server labels them
    differ between reads, so their lines are counted, not compared)."""
    with open_store(url) as store:
        data = store.dump("nq").decode()
    lines = sorted(line for line in data.splitlines() if line.strip())
    named = [line for line in lines if "_:" not in line]
    return len(lines), hashlib.sha256("\n".join(named).encode()).hexdigest()


def versions(cli, url: str) -> list[dict]:
    ran = cli("history", "--json", store=url)
    assert ran.exit_code == 0, ran.err
    return json.loads(ran.out)["versions"]


def bookkeeping(url: str) -> dict[str, int]:
    with RemoteStore(url) as store:
        return {g: n for g, n in store._all_sizes().items() if g.startswith("urn:qikg:")}


def test_history_lists_build_and_import_with_counts(cli, url, tmp_path):
    sheet = write_sheet(tmp_path / "sheet.xlsx")
    ran = cli("import", str(sheet), store=url)
    assert ran.exit_code == 0, ran.err
    found = versions(cli, url)
    assert [v["verb"] for v in found] == ["import", "build"]
    imported, build = found
    assert imported["file"] == {
        "name": "sheet.xlsx",
        "sha256": hashlib.sha256(sheet.read_bytes()).hexdigest(),
    }
    assert imported["studies"] == ["newstudy2025"] and imported["exact"]
    assert imported["added"] > 0 and imported["removed"] <= 2  # the meta graph's stale flag
    assert imported["state"]["studies"] == build["state"]["studies"] + 1
    assert imported["state"]["findings"] == build["state"]["findings"] + 1
    assert build["state"]["triples"] == content(url)[0] - imported["added"] + imported["removed"]
    assert all(v["kept"] and v["time"].endswith("Z") for v in found)
    text = cli("history", store=url)
    assert "sheet.xlsx (sha256" in text.out and "snapshots hold" in text.out
    with open_store(url) as store:  # bookkeeping stays out of every query
        assert not any(g.startswith("urn:") for g in store.graph_names())
        assert not store.query("ASK { ?s <urn:qikg:history#verb> ?v }").boolean


def test_undo_after_import_and_undo_twice_redoes(cli, url, tmp_path):
    before = content(url)
    assert cli("import", str(write_sheet(tmp_path / "s.xlsx")), store=url).exit_code == 0
    after = content(url)
    assert after != before
    undone = cli("undo", store=url)
    assert undone.exit_code == 0, undone.err
    assert "back at version 1" in undone.out and "as version 3" in undone.out
    assert content(url) == before
    assert cli("undo", store=url).exit_code == 0  # undoing the undo redoes the import
    assert content(url) == after
    assert [v["verb"] for v in versions(cli, url)] == ["undo", "undo", "import", "build"]


def test_undo_after_remove_brings_the_study_back(cli, url):
    before = content(url)
    ran = cli("remove", "uggerby2021", store=url)
    assert ran.exit_code == 0, ran.err
    with open_store(url) as store:
        assert study_graph("uggerby2021") not in store.graph_names()
    assert versions(cli, url)[0]["studies"] == ["uggerby2021"]
    assert cli("undo", store=url).exit_code == 0
    assert content(url) == before


def test_undo_after_reason_drops_the_inferred_graph(cli, url):
    before = content(url)
    ran = cli("reason", "--skip-check", "--engine", "sparql", store=url)
    assert ran.exit_code == 0, ran.err
    with open_store(url) as store:
        assert str(INFERRED_GRAPH) in store.graph_names()
    assert versions(cli, url)[0]["verb"] == "reason"
    assert cli("undo", store=url).exit_code == 0
    assert content(url) == before
    with open_store(url) as store:
        assert str(INFERRED_GRAPH) not in store.graph_names()


def test_restore_returns_to_each_recorded_version(cli, url, tmp_path):
    sums = {1: content(url)}
    assert cli("import", str(write_sheet(tmp_path / "a.xlsx")), store=url).exit_code == 0
    sums[2] = content(url)
    assert cli("remove", "wells2018", store=url).exit_code == 0
    sums[3] = content(url)
    assert cli("remove", "schouten2008", store=url).exit_code == 0
    sums[4] = content(url)
    assert len(set(sums.values())) == 4
    for number in (2, 1, 3, 4):
        ran = cli("restore", str(number), store=url)
        assert ran.exit_code == 0, ran.err
        assert f"back at version {number}" in ran.out
        assert content(url) == sums[number]
    found = versions(cli, url)
    assert [v["restored"] for v in found[:4]] == [4, 3, 1, 2]
    same = cli("restore", str(found[0]["version"]), store=url)
    assert same.exit_code == 2 and "already at version" in same.err
    missing = cli("restore", "99", store=url)
    assert missing.exit_code == 2 and "no version 99" in missing.err


def test_only_the_last_versions_can_be_restored(cli, url, monkeypatch):
    monkeypatch.setenv("QIKG_KEEP_VERSIONS", "2")
    for sid in ("wells2018", "schouten2008", "uggerby2021"):
        assert cli("remove", sid, store=url).exit_code == 0
    found = versions(cli, url)
    assert [v["kept"] for v in found] == [True, True, False, False]
    snapshots = {g for g in bookkeeping(url) if g.startswith(rh.SNAPSHOT_PREFIX)}
    assert snapshots and all(g.startswith(f"{rh.SNAPSHOT_PREFIX}4:") for g in snapshots)
    gone = cli("restore", "2", store=url)
    assert gone.exit_code == 2 and "no longer kept" in gone.err
    assert cli("undo", store=url).exit_code == 0
    assert "kept, can be restored: 4-5 (the last 2" in cli("history", store=url).out


def test_every_version_stays_restorable_until_the_window_is_full(cli, url, monkeypatch):
    """Fewer versions than QIKG_KEEP_VERSIONS: none is dropped (a negative slice once dropped all
    but the last few, so Virtuoso refused ``restore 2`` after 14 of 20 versions)."""
    monkeypatch.setenv("QIKG_KEEP_VERSIONS", "8")
    sums = {1: content(url)}
    for number, sid in enumerate(("wells2018", "schouten2008", "uggerby2021", "carter2014"), 2):
        assert cli("remove", sid, store=url).exit_code == 0
        sums[number] = content(url)
    found = versions(cli, url)
    assert len(found) == 5 and all(v["kept"] for v in found)
    ran = cli("restore", "1", store=url)
    assert ran.exit_code == 0, ran.err
    assert content(url) == sums[1]
    ran = cli("restore", "3", store=url)
    assert ran.exit_code == 0, ran.err
    assert content(url) == sums[3]


def test_remove_is_refused_when_a_review_finding_cites_the_study(cli, url):
    before = content(url)
    ran = cli("remove", "carstensen2024", store=url)
    assert ran.exit_code == 1
    assert "RF1" in ran.err and "RF2" in ran.err and "--force" in ran.err
    assert content(url) == before and len(versions(cli, url)) == 1
    forced = cli("remove", "carstensen2024", "--force", store=url)
    assert forced.exit_code == 0, forced.err
    assert cli("undo", store=url).exit_code == 0
    assert content(url) == before


def test_a_write_expecting_an_older_version_is_refused_and_writes_nothing(url):
    with RemoteStore(url) as store:
        read = store.version()
        store.replace_graphs({study_graph("zz-a"): "<urn:a> <urn:p> <urn:b> .\n"})
        before, kept = content(url), bookkeeping(url)
        with pytest.raises(Conflict, match="nothing was written"):
            store.replace_graphs({study_graph("zz-b"): "<urn:x> <urn:p> <urn:y> .\n"}, expect=read)
        assert content(url) == before and bookkeeping(url) == kept
        store.replace_graphs(
            {study_graph("zz-b"): "<urn:x> <urn:p> <urn:y> .\n"}, expect=store.version()
        )
        assert study_graph("zz-b") in store.graph_names()


def _import_together(url: str, *sheets: Path) -> list[subprocess.CompletedProcess]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "kg", "--store", url, "import", str(sheet)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for sheet in sheets
    ]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def _findings(url: str, sid: str) -> set[str]:
    with open_store(url) as store:
        rows = store.query(
            "SELECT ?id WHERE { ?f qikg:reportedIn ?s ; dcterms:identifier ?id . "
            f'?s dcterms:identifier "{sid}" }}'
        ).column("id")
    return {r for r in rows if r}


def test_two_imports_into_one_study_at_once_both_land_or_one_is_refused(cli, url, tmp_path):
    sheet = write_sheet(tmp_path / "study.zip", [study(study_id="race2025")], [])
    assert cli("import", str(sheet), store=url).exit_code == 0
    expected: set[str] = set()
    for round_ in range(ROUNDS):
        sides = {}
        for side in ("a", "b"):
            ids = {f"R{round_}{side}{n}" for n in range(20)}
            rows = [finding(study_id="race2025", finding_id=fid) for fid in sorted(ids)]
            sides[side] = (ids, write_sheet(tmp_path / f"{round_}{side}.zip", [], rows))
        ran = _import_together(url, *(sheet for _, sheet in sides.values()))
        stored = _findings(url, "race2025")
        for (ids, _), result in zip(sides.values(), ran, strict=True):
            if result.returncode == 0:
                expected |= ids
            else:  # refused with a message, never a traceback, and nothing of it stored
                assert "Traceback" not in result.stderr and result.stderr.strip(), result.stderr
                assert not ids & stored
        assert stored == expected, round_
    assert len(expected) >= ROUNDS * 20  # at least one side of every round landed
    found = versions(cli, url)
    assert len([v for v in found if v["verb"] == "import"]) == 1 + len(expected) // 20


def test_a_stale_lock_is_taken_over_and_a_held_one_names_its_holder(url, monkeypatch, caplog):
    with RemoteStore(url) as stopped, RemoteStore(url) as store:
        lock = rh.ServerLock(stopped, "import")
        lock.take()
        lock._stop.set()  # a writer killed while it held the lock: no more heartbeats
        before = content(url)
        monkeypatch.setattr(rh, "LOCK_WAIT", 1.0)
        with pytest.raises(StoreUnavailable, match=r"another qikg \(import, pid \d+ on .*\) since"):
            store.replace_graphs({study_graph("zz-a"): "<urn:a> <urn:p> <urn:b> .\n"})
        assert content(url) == before
        monkeypatch.setattr(rh, "LOCK_STALE", 1.0)
        time.sleep(1.5)
        with caplog.at_level(logging.WARNING, logger="qikg"):
            store.replace_graphs({study_graph("zz-a"): "<urn:a> <urn:p> <urn:b> .\n"})
        assert "took over the write lock" in caplog.text and "import, pid" in caplog.text
        assert study_graph("zz-a") in store.graph_names()
        assert rh.LOCK_GRAPH not in bookkeeping(url)  # released after the write


def test_a_writer_killed_after_its_snapshots_is_recorded_by_the_next(cli, url, monkeypatch):
    """Killed between its write and its record: the next writer takes the stale lock over,
    records what the store holds as ``unrecorded``, and undo returns to before the kill."""
    before = content(url)
    script = (
        "import time\nimport kg.store.remote_history as rh\n"
        "def pause(*args, **kwargs):\n    print('recording', flush=True); time.sleep(60)\n"
        "rh.write_record = pause\n"
        "from kg.store import open_store\nfrom kg.remove import remove_study\n"
        f"remove_study(open_store({url!r}), 'wells2018')\n"
    )
    writer = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "recording", "the remove failed before"
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    removed = content(url)
    assert removed != before  # the write itself was done
    with open_store(url) as store:  # the history says it is behind; the Overview counts
        found = store.history()
        assert found.unrecorded
        assert "holds a change not yet in its history" in cli("history", store=url).out
        assert summary(store)["triples"] == stats(store)["triples"]
        assert stats(store)["triples"] != found.versions[-1].state["triples"]
    monkeypatch.setattr(rh, "LOCK_STALE", 0.5)
    time.sleep(1)
    assert cli("remove", "schouten2008", store=url).exit_code == 0
    assert [v["verb"] for v in versions(cli, url)] == ["remove", "unrecorded", "build"]
    with open_store(url) as store:
        assert not store.history().unrecorded
        assert summary(store)["triples"] == stats(store)["triples"]
    assert cli("restore", "2", store=url).exit_code == 0
    assert content(url) == removed
    assert cli("restore", "1", store=url).exit_code == 0
    assert content(url) == before


#: Graphs one write touches here: past what Virtuoso compiles in one INSERT DATA (rh.ENTRY_BATCH,
#: rh.STUDY_BATCH); a load of 100,000 findings as 4,000 studies touches 4,001.
MANY = 1_600


def test_a_write_of_thousands_of_graphs_is_recorded_and_abandoned_cleanly(cli, url):
    """Its snapshot entries and its record reach the server in batches (in one request Virtuoso
    refused them: SP031, "generated SQL text has exceeded 10000 lines"), and a write that fails
    before changing anything drops its entries again (one DELETE pattern per entry is a cross
    product: Virtuoso refused it at 50 entries and stopped answering at 100)."""
    graphs = [str(study_graph(f"many{i:04d}")) for i in range(MANY)]
    before = bookkeeping(url)
    store = RemoteStore(url)  # (not `with`: its __enter__ is typed as the base Store)
    try:
        with pytest.raises(RuntimeError, match="stopped"), change("import"):
            with rh.writing(store, None, "import") as commit:
                commit.touch(graphs, {})
                raise RuntimeError("stopped before writing")
        assert bookkeeping(url) == before
        with change("import"), rh.writing(store, None, "import") as commit:
            commit.touch(graphs, {})
        latest = versions(cli, url)[0]
        assert latest["verb"] == "import" and len(latest["studies"]) == MANY
        commit_iri = iri_term(f"urn:qikg:commit:{latest['token']}")
        readable = store._select(
            f"SELECT (COUNT(?s) AS ?n) WHERE {{ GRAPH {iri_term(rh.HISTORY_GRAPH)} "
            f"{{ {commit_iri} <urn:qikg:history#study> ?s }} }}"
        )
        assert int(readable[0]["n"]["value"]) == MANY
        assert len(rh.commits(store)[-1]["snapshots"]) == MANY
    finally:
        store.close()
