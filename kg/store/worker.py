"""A query worker process: answers queries on a read-only view of an embedded store.

Run as ``python -m kg.store.worker STORE_DIR``; it reads one JSON request per line on stdin and
writes one JSON answer per line on stdout. A worker can be killed at any moment (that is how a
query past its time limit is stopped) without harming the store. Kept free of heavy imports so it
starts fast.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pyoxigraph as ox

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
        self._generation = ""

    def get(self) -> ox.Store:
        generation = read_generation(self.root)
        if self._store is None or generation != self._generation:
            folder = (
                copy_dir(self.root, commit_token(generation))
                if self.without
                else database_dir(self.root, generation)
            )
            self._store = ox.Store.read_only(str(folder))
            self._generation = generation
        return self._store

    def read(self, action: Callable[[ox.Store], T]) -> T:
        """Run ``action`` on the current view, reopening it if a writer moved files away."""
        for attempt in range(8):
            try:
                return action(self.get())
            except (OSError, RuntimeError) as exc:
                if attempt == 7 or not _moved_by_writer(exc):
                    raise
                self._store = None
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")


def _moved_by_writer(exc: Exception) -> bool:
    text = str(exc)
    return "No such file" in text or "Corruption" in text


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
    store: ox.Store, sparql: str, limit: int | None, prefixes: dict[str, str] | None = None
) -> dict:
    """Evaluate one query over the union of all graphs and return its answer as a JSON-ready
    dict (see kg.sparql.QueryResult)."""
    from kg.sparql import term_json

    start = time.perf_counter()
    kwargs: dict = {"prefixes": prefixes} if prefixes else {}
    answer = store.query(sparql, use_default_graph_as_union=True, **kwargs)
    out: dict = {}
    if isinstance(answer, ox.QueryBoolean):
        out = {"kind": "ask", "boolean": bool(answer)}
    elif isinstance(answer, ox.QuerySolutions):
        names = [v.value for v in answer.variables]
        rows = []
        truncated = False
        for solution in answer:
            if limit is not None and len(rows) >= limit:
                truncated = True
                break
            rows.append({n: term_json(solution[n]) for n in names if solution[n] is not None})
        out = {"kind": "select", "variables": names, "bindings": rows, "truncated": truncated}
    else:
        triples = []
        truncated = False
        for triple in answer:
            if limit is not None and len(triples) >= limit:
                truncated = True
                break
            triples.append(triple)
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        out = {"kind": "graph", "ntriples": text.decode(), "truncated": truncated}
    out["elapsed"] = time.perf_counter() - start
    return out


def main() -> None:
    root = Path(sys.argv[1])
    views = {without: ReadView(root, without) for without in (False, True)}
    sys.stdout.write('{"ready": true}\n')
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        view = views[bool(request.get("without"))]
        try:
            answer = view.read(
                lambda store, r=request: run_query(store, r["query"], r["limit"], r.get("prefixes"))
            )
        except SyntaxError as exc:
            answer = {"error": "syntax", "message": str(exc)}
        except Exception as exc:  # reported to the caller, who turns it into one clear line
            answer = {"error": "store", "message": f"{type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
