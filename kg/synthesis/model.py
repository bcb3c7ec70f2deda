"""The IRIs, graphs and sheet columns of review findings (docs/model.md, "Review finding").

Kept free of other kg imports but the namespaces, so the sheet reader and the importer can use it
without import cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Namespace, URIRef

from kg.namespaces import DATA, GRAPH, QIKG

#: The nanopublication schema (http://www.nanopub.org/nschema).
NP = Namespace("http://www.nanopub.org/nschema#")
#: Named graphs of reviews: one per review, ``.../graph/review/{review}``.
REVIEW_GRAPH_PREFIX = str(GRAPH) + "review/"
#: The review a sheet row belongs to when its ``review`` cell is empty.
DEFAULT_REVIEW = "default"


@dataclass(frozen=True)
class Component:
    """A GRADE-CERQual component: its sheet column, IRI slug, concept and title."""

    column: str
    slug: str
    concept: URIRef
    title: str

    @property
    def explanation_column(self) -> str:
        """The sheet column of the explanation of this component's judgement."""
        return f"{self.column}_explanation"


#: The four components in GRADE-CERQual's order.
COMPONENTS: tuple[Component, ...] = (
    Component(
        "methodological_limitations",
        "methodological-limitations",
        QIKG.MethodologicalLimitations,
        "Methodological limitations",
    ),
    Component("coherence", "coherence", QIKG.Coherence, "Coherence"),
    Component("adequacy", "adequacy", QIKG.Adequacy, "Adequacy of data"),
    Component("relevance", "relevance", QIKG.Relevance, "Relevance"),
)

#: The columns of a ``reviews`` sheet, in order (docs/coding-sheet.md, "reviews").
REVIEW_COLUMNS: list[str] = [
    "review_finding_id",
    "review",
    "statement",
    "supporting_findings",
    "explanation",
    *[c for component in COMPONENTS for c in (component.column, component.explanation_column)],
    "confidence",
    "confidence_explanation",
    "assessor",
    "assessed_on",
]
REQUIRED_REVIEW_COLUMNS = ("review_finding_id", "statement", "supporting_findings")
#: The columns that make up a GRADE-CERQual assessment; a row with none of them has none yet.
ASSESSMENT_COLUMNS = tuple(REVIEW_COLUMNS[REVIEW_COLUMNS.index("methodological_limitations") :])

#: Short words researchers write for the concern levels, besides the concepts' labels.
CONCERN_WORDS: dict[str, URIRef] = {
    "none": QIKG.NoOrVeryMinorConcerns,
    "no": QIKG.NoOrVeryMinorConcerns,
    "very minor": QIKG.NoOrVeryMinorConcerns,
    "no or very minor": QIKG.NoOrVeryMinorConcerns,
    "minor": QIKG.MinorConcerns,
    "moderate": QIKG.ModerateConcerns,
    "serious": QIKG.SeriousConcerns,
}


def review_graph(review: str) -> str:
    """The named graph of one review.

    >>> review_graph("bundled")
    'https://w3id.org/qikg/graph/review/bundled'
    """
    return REVIEW_GRAPH_PREFIX + review


def review_finding_iri(review_finding_id: str) -> URIRef:
    """The IRI of a review finding (ids are unique across reviews).

    >>> review_finding_iri("RF1")
    rdflib.term.URIRef('https://w3id.org/qikg/data/review/RF1')
    """
    return DATA[f"review/{review_finding_id}"]


def assessment_iri(review_finding_id: str) -> URIRef:
    """The IRI of a review finding's GRADE-CERQual assessment."""
    return DATA[f"review/{review_finding_id}/assessment"]


def judgement_iri(review_finding_id: str, component: Component) -> URIRef:
    """The IRI of the judgement of one component.

    >>> judgement_iri("RF1", COMPONENTS[1])
    rdflib.term.URIRef('https://w3id.org/qikg/data/review/RF1/assessment/coherence')
    """
    return DATA[f"review/{review_finding_id}/assessment/{component.slug}"]


def nanopub_iri(review_finding_id: str) -> URIRef:
    """The IRI of the nanopublication of a review finding; its graphs are fragments of it."""
    return DATA[f"review/{review_finding_id}/nanopub"]
