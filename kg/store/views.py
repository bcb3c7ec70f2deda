"""Read-only views of an embedded store's database, and the files that say which database is
current: the ``generation`` file a commit rewrites, and the ``writer`` file of the process that
holds the store for writing. Used by the store itself, its query workers and its copy in memory.
"""

from __future__ import annotations

import os
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
        return retry_when_moved(lambda: action(self.get()), self._reopen)

    def _reopen(self) -> None:
        self._store = None


def retry_when_moved(action: Callable[[], T], reopen: Callable[[], None] = lambda: None) -> T:
    """Run ``action``; if a writer moved the database's files away under it, ``reopen`` and try
    again, a few times."""
    for attempt in range(8):
        try:
            return action()
        except (OSError, RuntimeError) as exc:
            if attempt == 7 or not moved_by_writer(exc):
                raise
            reopen()
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
    # Read before every query: as bytes (a text file's decoder was a third of the 20 µs it took).
    marker = os.path.join(root, "writer")
    try:
        with open(marker, "rb") as f:
            pid = int(f.read().split()[1])
        stamp = os.stat(marker).st_mtime_ns
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
        with open(os.path.join(root, "generation"), "rb") as f:
            return f.read().decode()
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
