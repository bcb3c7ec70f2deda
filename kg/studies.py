"""The studies a store holds: their ids, one study's stored graph as the importers and the sheet
exporter read it back, and which of its nodes came from a QDA project (each source of a study
replaces only what it gave)."""

from __future__ import annotations

import rdflib
from rdflib.namespace import PROV
from rdflib.term import Node

from kg.namespaces import DATA, SHARED_GRAPH, study_graph
from kg.sparql import iri_term
from kg.store import Store

#: The first path segment, below ``qikgd:{study}/``, of every node a QDA import writes.
QDA_PARTS = ("codebook", "code", "set", "source", "quote", "coding", "note")


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


def is_qda_node(study_id: str, iri: str) -> bool:
    """True for the IRIs a QDA import mints in a study (codes, quotes, sources, ...).

    >>> is_qda_node("s1", "https://w3id.org/qikg/data/s1/quote/x/target")
    True
    """
    rest = iri.removeprefix(f"{DATA}{study_id}/")
    return rest != iri and rest.split("/", 1)[0] in QDA_PARTS


def qda_subjects(stored: rdflib.Graph, study_id: str) -> set[Node]:
    """The nodes of a study's stored graph that came from a QDA import: what it minted, and
    what was derived from that (findings of finding codes)."""
    derived = {
        s for s, o in stored.subject_objects(PROV.wasDerivedFrom) if is_qda_node(study_id, str(o))
    }
    return {s for s in stored.subjects() if s in derived or is_qda_node(study_id, str(s))}
