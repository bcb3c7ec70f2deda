"""What every verb shares: the store it works on, opened once and built on first use."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from kg.store import Store, open_store

if TYPE_CHECKING:
    from kg.store.memory import InMemory


class Context:
    """The CLI's state for one invocation."""

    def __init__(self, store: str | None, debug: bool) -> None:
        self.descriptor = store
        self.debug = debug
        self._store: Store | None = None
        #: Query workers of an embedded store (``qikg serve --workers``).
        self.workers = 2
        #: Where an embedded store holds a copy in memory: ``qikg serve``'s query workers, which
        #: run long (kg.store.memory).
        self.in_memory: InMemory = False

    def store(self, build_if_empty: bool = True) -> Store:
        """The store, built from the bundled ontology and studies if it is still empty."""
        if self._store is None:
            self._store = open_store(self.descriptor, self.workers, self.in_memory)
            if build_if_empty and self._store.is_empty():
                from kg.build import build

                click.echo("qikg: the store is empty; building it from the bundled data…", err=True)
                build(self._store)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()


pass_context = click.make_pass_decorator(Context)
