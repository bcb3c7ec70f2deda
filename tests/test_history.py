"""The store's history: every write recorded; undo, restore and remove, all or nothing."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kg.build import bundled_studies
from kg.namespaces import INFERRED_GRAPH, study_graph
from kg.read.stats import stats, summary
from kg.store import open_store
from tests.sheets import write_sheet


def content(path: str) -> tuple[int, str]:
    """Triple count and a checksum of every graph of the store: equal means the same content."""
    with open_store(path) as store:
        data = store.dump("nq")
    lines = sorted(line for line in data.decode().splitlines() if line.strip())
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def versions(cli, path: str) -> list[dict]:
    ran = cli("history", "--json", store=path)
    assert ran.exit_code == 0, ran.err
    return json.loads(ran.out)["versions"]


def test_history_records_build_import_remove_and_undo(cli, fresh_store_path, tmp_path):
    sheet = write_sheet(tmp_path / "sheet.xlsx")
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    assert cli("remove", "newstudy2025", store=fresh_store_path).exit_code == 0
    undone = cli("undo", store=fresh_store_path)
    assert undone.exit_code == 0, undone.err
    bundled = len(bundled_studies())
    assert "back at version 2" in undone.out and f"studies {bundled} → {bundled + 1}" in undone.out
    found = versions(cli, fresh_store_path)
    assert [v["version"] for v in found] == [4, 3, 2, 1]  # newest first
    assert [v["verb"] for v in found] == ["undo", "remove", "import", "build"]
    undo, remove, imported, build = found
    assert imported["file"] == {
        "name": "sheet.xlsx",
        "sha256": hashlib.sha256(sheet.read_bytes()).hexdigest(),
    }
    assert imported["studies"] == ["newstudy2025"] and imported["removed"] == 0
    assert imported["added"] > 0 and imported["exact"]
    assert remove["studies"] == ["newstudy2025"] and remove["state"] == build["state"] | {
        "triples": imported["state"]["triples"] - remove["removed"]
    }
    assert 0 < remove["removed"] <= imported["added"]  # its coder stays in the shared graph
    assert undo["restored"] == 2 and undo["state"] == imported["state"]
    assert build["state"]["studies"] == bundled and imported["state"]["studies"] == bundled + 1
    assert all(v["time"].endswith("Z") and v["kept"] for v in found)
    text = cli("history", store=fresh_store_path)
    assert "undo (to 2)" in text.out and "sheet.xlsx (sha256" in text.out
    assert "checkpoints take" in text.out


def test_undo_after_import_returns_the_content_before_it(cli, fresh_store_path, tmp_path):
    before = content(fresh_store_path)
    sheet = write_sheet(tmp_path / "sheet.xlsx")
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    after = content(fresh_store_path)
    assert after != before
    assert cli("undo", store=fresh_store_path).exit_code == 0
    assert content(fresh_store_path) == before
    assert cli("undo", store=fresh_store_path).exit_code == 0  # undoing the undo redoes it
    assert content(fresh_store_path) == after


def test_undo_after_reason_drops_the_inferred_graph(cli, fresh_store_path):
    before = content(fresh_store_path)
    ran = cli("reason", "--skip-check", "--engine", "sparql", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    with open_store(fresh_store_path) as store:
        assert str(INFERRED_GRAPH) in store.graph_names()
    assert versions(cli, fresh_store_path)[0]["verb"] == "reason"
    assert cli("undo", store=fresh_store_path).exit_code == 0
    assert content(fresh_store_path) == before
    with open_store(fresh_store_path) as store:
        assert str(INFERRED_GRAPH) not in store.graph_names()


def test_undo_after_remove_brings_the_study_back_and_reasoned_stores_stay_whole(
    cli, fresh_store_path
):
    assert (
        cli("reason", "--skip-check", "--engine", "sparql", store=fresh_store_path).exit_code == 0
    )
    before = content(fresh_store_path)
    with open_store(fresh_store_path) as store:
        without = store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", include_inferred=False)
    ran = cli("remove", "uggerby2021", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    with open_store(fresh_store_path) as store:
        assert study_graph("uggerby2021") not in store.graph_names()
        about = store.query(
            "ASK { GRAPH qikg:inferred { ?s ?p ?o FILTER(STRSTARTS(STR(?s), "
            '"https://w3id.org/qikg/data/uggerby2021/")) } }'
        )
        assert not about.boolean  # nothing inferred about its findings is left
    assert cli("undo", store=fresh_store_path).exit_code == 0
    assert content(fresh_store_path) == before
    with open_store(fresh_store_path) as store:  # the copy without inferences is of this version
        assert (
            store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", include_inferred=False).values()
            == without.values()
        )


def test_restore_returns_to_each_recorded_version(cli, fresh_store_path, tmp_path):
    sums = {1: content(fresh_store_path)}
    assert (
        cli("import", str(write_sheet(tmp_path / "a.xlsx")), store=fresh_store_path).exit_code == 0
    )
    sums[2] = content(fresh_store_path)
    assert cli("remove", "wells2018", store=fresh_store_path).exit_code == 0
    sums[3] = content(fresh_store_path)
    assert cli("remove", "schouten2008", store=fresh_store_path).exit_code == 0
    sums[4] = content(fresh_store_path)
    assert len(set(sums.values())) == 4
    for number, expected in [(2, sums[2]), (1, sums[1]), (3, sums[3]), (4, sums[4])]:
        ran = cli("restore", str(number), store=fresh_store_path)
        assert ran.exit_code == 0, ran.err
        assert f"back at version {number}" in ran.out
        assert content(fresh_store_path) == expected
    found = versions(cli, fresh_store_path)
    assert [v["restored"] for v in found[:4]] == [4, 3, 1, 2]
    assert [v["verb"] for v in found[:4]] == ["restore"] * 4
    same = cli("restore", str(found[0]["version"]), store=fresh_store_path)
    assert same.exit_code == 2 and "already at version" in same.err
    missing = cli("restore", "99", store=fresh_store_path)
    assert missing.exit_code == 2 and "no version 99" in missing.err


def test_remove_is_refused_when_a_review_finding_cites_the_study(cli, fresh_store_path):
    before = content(fresh_store_path)
    ran = cli("remove", "carstensen2024", store=fresh_store_path)
    assert ran.exit_code == 1
    assert "RF1" in ran.err and "RF2" in ran.err and "--force" in ran.err
    assert content(fresh_store_path) == before and len(versions(cli, fresh_store_path)) == 1
    forced = cli("remove", "carstensen2024", "--force", store=fresh_store_path)
    assert forced.exit_code == 0, forced.err
    assert "RF1, RF2" in forced.err and "removed study carstensen2024" in forced.out
    with open_store(fresh_store_path) as store:
        assert study_graph("carstensen2024") not in store.graph_names()
        assert store.query("ASK { qikgd:review\\/RF1 a qikg:ReviewFinding }").boolean
    assert cli("undo", store=fresh_store_path).exit_code == 0
    assert content(fresh_store_path) == before


def test_remove_dry_run_says_what_it_would_remove_and_writes_nothing(cli, fresh_store_path):
    before = content(fresh_store_path), versions(cli, fresh_store_path)
    ran = cli("remove", "wells2018", "--dry-run", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert ran.out.startswith("would remove study wells2018:") and "findings" in ran.out
    assert (content(fresh_store_path), versions(cli, fresh_store_path)) == before
    unknown = cli("remove", "nosuchstudy", store=fresh_store_path)
    assert unknown.exit_code == 2 and "not in the graph" in unknown.err


def test_only_the_last_versions_keep_their_checkpoint(cli, fresh_store_path, monkeypatch):
    monkeypatch.setenv("QIKG_KEEP_VERSIONS", "2")
    for sid in ("wells2018", "schouten2008", "carstensen2022"):
        assert cli("remove", sid, store=fresh_store_path).exit_code == 0
    found = versions(cli, fresh_store_path)
    assert [v["kept"] for v in found] == [True, True, False, False]
    checkpoints = Path(fresh_store_path) / "history" / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == sorted(v["token"] for v in found[:2])
    gone = cli("restore", "1", store=fresh_store_path)
    assert gone.exit_code == 2 and "no longer kept" in gone.err
    assert cli("restore", "3", store=fresh_store_path).exit_code == 0
    listing = cli("history", store=fresh_store_path).out
    assert "kept, can be restored: 4-5 (the last 2" in listing


#: What the restoring script prints at the moment the test kills it.
AT_SWITCH, AT_RECORD = "switching", "recording"


def kill_during_restore(path: str, moment: str) -> None:
    """Run ``restore 1`` in a process of its own that announces ``moment`` (just before the
    generation switch, or just after it, before the history line) and waits there; SIGKILL it
    then. The announcement proves the kill lands inside the restore."""
    if moment == AT_SWITCH:
        patch = (
            "from kg.store.embedded import EmbeddedStore as E\n"
            "original = E._bump_generation\n"
            "def pause(self, folder):\n"
            f"    print({moment!r}, flush=True); time.sleep(60); original(self, folder)\n"
            "E._bump_generation = pause\n"
        )
    else:
        patch = (
            "import kg.store.history as h\n"
            "def pause(*args, **kwargs):\n"
            f"    print({moment!r}, flush=True); time.sleep(60)\n"
            "h.record = pause\n"
        )
    script = (
        "import time\n" + patch + "from kg.store import open_store\n"
        f"open_store({path!r}).restore(1)\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == moment, "the restore failed before the moment"
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    assert writer.returncode == -signal.SIGKILL


@pytest.mark.parametrize("moment", [AT_SWITCH, AT_RECORD])
def test_a_restore_killed_half_way_leaves_one_of_the_two_versions(cli, fresh_store_path, moment):
    first = content(fresh_store_path)
    assert cli("remove", "wells2018", store=fresh_store_path).exit_code == 0
    second = content(fresh_store_path)
    with open_store(fresh_store_path) as reader:
        seen = reader.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").values()
        kill_during_restore(fresh_store_path, moment)
        now = content(fresh_store_path)
        assert now == (second if moment == AT_SWITCH else first)
        # a reader opened before sees the version the store is at
        after = reader.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }").values()
        assert (after == seen) == (moment == AT_SWITCH)
        # the Overview's total is the store's, not the history's latest, while they differ
        found = reader.history()
        assert found.unrecorded == (moment == AT_RECORD)
        assert summary(reader)["triples"] == stats(reader)["triples"]
        if moment == AT_RECORD:
            assert stats(reader)["triples"] != found.versions[-1].state["triples"]
    assert cli("remove", "schouten2008", store=fresh_store_path).exit_code == 0  # takes writes
    found = versions(cli, fresh_store_path)
    expected = ["remove", "remove", "build"]
    if moment == AT_RECORD:  # committed, not recorded: the next write records it first
        expected.insert(1, "unrecorded")
        assert found[1]["state"] == found[3]["state"]
    assert [v["verb"] for v in found] == expected
    leftovers = [p.name for p in Path(fresh_store_path).iterdir() if p.name.startswith("oxigraph")]
    assert len(leftovers) == 1, leftovers
