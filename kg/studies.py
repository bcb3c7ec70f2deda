"""The studies a store holds: their ids, and one study's stored graph as the importers and the
sheet exporter read it back."""

from __future__ import annotations

import rdflib

from kg.namespaces import SHARED_GRAPH, study_graph
from kg.sparql import iri_term
from kg.store import Store


def study_ids(store: Store) -> list[str]:
    """The ids of the studies in the store."""
    prefix = study_graph("")
    return sorted(g[len(prefix) :] for g in store.graph_names() if g.startswith(prefix))


def stored_study(store: Store, sid: str) -> rdflib.Graph:
    """A stored study's graph plus the shared descriptions (coders, programmes) it points to."""
    graph = iri_term(study_graph(sid))
    described = store.query(
        f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
            {{ GRAPH {graph} {{ ?s ?p ?o }} }}
            UNION {{ GRAPH {graph} {{ ?x ?q ?s }} GRAPH {iri_term(SHARED_GRAPH)} {{ ?s ?p ?o }} }}
        }}"""
    )
    return rdflib.Graph().parse(data=described.ntriples, format="nt")
