"""The measurements of bench/run.py, each run in a child process of its own.

    .venv/bin/python bench/tasks.py TASK '{"json": "arguments"}'

A child process per measurement keeps the numbers honest: its peak memory is its own
(``resource.getrusage(RUSAGE_SELF).ru_maxrss`` at the end), imports and caches do not leak from
one measurement into the next, and a measurement that runs past its limit can be killed by the
parent without harming anything else. A task prints its progress as lines ``EVENT {json}``; the
parent (bench/run.py) reads them as they come.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import resource
import shutil
import signal
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
for _path in (str(ROOT), str(BENCH)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

HIDDEN = ("https://w3id.org/qikg/graph/shapes", "https://w3id.org/qikg/graph/meta")
SHARED = "https://w3id.org/qikg/graph/shared"


def emit(event: str, **data: object) -> None:
    """One progress line for the parent."""
    sys.stdout.write(f"{event} {json.dumps(data)}\n")
    sys.stdout.flush()


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MiB (Linux reports KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def read_corpus_graphs(path: str) -> dict[str, str]:
    """The generated N-Quads as ``{graph IRI: N-Triples text}``, the input of replace_graphs.

    Split as text (generate.py writes one quad per line, every quad in a named graph): holding
    millions of parsed terms would add gigabytes to the peak memory the build step reports.
    """
    by_graph: dict[str, list[str]] = collections.defaultdict(list)
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            quad = line.rstrip().removesuffix(".").rstrip()
            if quad:
                triple, graph = quad.rsplit(" ", 1)
                by_graph[graph.strip("<>")].append(triple + " .\n")
    return {g: "".join(triples) for g, triples in by_graph.items()}


# --- build ---------------------------------------------------------------------------------------


def task_build(store: str, corpus: str, mode: str = "product") -> None:
    """Build a store and load a corpus into it; ``mode`` says how the corpus goes in.

    ``product``: ``kg.build.build(open_store(dir))`` (ontology, shapes, bundled studies), then
    ``store.replace_graphs({study graph: N-Triples})`` with every study of the corpus: the one
    transactional write path the product has. ``load``: the same build, then one transactional
    ``pyoxigraph.Store.load`` of the corpus file (an alternative the product could use).
    ``bulk``: the same build, then pyoxigraph's non-transactional ``bulk_load`` of the corpus
    file (the floor; also how a store is prepared when the product path does not finish). With no
    ``corpus``, only the build.
    """
    t0 = time.perf_counter()
    from kg.build import build
    from kg.store import open_store

    t_import = time.perf_counter()
    handle = open_store(store)
    build(handle)
    t_build = time.perf_counter()
    if not corpus:
        t_read = time.perf_counter()
    elif mode == "product":
        graphs = read_corpus_graphs(corpus)
        t_read = time.perf_counter()
        shared = {g: graphs.pop(g) for g in list(graphs) if g == SHARED}
        if shared:  # added to the bundled coders and programmes, as an import adds them
            handle.replace_graphs(graphs, extend=shared)
        else:
            handle.replace_graphs(graphs)
        del graphs
    else:
        import pyoxigraph as ox

        from kg.store.views import database_dir

        handle.close()
        t_read = time.perf_counter()
        folder = database_dir(Path(store))
        raw = ox.Store(str(folder))
        if mode == "load":  # one transaction, like the product's, but no SPARQL text
            raw.load(path=corpus, format=ox.RdfFormat.N_QUADS)
        else:
            raw.bulk_load(path=corpus, format=ox.RdfFormat.N_QUADS)
        raw.flush()
        del raw
        # A new token tells readers to reopen; the folder name keeps pointing at this database.
        (Path(store) / "generation").write_text(f"{time.time_ns()}-bulk {folder.name}")
    t_load = time.perf_counter()
    handle = open_store(store)
    sizes = handle.graph_sizes()
    handle.close()
    emit(
        "DONE",
        mode=mode,
        imports=t_import - t0,
        build_bundled=t_build - t_import,
        read_corpus=t_read - t_build,
        load_corpus=t_load - t_read,
        total=t_load - t_import,
        peak_rss_mb=peak_rss_mb(),
        triples=sum(sizes.values()),
        graphs=len(sizes),
    )


def task_dump(store: str, out_nq: str, out_nt: str) -> None:
    """The graphs a qikg query reads by default (all but shapes and meta), as N-Quads, and their
    union as N-Triples: the same data, for the baselines."""
    import pyoxigraph as ox

    from kg.store.views import database_dir

    st = ox.Store.read_only(str(database_dir(Path(store))))
    quads = [q for q in st if q.graph_name.value not in HIDDEN]
    ox.serialize(quads, format=ox.RdfFormat.N_QUADS, output=out_nq)
    ox.serialize({q.triple for q in quads}, format=ox.RdfFormat.N_TRIPLES, output=out_nt)
    emit("DONE", quads=len(quads))


# --- queries -------------------------------------------------------------------------------------


def _digest(rows: list[tuple]) -> str:
    """A short fingerprint of a result's rows (lexical values, order ignored), to check that
    every engine gives the same answer (the order of GROUP_CONCAT parts ignored)."""

    def norm(value: object) -> str:
        # GROUP_CONCAT's order is unspecified: compare its parts as a set.
        return "" if value is None else ", ".join(sorted(str(value).split(", ")))

    text = "\n".join(sorted("\t".join(norm(v) for v in row) for row in rows))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _timed_runs(run, repeats: int, slow: float) -> dict:
    """Run once (the first run, which also collects the rows for the fingerprint), then
    ``repeats`` more times unless the first was ``slow`` (fewer when it was slowish)."""
    start = time.perf_counter()
    rows = run(True)
    first = time.perf_counter() - start
    emit("FIRST", seconds=first)
    count, digest = len(rows), _digest(rows)
    times = [first]
    if first < slow:
        times = []
        n = repeats if first < slow / 10 else max(1, repeats // 2)
        for _ in range(n):
            start = time.perf_counter()
            again = run(False)
            times.append(time.perf_counter() - start)
            if again != count:
                count = f"{count}/{again}"
    return {
        "median": statistics.median(times),
        "runs": len(times),
        "first": first,
        "min": min(times),
        "max": max(times),
        "rows": count,
        "digest": digest,
    }


def wait_for_copies(handle) -> None:
    """Until the store's copies in memory are loaded, in this process and in each of its query
    workers if it has started them (they answer from disk meanwhile, and loading takes the CPU a
    measurement needs): what ``Store.memory_status`` says, asked again after each ASK."""
    while True:
        status = handle.memory_status()
        workers = handle._pool is None or status["workers"] == status["of"]
        if status["copy"] == 1 and workers:
            return
        if handle._pool is not None:
            handle.query("ASK {}", timeout=600)
        time.sleep(0.2)


def task_queries(
    engine: str,
    queries: list[dict],
    repeats: int = 5,
    slow: float = 5.0,
    store: str = "",
    union_nq: str = "",
    union_nt: str = "",
    limit: float = 30.0,
) -> None:
    """Time each query on one engine; emit ``LOADED`` then ``START``/``FIRST``/``DONE`` per query.

    Engines: ``qikg`` (EmbeddedStore.query, in-process, on disk: the API the CLI and kg functions
    call), ``qikg-timeout`` (EmbeddedStore.query with ``timeout=``: the worker-pool path the CLI
    uses), ``qikg-memory`` and ``qikg-memory-timeout`` (the same with the store in memory, as the
    explorer's pages and ``qikg serve``'s workers read it; loading is part of ``LOADED``), ``pyoxigraph`` (an in-memory pyoxigraph.Store loaded with the same quads,
    ``use_default_graph_as_union=True``: the floor), ``pyoxigraph-disk`` (the store's own
    on-disk database opened read-only, union default graph), ``rdflib`` (a plain in-memory
    rdflib.Graph of the same triples; each query is stopped at ``limit`` seconds with SIGALRM).
    """
    from kg.namespaces import PREFIXES

    t0 = time.perf_counter()
    if engine.startswith("qikg"):
        from kg.store import open_store

        handle = open_store(store, in_memory=engine.startswith("qikg-memory"))
        timeout = 600.0 if engine.endswith("timeout") else None
        handle.query("ASK {}", timeout=timeout)
        if engine.startswith("qikg-memory"):
            wait_for_copies(handle)

        def runner(text: str):
            def run(collect: bool):
                result = handle.query(text, timeout=timeout, limit=None)
                if not collect:
                    return len(result)
                if result.kind == "select":
                    return [tuple(row.values()) for row in result.values()]
                return [(len(result),)]

            return run
    elif engine in ("pyoxigraph", "pyoxigraph-disk"):
        import pyoxigraph as ox

        from kg.store.views import database_dir

        if engine == "pyoxigraph":
            st = ox.Store()
            st.bulk_load(path=union_nq, format=ox.RdfFormat.N_QUADS)
        else:
            st = ox.Store.read_only(str(database_dir(Path(store))))

        def runner(text: str):
            def run(collect: bool):
                answer = st.query(text, use_default_graph_as_union=True, prefixes=PREFIXES)
                if isinstance(answer, ox.QueryBoolean):
                    return [(1,)] if collect else 1
                if isinstance(answer, ox.QuerySolutions):
                    names = [v.value for v in answer.variables]
                    if collect:
                        return [
                            tuple(None if s[n] is None else s[n].value for n in names)
                            for s in answer
                        ]
                    n = 0
                    for solution in answer:
                        for name in names:
                            solution[name]
                        n += 1
                    return n
                n = sum(1 for _ in answer)
                return [(n,)] if collect else n

            return run
    elif engine == "rdflib":
        import rdflib

        graph = rdflib.Graph()
        graph.parse(union_nt, format="nt")
        namespaces = {p: rdflib.Namespace(iri) for p, iri in PREFIXES.items()}

        def _alarm(signum, frame):
            raise TimeoutError

        signal.signal(signal.SIGALRM, _alarm)

        def runner(text: str):
            def run(collect: bool):
                signal.setitimer(signal.ITIMER_REAL, limit)
                try:
                    result = graph.query(text, initNs=namespaces)
                    if result.type == "ASK":
                        return [(1,)] if collect else 1
                    if result.type != "SELECT":
                        n = len(list(result))
                        return [(n,)] if collect else n
                    rows = list(result)
                    if not collect:
                        return len(rows)
                    return [tuple(None if v is None else str(v) for v in row) for row in rows]
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)

            return run
    else:
        raise SystemExit(f"unknown engine {engine}")
    emit("LOADED", seconds=time.perf_counter() - t0, peak_rss_mb=peak_rss_mb())
    for q in queries:
        emit("START", name=q["name"])
        try:
            out = _timed_runs(runner(q["text"]), repeats, slow)
        except TimeoutError:
            out = {"timeout": limit}
        except Exception as exc:  # a query an engine cannot run is a result, not a crash
            out = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        emit("DONE", name=q["name"], **out)
    emit("END", peak_rss_mb=peak_rss_mb())


# --- validation and import ------------------------------------------------------------------------


def task_shacl(corpus: str) -> None:
    """kg.validate.validate over the union of every study of the corpus, with the concepts'
    type triples as context (what kg.build does per study, here for all at once)."""
    import rdflib
    from generate import ontology_vocabulary

    t0 = time.perf_counter()
    ds = rdflib.Dataset()
    ds.parse(corpus, format="nquads")
    data = rdflib.Graph()
    for s, p, o, _ in ds.quads():
        data.add((s, p, o))
    del ds
    vocab = ontology_vocabulary()
    context = vocab.type_triples({str(o) for o in data.objects() if isinstance(o, rdflib.URIRef)})
    t1 = time.perf_counter()
    from kg.validate import validate

    report = validate(data, context)
    t2 = time.perf_counter()
    emit(
        "DONE",
        parse=t1 - t0,
        validate=t2 - t1,
        triples=len(data),
        conforms=report.conforms,
        summary=report.summary(),
        peak_rss_mb=peak_rss_mb(),
    )


def task_import(store: str, sheets: list[str], profile: str = "") -> None:
    """kg.importer.import_path of each sheet in turn (each a new 25-finding study)."""
    from kg.importer import import_path
    from kg.store import open_store

    handle = open_store(store)
    times = []
    profiler = None
    for i, sheet in enumerate(sheets):
        if profile and i == len(sheets) - 1:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.001)
            profiler.start()
        start = time.perf_counter()
        result = import_path(handle, sheet)
        times.append(time.perf_counter() - start)
        if profiler is not None:
            profiler.stop()
            Path(profile).write_text(
                profiler.output_text(unicode=False, color=False, show_all=False)
            )
        if not result.committed:
            raise SystemExit(f"{sheet} was not imported: {result.report.summary()}")
    handle.close()
    emit(
        "DONE",
        times=times,
        median=statistics.median(times),
        findings=result.findings,
        peak_rss_mb=peak_rss_mb(),
    )


def task_copy_store(src: str, dest: str) -> None:
    """A copy of a store folder (the import measurement writes to its copy)."""
    shutil.copytree(src, dest)
    emit("DONE")


# --- explorer -------------------------------------------------------------------------------------


def explorer_pages() -> list[tuple[str, str | None]]:
    """(name, page script relative to the repository) of each explorer page, else the app alone."""
    try:
        from kg.explorer import PAGES, PAGES_DIR
    except ImportError:
        return [("app", None)]
    return [(name, str((PAGES_DIR / f"{name}.py").relative_to(ROOT))) for name in PAGES]


def task_explorer(
    store: str, repeats: int = 3, timeout: float = 120.0, only: list[str] | None = None
) -> None:
    """Render each explorer page with streamlit.testing.v1.AppTest; cold (data caches cleared)
    and warm. The store stays open across pages, as in the explorer's one process: pages first
    read the disk while its copy loads into memory (``PAGE``), then, once it is loaded, each page
    is rendered cold again (``MEMORY``)."""
    os.environ["QIKG_STORE"] = store
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from kg.explorer import ui

    app = ROOT / "app.py"
    st.cache_resource.clear()
    pages = [(n, p) for n, p in explorer_pages() if only is None or n in only]

    def render(name: str, path: str | None) -> dict:
        st.cache_data.clear()
        at = AppTest.from_file(str(app), default_timeout=timeout)
        if path is not None:
            at.switch_page(path)
        start = time.perf_counter()
        at.run()
        cold = time.perf_counter() - start
        warm = []
        for _ in range(repeats):
            start = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - start)
        problems = [str(e.value)[:200] for e in at.exception] + [
            str(e.value)[:200] for e in at.error
        ]
        return {"name": name, "cold": cold, "warm": statistics.median(warm), "problems": problems}

    for name, path in pages:
        emit("START", name=name)
        emit("PAGE", **render(name, path))
    handle = ui.store()
    if hasattr(handle, "_view"):
        while not handle._view.in_memory():
            time.sleep(0.5)
        for name, path in pages:
            emit("MEMORY", **render(name, path))
    emit("END", peak_rss_mb=peak_rss_mb())


def task_reason(store: str, engine: str) -> None:
    """``materialise(store, engine=...)`` (kg.reasoning) on a copy of a built store."""
    try:
        from kg.reasoning import materialise
    except ImportError:
        from kg.reason import materialise
    from kg.store import open_store

    handle = open_store(store)
    before = reads_without_inference(handle)
    start = time.perf_counter()
    summary = materialise(handle, engine=engine)
    elapsed = time.perf_counter() - start
    after = reads_without_inference(handle)
    handle.close()
    emit(
        "DONE",
        seconds=elapsed,
        triples=getattr(summary, "triples", None),
        peak_rss_mb=peak_rss_mb(),
        reads_before=before,
        reads_after=after,
    )


def reads_without_inference(store) -> float:
    """Median seconds of the explorer's reads of one finding (its page and related findings),
    which leave the inferred graph out: the same before and after reasoning, if all is well."""
    from kg.read.findings import finding
    from kg.read.related import related

    first = store.query(
        "SELECT ?f WHERE { ?f a <https://w3id.org/qikg/ontology#Finding> } ORDER BY ?f LIMIT 1"
    ).column("f")[0]
    times = []
    for _ in range(3):
        start = time.perf_counter()
        finding(store, first)
        related(store, first)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


TASKS = {
    "reason": task_reason,
    "build": task_build,
    "dump": task_dump,
    "queries": task_queries,
    "shacl": task_shacl,
    "import": task_import,
    "copy_store": task_copy_store,
    "explorer": task_explorer,
}

if __name__ == "__main__":
    name, arguments = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    TASKS[name](**arguments)
