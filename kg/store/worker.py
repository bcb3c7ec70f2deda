"""A query worker process: answers queries on a read-only view of an embedded store.

Run as ``python -m kg.store.worker STORE_DIR [MEMORY_MB [memory]]``; it reads one JSON request per line on
stdin and writes each answer on stdout (``framed``). Every query is checked here first
(``kg.sparql.check_read_only``): parsing untrusted text takes time (pyparsing reads a few KB of
hostile text a second), so it happens where the time limit can stop it, off the server's own
interpreter. With ``-`` for STORE_DIR a worker only checks (for a remote store). A worker can be killed at any moment (that is
how a query past its time limit is stopped) without harming the store. It may open no socket and
use at most MEMORY_MB of memory (see ``confine``) beyond, with ``memory``, the copy of the store it
holds in memory (kg.store.memory; it answers from disk until the copy is loaded). Kept free of heavy imports so it starts fast.
"""

from __future__ import annotations

import errno
import io
import json
import resource
import sys
import time
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from kg.errors import QikgError
from kg.sparql import (
    AnswerCap,
    check_read_only,
    declared_prefixes,
    declares_dataset,
    graph_patterns,
    names_graphs,
    row_size,
)
from kg.store.views import ReadView, database_dir

try:  # Linux only, and it needs libseccomp (Debian: libseccomp2, present on every install)
    import pyseccomp as seccomp
except (ImportError, OSError):
    seccomp = None


def run_query(
    store: ox.Store,
    sparql: str,
    limit: int | None,
    prefixes: dict[str, str] | None = None,
    max_bytes: int | None = None,
    document: bool = False,
) -> dict:
    """Evaluate one query over the union of all graphs and return its answer as a JSON-ready
    dict (see kg.sparql.QueryResult), cut at ``limit`` rows or about ``max_bytes`` of text. With
    ``document``, a SELECT answer that was not cut comes as the engine's SPARQL JSON text instead
    of rows (a worker sends it on, and ``qikg serve`` serves it, without reading it)."""
    start = time.perf_counter()
    kwargs: dict = {"prefixes": prefixes} if prefixes else {}
    answer = store.query(sparql, use_default_graph_as_union=True, **kwargs)
    cap = AnswerCap(limit, max_bytes)
    if isinstance(answer, ox.QueryBoolean):
        out: dict = {"kind": "ask", "boolean": bool(answer)}
    elif isinstance(answer, ox.QuerySolutions):
        names = [v.value for v in answer.variables]
        out = {"kind": "select", "variables": names}
        if limit is not None and max_bytes is None:  # rows alone bound it: take them one by one
            solutions = (
                {n: term_json(solution[n]) for n in names if solution[n] is not None}
                for solution in answer
            )
            out["rows"] = list(cap.take(solutions, row_size))
        else:
            rows, text = serialized_rows(answer, cap)
            out.update({"document": text} if document and text else {"rows": rows})
    else:
        triples = list(cap.take(answer, lambda triple: len(str(triple))))
        written = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        out = {"kind": "graph", "ntriples": written.decode()}
    out["truncated"] = cap.truncated
    out["elapsed"] = time.perf_counter() - start
    return out


class _Full(Exception):
    """The answer's text passed its byte budget."""


class _Sink:
    """Collects what the engine writes, up to ``budget`` bytes (None: no bound)."""

    def __init__(self, budget: int | None) -> None:
        self.budget = budget
        self.size = 0
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        room = len(data) if self.budget is None else self.budget - self.size
        self.parts.append(bytes(data[:room]))
        self.size += len(data)
        if room < len(data):
            raise _Full
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the engine calls it when done."""

    def text(self, cut: bool = False) -> str:
        """What was written; of an answer ``cut`` short, the last character may be split."""
        return b"".join(self.parts).decode(errors="ignore" if cut else "strict")


def serialized_rows(answer: ox.QuerySolutions, cap: AnswerCap) -> tuple[list[dict], str]:
    """The solutions as SPARQL-JSON bindings, written by the engine itself (the term-by-term
    conversion in Python cost up to 1.6x the query; docs/benchmarks.md), stopped once their
    text passes ``cap.max_bytes`` and then cut at ``cap.limit`` rows; with the engine's text
    when nothing was cut (else "")."""
    sink = _Sink(cap.max_bytes)
    try:
        # the engine asks of its output only write() and flush()
        answer.serialize(cast("IO[bytes]", sink), format=ox.QueryResultsFormat.JSON)
        text = sink.text()
        rows = json.loads(text)["results"]["bindings"]
    except _Full:
        cap.truncated = True
        text, rows = "", _whole_rows(sink.text(cut=True))
    if cap.limit is not None and len(rows) > cap.limit:
        cap.truncated = True
        text, rows = "", rows[: cap.limit]
    return rows, text


def _whole_rows(begun: str) -> list[dict]:
    """The complete bindings at the start of a SPARQL-JSON document cut short (the engine
    writes it without spaces; variable names hold no quotes, so the array's key is found
    whole).

    >>> _whole_rows('{"head":{"vars":["a"]},"results":{"bindings":[{"a":{"type":"uri","value":"x:1"}},{"a":{"ty')
    [{'a': {'type': 'uri', 'value': 'x:1'}}]
    """
    key = '"bindings":['
    at = begun.find(key)
    if at < 0:
        return []
    decoder, at = json.JSONDecoder(), at + len(key)
    rows: list[dict] = []
    while True:
        try:
            row, at = decoder.raw_decode(begun, at)
        except json.JSONDecodeError:
            return rows
        rows.append(row)
        if begun[at : at + 1] != ",":
            return rows
        at += 1


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
                "graph_terms": list(graph_patterns(request["query"])),
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
                document=True,
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
    for stream in (sys.stdin, sys.stdout):  # as the pool reads and writes, whatever the locale
        cast("io.TextIOWrapper", stream).reconfigure(encoding="utf-8", newline="")
    offline = confine(memory_mb)
    sys.setrecursionlimit(RECURSION_LIMIT)
    sys.stdout.write(json.dumps({"ready": True, "offline": offline}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        sys.stdout.write(framed(answer(views, json.loads(line))))
        sys.stdout.flush()


def framed(out: dict) -> str:
    """An answer as the pool reads it (kg.store.pool): one JSON line, then the engine's SPARQL
    JSON text as it is, its length in the line's ``document_chars`` (inside the line, the
    text's quotes and backslashes would be escaped here and unescaped there: a third of a large
    answer's time through a worker)."""
    document = out.pop("document", "")
    if document:
        out["document_chars"] = len(document)
    return json.dumps(out) + "\n" + document


if __name__ == "__main__":
    main()
