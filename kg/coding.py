"""The coding dimensions: what a finding can be coded with, in one table.

Each dimension is a column of the coding sheet, a sub-property of ``qikg:codedWith`` and the kinds
of concept the column accepts, with the names people see for it. The importer, the vocabulary, the
explorer's facets and pages, the compare matrix, the graph view and the QDA import all derive
their view from ``DIMENSIONS``: adding a dimension is one row here plus the ontology and the
shapes (CONTRIBUTING.md shows how). A test checks the table against the ontology. The
qualifiers (finding kind, outcome direction) are rows of the same shape: one concept per finding.
"""

from __future__ import annotations

from dataclasses import dataclass

from kg.namespaces import QIKG, expand


@dataclass(frozen=True)
class Dimension:
    """One coding dimension.

    >>> BY_COLUMN["enablers"].curie, BY_COLUMN["enablers"].title
    ('qikg:hasEnabler', 'Enablers')
    """

    #: The coding sheet's column.
    column: str
    #: The local name of its property, a sub-property of ``qikg:codedWith``.
    predicate: str
    #: CURIEs of the concept classes the column accepts.
    kinds: tuple[str, ...]
    #: One concept of it, in a message: "is not a professional group".
    kind_name: str
    #: Its heading (plural) on pages and in reports.
    title: str
    #: One value of it (singular), as a facet's name.
    facet: str
    #: The name of its link in the graph view.
    link: str
    #: How concepts of its kinds nest.
    hierarchy: str = "skos:broader"

    @property
    def curie(self) -> str:
        return f"qikg:{self.predicate}"

    @property
    def iri(self) -> str:
        return str(QIKG[self.predicate])

    @property
    def kind_iris(self) -> tuple[str, ...]:
        return tuple(expand(kind) or kind for kind in self.kinds)


DETERMINANTS = ("qikg:Determinant", "qikg:CFIRConstruct")

#: The dimensions in the coding sheet's column order.
DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "professional_groups",
        "concernsProfessionalGroup",
        ("qikg:ProfessionalGroup",),
        "a professional group",
        "Professional groups",
        "Professional group",
        "professional group",
    ),
    Dimension("roles", "concernsRole", ("qikg:Role",), "a role", "Roles", "Role", "role"),
    Dimension(
        "qic_components",
        "involvesQICComponent",
        ("qikg:QICComponent",),
        "a QIC component",
        "QIC components",
        "QIC component",
        "QIC component",
    ),
    Dimension(
        "enablers",
        "hasEnabler",
        DETERMINANTS,
        "a determinant or CFIR construct",
        "Enablers",
        "Enabler",
        "enabler",
    ),
    Dimension(
        "barriers",
        "hasBarrier",
        DETERMINANTS,
        "a determinant or CFIR construct",
        "Barriers",
        "Barrier",
        "barrier",
    ),
    Dimension(
        "outcomes",
        "relatesToOutcome",
        ("qikg:Outcome",),
        "an outcome",
        "Outcomes",
        "Outcome",
        "outcome",
    ),
    Dimension(
        "concepts",
        "relatesToConcept",
        ("skos:Concept",),
        "a concept",
        "Theory concepts",
        "Theory concept",
        "concept",
    ),
)
#: What a finding is, and what it says happened to its outcomes: one concept each, not codes
#: (not sub-properties of ``qikg:codedWith``), read from the sheet like the dimensions.
QUALIFIERS: tuple[Dimension, ...] = (
    Dimension(
        "finding_kind",
        "findingKind",
        ("qikg:FindingKind",),
        "a finding kind",
        "Finding kinds",
        "Finding kind",
        "kind",
        hierarchy="",
    ),
    Dimension(
        "outcome_direction",
        "outcomeDirection",
        ("qikg:OutcomeDirection",),
        "an outcome direction",
        "Outcome directions",
        "Outcome direction",
        "direction",
        hierarchy="",
    ),
)
BY_COLUMN: dict[str, Dimension] = {d.column: d for d in DIMENSIONS + QUALIFIERS}
BY_PREDICATE: dict[str, Dimension] = {d.predicate: d for d in DIMENSIONS + QUALIFIERS}
#: The sheet columns that hold codes, in order.
COLUMNS: list[str] = [d.column for d in DIMENSIONS]
#: A SPARQL path of every coding property (``qikg:codedWith`` as written, without inference).
CODED: str = "|".join(d.curie for d in DIMENSIONS)
