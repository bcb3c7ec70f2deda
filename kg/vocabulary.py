"""Resolve a researcher's words to ontology concepts: labels, CURIEs or IRIs, within a kind.

A coding sheet names concepts the way people write them ("nurse", "PDSA", "qikg:Nurse"). Each
column expects one kind of concept; a word resolves only within that kind, case-insensitively,
and an unknown word gets the closest labels as suggestions.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import rdflib
from rapidfuzz import fuzz, process
from rdflib.namespace import DCTERMS, OWL, RDF, SKOS

from kg.coding import DIMENSIONS, QUALIFIERS
from kg.namespaces import ONTOLOGY_GRAPH, QIKG, curie, expand
from kg.sparql import iri_term, sparql_prefixes

if TYPE_CHECKING:
    from kg.store import Store

#: What each concept column of a coding sheet accepts, and how to name that kind in a message.
COLUMN_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    **{d.column: (d.kind_iris, d.kind_name) for d in DIMENSIONS + QUALIFIERS},
    "design": ((str(QIKG.StudyDesign),), "a study design"),
}


class Unresolved(ValueError):
    """A word that names no concept of the expected kind, or more than one."""


@dataclass
class Concept:
    iri: str
    label: str
    kinds: set[str] = field(default_factory=set)


class Vocabulary:
    """An index of concepts by lower-cased label, with each concept's kinds (OWL classes).

    >>> g = rdflib.Graph()
    >>> _ = g.parse(data='''@prefix qikg: <https://w3id.org/qikg/ontology#> .
    ... @prefix skos: <http://www.w3.org/2004/02/skos/core#> .
    ... qikg:Nurse a skos:Concept, qikg:ProfessionalGroup ; skos:prefLabel "nurse"@en ;
    ...   skos:altLabel "sygeplejerske"@da .''', format="turtle")
    >>> vocab = Vocabulary.from_graph(g)
    >>> vocab.resolve("Nurse", "professional_groups")
    'https://w3id.org/qikg/ontology#Nurse'
    >>> vocab.resolve("nurces", "professional_groups")
    Traceback (most recent call last):
    ...
    kg.vocabulary.Unresolved: "nurces" is not a professional group; did you mean "nurse"?
    """

    def __init__(
        self,
        rows: list[tuple[str, str, str, bool]],
        retired: dict[str, tuple[str, str | None]] | None = None,
        barriers: set[str] | None = None,
    ) -> None:
        """``rows``: (concept IRI, kind IRI, label, is_preferred_label); ``retired``: each
        deprecated concept's replacement and the outcome direction its label implied;
        ``barriers``: the determinants named as barriers (qikg:BarrierNamedDeterminants)."""
        self.retired = retired or {}
        self.barriers = barriers or set()
        self.concepts: dict[str, Concept] = {}
        self.by_label: dict[str, set[str]] = defaultdict(set)
        for iri, kind, label, preferred in rows:
            concept = self.concepts.setdefault(iri, Concept(iri, label))
            if preferred:
                concept.label = label
            concept.kinds.add(kind)
            self.by_label[label.strip().casefold()].add(iri)

    @classmethod
    def from_graph(cls, graph: rdflib.Graph) -> Vocabulary:
        """Index the concepts of an rdflib graph (e.g. the ontology files)."""
        rows = []
        for concept in set(graph.subjects(RDF.type, SKOS.Concept)):
            kinds = [str(k) for k in graph.objects(concept, RDF.type)]
            labels = [(lit, True) for lit in graph.objects(concept, SKOS.prefLabel)]
            labels += [(lit, False) for lit in graph.objects(concept, SKOS.altLabel)]
            labels.sort(key=lambda pair: getattr(pair[0], "language", None) not in (None, "en"))
            for kind in kinds:
                for label, preferred in labels:
                    english = getattr(label, "language", None) in (None, "en")
                    rows.append((str(concept), kind, str(label), preferred and english))
        retired = {}
        for concept in graph.subjects(OWL.deprecated, rdflib.Literal(True)):
            replacement = graph.value(concept, DCTERMS.isReplacedBy)
            if replacement is not None:
                direction = graph.value(concept, QIKG.replacedWithDirection)
                retired[str(concept)] = (str(replacement), str(direction) if direction else None)
        barriers = {str(m) for m in graph.objects(QIKG.BarrierNamedDeterminants, SKOS.member)}
        return cls(rows, retired, barriers)

    @classmethod
    def from_store(cls, store: Store) -> Vocabulary:
        """Index the concepts of the store's ontology graph (see kg.store).

        Only the ontology graph is read, so the cost does not grow with the studies; a study's own
        codes (imported from a QDA project, in its graph) are mapped to the vocabulary, not in it.
        """
        result = store.query(
            sparql_prefixes()
            + f"""SELECT ?c ?kind ?label ?pref WHERE {{ GRAPH {iri_term(ONTOLOGY_GRAPH)} {{
                ?c a skos:Concept ; a ?kind .
                {{ ?c skos:prefLabel ?label BIND(lang(?label) IN ("", "en") AS ?pref) }}
                UNION {{ ?c skos:altLabel ?label BIND(false AS ?pref) }}
            }} }}"""
        )
        retired = store.query(
            sparql_prefixes()
            + f"""SELECT ?c ?by ?direction WHERE {{ GRAPH {iri_term(ONTOLOGY_GRAPH)} {{
                ?c owl:deprecated true ; dcterms:isReplacedBy ?by .
                OPTIONAL {{ ?c qikg:replacedWithDirection ?direction }}
            }} }}"""
        )
        barriers = store.query(
            sparql_prefixes()
            + f"""SELECT ?m WHERE {{ GRAPH {iri_term(ONTOLOGY_GRAPH)} {{
                qikg:BarrierNamedDeterminants skos:member ?m }} }}"""
        )
        # ?c, ?kind and ?label are bound in every row
        return cls(
            [
                (c, kind, label, r["pref"] == "true")
                for r in result.values()
                if (c := r["c"]) is not None
                and (kind := r["kind"]) is not None
                and (label := r["label"]) is not None
            ],
            {
                c: (by, r["direction"])
                for r in retired.values()
                if (c := r["c"]) is not None and (by := r["by"]) is not None
            },
            {m for r in barriers.values() if (m := r["m"]) is not None},
        )

    def label(self, iri: str) -> str:
        """The preferred label of a concept, else its CURIE."""
        concept = self.concepts.get(iri)
        return concept.label if concept else curie(iri)

    def replacement(self, iri: str) -> tuple[str, str | None] | None:
        """What a deprecated concept is read as: its replacement and the outcome direction its
        label implied ("improved care processes": the care-process outcome, improved)."""
        return self.retired.get(iri)

    def kinds(self, iri: str) -> set[str]:
        """The OWL classes a concept is typed with (empty if unknown)."""
        concept = self.concepts.get(iri)
        return concept.kinds if concept else set()

    def resolve(self, word: str, column: str) -> str:
        """The IRI of the one concept of the column's kind named by ``word``, else Unresolved."""
        kinds, kind_name = COLUMN_KINDS[column]
        text = word.strip()
        iri = expand(text) or (text.strip("<>") if "://" in text else None)
        if iri is not None:
            if self.kinds(iri) & set(kinds):
                return iri
            if iri in self.concepts:
                raise Unresolved(f'"{text}" ({self.label(iri)}) is not {kind_name}')
            raise Unresolved(f'"{text}" is not a concept in the vocabulary')
        matches = sorted(
            i for i in self.by_label.get(text.casefold(), ()) if self.kinds(i) & set(kinds)
        )
        if len(matches) == 1:
            return matches[0]
        if matches:
            listed = ", ".join(f'{curie(m)} ("{self.label(m)}")' for m in matches)
            raise Unresolved(
                f'"{text}" is ambiguous: it could mean {listed}; write the CURIE instead'
            )
        elsewhere = sorted(self.by_label.get(text.casefold(), ()))
        if elsewhere:
            other = elsewhere[0]
            raise Unresolved(
                f'"{text}" is not {kind_name} (it is {curie(other)}, "{self.label(other)}", '
                "of another kind)"
            )
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if len(parts) > 1 and all(self._names(p, kinds) for p in parts):
            raise Unresolved(
                f'"{text}" names {len(parts)} labels: separate labels with ";" '
                f'("{"; ".join(parts)}")'
            )
        suggestion = self.suggest(text, kinds)
        hint = f'; did you mean "{suggestion}"?' if suggestion else ""
        raise Unresolved(f'"{text}" is not {kind_name}{hint}')

    def _names(self, text: str, kinds: tuple[str, ...]) -> bool:
        """Whether ``text`` is a label of a concept of these kinds."""
        return any(self.kinds(i) & set(kinds) for i in self.by_label.get(text.casefold(), ()))

    def suggest(self, text: str, kinds: tuple[str, ...]) -> str | None:
        """The preferred label of the concept (of these kinds) whose label is closest to ``text``."""
        choices = {
            label: iri
            for label, iris in self.by_label.items()
            for iri in iris
            if self.kinds(iri) & set(kinds) and iri not in self.retired
        }
        best = process.extractOne(
            text.casefold(), list(choices), scorer=fuzz.WRatio, score_cutoff=70
        )
        return self.label(choices[best[0]]) if best else None

    def labels_for(self, column: str) -> list[str]:
        """Every preferred label a column accepts, sorted (for the template's vocabulary sheet)."""
        kinds = set(COLUMN_KINDS[column][0])
        left_out = self.retired.keys() | (self.barriers if column == "enablers" else set())
        return sorted(
            {c.label for c in self.concepts.values() if c.kinds & kinds and c.iri not in left_out},
            key=str.casefold,
        )

    def type_triples(self, iris: set[str]) -> rdflib.Graph:
        """The rdf:type triples of these concepts: the context SHACL needs to check their kinds."""
        graph = rdflib.Graph()
        for iri in iris:
            for kind in self.kinds(iri):
                graph.add((rdflib.URIRef(iri), RDF.type, rdflib.URIRef(kind)))
        return graph
