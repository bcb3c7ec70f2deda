"""History, undo, restore and remove on a SPARQL server holding 100,000 findings (issue 15).

For each server (Oxigraph server, Virtuoso; started by tests/servers.py in a temporary folder and
stopped at the end): ``qikg build``, then the synthetic corpus (bench/generate.py: one graph per
study plus a shared graph) loaded through the product's write path,
``store.replace_graphs({study graph: N-Triples}, extend=shared)``, recorded as one ``import``
version; then, each a ``qikg --store URL ...`` command as a user runs it (process start
included): ``history``, ``import`` of one more 25-finding study sheet and ``undo`` of it,
``remove`` of one study and ``undo``, ``restore`` to the version after the load; and the extra
triples on the server per kept version (the snapshot graphs, kg.store.remote_history).

Run (a corpus from ``bench/generate.py --studies 4000 --findings-per-study 25 --out DIR``)::

    .venv/bin/python bench/server_history.py --corpus /tmp/c4000 --out bench/results/x.json
    .venv/bin/python bench/server_history.py --server oxigraph --studies 1000 --batch 250 ...

Oxigraph server refuses a request over 128 MiB (about 1,300 studies in one write): ``--batch``,
or ``--studies 1000``, unless the store stages large writes.

To measure one commit while the working tree holds others' unfinished edits, run a copy of it
(the editable install's ``kg`` is shadowed by ``PYTHONPATH``, which the ``qikg`` commands inherit)::

    git archive HEAD | tar -x -C /tmp/qikg-head
    cd /tmp/qikg-head && PYTHONPATH=$PWD /work/main/.venv/bin/python bench/server_history.py ...

Each run records the code it measured (``code``: the commit, or the folder it ran from).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.tasks import read_corpus_graphs  # noqa: E402
from kg.namespaces import STUDY_GRAPH_PREFIX, study_graph  # noqa: E402
from kg.store import open_store  # noqa: E402
from kg.store import remote_history as rh  # noqa: E402
from kg.store.history import change  # noqa: E402
from tests.servers import (  # noqa: E402
    Server,
    Settings,
    oxigraph_binary,
    start_oxigraph,
    start_virtuoso,
)

QIKG = str(Path(sys.executable).parent / "qikg")
#: The extra study imported (and undone): synth00001's sheet under an id no corpus uses.
EXTRA = "synth99001"
#: The study removed (and brought back).
REMOVED = "synth00002"


def start(name: str, folder: Path, settings: Settings | None = None) -> Server:
    """A server of this kind in ``folder`` (Virtuoso with ``settings`` over Debian's ini)."""
    if name == "oxigraph":
        binary = oxigraph_binary()
        if binary is None:
            raise SystemExit("no oxigraph binary (pip install oxigraph)")
        return start_oxigraph(folder, binary)
    binary, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if binary is None or isql is None:
        raise SystemExit("no virtuoso-t / isql-vt (apt-get install virtuoso-opensource)")
    return start_virtuoso(folder, binary, isql, settings)


@contextmanager
def started(
    name: str, result: dict, settings: Settings | None = None
) -> Iterator[tuple[Server, Path]]:
    """A server of this kind and its temporary folder. A failure inside is a finding: its
    message goes in ``result`` and the run goes on. The server is stopped and its folder removed
    after."""
    folder = Path(tempfile.mkdtemp(prefix=f"qikg-{name}-"))
    server = start(name, folder / "db", settings)
    try:
        print(f"{name}: {server.url} ({result['server_version']})", flush=True)
        yield server, folder
    except Exception as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
        print(f"  FAILED: {result['error']}", flush=True)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def server_version(name: str) -> str:
    if name == "oxigraph":
        out = subprocess.run([str(oxigraph_binary()), "--version"], capture_output=True, text=True)
        return out.stdout.strip()
    out = subprocess.run(["virtuoso-t", "-?"], capture_output=True, text=True)
    match = re.search(r"Version (\S+)", out.stdout + out.stderr)
    return f"Virtuoso {match.group(1) if match else '?'}"


#: Where each step is written as it ends (so a run stopped early keeps what it measured).
PROGRESS: list[Path] = []
#: Warnings the qikg commands printed (on stderr), kept with the results.
WARNINGS: list[str] = []


def qikg(url: str, *args: str) -> tuple[float, str]:
    """One ``qikg --store URL ARGS`` command: seconds and its output; a failure stops the run
    with the command's own message (a finding to report, not to retry)."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [QIKG, "--store", url, *args], cwd=REPO, capture_output=True, text=True, timeout=3600
    )
    seconds = time.perf_counter() - t0
    WARNINGS.extend(f"qikg {args[0]}: {line}" for line in done.stderr.splitlines() if line)
    if done.returncode != 0:
        raise RuntimeError(
            f"qikg {' '.join(args)} failed ({done.returncode}) after {seconds:.1f} s:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return seconds, done.stdout


def extra_sheet(corpus: Path, folder: Path) -> Path:
    """synth00001's coding sheet as a new study ``EXTRA`` (its id and DOI changed)."""
    out = folder / EXTRA
    out.mkdir(parents=True)
    for name in ("studies.csv", "findings.csv"):
        text = (corpus / "sheets" / "synth00001" / name).read_text(encoding="utf-8")
        text = text.replace("synth00001", EXTRA).replace(
            "qikg.synthetic.1,", f"qikg.synthetic.{EXTRA},"
        )
        (out / name).write_text(text, encoding="utf-8")
    return out


def load_corpus(url: str, corpus: Path, studies: int | None, batch: int | None) -> dict:
    """The corpus through the product's write path, as recorded imports of ``batch`` studies
    each (all in one by default; the shared graph goes with the first); seconds and size."""
    t0 = time.perf_counter()
    graphs = read_corpus_graphs(str(corpus / "corpus.nq"))
    shared = {g: graphs.pop(g) for g in list(graphs) if not g.startswith(STUDY_GRAPH_PREFIX)}
    names = sorted(graphs)[:studies] if studies is not None else sorted(graphs)
    triples = sum(graphs[g].count("\n") for g in names) + sum(
        nt.count("\n") for nt in shared.values()
    )
    t_read = time.perf_counter()
    store = open_store(url)
    size = batch or len(names)
    writes = []
    for start in range(0, len(names), size):
        part = {g: graphs.pop(g) for g in names[start : start + size]}
        t = time.perf_counter()
        with change("import"):
            store.replace_graphs(part, extend=shared if start == 0 else None)
        writes.append(time.perf_counter() - t)
        print(f"  loaded {start + len(part)} studies ({writes[-1]:.1f} s)", flush=True)
    t_load = time.perf_counter()
    store.close()
    return {
        "study_graphs": len(names),
        "triples_sent": triples,
        "studies_per_write": size,
        "write_s": writes,
        "read_corpus_s": t_read - t0,
        "load_s": t_load - t_read,
    }


def write(url: str, graphs: dict[str, str], drop: tuple[str, ...] = ()) -> tuple[float, str]:
    """A write of the product's path in this process (where a CLI verb failed): seconds."""
    t0 = time.perf_counter()
    store = open_store(url)
    with change("import" if graphs else "remove"):
        store.replace_graphs(graphs, drop=drop)
    store.close()
    return time.perf_counter() - t0, ""


def latest(url: str) -> dict:
    """The newest version of ``qikg history --json``, and the kept snapshots' triples."""
    _, out = qikg(url, "history", "--json")
    found = json.loads(out)
    return found["versions"][0] | {"snapshot_triples": found.get("snapshot_triples")}


def timed(
    runs: list[dict], what: str, step: Callable[[], tuple[float, str]], url: str
) -> tuple[float, str]:
    """Run a step, then read the version it made (untimed) to check its counts."""
    seconds, out = step()
    after = latest(url)
    runs.append(
        {"step": what, "seconds": seconds, "version": after["version"], "verb": after["verb"]}
        | after["state"]
        | {"snapshot_triples_kept": after["snapshot_triples"]}
    )
    print(f"  {what}: {seconds:.2f} s -> {after['state']}", flush=True)
    for path in PROGRESS:
        path.write_text(json.dumps(runs, indent=1) + "\n")
    return seconds, out


def snapshot_costs(url: str) -> dict:
    """Per version: the triples its snapshot graphs hold, and the history graph's size."""
    store = open_store(url)
    try:
        lines = rh.commits(store)  # type: ignore[arg-type]
        sizes = store._all_sizes()  # type: ignore[attr-defined]
        folded = rh.fold(lines)
        per_version = []
        for version, group in zip(folded.versions, folded.lines, strict=True):
            snaps = [s for line in group for s in line.get("snapshots", [])]
            per_version.append(
                {
                    "version": version.number,
                    "verb": version.verb,
                    "kept": version.kept,
                    "snapshot_graphs": len(snaps),
                    "snapshot_triples": sum(sizes.get(s["iri"], 0) for s in snaps),
                    "graphs": sorted({s["graph"].rsplit("/", 1)[-1] for s in snaps})[:8],
                }
            )
        return {
            "per_version": per_version,
            "history_graph_triples": sizes.get(rh.HISTORY_GRAPH, 0),
            "commits": len(lines),
            "all_snapshot_triples": sum(
                n for g, n in sizes.items() if g.startswith(rh.SNAPSHOT_PREFIX)
            ),
            "qikg_triples": sum(n for g, n in sizes.items() if g.startswith("https://w3id.org/")),
            "server_triples": sum(sizes.values()),
        }
    finally:
        store.close()


def code_version() -> str:
    """The commit measured (``+ uncommitted kg/ changes`` when the tree has some), or, for a copy
    made with ``git archive``, the folder the code ran from."""
    head = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    if head.returncode != 0:
        return f"{REPO} (not a git checkout)"
    dirty = subprocess.run(
        ["git", "-C", str(REPO), "status", "--porcelain", "kg"], capture_output=True, text=True
    ).stdout.strip()
    return head.stdout.strip() + (" + uncommitted kg/ changes" if dirty else "")


def disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run_server(
    name: str, corpus: Path, studies: int | None, batch: int | None, repeat: int
) -> dict:
    result: dict = {"server": name, "server_version": server_version(name), "steps": []}
    steps = result["steps"]
    with started(name, result) as (server, folder):
        url = server.url
        timed(steps, "build", lambda: qikg(url, "build"), url)
        result["disk_after_build"] = disk(folder / "db")
        load = load_corpus(url, corpus, studies, batch)
        after = latest(url)
        result["load"] = load | {"version": after["version"], "state": after["state"]}
        result["disk_after_load"] = disk(folder / "db")
        print(f"  load: {load} -> {after['state']}", flush=True)
        loaded = after["version"]
        sheet = extra_sheet(corpus, folder)
        nt = read_corpus_graphs(str(corpus / "corpus.nq"))[study_graph("synth00001")]
        one = {study_graph(EXTRA): nt.replace("synth00001", EXTRA)}
        drop = (study_graph(REMOVED),)

        def attempt(what: str, *args: str) -> bool:
            """A step that may fail: its message is kept and the run goes on (a failed import
            or remove is not undone: that would undo the version before it)."""
            try:
                timed(steps, what, lambda: qikg(url, *args), url)
                return True
            except RuntimeError as exc:
                steps.append({"step": what, "error": str(exc)})
                print(f"  {what}: FAILED {exc}", flush=True)
                return False

        for _ in range(repeat):
            attempt("history", "history")
        for _ in range(repeat):
            if attempt("import", "import", str(sheet)):
                attempt("undo (of import)", "undo")
            else:  # the same write without the CLI's queries, so undo is still measured
                timed(steps, "write one study (in-process)", partial(write, url, one), url)
                attempt("undo (of the write)", "undo")
        for _ in range(repeat):
            if attempt("remove", "remove", REMOVED):
                attempt("undo (of remove)", "undo")
            else:
                timed(steps, "drop one study (in-process)", partial(write, url, {}, drop), url)
                attempt("undo (of the drop)", "undo")
        for _ in range(repeat):
            attempt("restore", "restore", str(loaded))
        for _ in range(repeat):
            attempt("history", "history")
        result["snapshots"] = snapshot_costs(url)
        result["disk_at_end"] = disk(folder / "db")
    medians: dict[str, dict] = {}
    for step in steps:
        if "seconds" not in step:
            continue
        medians.setdefault(step["step"], {"runs": []})["runs"].append(round(step["seconds"], 3))
    for entry in medians.values():
        entry["median_s"] = round(statistics.median(entry["runs"]), 3)
    result["medians"] = medians
    result["warnings"] = list(dict.fromkeys(WARNINGS))
    WARNINGS.clear()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/c4000"))
    parser.add_argument("--server", choices=("oxigraph", "virtuoso", "both"), default="both")
    parser.add_argument("--studies", type=int, help="load only the first N study graphs")
    parser.add_argument(
        "--batch", type=int, help="studies per write (Oxigraph server takes 128 MiB a request)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="append the results to this JSON file")
    args = parser.parse_args()
    logging.basicConfig(format="%(message)s")  # qikg's warnings during the load, on stderr
    if args.out:
        PROGRESS.append(args.out.with_suffix(".steps.json"))
    names = ["oxigraph", "virtuoso"] if args.server == "both" else [args.server]
    runs = []
    for name in names:
        run = run_server(name, args.corpus, args.studies, args.batch, args.repeat)
        run |= {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
            "load_average_at_end": os.getloadavg(),
            "studies_requested": args.studies,
            "command": sys.argv[1:],
            "code": code_version(),
        }
        runs.append(run)
        if args.out:
            old = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
            old["runs"].append(run)
            args.out.write_text(json.dumps(old, indent=2) + "\n")
    print(json.dumps([{k: r.get(k) for k in ("server", "medians", "error")} for r in runs]))


if __name__ == "__main__":
    main()
