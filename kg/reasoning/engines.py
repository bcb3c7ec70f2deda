"""The engines that reason in memory over rdflib triples: owlrl and HermiT.

Each returns its closure (HermiT: class memberships only); kg.reasoning cuts it down to the
profile (TBox.in_profile), adds the CFIR rule and drops what is asserted, so all engines answer
the same question. The CFIR rule is not OWL: it always comes from kg.reasoning.construct.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import owlready2
import owlrl
import rdflib
from rdflib.namespace import RDF

from kg.errors import DataProblem
from kg.reasoning.asserted import Triple
from kg.reasoning.hermit import load_world, run_hermit


def owlrl_closure(graph: rdflib.Graph) -> Iterable[Triple]:
    """The OWL 2 RL closure by owlrl (pure Python: slow beyond a few thousand triples)."""
    closed = rdflib.Graph()
    closed += graph
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(closed)
    return closed


def hermit_types(graph: rdflib.Graph) -> Iterator[Triple]:
    """Every individual's classes after HermiT has classified and realised the graph.

    Only class membership: HermiT's property-value output (``-Y``) leaves out super-properties
    such as ``qikg:codedWith``, and owlready2's ``INDIRECT_`` values chain different transitive
    sub-properties together (docs/reasoning.md), so property assertions come from the rules.
    """
    world = load_world(graph)
    if not run_hermit(world):
        raise DataProblem("inconsistent: run `qikg reason --check-only` to see the clash")
    nodes = {n for triple in graph for n in triple if isinstance(n, rdflib.URIRef)}
    for node in sorted(nodes):  # world.individuals() lists declared owl:NamedIndividuals only
        individual = world[str(node)]
        if isinstance(individual, owlready2.Thing):
            for cls in individual.INDIRECT_is_a:
                if isinstance(cls, owlready2.ThingClass):
                    yield node, RDF.type, rdflib.URIRef(cls.iri)
