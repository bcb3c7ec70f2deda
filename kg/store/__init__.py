"""Stores: one interface, two backends, chosen by a descriptor (a folder path or an http(s) URL)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from kg.store.base import Store, on_current_version

if TYPE_CHECKING:
    from kg.store.memory import InMemory


def default_location() -> str:
    """Where the store lives when neither ``--store`` nor ``QIKG_STORE`` says: a per-user folder."""
    return os.environ.get("QIKG_STORE") or str(Path(platformdirs.user_data_dir("qikg")) / "store")


def open_store(
    descriptor: str | None = None,
    workers: int = 2,
    in_memory: InMemory = False,
) -> Store:
    """Open the store a descriptor names: an ``http(s)://`` SPARQL endpoint or a folder path;
    ``workers`` is how many queries with a time limit an embedded store runs at once, and
    ``in_memory`` where it holds a copy in memory (kg.store.memory.InMemory; for long-running
    readers; an embedded store only, and only if ``QIKG_READ_IN_MEMORY`` allows).

    >>> import tempfile
    >>> type(open_store(tempfile.mkdtemp())).__name__
    'EmbeddedStore'
    """
    where = descriptor or default_location()
    if where.startswith(("http://", "https://")):
        from kg.store.remote import RemoteStore

        return RemoteStore(where)
    from kg.store.embedded import EmbeddedStore
    from kg.store.memory import enabled

    return EmbeddedStore(where, pool_size=workers, in_memory=in_memory if enabled() else False)


__all__ = ["Store", "default_location", "on_current_version", "open_store"]
