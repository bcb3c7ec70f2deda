"""Reads from memory: the embedded store's database copied into memory and kept current.

Long-running readers (the explorer's pages, ``qikg serve``'s query workers) answer from an
in-memory Oxigraph store, several times faster than reading the RocksDB database on disk
(docs/benchmarks.md). One-shot commands stay on disk: loading takes longer than their query.

The copy follows every commit. The history (kg.store.history) names the graphs each commit
touched; only those are read again, from a read-only handle opened while no writer holds the
store, and applied in one transaction, so a query sees the store as it was before a commit or
after it, never between. What the history cannot account for (an undo or restore, a build of
many graphs, a writer that died) reloads the whole copy, while queries go on answering from the
old one. ``QIKG_READ_IN_MEMORY=0`` turns memory reads off.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Literal

import pyoxigraph as ox

from kg.sparql import iri_term
from kg.store.history import changed_graphs
from kg.store.views import (
    ReadView,
    commit_token,
    database_dir,
    read_generation,
    retry_when_moved,
    store_version,
    writer_running,
)

SETTING = "QIKG_READ_IN_MEMORY"
#: Where a long-running reader holds a copy: True in its own process and in each query worker,
#: ``"process"`` in its own process only (its workers read the disk: one copy in all),
#: ``"workers"`` in its query workers only; False nowhere.
InMemory = bool | Literal["process", "workers"]
#: Bytes of memory a copy takes per byte of the database on disk (measured at 100k findings:
#: about 2; docs/benchmarks.md), with room to spare: what a query worker's memory cap allows for.
COPY_PER_DISK_BYTE = 3


def enabled() -> bool:
    """Whether long-running readers hold the store in memory (``QIKG_READ_IN_MEMORY``, on unless
    ``0``, ``no`` or ``off``)."""
    return os.environ.get(SETTING, "1").strip().lower() not in ("0", "no", "off", "false")


class MemoryView(ReadView):
    """The store's data in memory, brought up to the latest commit before each read. Until the
    first copy is loaded (``load_in_background``), reads go to the database on disk."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self._copy: ox.Store | None = None
        self._copy_version = ""
        self._token = ""
        self._lock = threading.Lock()
        self._loading = threading.Event()

    def load_in_background(self) -> None:
        """Start loading the copy; reads meanwhile answer from disk, at disk speed."""
        self._loading.set()
        threading.Thread(target=self._load, daemon=True, name="qikg-memory-load").start()

    def in_memory(self) -> bool:
        return self._copy is not None

    def _load(self) -> None:
        try:
            with self._lock:
                self._follow(store_version(self.root))
        finally:  # a load that failed is tried again by the next read, which then says why
            self._loading.clear()

    def get(self) -> ox.Store:
        version = store_version(self.root)
        if self._copy is not None and version == self._copy_version:
            return self._copy
        # One thread brings the copy up to date; the others read the copy as it was meanwhile
        # (a whole earlier commit), or the disk while the first copy loads in the background.
        if self._copy is None and self._loading.is_set():
            return super().get()
        if self._lock.acquire(blocking=False):
            try:
                self._follow(version)
            finally:
                self._lock.release()
        return super().get() if self._copy is None else self._copy

    def _follow(self, version: str) -> None:
        """Apply the commits since the copy was made, or load the whole store; a database
        folder a bulk write moved away meanwhile is read again."""
        retry_when_moved(lambda: self._catch_up(version))

    def _catch_up(self, version: str) -> None:
        if self._copy is not None and version == self._copy_version:
            return  # another thread did it while this one waited
        # The database may hold a commit its generation does not name yet (a writer between its
        # flush and its switch), and the history names a commit's graphs only once it is
        # recorded: so graphs are read again only while no writer runs, checked after reading.
        graphs = None
        if self._copy is not None and " dead " not in version:
            if writer_running(self.root):
                return  # read the last commit until the write ends
            generation = read_generation(self.root)
            graphs = changed_graphs(self.root, self._token, commit_token(generation))
        if graphs is None:  # a whole commit, whatever a writer does meanwhile
            generation = read_generation(self.root)
            disk = ox.Store.read_only(str(database_dir(self.root, generation)))
            fresh = ox.Store()
            # As N-Quads text: dump and bulk_load let other threads run (the GIL is released),
            # where bulk_extend over Python quads held it for the whole load (92 s at 100k).
            dumped = disk.dump(format=ox.RdfFormat.N_QUADS) or b""
            fresh.bulk_load(dumped, format=ox.RdfFormat.N_QUADS)
            del dumped
            self._copy, self._token, self._copy_version = fresh, commit_token(generation), version
            return
        disk = ox.Store.read_only(str(database_dir(self.root, generation)))
        update = _replacement(disk, graphs)
        if writer_running(self.root) or read_generation(self.root) != generation:
            return  # a writer came in while this was read: the next read tries again
        assert self._copy is not None
        if update:
            self._copy.update(update)
        self._token, self._copy_version = commit_token(generation), version


def _replacement(disk: ox.Store, graphs: set[str]) -> str:
    """One SPARQL update that makes each of ``graphs`` in memory what it is on disk."""
    statements = []
    for graph in sorted(graphs):
        name = ox.NamedNode(graph)
        triples = [q.triple for q in disk.quads_for_pattern(None, None, None, name)]
        statements.append(f"DROP SILENT GRAPH {iri_term(graph)}")
        if triples:
            text = (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
            statements.append(f"INSERT DATA {{ GRAPH {iri_term(graph)} {{\n{text}\n}} }}")
    return " ;\n".join(statements)
