"""The store interface: what every backend (embedded Oxigraph, remote SPARQL server) offers."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from kg.errors import BadInput, Conflict
from kg.namespaces import GRAPH, INFERRED_GRAPH
from kg.sparql import QueryResult

if TYPE_CHECKING:
    from kg.store.history import History, Restored


class NotKept(BadInput):
    """History, undo and restore on a backend that keeps no versions."""


class Store(ABC):
    """A quad store holding qikg's named graphs.

    Queries see the union of the ontology, study and (optionally) inferred graphs as their
    default graph. Writes replace whole named graphs in one transaction: all or nothing.
    """

    descriptor: str

    @abstractmethod
    def query(
        self,
        sparql: str,
        *,
        timeout: float | None = None,
        limit: int | None = None,
        include_inferred: bool = True,
        max_bytes: int | None = None,
    ) -> QueryResult:
        """Run a read-only SPARQL query; ``limit`` caps rows (or triples), ``max_bytes`` their
        text, ``timeout`` is in seconds. The query is parsed and refused unless it only reads
        this store (kg.sparql.check_read_only).

        The qikg prefixes (kg.namespaces.PREFIXES) are predeclared; a syntax error names the
        line and column of ``sparql`` as given.
        """

    @abstractmethod
    def replace_graphs(
        self,
        graphs: Mapping[str, str],
        drop: tuple[str, ...] = (),
        extend: Mapping[str, str] | None = None,
        expect: str | None = None,
    ) -> None:
        """In one transaction: drop ``drop`` and each graph named in ``graphs``, load each graph's
        N-Triples text into it, and add ``extend``'s N-Triples to their graphs (kept as they are).

        With ``expect`` (a ``version()`` read earlier), commit only if no other write committed
        since, else raise Conflict and write nothing: a writer that read, merged and checked
        cannot overwrite what another writer added meanwhile."""

    @abstractmethod
    def graph_sizes(self) -> dict[str, int]:
        """Triple count per named graph."""

    @abstractmethod
    def dump(self, fmt: str, graph: str | None = None) -> bytes:
        """Serialize one graph, or with ``graph=None`` every graph (trig/nq) or their union."""

    def close(self) -> None:  # noqa: B027 - most backends hold nothing open
        """Release what the store holds open."""

    def version(self) -> str | None:
        """A token that changes with every committed write, or None where the backend keeps
        none (readers then re-read after a while). Both backends keep one: the embedded store's
        generation, a server's commit counter (kg.store.remote_history)."""
        return None

    #: Whether the backend records its writes and can return to a version (docs/history.md).
    def memory_status(self) -> dict[str, int] | None:
        """For a store read from a copy in memory (kg.store.memory), how far the copies are
        loaded; None for a store that reads from where it keeps its data."""
        return None

    keeps_history = False

    def refuse_history(self, what: str) -> NotKept:
        """The one-line refusal of ``what`` (history, undo, restore, remove) on a backend that
        keeps no versions; raised before any connection is made."""
        return NotKept(
            f"{what} is not available on this store ({type(self).__name__}): it keeps no "
            "versions to return to (docs/history.md)"
        )

    def history(self) -> History:
        """Every recorded write, as versions, oldest first (kg.store.history)."""
        raise self.refuse_history("qikg history")

    def undo(self) -> Restored:
        """Return the store to the version before the latest; itself recorded as a version."""
        raise self.refuse_history("qikg undo")

    def restore(self, version: int) -> Restored:
        """Return the store to a kept version; itself recorded as a version."""
        raise self.refuse_history("qikg restore")

    def graph_names(self) -> list[str]:
        """The named graphs, without counting their triples where the backend allows."""
        return list(self.graph_sizes())

    def is_empty(self) -> bool:
        """True when the store holds no qikg graph yet."""
        return not any(g.startswith(str(GRAPH)) for g in self.graph_names())

    def default_graphs(self, include_inferred: bool = True) -> list[str]:
        """The named graphs a query reads by default."""
        return visible_graphs(self.graph_names(), include_inferred)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def visible_graphs(graphs: list[str], include_inferred: bool) -> list[str]:
    """Of these graphs, those a query reads by default: all, or all but the inferred graph.

    Every graph (shapes and bookkeeping included) is in the default graph on every backend: the
    embedded store answers from the union of its graphs, because naming thousands of study graphs
    one by one makes Oxigraph joins minutes slow, and the other backends follow it so answers
    stay alike.
    """
    return [g for g in graphs if include_inferred or g != str(INFERRED_GRAPH)]


T = TypeVar("T")
#: How often a write is done again when another write committed while it was being prepared.
WRITE_ATTEMPTS = 5


def on_current_version(store: Store, write: Callable[[str | None], T]) -> T:
    """``write(version)``: read the store, decide, and commit with ``expect=version``; done again
    from the start on the new store whenever another write committed in between (Conflict), so
    what is in the store is decided at the commit, not before."""
    for attempt in range(1, WRITE_ATTEMPTS + 1):
        try:
            return write(store.version())
        except Conflict:
            if attempt == WRITE_ATTEMPTS:
                raise
    raise AssertionError("unreachable")
