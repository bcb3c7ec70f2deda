"""qikg's reads on a SPARQL server holding the synthetic corpus (issue 19): every competency
question and every explorer page, on Oxigraph server and Virtuoso 7.

For each server (started by tests/servers.py in a temporary folder, stopped and removed at the
end): ``qikg build``, then the corpus loaded through the product's write path
(bench/server_history.py ``load_corpus``: one recorded import); then each competency question
(``ontology/queries/cq*.rq``) asked ``--repeat`` times through ``open_store(url).query(...)``
with a time limit (``--limit``), its rows
compared with the embedded store's answer (``--reference``, a store built from the same bundled
data and corpus; only when the server holds every study of the corpus); then every explorer page
rendered cold and warm on the server (bench/run.py ``measure_explorer``: streamlit's AppTest in
a bench/tasks.py child, ``QIKG_STORE`` set to the server's URL), judged against 3 s.

Run (a corpus from ``bench/generate.py --studies 4000 --findings-per-study 25 --out DIR``, and a
reference store built from it)::

    .venv/bin/python bench/server_reads.py --corpus /tmp/c4000 --reference /tmp/s4000 \\
        --server virtuoso --out bench/results/server-reads-4000.json
    .venv/bin/python bench/server_reads.py --server oxigraph --studies 1000 --out ...
    .venv/bin/python bench/server_reads.py --server oxigraph --url URL --out ...  # loaded before

Rows are compared as sorted lists of value tuples; a GROUP_CONCAT value as its sorted ", "-split
parts (tests/test_backend_contract.py ``_rows``). Virtuoso runs with
tests/servers.py's virtuoso.ini (Debian's defaults), or with ``--virtuoso-ini tuned``:
ResultSetMaxRows and MaxQueryExecutionTime raised and the refusal on estimated cost turned off,
as docs/deploy.md advises, and the buffers Debian's file suggests for 4 GB (``TUNED``). The JSON is
appended to, one entry per server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from bench.run import load_queries, machine, measure_explorer  # noqa: E402
from bench.server_history import (  # noqa: E402
    code_version,
    disk,
    load_corpus,
    qikg,
    server_version,
    started,
)
from kg.store import open_store  # noqa: E402

#: The explorer's target on a large corpus (issue 19): every page in under 3 s.
PAGE_TARGET_S = 3.0
COUNT_STUDIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a qikg:Study }"
#: A run slower than this is not repeated (its one time is the median).
SLOW_S = 30.0


def rows(result) -> list[tuple]:
    """A query's rows as a sorted list of value tuples, GROUP_CONCAT parts sorted."""
    return sorted(
        tuple(", ".join(sorted((v or "").split(", "))) for v in row.values())
        for row in result.values()
    )


def digest(found: list[tuple]) -> str:
    return hashlib.sha256(json.dumps(found).encode()).hexdigest()[:16]


def ask(store, text: str, limit: float, repeat: int) -> dict:
    """One question ``repeat`` times (once if slow or failed): times, rows, and the sorted rows."""
    times: list[float] = []
    out: dict = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        try:
            result = store.query(text, timeout=limit)
        except Exception as exc:  # a refusal, a time limit, a wrong answer: all are findings
            out["error"] = f"{type(exc).__name__}: {str(exc)[:500]}"
            out["error_after_s"] = round(time.perf_counter() - t0, 3)
            break
        times.append(time.perf_counter() - t0)
        out["rows"] = len(result)
        out["truncated"] = bool(getattr(result, "truncated", False))
        out["_rows"] = rows(result)
        if times[-1] > SLOW_S:
            break
    out["runs_s"] = [round(t, 3) for t in times]
    out["median_s"] = round(statistics.median(times), 3) if times else None
    return out


def reference_answers(path: str, queries: list[dict], limit: float) -> dict:
    """Each question's sorted rows on the embedded store (once; ``None`` past its limit)."""
    store = open_store(path)
    try:
        studies = int(store.query(COUNT_STUDIES).values()[0]["n"])
        answers: dict = {"studies": studies, "answers": {}}
        for q in queries:
            found = ask(store, q["text"], limit, 1)
            answers["answers"][q["name"]] = found
            print(
                f"  reference {q['name']}: {found.get('median_s')} s "
                f"{found.get('rows')} rows {found.get('error', '')[:100]}",
                flush=True,
            )
        return answers
    finally:
        store.close()


def compare(server: dict, reference: dict | None) -> str:
    """``yes``/``no``, or why the rows were not compared."""
    if reference is None:
        return "not compared (the server holds a part of the corpus)"
    if "_rows" not in reference:
        return f"no reference ({reference.get('error', '?')[:120]})"
    if "_rows" not in server:
        return "no answer"
    return "yes" if server["_rows"] == reference["_rows"] else "no"


def difference(server: list[tuple], reference: list[tuple]) -> dict:
    """How two answers differ: the counts of missing and extra rows and a few of each."""
    a, b = set(server), set(reference)
    return {
        "missing": len(b - a),
        "extra": len(a - b),
        "missing_examples": [list(r) for r in sorted(b - a)[:3]],
        "extra_examples": [list(r) for r in sorted(a - b)[:3]],
    }


def run_server(name: str, args: argparse.Namespace, queries: list[dict], ref: dict | None) -> dict:
    """Start, build, load, ask every question, render every page, stop: the results. With
    ``--url``, the server there (built and loaded before) is only asked and rendered."""
    result: dict = {"server": name, "server_version": server_version(name)}
    result["load_average_before"] = list(os.getloadavg())
    if args.url:
        result["load"] = f"loaded before this run: {args.url}"
        folder = Path(tempfile.mkdtemp(prefix="qikg-reads-"))
        try:
            measure_reads(args.url, folder, args, queries, ref, result)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        settings = TUNED if args.virtuoso_ini == "tuned" else None
        with started(name, result, settings) as (server, folder):
            url = server.url
            result["build_s"] = round(qikg(url, "build")[0], 2)
            result["load"] = load_corpus(url, args.corpus, args.studies, args.batch)
            result["disk_after_load"] = disk(folder / "db")
            print(f"  load: {result['load']['load_s']:.1f} s", flush=True)
            measure_reads(url, folder, args, queries, ref, result)
    result["load_average_at_end"] = list(os.getloadavg())
    return result


def measure_reads(
    url: str,
    folder: Path,
    args: argparse.Namespace,
    queries: list[dict],
    ref: dict | None,
    result: dict,
) -> None:
    """Every question asked and compared, then every page rendered: into ``result``."""
    store = open_store(url)
    result["studies"] = int(store.query(COUNT_STUDIES).values()[0]["n"])
    result["load_average_after_load"] = list(os.getloadavg())
    answers: dict = {}
    for q in queries:
        found = ask(store, q["text"], args.limit, args.repeat)
        theirs = ref["answers"].get(q["name"]) if ref is not None else None
        found["equals_embedded"] = compare(found, theirs)
        if found["equals_embedded"] == "no":
            found["difference"] = difference(found["_rows"], theirs["_rows"])
        if "_rows" in found:
            found["digest"] = digest(found.pop("_rows"))
        answers[q["name"]] = found
        print(
            f"  {q['name']}: {found['median_s']} s, {found.get('rows')} rows, "
            f"equal: {found['equals_embedded']} {found.get('error', '')[:200]}",
            flush=True,
        )
    store.close()
    result["questions"] = answers
    result["load_average_after_questions"] = list(os.getloadavg())
    log = folder / "explorer.log"
    explorer = measure_explorer(
        url, log, SimpleNamespace(page_repeats=args.repeat, page_limit=args.page_limit)
    )
    for page, data in explorer.get("pages", {}).items():
        if "cold" in data:
            data["under_3s"] = (
                not data.get("problems")
                and data["cold"] < PAGE_TARGET_S
                and data["warm"] < PAGE_TARGET_S
            )
        print(f"  page {page}: {data}", flush=True)
    if log.exists():
        explorer["log_tail"] = log.read_text(errors="replace")[-3000:]
    result["explorer"] = explorer


#: ``--virtuoso-ini tuned``: what docs/deploy.md asks for (ResultSetMaxRows above the largest
#: answer, MaxQueryExecutionTime checked, MaxQueryCostEstimationTime 0) and the buffers Debian's
#: virtuoso.ini suggests for 4 GB of free memory; tests/servers.py keeps Debian's defaults
#: (10,000 rows, 60 s, a 400 s estimate, 10,000 buffers).
TUNED = {
    "Parameters": {"NumberOfBuffers": "340000", "MaxDirtyBuffers": "250000"},
    "SPARQL": {
        "ResultSetMaxRows": "1000000",
        "MaxQueryExecutionTime": "600",
        "MaxQueryCostEstimationTime": "0",
    },
}


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path("/tmp/c4000"))
    parser.add_argument("--reference", default="/tmp/s4000", help="embedded store, same data")
    parser.add_argument("--server", choices=("oxigraph", "virtuoso", "both"), default="both")
    parser.add_argument("--studies", type=int, help="load only the first N study graphs")
    parser.add_argument("--batch", type=int, help="studies per write")
    parser.add_argument(
        "--url", help="a server of the --server kind, built and loaded before: only asked"
    )
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--limit", type=float, default=120.0, help="a question's time limit")
    parser.add_argument("--page-limit", type=float, default=120.0)
    parser.add_argument("--out", type=Path, help="append the results to this JSON file")
    parser.add_argument(
        "--virtuoso-ini",
        choices=("default", "tuned"),
        default="default",
        help="tests/servers.py's Debian defaults, or TUNED (docs/deploy.md's advice)",
    )
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="questions not asked, by number (e.g. cq05)",
    )
    args = parser.parse_args()
    if args.url and args.server == "both":
        parser.error("--url names one server: say which kind with --server")
    queries = load_queries([REPO / "ontology" / "queries"])
    skipped = [q["name"] for q in queries if q["name"].split("-")[0] in args.skip]
    queries = [q for q in queries if q["name"] not in skipped]
    started = {"uptime_before": uptime(), "machine": machine()}
    corpus_studies = json.loads((args.corpus / "manifest.json").read_text()).get("studies")
    whole = args.studies is None or (corpus_studies and args.studies >= corpus_studies)
    ref = None
    if whole:
        print(f"reference answers: {args.reference}", flush=True)
        ref = reference_answers(args.reference, queries, args.limit)
    names = ["virtuoso", "oxigraph"] if args.server == "both" else [args.server]
    for name in names:
        run = run_server(name, args, queries, ref)
        run |= started | {
            "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "uptime_after": uptime(),
            "studies_requested": args.studies,
            "corpus_studies": corpus_studies,
            "reference": (
                {
                    "store": args.reference,
                    "studies": ref["studies"],
                    "seconds": {k: v.get("median_s") for k, v in ref["answers"].items()},
                    "rows": {k: v.get("rows") for k, v in ref["answers"].items()},
                    "errors": {k: v["error"] for k, v in ref["answers"].items() if "error" in v},
                }
                if ref
                else "none: the server holds a part of the corpus; only row counts recorded"
            ),
            "command": sys.argv[1:],
            "skipped": skipped,
            "virtuoso_ini": (TUNED if args.virtuoso_ini == "tuned" else "Debian's defaults")
            if name == "virtuoso"
            else None,
            "code": code_version(),
        }
        if args.out:
            old = json.loads(args.out.read_text()) if args.out.exists() else {"runs": []}
            old["runs"].append(run)
            args.out.write_text(json.dumps(old, indent=2) + "\n")


if __name__ == "__main__":
    main()
