"""A query worker process: answers queries on a read-only view of an embedded store.

Run as ``python -m kg.store.worker STORE_DIR [MEMORY_MB [memory]]``; it reads one JSON request per line on
stdin and writes one JSON answer per line on stdout. Every query is checked here first
(``kg.sparql.check_read_only``): parsing untrusted text takes time (pyparsing reads a few KB of
hostile text a second), so it happens where the time limit can stop it, off the server's own
interpreter. With ``-`` for STORE_DIR a worker only checks (for a remote store). A worker can be killed at any moment (that is
how a query past its time limit is stopped) without harming the store. It may open no socket and
use at most MEMORY_MB of memory (see ``confine``) beyond, with ``memory``, the copy of the store it
holds in memory (kg.store.memory; it answers from disk until the copy is loaded). Kept free of heavy imports so it starts fast.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

from kg.errors import QikgError
from kg.sparql import (
    AnswerCap,
    check_read_only,
    declared_prefixes,
    declares_dataset,
    names_graphs,
    row_size,
)

try:  # Linux only, and it needs libseccomp (Debian: libseccomp2, present on every install)
    import pyseccomp as seccomp
except (ImportError, OSError):
    seccomp = None

T = TypeVar("T")
#: The database folder in a store folder (a bulk write's copy adds a suffix).
DATABASE = "oxigraph"


class ReadView:
    """A read-only Oxigraph handle that reopens when a writer has committed since it opened.

    A read-only RocksDB handle keeps the file list it opened with; a writer may compact and
    delete those files under it. Reading then fails with a missing file, and reopening (which
    picks up the new file list) cures it, so ``read`` retries a few times.

    With ``without``, the view is of the copy of the database without the inferred graph that
    ``EmbeddedStore`` keeps for each commit: Oxigraph reads the union of all graphs fast, but a
    default graph named as thousands of graphs one by one a hundred times slower.
    """

    def __init__(self, root: Path, without: bool = False) -> None:
        self.root = root
        self.without = without
        self._store: ox.Store | None = None
        self._version = ""

    def get(self) -> ox.Store:
        version = store_version(self.root)
        if self._store is None or version != self._version:
            generation = read_generation(self.root)
            folder = (
                copy_dir(self.root, commit_token(generation))
                if self.without
                else database_dir(self.root, generation)
            )
            self._store = ox.Store.read_only(str(folder))
            self._version = version
        return self._store

    def in_memory(self) -> bool:
        """Whether reads come from a copy in memory (kg.store.memory), not from disk."""
        return False

    def read(self, action: Callable[[ox.Store], T]) -> T:
        """Run ``action`` on the current view, reopening it if a writer moved files away."""
        for attempt in range(8):
            try:
                return action(self.get())
            except (OSError, RuntimeError) as exc:
                if attempt == 7 or not moved_by_writer(exc):
                    raise
                self._store = None
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")


def moved_by_writer(exc: Exception) -> bool:
    text = str(exc)
    return "No such file" in text or "Corruption" in text


def writer_running(root: Path) -> bool:
    """Whether a live process holds the store for writing (its ``writer`` file)."""
    return (root / "writer").exists() and not _dead_writer(root)


def store_version(root: Path) -> str:
    """What tells a reader to reopen: the ``generation`` file, and a writer that died holding
    the store (its ``writer`` file left behind, its process gone). A writer killed after its
    transaction committed but before it advanced the generation has changed the data all the
    same; the next writer advances it, and until then readers see the commit through this."""
    return read_generation(root) + _dead_writer(root)


def _dead_writer(root: Path) -> str:
    """`` dead <pid> <time>`` when the ``writer`` file names a process that no longer runs."""
    marker = root / "writer"
    try:
        pid = int(marker.read_text().split()[1])
        stamp = marker.stat().st_mtime_ns
    except (OSError, ValueError, IndexError):
        return ""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f" dead {pid} {stamp}"
    except PermissionError:  # another user's process: alive
        pass
    return ""


def read_generation(root: Path) -> str:
    """The store's ``generation`` file: ``<commit token> [<database folder>]``."""
    try:
        return (root / "generation").read_text()
    except OSError:  # none yet, or the store folder cannot be made
        return ""


def database_dir(root: Path, generation: str | None = None) -> Path:
    """The database folder the generation names (``oxigraph`` unless a bulk write swapped it)."""
    parts = (read_generation(root) if generation is None else generation).split()
    return root / (parts[1] if len(parts) > 1 else DATABASE)


def commit_token(generation: str) -> str:
    """The commit token a ``generation`` file's text starts with ("0" before any commit)."""
    return generation.split()[0] if generation.strip() else "0"


def copy_dir(root: Path, token: str) -> Path:
    """The folder of the copy of the database without the inferred graph at commit ``token``."""
    return root / f"{DATABASE}-without-{token}"


def run_query(
    store: ox.Store,
    sparql: str,
    limit: int | None,
    prefixes: dict[str, str] | None = None,
    max_bytes: int | None = None,
) -> dict:
    """Evaluate one query over the union of all graphs and return its answer as a JSON-ready
    dict (see kg.sparql.QueryResult), cut at ``limit`` rows or about ``max_bytes`` of text."""
    start = time.perf_counter()
    kwargs: dict = {"prefixes": prefixes} if prefixes else {}
    answer = store.query(sparql, use_default_graph_as_union=True, **kwargs)
    cap = AnswerCap(limit, max_bytes)
    if isinstance(answer, ox.QueryBoolean):
        out: dict = {"kind": "ask", "boolean": bool(answer)}
    elif isinstance(answer, ox.QuerySolutions):
        names = [v.value for v in answer.variables]
        solutions = (
            {n: term_json(solution[n]) for n in names if solution[n] is not None}
            for solution in answer
        )
        rows = list(cap.take(solutions, row_size))
        out = {"kind": "select", "variables": names, "bindings": rows}
    else:
        triples = list(cap.take(answer, lambda triple: len(str(triple))))
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        out = {"kind": "graph", "ntriples": text.decode()}
    out["truncated"] = cap.truncated
    out["elapsed"] = time.perf_counter() - start
    return out


def term_json(term: object) -> dict:
    """A pyoxigraph term as a SPARQL-JSON term object."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}


def confine(memory_mb: int) -> bool:
    """Keep this process within ``memory_mb`` of data (0: no cap) and off the network.

    ``kg.sparql`` refuses SERVICE before a query gets here; this is the second wall, for a case
    the parser might miss: the kernel refuses every new socket (seccomp), so the engine cannot
    reach any host. Returns whether that filter is in place (Linux with libseccomp).
    """
    if memory_mb:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    if seccomp is None:
        return False
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for call in ("socket", "socketpair"):
        rules.add_rule(seccomp.ERRNO(errno.EACCES), call)
    rules.load()
    return True


def folder_mb(folder: Path) -> int:
    """The size of the files in a folder, in MB."""
    return sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) // 2**20


#: Python's recursion limit in a worker: the SPARQL parser recurses per nesting level and per
#: triple pattern of a group, so the default 1,000 refused a group of 100 patterns. At 8,000 a
#: group may hold 600 patterns and nest 300 deep, and 10,000 nested groups, OPTIONALs or UNIONs
#: are refused in under 0.5 s (20,000: 3.9 s). Python 3.11 keeps its own frames off the C stack,
#: so the parser thread's default stack holds that depth (checked up to the limit).
RECURSION_LIMIT = 8_000


def answer(views: dict[bool, ReadView] | None, request: dict) -> dict:
    """Check one request's query (kg.sparql.check_read_only), then run it unless the request
    asks for the check only (``views`` is None for a worker that only checks)."""
    try:
        form = check_read_only(request["query"])
        if views is None or request.get("check_only"):
            return {
                "form": form,
                "prefixes": declared_prefixes(request["query"]),
                "graphs": names_graphs(request["query"]),
                "dataset": declares_dataset(request["query"]),
            }
        view = views[bool(request.get("without"))]
        in_memory = view.in_memory()
        out = view.read(
            lambda store: run_query(
                store,
                request["query"],
                request["limit"],
                request.get("prefixes"),
                request.get("max_bytes"),
            )
        )
        return {**out, "memory": in_memory}
    except QikgError as exc:
        return {"error": "refused", "class": type(exc).__name__, "message": str(exc)}
    except SyntaxError as exc:
        return {"error": "syntax", "message": str(exc)}
    except MemoryError:
        return {"error": "memory", "message": "MemoryError"}
    except Exception as exc:  # reported to the caller, who turns it into one clear line
        return {"error": "store", "message": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    where, memory_mb = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    in_memory = sys.argv[3:4] == ["memory"]
    root = Path(where)
    views = None if where == "-" else {w: ReadView(root, w) for w in (False, True)}
    if views is not None and in_memory:
        from kg.store.memory import COPY_PER_DISK_BYTE, MemoryView

        views[False] = copy = MemoryView(root)
        copy.load_in_background()  # answering from disk until it is loaded
        if memory_mb:  # room for the copy, and for loading a new one beside it
            memory_mb += 2 * COPY_PER_DISK_BYTE * folder_mb(database_dir(root))
    offline = confine(memory_mb)
    sys.setrecursionlimit(RECURSION_LIMIT)
    sys.stdout.write(json.dumps({"ready": True, "offline": offline}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        sys.stdout.write(json.dumps(answer(views, json.loads(line))) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
