"""The asserted knowledge of a store as rdflib triples, for the engines that reason in memory."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import rdflib

from kg.namespaces import ONTOLOGY_GRAPH
from kg.store import Store

Triple = tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]


@dataclass
class Asserted:
    """The ontology graph, and every other asserted triple with the graphs that hold it."""

    ontology: rdflib.Graph
    data: dict[Triple, set[str]]

    @classmethod
    def from_store(cls, store: Store) -> Asserted:
        """Read the graphs a query sees without inference (the ontology and the study graphs)."""
        ontology = rdflib.Graph()
        data: dict[Triple, set[str]] = defaultdict(set)
        for name in store.default_graphs(include_inferred=False):
            text = store.dump("nt", name).decode()
            if name == str(ONTOLOGY_GRAPH):
                ontology.parse(data=text, format="nt")
                continue
            for triple in rdflib.Graph().parse(data=text, format="nt"):
                data[triple].add(name)
        return cls(ontology, dict(data))

    def graph(self, data: Iterable[Triple] | None = None) -> rdflib.Graph:
        """The ontology with ``data`` (default: all data triples) as one rdflib graph."""
        out = rdflib.Graph()
        out += self.ontology
        for triple in self.data if data is None else data:
            out.add(triple)
        return out
