"""Benchmark qikg at growing corpus sizes: build, queries, validation, import, CLI, explorer, server.

    .venv/bin/python bench/run.py --quick                 # CI smoke: 10 and 100 studies, < 2 min
    .venv/bin/python bench/run.py --json bench/results/full-2025-01-31.json
    .venv/bin/python bench/run.py --sizes 10 400 --only build queries

Every measurement runs in a child process (bench/tasks.py) so its peak memory is its own and a
measurement past its limit can be killed; times are medians over repeated runs (fewer repeats for
slow things, as the JSON says). Corpora come from bench/generate.py (25 findings per study by
default; size 0 is the bundled data alone). See docs/benchmarks.md for the method and results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PY = sys.executable
QIKG = str(Path(PY).with_name("qikg"))
TASKS = str(BENCH / "tasks.py")
sys.path.insert(0, str(ROOT))

ENGINES = (
    "qikg",
    "qikg-timeout",
    "qikg-memory",
    "qikg-memory-timeout",
    "pyoxigraph",
    "pyoxigraph-disk",
    "rdflib",
)
STEPS = (
    "build",
    "queries",
    "shacl",
    "engines",
    "import",
    "cold_start",
    "explorer",
    "serve",
    "reasoning",
)
#: The SHACL engines whose validation throughput the ``engines`` step compares (kg.validate).
SHACL_ENGINES = ("pyshacl", "pyshacl-turbo")
COLD_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?f a qikg:Finding }"
TARGETS = {
    "query_ms": 100,
    "vs_rdflib": 50,
    "vs_pyoxigraph": 1.3,
    "build_s": 60,
    "build_mb": 2048,
    "import_s": 2.0,
    "import_ratio": 2.0,
    "import_ratio_findings": 10_000,  # the ratio target holds from this store size on (issue #5)
    "cold_start_s": 1.5,
    "page_bundled_s": 1.0,
    "page_100k_s": 3.0,
    # issue #19: a 50 MB coding sheet (120,750 findings) validates in under 60 s
    "validate_sheet_findings": 120_750,
    "validate_sheet_s": 60,
}


class ChildFailed(RuntimeError):
    pass


#: A task whose processes hold more memory than this (MiB, resident) is stopped (--memory-limit).
MEMORY_LIMIT_MB = 12_000


def group_rss_mb(pgid: int) -> float:
    """Resident memory of every process in a process group, in MiB (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5 of /proc/PID/stat: the process group
                total += int(fields[21])  # field 24: resident pages
        except (OSError, IndexError, ValueError):
            continue
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


#: Task processes still running: killed when the run ends, however it ends (Ctrl+C included).
LIVE: set = set()


def kill_live() -> None:
    for child in list(LIVE):
        child.kill()


class Child:
    """A bench/tasks.py task (or another ``command`` that prints its events as they do) in a
    process group of its own, read line by line."""

    def __init__(self, task: str, args: dict, log: Path, command: list[str] | None = None) -> None:
        self.log = log
        self._err = open(log, "a")
        self._err.write(f"\n=== {task} {json.dumps(args)[:300]}\n")
        self._err.flush()
        self.proc = subprocess.Popen(
            command or [PY, TASKS, task, json.dumps(args)],
            stdout=subprocess.PIPE,
            stderr=self._err,
            text=True,
            start_new_session=True,
            cwd=str(ROOT),
        )
        LIVE.add(self)
        self.over_memory = False
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._watch_memory, daemon=True).start()

    def _watch_memory(self) -> None:
        """Kill the task if its processes together hold more than MEMORY_LIMIT_MB: a task that
        would take the machine's memory (and other people's processes with it) is a result."""
        while self.proc.poll() is None:
            if group_rss_mb(self.proc.pid) > MEMORY_LIMIT_MB:
                self.over_memory = True
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
            time.sleep(0.5)

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def next(self, timeout: float) -> tuple[str, dict]:
        """The next event; TimeoutError past ``timeout`` s, ChildFailed if the task died."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                raise TimeoutError from None
            if line is None:
                self.proc.wait()
                if self.over_memory:
                    raise ChildFailed(f"stopped: its memory passed {MEMORY_LIMIT_MB} MiB")
                raise ChildFailed(f"exit {self.proc.returncode}: {self._tail()}")
            event, _, data = line.partition(" ")
            if event.isupper():
                return event, json.loads(data or "{}")

    def _tail(self) -> str:
        self._err.flush()
        text = self.log.read_text(errors="replace").strip().splitlines()
        return " | ".join(text[-3:])[-600:]

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # the task and any workers it started
            except ProcessLookupError:
                pass
        self.proc.wait()
        self._err.close()
        LIVE.discard(self)

    def finish(self, timeout: float = 30) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
        self.kill()


def run_task(
    task: str, args: dict, log: Path, timeout: float, command: list[str] | None = None
) -> dict:
    """Run a one-result task; ``{"timeout": s}`` or ``{"error": ...}`` when it does not finish."""
    child = Child(task, args, log, command)
    try:
        event, data = child.next(timeout)
        return data
    except TimeoutError:
        return {"timeout": timeout}
    except ChildFailed as exc:
        return {"error": str(exc)}
    finally:
        child.finish()


# --- helpers ---


class Budget:
    """The run's time budget (``--budget``; --quick has one): later steps are skipped, and every
    limit is cut to what is left, so a CI smoke run ends in time whatever the product does."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - time.monotonic()

    def cap(self, limit: float) -> float:
        return max(1.0, min(limit, self.left()))

    def over(self, need: float = 3.0) -> bool:
        return self.left() < need


BUDGET = Budget(None)
SKIPPED_BUDGET = {"skipped": "the run's time budget (--budget) was used up"}


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def machine() -> dict:
    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) // 1024
    versions = {}
    for dist in (
        "rdflib",
        "pyoxigraph",
        "oxrdflib",
        "pyshacl",
        "streamlit",
        "fastapi",
        "uvicorn",
        "httpx",
        "qikg",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_mib": mem,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": versions,
        "load_average_at_start": list(os.getloadavg()),
    }


def load_queries(dirs: list[Path]) -> list[dict]:
    """Every ``*.rq`` in the folders, with its ``# question`` comment."""
    out = []
    for folder in dirs:
        for file in sorted(folder.glob("*.rq")):
            text = file.read_text(encoding="utf-8")
            question = " ".join(
                line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")
            )
            out.append(
                {
                    "name": file.stem,
                    "file": str(file.relative_to(ROOT)),
                    "text": text,
                    "question": question,
                }
            )
    return out


def query_dirs(explicit: list[str] | None) -> list[Path]:
    if explicit:
        return [Path(d).resolve() for d in explicit]
    cq = ROOT / "ontology" / "queries"
    dirs = [cq] if cq.is_dir() and any(cq.glob("*.rq")) else []
    return dirs + [BENCH / "queries"]


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- measurements ------------------------------------------------------------------------------------


def measure_build(corpus: Path, store: Path, work: Path, log: Path, args) -> dict:
    """Build a store (the product path) up to ``args.repeats`` times; the first one is kept."""
    runs = []
    for i in range(args.repeats):
        target = store if i == 0 else work / f"build-{i}"
        shutil.rmtree(target, ignore_errors=True)
        if i and BUDGET.over(30):
            break
        result = run_task(
            "build",
            {"store": str(target), "corpus": str(corpus)},
            log,
            BUDGET.cap(args.build_limit) if i else args.build_limit,
        )
        runs.append(result)
        if target != store:
            shutil.rmtree(target, ignore_errors=True)
        if "total" not in result or result["total"] > args.slow:
            break  # failed, or so slow that one more run would cost too much
    ok = [r for r in runs if "total" in r]
    out: dict = {
        "path": "kg.build.build(open_store(dir)) + store.replace_graphs(study graphs)",
        "runs": runs,
    }
    if ok:
        out.update(
            median_total=median([r["total"] for r in ok]),
            median_load_corpus=median([r["load_corpus"] for r in ok]),
            median_build_bundled=median([r["build_bundled"] for r in ok]),
            median_peak_rss_mb=median([r["peak_rss_mb"] for r in ok]),
            triples=ok[0]["triples"],
            graphs=ok[0]["graphs"],
        )
    alternatives = {}
    for mode in args.build_alternatives:
        alt = []
        for _ in range(args.repeats):
            if BUDGET.over(30):
                break
            target = work / f"build-{mode}"
            shutil.rmtree(target, ignore_errors=True)
            alt.append(
                run_task(
                    "build",
                    {"store": str(target), "corpus": str(corpus), "mode": mode},
                    log,
                    BUDGET.cap(args.build_limit),
                )
            )
            shutil.rmtree(target, ignore_errors=True)
            if "total" not in alt[-1] or alt[-1]["total"] > args.slow / 6:
                break
        done = [r for r in alt if "total" in r]
        alternatives[mode] = {
            "runs": alt,
            "median_total": median([r["total"] for r in done]),
            "median_load_corpus": median([r["load_corpus"] for r in done]),
            "median_peak_rss_mb": median([r["peak_rss_mb"] for r in done]),
        }
    if alternatives:
        out["alternatives"] = alternatives
    if not ok:
        # The product path did not finish in its budget: prepare the store another way so the
        # other measurements can run, and say so.
        shutil.rmtree(store, ignore_errors=True)
        fallback = run_task(
            "build",
            {"store": str(store), "corpus": str(corpus), "mode": "bulk"},
            log,
            args.build_limit,
        )
        out["store_prepared_with"] = "pyoxigraph bulk_load (the product path did not finish)"
        out["bulk"] = fallback
        if "triples" in fallback:
            out["triples"], out["graphs"] = fallback["triples"], fallback["graphs"]
    return out


def measure_queries(
    engine: str, queries: list[dict], base: dict, log: Path, args, load_limit: float
) -> dict:
    """Each query on one engine; a query past ``args.query_limit`` is stopped (its process
    killed) and reported, and the rest go on in a new process."""
    pending = list(queries)
    out: dict = {"queries": {}}
    while pending:
        if BUDGET.over():
            for q in pending:
                out["queries"][q["name"]] = SKIPPED_BUDGET
            break
        child = Child(
            "queries",
            {
                **base,
                "engine": engine,
                "queries": pending,
                "repeats": args.query_repeats,
                "slow": args.slow_query,
                "limit": args.query_limit,
            },
            log,
        )
        try:
            try:
                _, loaded = child.next(load_limit)
            except (TimeoutError, ChildFailed) as exc:
                why = (
                    {"timeout": load_limit}
                    if isinstance(exc, TimeoutError)
                    else {"error": str(exc)}
                )
                out["load"] = why
                for q in pending:
                    out["queries"][q["name"]] = {"skipped": "the engine did not load", **why}
                break
            out.setdefault("load", loaded)
            while pending:
                name = pending[0]["name"]
                if BUDGET.over():
                    break
                child.next(60)  # START
                try:
                    event, data = child.next(BUDGET.cap(args.query_limit) + 5)
                except TimeoutError:
                    out["queries"][name] = {"timeout": args.query_limit}
                    pending.pop(0)
                    break  # stuck in the query: kill the process, go on in a new one
                if event == "FIRST":
                    limit = data["seconds"] * (args.query_repeats + 1) * 3 + 60
                    event, data = child.next(max(limit, BUDGET.cap(limit)))
                data.pop("name", None)
                out["queries"][name] = data
                pending.pop(0)
            if not pending:
                event, data = child.next(60)
                out["peak_rss_mb"] = data.get("peak_rss_mb")
            elif BUDGET.over():
                continue  # the loop's head marks the rest as skipped
        except (TimeoutError, ChildFailed) as exc:
            if pending:
                out["queries"][pending.pop(0)["name"]] = (
                    {"timeout": args.query_limit}
                    if isinstance(exc, TimeoutError)
                    else {"error": str(exc)}
                )
        finally:
            child.kill()
    return out


def measure_engines(findings: int, store: Path, log: Path, args) -> dict:
    """Validation throughput per SHACL engine, side by side (bench/validate_engines.py in a child
    process): findings per second of ``kg.validate.validate`` over a sheet's batches and of
    ``qikg validate``'s whole check of the sheet against this size's store, and whether each
    report is pyshacl's."""
    command = [
        PY,
        str(BENCH / "validate_engines.py"),
        "--findings",
        str(findings),
        "--repeats",
        str(args.engine_repeats),
        "--engines",
        *SHACL_ENGINES,
        "--store",
        str(store),
        "--emit",
    ]
    limit = BUDGET.cap(args.engine_limit)
    return run_task("validate_engines", {"findings": findings}, log, limit, command)


def measure_import(store: Path, work: Path, log: Path, args, size_label: str) -> dict:
    """import_path of fresh 25-finding studies into the corpus store vs into an empty built store."""
    from generate import new_study_sheet

    out: dict = {}
    for where in ("empty", "corpus"):
        target = work / f"import-{where}"
        shutil.rmtree(target, ignore_errors=True)
        if where == "corpus":
            copied = run_task("copy_store", {"src": str(store), "dest": str(target)}, log, 1800)
            if "error" in copied or "timeout" in copied:
                out[where] = copied
                continue
        else:
            built = run_task("build", {"store": str(target), "corpus": ""}, log, 300)
            if "error" in built:
                out[where] = built
                continue
        sheets = []
        for n in range(1, args.import_repeats + 1):
            sheet = work / f"new-study-{n}"
            if not sheet.exists():
                new_study_sheet(sheet, n, seed=args.seed)
            sheets.append(str(sheet))
        profile = ""
        if args.profile and where == "corpus":
            profile = str(args.profile_dir / f"import-into-{size_label}.txt")
        out[where] = run_task(
            "import",
            {"store": str(target), "sheets": sheets, "profile": profile},
            log,
            args.import_limit,
        )
        shutil.rmtree(target, ignore_errors=True)
    if "median" in out.get("empty", {}) and "median" in out.get("corpus", {}):
        out["ratio"] = out["corpus"]["median"] / out["empty"]["median"]
    return out


def measure_cold_start(store: Path, args) -> dict:
    """``qikg --store DIR query Q --format csv``, process start to result (1 warm-up + N)."""
    cmd = [QIKG, "--store", str(store), "query", COLD_QUERY, "--format", "csv"]
    times = []
    output = ""
    for i in range(args.cold_repeats + 1):
        start = time.perf_counter()
        try:
            done = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=BUDGET.cap(args.cold_limit),
                cwd=str(ROOT),
            )
        except subprocess.TimeoutExpired:
            return {"timeout": args.cold_limit, "command": " ".join(cmd[1:])}
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            return {"error": done.stderr.strip()[-500:], "command": " ".join(cmd[1:])}
        output = done.stdout.strip().replace("\r", "").replace("\n", " ")
        if i:
            times.append(elapsed)
    return {
        "median": median(times),
        "min": min(times),
        "max": max(times),
        "runs": len(times),
        "output": output,
        "query": COLD_QUERY,
    }


def measure_explorer(store: Path, log: Path, args) -> dict:
    """Each page's render time; a page past ``--page-limit`` is stopped and the rest go on."""
    if not (ROOT / "kg" / "explorer").is_dir():
        return {"skipped": "the explorer (kg/explorer) is not there yet"}
    from tasks import explorer_pages

    pending = [name for name, _ in explorer_pages()]
    pages: dict = {}
    ended = False
    while pending and not BUDGET.over():
        child = Child(
            "explorer",
            {
                "store": str(store),
                "repeats": args.page_repeats,
                "timeout": args.page_limit,
                "only": pending,
            },
            log,
        )
        try:
            while pending:
                event, data = child.next(BUDGET.cap(120))  # START (imports included)
                if event == "END":
                    pending, ended = [], True
                    break
                name = data["name"]
                try:
                    event, data = child.next(BUDGET.cap(args.page_limit * (args.page_repeats + 1)))
                except TimeoutError:
                    pages[name] = {"timeout": args.page_limit}
                    pending.remove(name)
                    break
                data.pop("name", None)
                pages[name] = data
                pending.remove(name)
            # then each page again once the store's copy is in memory (kg.store.memory)
            while not pending and not ended and not BUDGET.over():
                event, data = child.next(BUDGET.cap(args.page_limit * (args.page_repeats + 1)))
                if event != "MEMORY":
                    break
                pages[data.pop("name")]["memory"] = data
        except (TimeoutError, ChildFailed) as exc:
            if pending:
                pages[pending.pop(0)] = (
                    {"timeout": args.page_limit}
                    if isinstance(exc, TimeoutError)
                    else {"error": str(exc)}
                )
        finally:
            child.kill()
    for name in pending:
        pages[name] = SKIPPED_BUDGET
    return {
        "pages": pages,
        "method": "streamlit.testing.v1.AppTest over app.py, QIKG_STORE set; "
        "cold = first run after clearing st.cache_data/st.cache_resource, warm = median rerun",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure_serve(store: Path, queries: list[dict], log: Path, args) -> dict:
    """``qikg serve`` with 8 concurrent httpx clients sending one typical query."""
    if not (ROOT / "kg" / "serve.py").exists():
        return {"skipped": "qikg serve (kg/serve.py) is not there yet"}
    import httpx

    query = next((q for q in queries if q["name"] == args.serve_query), queries[0])
    port = free_port()
    with open(log, "a") as err:
        proc = subprocess.Popen(
            [QIKG, "--store", str(store), "serve", "--port", str(port)],
            stdout=err,
            stderr=err,
            start_new_session=True,
            cwd=str(ROOT),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + BUDGET.cap(args.serve_start_limit)
        started = time.perf_counter()
        while True:
            if proc.poll() is not None:
                return {"error": f"qikg serve exited with {proc.returncode} (see the log)"}
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                return {"timeout": args.serve_start_limit, "what": "server start"}
            time.sleep(0.1)
        ready = time.perf_counter() - started
        # A store read from memory answers from disk until its workers' copies are loaded:
        # measure once they are (each ASK tells the server which worker answered from where).
        ask = f"{base}/sparql?" + urllib.parse.urlencode({"query": "ASK {}"})
        while (memory := httpx.get(f"{base}/health", timeout=30).json().get("memory")) and (
            memory["workers"] < memory["of"] or not memory["copy"]
        ):
            if time.monotonic() > deadline:
                return {"timeout": args.serve_start_limit, "what": "copies in memory"}
            httpx.get(ask, timeout=120)
            time.sleep(0.5)
        loaded = time.perf_counter() - started
        url = f"{base}/sparql?" + urllib.parse.urlencode({"query": query["text"]})
        headers = {"Accept": "application/sparql-results+json"}
        with httpx.Client(timeout=120) as client:  # warm-up
            first = client.get(url, headers=headers)
            if first.status_code != 200:
                return {"error": f"HTTP {first.status_code}: {first.text[:300]}"}
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()
        per_client = args.serve_requests // args.serve_clients
        stop_at = time.monotonic() + BUDGET.cap(args.serve_seconds)

        def client_loop(n: int) -> None:
            # each client from its own loopback address, as distinct users are: the endpoint
            # limits how many queries one address runs at once (qikg serve --per-client)
            transport = httpx.HTTPTransport(local_address=f"127.0.0.{10 + n}")
            with httpx.Client(timeout=120, transport=transport) as client:
                for _ in range(per_client):
                    if time.monotonic() > stop_at:
                        break
                    start = time.perf_counter()
                    try:
                        response = client.get(url, headers=headers)
                        ok = response.status_code == 200
                    except httpx.HTTPError as exc:
                        ok, response = False, exc
                    elapsed = time.perf_counter() - start
                    with lock:
                        (latencies if ok else errors).append(
                            elapsed if ok else str(getattr(response, "status_code", response))
                        )

        threads = [
            threading.Thread(target=client_loop, args=(n,)) for n in range(args.serve_clients)
        ]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - start
        latencies.sort()

        def pct(p: float) -> float | None:
            if not latencies:
                return None
            return latencies[min(len(latencies) - 1, int(round(p / 100 * (len(latencies) - 1))))]

        return {
            "query": query["name"],
            "clients": args.serve_clients,
            "requests": len(latencies),
            "errors": len(errors),
            "error_samples": errors[:3],
            "wall": wall,
            "throughput_rps": len(latencies) / wall if wall else None,
            "p50": pct(50),
            "p99": pct(99),
            "ready_s": ready,
            "in_memory_s": loaded,
        }
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def measure_reasoning(store: Path, work: Path, log: Path, args) -> dict:
    """``materialise(store, engine=...)`` per engine, each on a fresh copy of the store."""
    try:
        from kg.reasoning import ENGINES as engines
    except ImportError:
        if not (ROOT / "kg" / "reason.py").exists():
            return {"skipped": "kg.reasoning.materialise (or kg/reason.py) is not there yet"}
        engines = ("default",)
    out = {}
    for engine in engines:
        if BUDGET.over():
            out[engine] = SKIPPED_BUDGET
            continue
        target = work / "reason"
        shutil.rmtree(target, ignore_errors=True)
        copied = run_task("copy_store", {"src": str(store), "dest": str(target)}, log, 1800)
        if "error" in copied:
            return {"error": copied["error"]}
        out[engine] = run_task(
            "reason", {"store": str(target), "engine": engine}, log, BUDGET.cap(args.reason_limit)
        )
        shutil.rmtree(target, ignore_errors=True)
    return out


# --- one size -------------------------------------------------------------------------------------


def run_size(studies: int, args, queries: list[dict], work: Path) -> dict:
    from generate import cached

    label = "bundled" if studies == 0 else f"{studies}x{args.findings_per_study}"
    size_dir = work / label
    size_dir.mkdir(parents=True, exist_ok=True)
    log = size_dir / "log.txt"
    corpus_dir = args.corpus_cache / f"S{studies}-F{args.findings_per_study}-seed{args.seed}"
    say(f"[{label}] generating corpus…")
    manifest = cached(studies, args.findings_per_study, args.seed, corpus_dir)
    corpus = corpus_dir / "corpus.nq"
    store = size_dir / "store"
    result: dict = {
        "label": label,
        "studies": studies,
        "corpus": manifest,
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "product_files": product_files(),
    }
    steps = [s for s in STEPS if s in args.only]
    if args.quick and studies != args.sizes[0]:
        steps = [s for s in steps if s in ("build", "queries")]  # the smoke at the larger size

    say(f"[{label}] build…")
    result["build"] = measure_build(corpus, store, size_dir, log, args)
    result["findings"] = manifest["findings"] + args.bundled_findings  # bundled ones are built in
    result["triples"] = result["build"].get("triples")
    b = result["build"]
    say(
        f"[{label}]   {b.get('median_total', b['runs'][-1])} s, "
        f"{b.get('median_peak_rss_mb')} MiB, {result['triples']} triples"
    )

    if "queries" in steps:
        union_nq, union_nt = size_dir / "union.nq", size_dir / "union.nt"
        run_task(
            "dump",
            {"store": str(store), "out_nq": str(union_nq), "out_nt": str(union_nt)},
            log,
            1800,
        )
        base = {"store": str(store), "union_nq": str(union_nq), "union_nt": str(union_nt)}
        result["queries"] = {}
        for engine in args.engines:
            if BUDGET.over():
                result["queries"][engine] = SKIPPED_BUDGET
                continue
            if engine == "rdflib" and result["findings"] > args.rdflib_max_findings:
                result["queries"][engine] = {
                    "skipped": f"over --rdflib-max-findings {args.rdflib_max_findings}"
                }
                continue
            say(f"[{label}] queries on {engine}…")
            load_limit = args.rdflib_load_limit if engine == "rdflib" else 1800
            result["queries"][engine] = measure_queries(
                engine, queries, base, log, args, load_limit
            )
        union_nq.unlink(missing_ok=True)
        union_nt.unlink(missing_ok=True)

    def step(name: str, what: str, measure) -> None:
        if name not in steps:
            return
        if BUDGET.over():
            result[name] = SKIPPED_BUDGET
            return
        say(f"[{label}] {what}…")
        result[name] = measure()

    def shacl() -> dict:
        if studies > args.shacl_max_studies:
            return {"skipped": f"over --shacl-max-studies {args.shacl_max_studies}"}
        return run_task("shacl", {"corpus": str(corpus)}, log, BUDGET.cap(args.shacl_limit))

    def engines() -> dict:
        findings = studies * args.findings_per_study
        if not findings:
            return {"skipped": "no synthetic findings at this size"}
        if findings > args.engine_max_findings:
            return {"skipped": f"over --engine-max-findings {args.engine_max_findings}"}
        return measure_engines(findings, store, log, args)

    step("shacl", "SHACL over the whole corpus", shacl)
    step("engines", "validation throughput per SHACL engine", engines)
    step("import", "incremental import", lambda: measure_import(store, size_dir, log, args, label))
    step("cold_start", "qikg query cold start", lambda: measure_cold_start(store, args))
    step("explorer", "explorer pages", lambda: measure_explorer(store, log, args))
    step("serve", "qikg serve", lambda: measure_serve(store, queries, log, args))
    if label in args.reason_sizes:
        step("reasoning", "reasoning", lambda: measure_reasoning(store, size_dir, log, args))
    if args.keep_stores is None:
        shutil.rmtree(store, ignore_errors=True)
    if log.exists():
        result["log_tail"] = log.read_text(errors="replace").splitlines()[-5:]
    return result


# --- report ------------------------------------------------------------------------------------------


def fmt_s(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.01:
        return f"{value * 1000:.0f} ms"
    return f"{value * 1000:.1f} ms"


def cell(q: dict | None) -> str:
    if not q:
        return "–"
    if "timeout" in q:
        return f"> {q['timeout']:g} s"
    if "error" in q:
        return "error"
    if "skipped" in q:
        return "skipped"
    return fmt_s(q.get("median"))


def summary_table(results: dict) -> str:
    """The plain-text table bench/run.py prints at the end."""
    lines = []
    for size in results["sizes"]:
        b = size.get("build", {})
        lines.append(
            f"\n== {size['label']}: {size['findings']} findings, {size.get('triples')} triples; "
            f"build {fmt_s(b.get('median_total'))} (peak {b.get('median_peak_rss_mb')} MiB)"
        )
        alternatives = b.get("alternatives", {})
        if alternatives:
            lines.append(
                "  other load paths: "
                + ", ".join(
                    f"{mode} {fmt_s(a.get('median_total'))} (peak {a.get('median_peak_rss_mb')} MiB)"
                    for mode, a in alternatives.items()
                )
            )
        qs = size.get("queries", {})
        if qs:
            head = (
                f"{'query':44} "
                + " ".join(f"{e:>14}" for e in qs)
                + f" {'rdflib/qikg':>12} {'qikg/pyox':>10}"
            )
            lines.append(head)
            for q in results["queries"]:
                cells = [
                    qs[e].get("queries", {}).get(q["name"]) if "queries" in qs[e] else qs[e]
                    for e in qs
                ]
                ratios = query_ratios(qs, q["name"])
                digests = {c.get("digest") for c in cells if c and c.get("digest")}
                lines.append(
                    f"{q['name'][:44]:44} "
                    + " ".join(f"{cell(c):>14}" for c in cells)
                    + f" {ratios['vs_rdflib']:>12} {ratios['vs_pyoxigraph']:>10}"
                    + ("  (answers differ)" if len(digests) > 1 else "")
                )
        if "shacl" in size:
            s = size["shacl"]
            lines.append(
                f"SHACL whole corpus: {fmt_s(s.get('validate')) if 'validate' in s else cell(s)}"
                + (f" ({s.get('summary')})" if "summary" in s else "")
            )
        if "engines" in size:
            lines.append(f"validation throughput: {engine_line(size['engines'])}")
        if "import" in size:
            i = size["import"]
            lines.append(
                f"import 25 findings: into corpus {cell(i.get('corpus'))}, into empty "
                f"{cell(i.get('empty'))}, ratio {i.get('ratio', float('nan')):.2f}"
            )
        if "cold_start" in size:
            lines.append(f"qikg query cold start: {cell(size['cold_start'])}")
        if "explorer" in size:
            e = size["explorer"]
            if "pages" in e:
                lines.append(
                    "explorer pages (cold/warm): "
                    + ", ".join(
                        f"{n} {fmt_s(p.get('cold'))}/{fmt_s(p.get('warm'))}"
                        + (" [!]" if p.get("problems") else "")
                        for n, p in e["pages"].items()
                    )
                )
            else:
                lines.append(f"explorer: {e.get('skipped') or e}")
        if "serve" in size:
            s = size["serve"]
            if "throughput_rps" in s:
                lines.append(
                    f"qikg serve ({s['clients']} clients, {s['query']}): "
                    f"{s['throughput_rps']:.1f} req/s, p50 {fmt_s(s['p50'])}, "
                    f"p99 {fmt_s(s['p99'])}, errors {s['errors']}"
                )
            else:
                lines.append(f"qikg serve: {s}")
        if "reasoning" in size:
            r = size["reasoning"]
            lines.append(
                "reasoning (materialise): "
                + (
                    ", ".join(
                        f"{engine} {fmt_s(v.get('seconds')) if 'seconds' in v else cell(v)}"
                        for engine, v in r.items()
                        if isinstance(v, dict)
                    )
                    or str(r)
                )
            )
    return "\n".join(lines)


def engine_line(e: dict) -> str:
    """Findings per second of each SHACL engine: ``validate``, then ``qikg validate`` whole."""
    if "engines" not in e:
        return cell(e)
    parts = []
    for name, r in e["engines"].items():
        if r.get("validate_per_s") is None:
            parts.append(f"{name} {r.get('error') or 'error'}")
            continue
        check = f", qikg validate {r['check_per_s']:,.0f}/s" if r.get("check_per_s") else ""
        same = "" if r.get("same") is not False and r.get("check_same") is not False else " (!)"
        parts.append(f"{name} validate {r['validate_per_s']:,.0f}/s{check}{same}")
    return f"{e['findings']:,} findings: " + "; ".join(parts)


def query_ratios(qs: dict, name: str) -> dict:
    def med(engine: str) -> float | None:
        q = qs.get(engine, {}).get("queries", {}).get(name, {})
        return q.get("median")

    def limit(engine: str) -> float | None:
        return qs.get(engine, {}).get("queries", {}).get(name, {}).get("timeout")

    qikg, ox, rdf = med("qikg"), med("pyoxigraph"), med("rdflib")
    out = {"vs_rdflib": "-", "vs_pyoxigraph": "-"}
    if qikg and rdf:
        out["vs_rdflib"] = f"{rdf / qikg:.2g}x" if rdf / qikg < 10 else f"{rdf / qikg:.0f}x"
    elif qikg and limit("rdflib"):
        out["vs_rdflib"] = f"> {limit('rdflib') / qikg:.0f}x"
    if qikg and ox:
        out["vs_pyoxigraph"] = f"{qikg / ox:.2f}"
    elif limit("qikg") and ox:
        out["vs_pyoxigraph"] = f"> {limit('qikg') / ox:.0f}"
    return out


def product_files() -> dict[str, str]:
    """When the product files that decide the numbers last changed (the tree moves while a long
    run goes on; this says which version each size measured)."""
    files = [
        *sorted((ROOT / "kg" / "store").glob("*.py")),
        *(
            ROOT / "kg" / name
            for name in (
                "importer.py",
                "vocabulary.py",
                "stats.py",
                "build.py",
                "validate.py",
                "serve.py",
                "cli/__init__.py",
                "explorer/ui.py",
            )
        ),
    ]
    return {
        str(f.relative_to(ROOT)): dt.datetime.fromtimestamp(f.stat().st_mtime).isoformat(
            timespec="seconds"
        )
        for f in files
        if f.exists()
    }


def bundled_findings() -> int:
    from kg.build import bundled_studies
    from kg.sheets.read import read_tables

    return sum(len(read_tables(p)["findings"].rows) for p in bundled_studies())


# --- main -------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="CI smoke: 10 and 100 studies, few repeats")
    p.add_argument("--json", type=Path, help="write every number here")
    p.add_argument(
        "--sizes", type=int, nargs="+", help="numbers of studies (0 = bundled data only)"
    )
    p.add_argument("--findings-per-study", type=int, default=25)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--only", nargs="+", choices=STEPS, default=list(STEPS))
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    p.add_argument(
        "--queries",
        nargs="+",
        help="folders of .rq files (default: ontology/queries "
        "when it holds any, plus bench/queries)",
    )
    p.add_argument("--work", type=Path, help="working folder (default: a temporary one, removed)")
    p.add_argument("--corpus-cache", type=Path, help="keep generated corpora here for the next run")
    p.add_argument("--keep-stores", action="store_true", default=None)
    p.add_argument("--repeats", type=int, default=5, help="build runs per size (fewer when slow)")
    p.add_argument("--query-repeats", type=int, default=5)
    p.add_argument("--import-repeats", type=int, default=5)
    p.add_argument("--cold-repeats", type=int, default=5)
    p.add_argument("--page-repeats", type=int, default=3)
    p.add_argument("--slow", type=float, default=60.0, help="a build slower than this runs once")
    p.add_argument(
        "--slow-query",
        type=float,
        default=5.0,
        help="a query whose first run is slower than this is not repeated",
    )
    p.add_argument("--query-limit", type=float, default=30.0, help="stop a query after this (s)")
    p.add_argument("--build-limit", type=float, default=3600.0)
    p.add_argument(
        "--build-alternatives",
        nargs="*",
        default=["load", "bulk"],
        choices=["load", "bulk"],
        help="other ways to load the corpus, timed beside the product path",
    )
    p.add_argument("--rdflib-load-limit", type=float, default=1200.0)
    p.add_argument("--rdflib-max-findings", type=int, default=110_000)
    p.add_argument("--shacl-max-studies", type=int, default=4000)
    p.add_argument("--shacl-limit", type=float, default=1800.0)
    p.add_argument(
        "--engine-max-findings",
        type=int,
        default=25_000,
        help="largest size whose validation throughput per engine is measured (pyshacl takes "
        "about 4 ms a finding, each repeat)",
    )
    p.add_argument("--engine-repeats", type=int, default=3)
    p.add_argument("--engine-limit", type=float, default=1800.0)
    p.add_argument("--import-limit", type=float, default=900.0)
    p.add_argument("--cold-limit", type=float, default=300.0)
    p.add_argument("--page-limit", type=float, default=120.0)
    p.add_argument("--serve-clients", type=int, default=8)
    p.add_argument("--serve-requests", type=int, default=400)
    p.add_argument("--serve-query", default="cq01-studies")
    p.add_argument(
        "--serve-seconds",
        type=float,
        default=90.0,
        help="clients stop sending after this many seconds",
    )
    p.add_argument("--serve-start-limit", type=float, default=300.0)
    p.add_argument("--reason-limit", type=float, default=600.0)
    p.add_argument(
        "--memory-limit",
        type=float,
        default=12_000,
        help="stop a task whose processes hold more than this many MiB",
    )
    p.add_argument("--profile", action="store_true", help="pyinstrument profiles of the import")
    p.add_argument(
        "--budget",
        type=float,
        help="stop starting new steps after this many seconds (--quick: 105)",
    )
    args = p.parse_args(argv)
    if args.quick:
        # A smoke test, not a measurement: every step at the smallest size, build and queries at
        # the next one, few repeats, short limits, and a time budget that ends the run in time.
        args.sizes = args.sizes or [10, 100]
        args.budget = 105.0 if args.budget is None else args.budget
        args.repeats = 1
        args.build_alternatives = []
        args.query_repeats = min(args.query_repeats, 2)
        args.slow_query = min(args.slow_query, 0.5)
        args.import_repeats = min(args.import_repeats, 1)
        args.engine_repeats = min(args.engine_repeats, 1)
        args.cold_repeats = min(args.cold_repeats, 2)
        args.page_repeats = min(args.page_repeats, 1)
        args.query_limit = min(args.query_limit, 3.0)
        args.serve_requests = min(args.serve_requests, 40)
        if args.engines == list(ENGINES):
            args.engines = ["qikg", "pyoxigraph", "pyoxigraph-disk", "rdflib"]
        args.only = [s for s in args.only if s != "reasoning"]
    args.sizes = args.sizes or [0, 10, 100, 400, 1000, 4000]
    args.reason_sizes = {"bundled", "400x25", "4000x25"}
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    global BUDGET, MEMORY_LIMIT_MB
    BUDGET = Budget(args.budget)
    MEMORY_LIMIT_MB = args.memory_limit
    sys.path.insert(0, str(BENCH))
    started = time.perf_counter()
    temporary = args.work is None
    work = Path(tempfile.mkdtemp(prefix="qikg-bench-")) if temporary else args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    args.corpus_cache = (args.corpus_cache or work / "corpora").resolve()
    args.profile_dir = BENCH / "results" / "profiles"
    if args.profile:
        args.profile_dir.mkdir(parents=True, exist_ok=True)
    queries = load_queries(query_dirs(args.queries))
    args.bundled_findings = bundled_findings()
    results = {
        "started": dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(
            [Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]
        ),
        "machine": machine(),
        "targets": TARGETS,
        "queries": [{k: q[k] for k in ("name", "file", "question")} for q in queries],
        "sizes": [],
    }
    try:
        for studies in args.sizes:
            results["sizes"].append(run_size(studies, args, queries, work))
            results["seconds"] = time.perf_counter() - started
            if args.json:
                args.json.parent.mkdir(parents=True, exist_ok=True)
                args.json.write_text(json.dumps(results, indent=1) + "\n")
    finally:
        kill_live()
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    results["seconds"] = time.perf_counter() - started
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    print(summary_table(results))
    print(
        f"\n(total {results['seconds']:.0f} s; medians; machine: {results['machine']['cores']} "
        f"cores, {results['machine']['cpu']}, load average at start "
        f"{results['machine']['load_average_at_start'][0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
