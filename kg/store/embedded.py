"""The embedded store: an on-disk Oxigraph database in a folder of its own.

Layout of a store folder: ``oxigraph/`` (the database), ``generation`` (bumped by every commit, so
readers in other processes know to reopen; after a bulk write it also names the database's new
folder, ``oxigraph-<time>/``), and once there is an inferred graph ``oxigraph-without-<commit>/``,
a copy of the database without it for the queries that leave it out. Only one process can write
at a time; every process reads through a read-only view, so the explorer, ``qikg serve`` and the
CLI run side by side. ``history/`` records every commit with a checkpoint to return to
(kg.store.history): ``undo`` and ``restore`` switch to a copy of a checkpoint the way a bulk write
switches to its copy, by the one atomic rename of ``generation``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

import pyoxigraph as ox

import kg.store.history as hist
from kg.errors import BadInput, Conflict, StoreUnavailable
from kg.namespaces import INFERRED_GRAPH, PREFIXES
from kg.sparql import RDF_FORMATS, QueryResult, check_read_only, iri_term, syntax_error
from kg.store.base import Store
from kg.store.memory import InMemory, MemoryView
from kg.store.pool import QueryPool
from kg.store.views import (
    DATABASE,
    ReadView,
    commit_token,
    copy_dir,
    database_dir,
    read_generation,
    store_version,
)
from kg.store.worker import run_query

WRITE_WAIT_SECONDS = 30.0
INFERRED = str(INFERRED_GRAPH)
#: Writes of more N-Triples text than this go through a bulk-loaded copy of the database.
BULK_BYTES = 16 * 2**20
#: A write whose graphs held more triples than this is recorded with counts from graph sizes
#: (an upper bound) instead of an exact set difference, which would hold them all in memory.
EXACT_DIFF_TRIPLES = 200_000


class EmbeddedStore(Store):
    """An on-disk Oxigraph store; ``in_memory`` for a long-running reader that answers from a
    copy in memory, kept current: in this process, its query workers or both
    (kg.store.memory.InMemory).

    >>> import tempfile
    >>> store = EmbeddedStore(tempfile.mkdtemp())
    >>> store.replace_graphs({"https://w3id.org/qikg/graph/study/x": "<urn:a> <urn:b> <urn:c> .\\n"})
    >>> store.graph_sizes()
    {'https://w3id.org/qikg/graph/study/x': 1}
    >>> store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").values()
    [{'n': '1'}]
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        pool_size: int = 2,
        in_memory: InMemory = False,
    ) -> None:
        self.root = Path(path).expanduser().resolve()
        self.descriptor = str(self.root)
        self._pool_size = pool_size
        self._pool: QueryPool | None = None
        self.in_memory = bool(in_memory)
        #: Whether the query workers hold copies (else they read the disk).
        self.workers_in_memory = in_memory in (True, "workers")
        if not database_dir(self.root).exists():
            self._create()
        self._view = ReadView(self.root)
        if in_memory in (True, "process"):
            self._view = copy = MemoryView(self.root)
            copy.load_in_background()
        self._asserted = ReadView(self.root, without=True)

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
                self._remove_stale_copies(keep=(folder, self._current_copy()))
                return store, folder
            del store  # a bulk write moved the store to a new folder while this one waited

    def _remove_stale_copies(self, keep: tuple[Path, ...]) -> None:
        """Database copies a bulk write left behind (replaced, or stopped before its swap), and
        copies without the inferred graph of earlier commits."""
        for stale in self.root.glob(f"{DATABASE}*"):
            if stale not in keep:
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
                else:
                    stale.unlink(missing_ok=True)

    class _WriterContext:
        """Holds the write lock; on a clean exit, flushes and tells readers to reopen."""

        def __init__(self, outer: EmbeddedStore, commit: bool, expect: str | None) -> None:
            self.outer = outer
            self.commit = commit
            self.expect = expect
            #: For the history: the graphs this write touched, its (added, removed, exact)
            #: triples, and the version an undo or restore returned to.
            self.touched: tuple[str, ...] = ()
            self.diff: tuple[int, int, bool] = (0, 0, True)
            self.restored: int | None = None

        def __enter__(self) -> EmbeddedStore._WriterContext:
            self.store, self.folder = self.outer._open_writer()
            if self.expect is not None and store_version(self.outer.root) != self.expect:
                del self.store  # another write committed since the caller read the store
                raise Conflict(
                    "the store changed while this was being prepared (another write committed "
                    "first); nothing was written"
                )
            (self.outer.root / "writer").write_text(f"pid {os.getpid()}\n")
            if self.commit:
                root = self.outer.root
                hist.record_unrecorded(root, self.store, commit_token(read_generation(root)))
            return self

        def update(self, dropped: tuple[str, ...], loads: list[tuple[str, str]]) -> None:
            """Drop graphs and load N-Triples into graphs, in one transaction; and likewise in
            the copy without the inferred graph, carried over to this commit."""
            self.touched = tuple(dict.fromkeys([*dropped, *(g for g, _ in loads)]))
            self.diff = _diff(self.store, dropped, loads)
            copy = self.outer._set_copy_aside(self.store, loads)
            try:
                self.store.update(_statements(dropped, loads))
            except BaseException:
                if copy is not None:
                    copy.rename(self.outer._current_copy())
                raise
            if copy is not None:
                _update_copy(copy, dropped, loads)

        def __exit__(self, exc_type: object, *rest: object) -> None:
            try:
                if exc_type is None:
                    self.store.flush()
                    if self.commit:
                        self._commit()
            finally:
                del self.store
                (self.outer.root / "writer").unlink(missing_ok=True)

        def _commit(self) -> None:
            """Switch readers to this commit; a write that changed data (or returned to a
            version) is checkpointed before the switch and recorded after it."""
            root = self.outer.root
            if not (self.touched or self.restored):
                self.outer._bump_generation(self.folder)
                return
            try:
                if self.folder == database_dir(root):
                    staged, counted = hist.prepare(root, self.store)
                else:  # a bulk write or a restore: the new folder, which no one else sees yet
                    fresh = ox.Store(str(self.folder))
                    staged, counted = hist.prepare(root, fresh)
                    del fresh
            except OSError as exc:
                raise StoreUnavailable(f"nothing was written: cannot checkpoint ({exc})") from None
            self.outer._bump_generation(self.folder)
            try:
                token = commit_token(read_generation(root))
                hist.record(root, token, staged, counted, self.touched, self.diff, self.restored)
            except OSError as exc:
                raise StoreUnavailable(
                    f"the write was committed but could not be recorded in the history ({exc}); "
                    "the next write records it"
                ) from None

    def _writer(self, commit: bool = True, expect: str | None = None) -> _WriterContext:
        """The write lock; ``commit=False`` for maintenance that changes no data; with ``expect``,
        Conflict unless the store is still at that version."""
        return EmbeddedStore._WriterContext(self, commit, expect)

    def _bump_generation(self, folder: Path) -> None:
        token = f"{time.time_ns()}-{os.getpid()}"
        if self._pending.exists():
            self._pending.rename(copy_dir(self.root, token))
        tmp = self.root / "generation.tmp"
        tmp.write_text(f"{token} {folder.name}")
        tmp.replace(self.root / "generation")

    @property
    def _pending(self) -> Path:
        """Where a write keeps the copy without the inferred graph until it commits."""
        return copy_dir(self.root, "pending")

    def _current_copy(self) -> Path:
        return copy_dir(self.root, commit_token(read_generation(self.root)))

    def _set_copy_aside(self, database: ox.Store, loads: list[tuple[str, str]]) -> Path | None:
        """Move the current copy without the inferred graph to where this write updates it:
        made here when the write adds the first inferred graph (a backup, instant then). None
        when there is nothing to carry over (``_make_copy`` makes it when a query needs it).

        Set aside first, a crash at any later moment leaves no copy of the old commit that
        lacks this write; the next query that needs one makes it afresh.
        """
        current = self._current_copy()
        if current.exists():
            current.rename(self._pending)
            return self._pending
        if any(g == INFERRED for g, _ in loads) and not self._has_inferred():
            database.backup(str(self._pending))
            return self._pending
        return None

    def version(self) -> str:
        return store_version(self.root)

    def query(
        self,
        sparql: str,
        *,
        timeout: float | None = None,
        limit: int | None = None,
        include_inferred: bool = True,
        max_bytes: int | None = None,
    ) -> QueryResult:
        asserted = not include_inferred and self._has_inferred()
        if asserted:
            self._make_copy()
        if timeout is None:  # in this process: for qikg's own reads, which need no time limit
            check_read_only(sparql)
            view = self._asserted if asserted else self._view
            try:
                answer = view.read(
                    lambda store: run_query(store, sparql, limit, PREFIXES, max_bytes)
                )
            except SyntaxError as exc:
                raise syntax_error(exc) from None
        else:
            if self._pool is None:
                self._pool = QueryPool(self.root, self._pool_size, in_memory=self.workers_in_memory)
            request = {
                "query": sparql,
                "limit": limit,
                "prefixes": PREFIXES,
                "max_bytes": max_bytes,
            }
            if asserted:
                request["without"] = True
            answer = self._pool.run(request, timeout)
            if answer.get("error") == "syntax":
                raise syntax_error(SyntaxError(answer["message"]))
            if "error" in answer:
                raise StoreUnavailable(f"the query failed in the store: {answer['message']}")
            answer.pop("memory", None)
        return QueryResult(**answer)

    def replace_graphs(
        self,
        graphs: Mapping[str, str],
        drop: tuple[str, ...] = (),
        extend: Mapping[str, str] | None = None,
        expect: str | None = None,
    ) -> None:
        loads = [(g, nt) for g, nt in (*graphs.items(), *(extend or {}).items()) if nt.strip()]
        dropped = (*drop, *graphs)
        try:
            if sum(len(nt) for _, nt in loads) > BULK_BYTES:
                self._replace_in_copy(dropped, loads, expect)
            elif dropped or loads:
                with self._writer(expect=expect) as writer:
                    writer.update(dropped, loads)
        except SyntaxError as exc:
            raise BadInput(f"nothing was written: the data is not valid RDF ({exc})") from None

    def _replace_in_copy(
        self, dropped: tuple[str, ...], loads: list[tuple[str, str]], expect: str | None
    ) -> None:
        """A large write: copy the database (hard links, so cheap), drop and bulk-load in the copy,
        then point the store at the copy. A reader, or a crash at any moment, sees the store
        before or after, never between: the one switch is the atomic rename of ``generation``.
        A transaction of a million triples would take minutes and gigabytes (docs/benchmarks.md).
        """
        with self._writer(expect=expect) as writer:
            old = writer.folder
            fresh = self.root / f"{DATABASE}-{time.time_ns()}"
            quads = fresh.with_suffix(".nq")
            writer.touched = tuple(dict.fromkeys([*dropped, *(g for g, _ in loads)]))
            before = _sizes(writer.store, writer.touched)
            try:
                _write_quads(loads, quads)
                # Replacing the inferred graph (``qikg reason``): start from the copy without
                # it rather than drop a million triples (half a minute).
                current = self._current_copy()
                if INFERRED in dropped and current.exists():
                    ox.Store.read_only(str(current)).backup(str(fresh))
                else:
                    writer.store.backup(str(fresh))
                _bulk_apply(fresh, dropped, quads)
                writer.diff = _size_diff(before, fresh, dropped)
                copy = self._set_copy_aside(writer.store, loads)
                if copy is not None:
                    _update_copy(copy, dropped, loads)
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            finally:
                quads.unlink(missing_ok=True)
            writer.folder = fresh
        shutil.rmtree(old, ignore_errors=True)

    def memory_status(self) -> dict[str, int] | None:
        """For a store read from memory: whether this process's copy is loaded (1, 0; -1 when
        only the workers hold one), and how many query workers answered their last query from
        theirs (of how many holding one); else None."""
        if not self.in_memory:
            return None
        workers = self._pool.workers_in_memory() if self._pool is not None else 0
        copy = isinstance(self._view, MemoryView)
        return {
            "copy": int(self._view.in_memory()) if copy else -1,
            "workers": workers,
            "of": self._pool_size if self.workers_in_memory else 0,
        }

    keeps_history = True

    def history(self) -> hist.History:
        return hist.load(
            self.root, database_dir(self.root), commit_token(read_generation(self.root))
        )

    def undo(self) -> hist.Restored:
        with hist.change("undo"):
            return self._return_to(None)

    def restore(self, version: int) -> hist.Restored:
        with hist.change("restore"):
            return self._return_to(version)

    def _return_to(self, version: int | None) -> hist.Restored:
        """Switch the store to a copy of a kept checkpoint (hard links, so cheap), under the write
        lock: as with a bulk write, a reader or a crash sees the store before or after, never
        between, and the new generation sends readers to the restored database."""
        with self._writer() as writer:
            found = hist.versions(self.root)
            target = hist.target_version(found, version)
            checkpoint = hist.checkpoint_dir(self.root, target.token)
            if not checkpoint.exists():
                kept = [v.number for v in found if v.kept]
                raise BadInput(
                    f"version {target.number} is no longer kept (kept: "
                    f"{', '.join(map(str, kept)) or 'none'}; {hist.KEEP_ENV} sets how many)"
                )
            old = writer.folder
            fresh = self.root / f"{DATABASE}-{time.time_ns()}"
            try:
                ox.Store.read_only(str(checkpoint)).backup(str(fresh))
            except BaseException:
                shutil.rmtree(fresh, ignore_errors=True)
                raise
            shutil.rmtree(self._pending, ignore_errors=True)
            writer.folder = fresh
            writer.restored = target.number
            now, then = _all_sizes(writer.store), _all_sizes(ox.Store.read_only(str(fresh)))
            writer.touched = tuple(g for g in sorted({*now, *then}) if now.get(g) != then.get(g))
            changes = [then.get(g, 0) - now.get(g, 0) for g in writer.touched]
            writer.diff = (
                sum(n for n in changes if n > 0),
                -sum(n for n in changes if n < 0),
                False,
            )
            before = found[-1].state
        shutil.rmtree(old, ignore_errors=True)
        after = hist.versions(self.root)[-1]
        return hist.Restored(target, before, after.state, after.number)

    def _has_inferred(self) -> bool:
        """Whether the inferred graph exists: queries that leave it out then read a copy of the
        database without it (``ReadView``), as the union of all graphs is the fast default."""
        return self._view.read(lambda store: store.contains_named_graph(ox.NamedNode(INFERRED)))

    def _make_copy(self) -> None:
        """Make the copy without the inferred graph if no write carried it over to this commit
        (after a crash): half a minute for a million inferred triples.

        Made under the write lock, from the database opened for writing, so that it holds
        every committed write, even one whose process died before it could flush.
        """
        if self._current_copy().exists():
            return
        with self._writer(commit=False) as writer:
            copy = self._current_copy()
            if copy.exists():  # made while this process waited for the lock
                return
            staged = self._pending
            shutil.rmtree(staged, ignore_errors=True)
            try:
                writer.store.backup(str(staged))
                store = ox.Store(str(staged))
                store.update(_statements((INFERRED,), []))
                store.flush()
                del store
                staged.rename(copy)
            finally:
                shutil.rmtree(staged, ignore_errors=True)

    def graph_names(self) -> list[str]:
        return self._view.read(lambda store: sorted(g.value for g in store.named_graphs()))

    def graph_sizes(self) -> dict[str, int]:
        query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
        rows = self._view.read(lambda store: run_query(store, query, None))["rows"]
        return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}

    def dump(self, fmt: str, graph: str | None = None) -> bytes:
        if fmt not in RDF_FORMATS:
            raise BadInput(f"unknown export format {fmt!r}: use ttl, trig, nq, nt or jsonld")
        rdf_format = RDF_FORMATS[fmt]
        prefixes = PREFIXES if fmt in ("ttl", "trig") else None

        def dump(store: ox.Store) -> bytes:
            if graph is not None:
                if not store.contains_named_graph(ox.NamedNode(graph)):
                    raise BadInput(f"the store has no graph {graph}")
                return (
                    store.dump(format=rdf_format, from_graph=ox.NamedNode(graph), prefixes=prefixes)
                    or b""
                )
            if rdf_format.supports_datasets:
                return store.dump(format=rdf_format, prefixes=prefixes) or b""
            triples = {q.triple for q in store.quads_for_pattern(None, None, None)}
            return ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""

        return self._view.read(dump)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None


def _statements(dropped: tuple[str, ...], loads: list[tuple[str, str]]) -> str:
    """One SPARQL update that drops graphs, then loads N-Triples into graphs."""
    drops = [f"DROP SILENT GRAPH {iri_term(g)}" for g in dropped]
    inserts = [f"INSERT DATA {{ GRAPH {iri_term(g)} {{\n{nt}\n}} }}" for g, nt in loads]
    return " ;\n".join(drops + inserts)


def _all_sizes(database: ox.Store) -> dict[str, int]:
    """Triples per named graph, in one query."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    rows = database.query(query)
    return {r["g"].value: int(r["n"].value) for r in rows}  # type: ignore[union-attr]


def _sizes(database: ox.Store, graphs: tuple[str, ...]) -> dict[str, int]:
    """Triples per graph, by a SPARQL count (no triple reaches Python)."""
    out = {}
    for g in graphs:
        query = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH {iri_term(g)} {{ ?s ?p ?o }} }}"
        solutions = database.query(query)
        assert isinstance(solutions, ox.QuerySolutions)
        out[g] = int(next(iter(solutions))["n"].value)
    return out


def _size_diff(
    before: dict[str, int], database: Path, dropped: tuple[str, ...]
) -> tuple[int, int, bool]:
    """(added, removed, False) from graph sizes: a replaced graph counts as all removed and all
    added, so the counts are upper bounds."""
    after = _sizes(ox.Store.read_only(str(database)), tuple(before))
    added = sum(after[g] if g in dropped else max(0, after[g] - before[g]) for g in before)
    removed = sum(before[g] for g in before if g in dropped)
    return added, removed, False


def _diff(
    database: ox.Store, dropped: tuple[str, ...], loads: list[tuple[str, str]]
) -> tuple[int, int, bool]:
    """Triples a write adds and removes: exact (a set difference of the touched graphs) when they
    are small, else from their sizes before and after (``exact`` False)."""
    touched = tuple(dict.fromkeys([*dropped, *(g for g, _ in loads)]))
    before = _sizes(database, touched)
    if sum(before.values()) > EXACT_DIFF_TRIPLES:
        new_sizes = {g: 0 if g in dropped else before[g] for g in touched}
        for g, nt in loads:
            new_sizes[g] += nt.count("\n")
        added = sum(max(0, new_sizes[g] - (0 if g in dropped else before[g])) for g in touched)
        return added, sum(before[g] for g in touched if g in dropped), False
    old = {
        g: {str(q.triple) for q in database.quads_for_pattern(None, None, None, ox.NamedNode(g))}
        for g in touched
    }
    new = {g: set() if g in dropped else set(old[g]) for g in touched}
    for g, nt in loads:
        new[g].update(str(t) for t in ox.parse(nt, format=ox.RdfFormat.N_TRIPLES))
    added = sum(len(new[g] - old[g]) for g in touched)
    removed = sum(len(old[g] - new[g]) for g in touched)
    return added, removed, True


def _update_copy(copy: Path, dropped: tuple[str, ...], loads: list[tuple[str, str]]) -> None:
    """Apply a write, less the inferred graph, to the copy without it; no reader sees the copy
    until the write commits, so a large load goes in without a transaction."""
    dropped = tuple(g for g in dropped if g != INFERRED)
    loads = [(g, nt) for g, nt in loads if g != INFERRED]
    if sum(len(nt) for _, nt in loads) > BULK_BYTES:
        quads = copy.with_suffix(".nq")
        try:
            _write_quads(loads, quads)
            _bulk_apply(copy, dropped, quads)
        finally:
            quads.unlink(missing_ok=True)
    elif dropped or loads:
        store = ox.Store(str(copy))
        store.update(_statements(dropped, loads))
        store.flush()
        del store


def _bulk_apply(database: Path, dropped: tuple[str, ...], quads: Path) -> None:
    """Drop graphs, then bulk-load an N-Quads file, outside any transaction: only into a
    database that no reader sees yet."""
    store = ox.Store(str(database))
    if dropped:
        store.update(_statements(dropped, []))
    store.bulk_load(path=str(quads), format=ox.RdfFormat.N_QUADS)
    store.flush()
    del store


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
