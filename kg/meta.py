"""qikg's notes about the store, kept in its meta graph: whether the inferred graph is still
current. Every write that changes data sets the stale flag; ``qikg reason`` clears it."""

from __future__ import annotations

from collections.abc import Collection

from kg.namespaces import INFERRED_GRAPH, META_GRAPH, QIKG, XSD
from kg.sparql import iri_term
from kg.store import Store


def stale_flag() -> str:
    """The meta graph's N-Triples saying the inferred graph is stale (a write changed data)."""
    return f'{iri_term(INFERRED_GRAPH)} {iri_term(QIKG.stale)} "true"^^{iri_term(XSD.boolean)} .\n'


def inferred_state(store: Store, graphs: Collection[str] | None = None) -> str:
    """``current``, ``stale`` (data changed since the last reasoning) or ``absent``; ``graphs``
    are the store's graph names when the caller has them."""
    graphs = store.graph_names() if graphs is None else graphs
    if str(INFERRED_GRAPH) not in graphs:
        return "absent"
    stale = store.query(
        f"ASK {{ GRAPH {iri_term(META_GRAPH)} "
        f"{{ {iri_term(INFERRED_GRAPH)} {iri_term(QIKG.stale)} true }} }}"
    ).boolean
    return "stale" if stale else "current"
