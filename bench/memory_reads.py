"""What reading from memory costs and how fast the copy follows a write, on a built store.

    .venv/bin/python bench/memory_reads.py STORE SHEET [--json OUT] [--only queries|serve]
        [--questions cq09 ...]
        [--baseline CHECKOUT]

STORE is a built store (bench/run.py --keep-stores leaves one per size), SHEET a coding sheet of
one study to import (bench/generate.py writes them). Measured in this one run, medians of 3:
the time to load the copy and the memory it takes (this process, and one query worker); how
long after a ``qikg import`` of SHEET in another process a reader in memory answers with the new
study (incremental); the same after ``qikg undo`` (a whole reload); and the process tree's memory
(the explorer's pages and its one SPARQL worker hold one copy each); every competency question
on bare pyoxigraph in memory, qikg's pages and a query worker, in turns; and ``qikg serve`` with 8
clients sending cq01, in turns with ``QIKG_READ_IN_MEMORY`` off and on (bench/run.py's serve
step), and first in each round an earlier qikg's serve when ``--baseline`` names its checkout.
The store is copied first: STORE itself is not changed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from kg.store.embedded import EmbeddedStore  # noqa: E402
from kg.store.memory import MemoryView  # noqa: E402

#: Seconds of one way's turn at a question: a question faster than this is asked repeatedly
#: in a turn, and the turn's mean taken.
TURN_S = 0.2
COUNT_STUDIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a qikg:Study }"


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def studies(store: EmbeddedStore, **kwargs: float) -> int:
    return int(store.query(COUNT_STUDIES, **kwargs).values()[0]["n"])


def qikg(store: Path, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "kg", "--store", str(store), *args],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def until_seen(store: EmbeddedStore, expected: int, **kwargs: float) -> float:
    """Seconds until a read answers with ``expected`` studies."""
    start = time.perf_counter()
    while studies(store, **kwargs) != expected:
        time.sleep(0.01)
    return time.perf_counter() - start


def read_all(answer: object) -> int:
    """Read every value of a bare pyoxigraph answer, as qikg reads its answers; the rows."""
    import pyoxigraph as ox

    if not isinstance(answer, ox.QuerySolutions):
        return 1
    names = [v.value for v in answer.variables]
    rows = 0
    for solution in answer:
        for name in names:
            solution[name]
        rows += 1
    return rows


def queries_side_by_side(
    store: Path, repeats: int, only: list[str] | None = None
) -> dict[str, dict[str, float]]:
    """Each competency question on bare pyoxigraph in memory (the floor), on qikg's copy in this
    process (the explorer's pages) and in a query worker, its rows read; then as text: the bare
    engine writing SPARQL JSON, and the worker's answer as ``qikg serve`` sends it. Taken in turns
    per question so that the machine's load falls on all ways alike (a turn asks a fast question
    several times, ``TURN_S``); median seconds."""
    import pyoxigraph as ox

    from kg.namespaces import PREFIXES
    from kg.store.views import database_dir

    bare = ox.Store()
    bare.bulk_load(
        ox.Store.read_only(str(database_dir(store))).dump(format=ox.RdfFormat.N_QUADS),
        format=ox.RdfFormat.N_QUADS,
    )
    from tasks import wait_for_copies

    qikg = EmbeddedStore(store, pool_size=1, in_memory=True)
    qikg.query("ASK {}", timeout=600)  # starts the query worker
    wait_for_copies(qikg)
    runs: dict[str, dict[str, list[float]]] = {}
    ways = {
        "floor": lambda text: read_all(
            bare.query(text, use_default_graph_as_union=True, prefixes=PREFIXES)
        ),
        "pages": lambda text: len(qikg.query(text)),
        "worker": lambda text: len(qikg.query(text, timeout=120)),
        # what qikg serve sends, against the engine writing the same SPARQL JSON text
        "floor_text": lambda text: len(
            bare.query(text, use_default_graph_as_union=True, prefixes=PREFIXES).serialize(
                format=ox.QueryResultsFormat.JSON
            )
        ),
        "served": lambda text: len(qikg.query(text, timeout=120).document),
    }
    for path in sorted((ROOT / "ontology" / "queries").glob("cq*.rq")):
        if only and path.stem.split("-")[0] not in only:
            continue
        text = path.read_text()
        start = time.perf_counter()
        ways["floor"](text)
        # a fast question is asked several times a turn (timeit's way): one call of under a
        # millisecond is mostly the machine's noise
        calls = max(1, int(TURN_S / max(time.perf_counter() - start, 1e-6)))
        for _ in range(repeats):
            for way, run in ways.items():
                start = time.perf_counter()
                for _ in range(calls):
                    run(text)
                runs.setdefault(path.stem, {}).setdefault(way, []).append(
                    (time.perf_counter() - start) / calls
                )
    qikg.close()
    return {q: {w: statistics.median(t) for w, t in ways_.items()} for q, ways_ in runs.items()}


def serve_side_by_side(
    store: Path, rounds: int, baseline: Path | None = None
) -> dict[str, list[dict]]:
    """bench/run.py's serve measurement, in turns with memory reads off and on, and with
    ``baseline`` (a checkout of an earlier qikg) first in each round when given."""
    import run

    run.BUDGET = run.Budget(None)
    settings = run.parse_args([])
    current = run.QIKG
    if baseline is not None:  # its server and workers import qikg from the checkout
        wrapper = Path(tempfile.mkdtemp(prefix="qikg-baseline-")) / "qikg"
        wrapper.write_text(f'#!/bin/sh\ncd "{baseline}" && exec "{sys.executable}" -m kg "$@"\n')
        wrapper.chmod(0o755)
    query = {
        "name": "cq01-studies",
        "text": (ROOT / "ontology/queries/cq01-studies.rq").read_text(),
    }
    ways = [("disk", "0", current), ("memory", "1", current)]
    if baseline is not None:
        ways.insert(0, ("baseline", "0", str(wrapper)))
    out: dict[str, list[dict]] = {way: [] for way, _, _ in ways}
    log = Path(tempfile.mkdtemp(prefix="qikg-serve-")) / "log.txt"
    for _ in range(rounds):
        for setting, value, command in ways:
            os.environ["QIKG_READ_IN_MEMORY"] = value
            run.QIKG = command
            out[setting].append(run.measure_serve(store, [query], log, settings))
    run.QIKG = current
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("sheet", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--serve-rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of an earlier qikg (git worktree add DIR COMMIT) whose qikg serve is "
        "measured beside this one",
    )
    parser.add_argument(
        "--only", choices=["queries", "serve"], help="measure only the questions or only serve"
    )
    parser.add_argument("--questions", nargs="+", help="with --only queries: these (e.g. cq09)")
    args = parser.parse_args()
    if args.only:
        out = (
            {"queries": queries_side_by_side(args.store, args.repeats, args.questions)}
            if args.only == "queries"
            else {"serve": serve_side_by_side(args.store, args.serve_rounds, args.baseline)}
        )
        report(out, args.json)
        return
    work = Path(tempfile.mkdtemp(prefix="qikg-memory-"))
    store = work / "store"
    shutil.copytree(args.store, store)
    out: dict = {"loads": [], "follow_import": [], "follow_undo": []}
    try:
        for _ in range(args.repeats):
            start = time.perf_counter()
            view = MemoryView(store)
            view.get()
            out["loads"].append(time.perf_counter() - start)
            del view
        reader = EmbeddedStore(store, pool_size=1, in_memory=True)
        view = reader._view
        assert isinstance(view, MemoryView)
        while view._copy is None:
            time.sleep(0.1)
        before = studies(reader, timeout=600)
        out["rss_reader_mb"] = rss_mb(os.getpid())
        assert reader._pool is not None
        workers = [w for w in list(reader._pool._idle.queue) if w is not None]
        out["rss_worker_mb"] = rss_mb(workers[0].proc.pid) if workers else None
        for _ in range(args.repeats):
            qikg(store, "import", str(args.sheet))
            out["follow_import"].append(until_seen(reader, before + 1))
            out.setdefault("follow_import_worker", []).append(
                until_seen(reader, before + 1, timeout=600)
            )
            qikg(store, "undo")
            out["follow_undo"].append(until_seen(reader, before))
            until_seen(reader, before, timeout=600)
        out["rss_tree_mb"] = out["rss_reader_mb"] + (out["rss_worker_mb"] or 0)
        reader.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["queries"] = queries_side_by_side(args.store, 3)
    out["serve"] = serve_side_by_side(args.store, args.serve_rounds, args.baseline)
    report(out, args.json)


def report(out: dict, path: Path | None) -> None:
    """Print the results with their medians, and write them to ``path``."""
    medians = {k: statistics.median(v) for k, v in out.items() if isinstance(v, list)}
    for setting, runs in out.get("serve", {}).items():
        rates = [r["throughput_rps"] for r in runs if r.get("throughput_rps")]
        medians[f"serve_rps_{setting}"] = statistics.median(rates) if rates else None
    for question, ways in out.get("queries", {}).items():
        medians[f"{question}_pages_over_floor"] = ways["pages"] / ways["floor"]
        medians[f"{question}_worker_over_floor"] = ways["worker"] / ways["floor"]
        medians[f"{question}_served_over_floor_text"] = ways["served"] / ways["floor_text"]
    text = json.dumps({"medians": medians, **out}, indent=1)
    print(text)
    if path:
        path.write_text(text)


if __name__ == "__main__":
    main()
