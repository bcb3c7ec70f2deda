"""What the ontology says about classes and properties, read once and used by every engine.

The entailments qikg materialises (docs/reasoning.md) are fixed by a few kinds of axiom:
``rdfs:subClassOf``/``owl:equivalentClass`` between named classes, ``rdfs:domain``/``rdfs:range``
with a named class, and the property axioms ``rdfs:subPropertyOf``, ``owl:equivalentProperty``,
``owl:inverseOf``, ``owl:SymmetricProperty``, ``owl:TransitiveProperty`` and
``owl:propertyChainAxiom``. ``TBox`` holds their
closure, so the SPARQL engine can write each entailment as one pattern and every engine's output
can be cut down to the same profile.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

import rdflib
import rdflib.collection
from rdflib.namespace import OWL, RDF, RDFS

from kg.namespaces import ONTOLOGY_GRAPH
from kg.store import Store

IRI = str
#: A property or its inverse: ``(property IRI, inverted)``.
Role = tuple[IRI, bool]
T = TypeVar("T")


@dataclass(frozen=True)
class TBox:
    """The closed class and property hierarchy of the ontology (IRIs as strings)."""

    classes: frozenset[IRI]
    superclasses: dict[IRI, frozenset[IRI]]
    object_properties: frozenset[IRI]
    datatype_properties: frozenset[IRI]
    implied: dict[Role, frozenset[Role]]
    transitive: frozenset[IRI]
    domains: dict[IRI, frozenset[IRI]]
    ranges: dict[IRI, frozenset[IRI]]
    disjoint: frozenset[tuple[IRI, IRI]]
    chains: dict[IRI, list[tuple[Role, ...]]]
    entities: frozenset[IRI]

    @classmethod
    def from_store(cls, store: Store) -> TBox:
        """Read the ontology graph of a store."""
        if str(ONTOLOGY_GRAPH) not in store.graph_names():
            return cls.from_graph(rdflib.Graph())
        text = store.dump("nt", str(ONTOLOGY_GRAPH)).decode()
        return cls.from_graph(rdflib.Graph().parse(data=text, format="nt"))

    @classmethod
    def from_graph(cls, graph: rdflib.Graph) -> TBox:
        """Read an ontology from an rdflib graph.

        >>> g = rdflib.Graph().parse(data='''
        ...   @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix : <urn:x:> .
        ...   :A a owl:Class . :B a owl:Class ; <http://www.w3.org/2000/01/rdf-schema#subClassOf> :A .
        ...   :p a owl:ObjectProperty ; owl:inverseOf :q . :q a owl:ObjectProperty .''', format="turtle")
        >>> tbox = TBox.from_graph(g)
        >>> sorted(tbox.superclasses["urn:x:B"]), sorted(tbox.implied[("urn:x:p", False)])
        (['urn:x:A'], [('urn:x:p', False), ('urn:x:q', True)])
        """

        def named(kind: rdflib.URIRef) -> set[IRI]:
            return {str(s) for s in graph.subjects(RDF.type, kind) if isinstance(s, rdflib.URIRef)}

        classes = (named(OWL.Class) | named(RDFS.Class)) - {str(OWL.Thing), str(OWL.Nothing)}
        objects = named(OWL.ObjectProperty)
        datatypes = named(OWL.DatatypeProperty)
        properties = objects | datatypes

        def pairs(predicate: rdflib.URIRef, among: set[IRI]) -> list[tuple[IRI, IRI]]:
            return [
                (str(s), str(o))
                for s, o in graph.subject_objects(predicate)
                if str(s) in among and str(o) in among
            ]

        up: dict[IRI, set[IRI]] = defaultdict(set)
        for a, b in pairs(RDFS.subClassOf, classes):
            up[a].add(b)
        for a, b in pairs(OWL.equivalentClass, classes):
            up[a].add(b)
            up[b].add(a)
        superclasses = {c: frozenset(reach(c, up) - {c}) for c in classes}

        edges: dict[Role, set[Role]] = defaultdict(set)
        for p, q in pairs(RDFS.subPropertyOf, properties):
            edges[(p, False)].add((q, False))
            edges[(p, True)].add((q, True))
        for p, q in pairs(OWL.equivalentProperty, properties):
            for inverted in (False, True):
                edges[(p, inverted)].add((q, inverted))
                edges[(q, inverted)].add((p, inverted))
        for p, q in pairs(OWL.inverseOf, objects):
            for inverted in (False, True):
                edges[(p, inverted)].add((q, not inverted))
                edges[(q, inverted)].add((p, not inverted))
        for p in named(OWL.SymmetricProperty) & objects:
            edges[(p, False)].add((p, True))
            edges[(p, True)].add((p, False))
        implied = {
            (p, inverted): frozenset(reach((p, inverted), edges))
            for p in properties
            for inverted in ((False, True) if p in objects else (False,))
        }

        def same(a: Role, b: Role) -> bool:
            return b in implied[a] and a in implied[b]

        transitive = {  # declared transitive, or equivalent to one or to its inverse
            p
            for p in objects
            for t in named(OWL.TransitiveProperty) & objects
            if same((p, False), (t, False)) or same((p, False), (t, True))
        }

        def upward(predicate: rdflib.URIRef) -> dict[IRI, frozenset[IRI]]:
            found: dict[IRI, set[IRI]] = defaultdict(set)
            for p, c in graph.subject_objects(predicate):
                if str(p) in properties and str(c) in classes:
                    found[str(p)] |= {str(c), *superclasses[str(c)]}
            return {p: frozenset(cs) for p, cs in found.items()}

        disjoint = set(pairs(OWL.disjointWith, classes))
        for axiom in graph.subjects(RDF.type, OWL.AllDisjointClasses):
            for members in graph.objects(axiom, OWL.members):
                listed = [str(c) for c in rdflib.collection.Collection(graph, members)]
                disjoint |= {(a, b) for a in listed for b in listed if a != b}
        disjoint |= {(b, a) for a, b in disjoint}

        chains: dict[IRI, list[tuple[Role, ...]]] = defaultdict(list)
        for prop, members in graph.subject_objects(OWL.propertyChainAxiom):
            chain = tuple(_role(graph, m) for m in rdflib.collection.Collection(graph, members))
            if str(prop) in objects and all(r[0] in objects for r in chain):
                chains[str(prop)].append(chain)

        entities = classes | properties | named(OWL.AnnotationProperty) | named(OWL.Ontology)
        return cls(
            classes=frozenset(classes),
            superclasses=superclasses,
            object_properties=frozenset(objects),
            datatype_properties=frozenset(datatypes),
            implied=implied,
            transitive=frozenset(transitive),
            domains=upward(RDFS.domain),
            ranges=upward(RDFS.range),
            disjoint=frozenset((a, b) for a, b in disjoint if a in classes and b in classes),
            chains=dict(chains),
            entities=frozenset(entities),
        )

    def producers(self, prop: IRI) -> list[tuple[IRI, bool]]:
        """The other properties whose assertions entail ``prop`` assertions, sorted: ``(p, True)``
        when ``x p y`` entails ``y prop x``, ``(p, False)`` when it entails ``x prop y``.

        >>> g = rdflib.Graph().parse(data='''
        ...   @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix : <urn:x:> .
        ...   :p a owl:ObjectProperty ; owl:inverseOf :q . :q a owl:ObjectProperty .''', format="turtle")
        >>> TBox.from_graph(g).producers("urn:x:q")
        [('urn:x:p', True)]
        """
        return sorted(
            (p, inverted)
            for (p, backwards), implied in self.implied.items()
            if not backwards
            for inverted in (False, True)
            if (prop, inverted) in implied and (p, inverted) != (prop, False)
        )

    def types_from_subject(self, predicate: IRI) -> frozenset[IRI]:
        """The named classes the subject of a ``predicate`` assertion belongs to (domains, and
        ranges through inverses, with their superclasses)."""
        return self._node_types(predicate, False)

    def types_from_object(self, predicate: IRI) -> frozenset[IRI]:
        """The named classes the object of a ``predicate`` assertion belongs to."""
        return self._node_types(predicate, True)

    def _node_types(self, predicate: IRI, of_object: bool) -> frozenset[IRI]:
        found: set[IRI] = set()
        for q, inverted in self.implied.get((predicate, False), ()):
            side = self.ranges if inverted != of_object else self.domains
            found |= side.get(q, frozenset())
        return frozenset(found)

    def in_profile(self, s: rdflib.term.Node, p: rdflib.term.Node, o: rdflib.term.Node) -> bool:
        """Whether a triple is one of the entailments qikg materialises: an individual's
        membership of a named class, or an assertion of a declared object or datatype property.

        >>> tbox = TBox.from_graph(rdflib.Graph())
        >>> tbox.in_profile(rdflib.URIRef("urn:a"), RDF.type, OWL.Thing)
        False
        """
        if not isinstance(s, rdflib.URIRef) or str(s) in self.entities:
            return False
        if p == RDF.type:
            return str(o) in self.classes
        if str(p) in self.object_properties:
            return isinstance(o, rdflib.URIRef)
        return str(p) in self.datatype_properties and isinstance(o, rdflib.Literal)

    def subclasses_of(self, cls: IRI) -> list[IRI]:
        """``cls`` and every named class below it, sorted."""
        return sorted({cls} | {c for c, sup in self.superclasses.items() if cls in sup})


def _role(graph: rdflib.Graph, node: rdflib.term.Node) -> Role:
    """A property chain member: a property, or ``[ owl:inverseOf p ]`` for its inverse."""
    inverse = graph.value(node, OWL.inverseOf) if isinstance(node, rdflib.BNode) else None
    return (str(inverse), True) if inverse is not None else (str(node), False)


def reach(start: T, edges: Mapping[T, Iterable[T]]) -> set[T]:
    """Every node reachable from ``start`` (``start`` included)."""
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
