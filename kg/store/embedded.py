"""The embedded store: an on-disk Oxigraph database in a folder of its own.

Layout of a store folder: ``oxigraph/`` (the database), ``generation`` (bumped by every commit, so
readers in other processes know to reopen; after a bulk write it also names the database's new
folder, ``oxigraph-<time>/``). Only one process can write at a time; every process
reads through a read-only view, so the explorer, ``qikg serve`` and the CLI run side by side.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox

from kg.errors import BadInput, StoreUnavailable
from kg.namespaces import INFERRED_GRAPH, PREFIXES
from kg.sparql import RDF_FORMATS, QueryResult, check_read_only, syntax_error
from kg.store.base import Store, visible_graphs
from kg.store.pool import QueryPool
from kg.store.worker import DATABASE, UNION, ReadView, database_dir, run_query

WRITE_WAIT_SECONDS = 30.0
#: Writes of more N-Triples text than this go through a bulk-loaded copy of the database.
BULK_BYTES = 16 * 2**20


class EmbeddedStore(Store):
    """An on-disk Oxigraph store.

    >>> import tempfile
    >>> store = EmbeddedStore(tempfile.mkdtemp())
    >>> store.replace_graphs({"https://w3id.org/qikg/graph/study/x": "<urn:a> <urn:b> <urn:c> .\\n"})
    >>> store.graph_sizes()
    {'https://w3id.org/qikg/graph/study/x': 1}
    >>> store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").values()
    [{'n': '1'}]
    """

    def __init__(self, path: str | os.PathLike[str], pool_size: int = 2) -> None:
        self.root = Path(path).expanduser().resolve()
        self.descriptor = str(self.root)
        self._pool_size = pool_size
        self._pool: QueryPool | None = None
        if not database_dir(self.root).exists():
            self._create()
        self._view = ReadView(self.root)

    def _create(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create the store folder {self.root}: {exc}") from None
        with self._writer():
            pass

    def _open_writer(self) -> tuple[ox.Store, Path]:
        """The current database opened for writing, once no other process writes it."""
        deadline = time.monotonic() + WRITE_WAIT_SECONDS
        while True:
            folder = database_dir(self.root)
            try:
                store = ox.Store(str(folder))
            except OSError as exc:
                if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                    holder = (
                        (self.root / "writer").read_text()
                        if (self.root / "writer").exists()
                        else "?"
                    )
                    raise StoreUnavailable(
                        f"the store {self.root} is being written by another process "
                        f"({holder.strip()}); try again when it has finished"
                    ) from None
                time.sleep(0.2)
                continue
            if folder == database_dir(self.root):
                self._remove_stale_copies(keep=folder)
                return store, folder
            del store  # a bulk write moved the store to a new folder while this one waited

    def _remove_stale_copies(self, keep: Path) -> None:
        """Database copies a bulk write left behind (replaced, or stopped before its swap)."""
        for stale in self.root.glob(f"{DATABASE}*"):
            if stale != keep:
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)

    class _WriterContext:
        """Holds the write lock; on a clean exit, flushes and tells readers to reopen."""

        def __init__(self, outer: EmbeddedStore) -> None:
            self.outer = outer

        def __enter__(self) -> EmbeddedStore._WriterContext:
            self.store, self.folder = self.outer._open_writer()
            (self.outer.root / "writer").write_text(f"pid {os.getpid()}\n")
            return self

        def __exit__(self, exc_type: object, *rest: object) -> None:
            try:
                if exc_type is None:
                    self.store.flush()
                    self.outer._bump_generation(self.folder)
            finally:
                del self.store
                (self.outer.root / "writer").unlink(missing_ok=True)

    def _writer(self) -> _WriterContext:
        return EmbeddedStore._WriterContext(self)

    def _bump_generation(self, folder: Path) -> None:
        tmp = self.root / "generation.tmp"
        tmp.write_text(f"{time.time_ns()}-{os.getpid()} {folder.name}")
        tmp.replace(self.root / "generation")

    def query(
        self,
        sparql: str,
        *,
        timeout: float | None = None,
        limit: int | None = None,
        include_inferred: bool = True,
    ) -> QueryResult:
        check_read_only(sparql)
        graphs = self._default_dataset(include_inferred)
        if timeout is None:
            try:
                answer = self._view.read(
                    lambda store: run_query(store, sparql, graphs, limit, PREFIXES)
                )
            except SyntaxError as exc:
                raise syntax_error(exc) from None
        else:
            if self._pool is None:
                self._pool = QueryPool(self.root, self._pool_size)
            request = {"query": sparql, "graphs": graphs, "limit": limit, "prefixes": PREFIXES}
            answer = self._pool.run(request, timeout)
            if answer.get("error") == "syntax":
                raise syntax_error(SyntaxError(answer["message"]))
            if "error" in answer:
                raise StoreUnavailable(f"the query failed in the store: {answer['message']}")
        return QueryResult(**answer)

    def replace_graphs(
        self,
        graphs: Mapping[str, str],
        drop: tuple[str, ...] = (),
        extend: Mapping[str, str] | None = None,
    ) -> None:
        loads = [(g, nt) for g, nt in (*graphs.items(), *(extend or {}).items()) if nt.strip()]
        drops = [f"DROP SILENT GRAPH <{g}>" for g in (*drop, *graphs)]
        try:
            if sum(len(nt) for _, nt in loads) > BULK_BYTES:
                self._replace_in_copy(drops, loads)
            elif drops or loads:
                inserts = [f"INSERT DATA {{ GRAPH <{g}> {{\n{nt}\n}} }}" for g, nt in loads]
                with self._writer() as writer:
                    writer.store.update(" ;\n".join(drops + inserts))
        except SyntaxError as exc:
            raise BadInput(f"nothing was written: the data is not valid RDF ({exc})") from None

    def _replace_in_copy(self, drops: list[str], loads: list[tuple[str, str]]) -> None:
        """A large write: copy the database (hard links, so cheap), drop and bulk-load in the copy,
        then point the store at the copy. A reader, or a crash at any moment, sees the store
        before or after, never between: the one switch is the atomic rename of ``generation``.
        A transaction of a million triples would take minutes and gigabytes (docs/benchmarks.md).
        """
        with self._writer() as writer:
            old = writer.folder
            copy = self.root / f"{DATABASE}-{time.time_ns()}"
            quads = copy.with_suffix(".nq")
            try:
                _write_quads(loads, quads)
                writer.store.backup(str(copy))
                staged = ox.Store(str(copy))
                if drops:
                    staged.update(" ;\n".join(drops))
                staged.bulk_load(path=str(quads), format=ox.RdfFormat.N_QUADS)
                staged.flush()
                del staged
            except BaseException:
                shutil.rmtree(copy, ignore_errors=True)
                raise
            finally:
                quads.unlink(missing_ok=True)
            writer.folder = copy
        shutil.rmtree(old, ignore_errors=True)

    def _default_dataset(self, include_inferred: bool) -> list[str] | str:
        """The union of all graphs when that equals the default graph asked for, else the list.

        Oxigraph joins over a default graph named as thousands of study graphs are orders of
        magnitude slower than over its union (minutes against milliseconds at 4,000 studies), so
        the list is used only to leave out an inferred graph that exists. The union also holds
        the shapes and bookkeeping graphs, which no qikg query pattern matches.
        """
        if include_inferred or not self._view.read(
            lambda store: store.contains_named_graph(ox.NamedNode(str(INFERRED_GRAPH)))
        ):
            return UNION
        return visible_graphs(self.graph_names(), include_inferred)

    def graph_names(self) -> list[str]:
        return self._view.read(lambda store: sorted(g.value for g in store.named_graphs()))

    def graph_sizes(self) -> dict[str, int]:
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
        rows = self._view.read(lambda store: run_query(store, query, None, None))["bindings"]
        return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}

    def dump(self, fmt: str, graph: str | None = None) -> bytes:
        if fmt not in RDF_FORMATS:
            raise BadInput(f"unknown export format {fmt!r}: use ttl, trig, nq, nt or jsonld")
        rdf_format = RDF_FORMATS[fmt]
        kwargs = {"prefixes": PREFIXES} if fmt in ("ttl", "trig") else {}

        def dump(store: ox.Store) -> bytes:
            if graph is not None:
                if not store.contains_named_graph(ox.NamedNode(graph)):
                    raise BadInput(f"the store has no graph {graph}")
                return (
                    store.dump(format=rdf_format, from_graph=ox.NamedNode(graph), **kwargs) or b""
                )
            if rdf_format.supports_datasets:
                return store.dump(format=rdf_format, **kwargs) or b""
            triples = {q.triple for q in store.quads_for_pattern(None, None, None)}
            return ox.serialize(triples, format=rdf_format, **kwargs) or b""

        return self._view.read(dump)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _write_quads(loads: list[tuple[str, str]], path: Path) -> None:
    """Each graph's N-Triples, parsed (a syntax error raises SyntaxError), as one N-Quads file."""
    with path.open("wb") as out:
        for graph, nt in loads:
            name = ox.NamedNode(graph)
            quads = (
                ox.Quad(t.subject, t.predicate, t.object, name)
                for t in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES)
            )
            ox.serialize(quads, out, format=ox.RdfFormat.N_QUADS)
