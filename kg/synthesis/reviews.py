"""Read review findings back from the store: statement, supporting findings, contributing
studies and GRADE-CERQual assessment, as the SoQF table, the nanopublications and the explorer
show them.

Contributing studies are computed here, along ``qikg:synthesises/qikg:reportedIn``: they are
never stored (docs/synthesis.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.errors import BadInput
from kg.namespaces import curie
from kg.read.findings import Study, studies
from kg.sparql import iri_term, iri_terms, sparql_prefixes
from kg.store import Store
from kg.synthesis.model import COMPONENTS, REVIEW_GRAPH_PREFIX, review_graph

_LANG = 'FILTER(lang(?l) IN ("", "en"))'


@dataclass(frozen=True)
class Judgement:
    """The judgement of one GRADE-CERQual component: the component's title, the level of
    concern (its label, e.g. "minor concerns") and the explanation."""

    component: str
    level: str
    explanation: str


@dataclass
class ReviewFinding:
    """A review finding with its support and its GRADE-CERQual assessment (empty if none)."""

    iri: str
    review_finding_id: str
    review: str
    statement: str
    explanation: str = ""
    supporting: list[str] = field(default_factory=list)  # study_id/finding_id
    contributing: list[Study] = field(default_factory=list)
    confidence: str = ""  # label, e.g. "low confidence"
    confidence_explanation: str = ""
    judgements: list[Judgement] = field(default_factory=list)  # in COMPONENTS order
    assessor: str = ""
    assessed_on: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def studies_text(self) -> str:
        """The contributing studies as short citations: ``Carstensen et al. 2024; ...``."""
        return "; ".join(s.citation for s in self.contributing)

    def judgement(self, column: str) -> Judgement:
        """The judgement of the component with this sheet column (empty if not assessed)."""
        title = next(c.title for c in COMPONENTS if c.column == column)
        found = (j for j in self.judgements if j.component == title)
        return next(found, Judgement(title, "", ""))

    def row(self) -> dict[str, str]:
        """The review finding as a row of a ``reviews`` sheet (round-trips with the import)."""
        row = {
            "review_finding_id": self.review_finding_id,
            "review": self.review,
            "statement": self.statement,
            "supporting_findings": "; ".join(self.supporting),
            "explanation": self.explanation,
            "confidence": self.confidence,
            "confidence_explanation": self.confidence_explanation,
            "assessor": self.assessor,
            "assessed_on": self.assessed_on,
        }
        for component in COMPONENTS:
            judgement = self.judgement(component.column)
            row[component.column] = judgement.level
            row[component.explanation_column] = judgement.explanation
        for note in self.notes:
            column, sep, value = note.partition(": ")
            if sep:
                row[column] = value
        return row


def review_findings(store: Store, review: str | None = None) -> list[ReviewFinding]:
    """Every review finding in the store (or of one ``review``), in id order."""
    pick = f"FILTER(?g = {iri_term(review_graph(review))})" if review else ""
    head = store.query(
        sparql_prefixes()
        + f"""SELECT ?rf ?id ?g ?statement ?explanation ?confidence ?why ?assessor ?date WHERE {{
            GRAPH ?g {{ ?rf a qikg:ReviewFinding ; dcterms:identifier ?id }}
            FILTER(STRSTARTS(STR(?g), "{REVIEW_GRAPH_PREFIX}")) {pick}
            OPTIONAL {{ ?rf qikg:reviewStatement ?statement }}
            OPTIONAL {{ ?rf qikg:explanation ?explanation }}
            OPTIONAL {{ ?rf qikg:hasAssessment ?a
                OPTIONAL {{ ?a qikg:overallConfidence/skos:prefLabel ?confidence
                           FILTER(lang(?confidence) IN ("", "en")) }}
                OPTIONAL {{ ?a qikg:explanation ?why }}
                OPTIONAL {{ ?a prov:wasAttributedTo/foaf:name ?assessor }}
                OPTIONAL {{ ?a dcterms:created ?date }} }}
        }}""",
        include_inferred=False,
    ).values()
    found = {
        r["rf"] or "": ReviewFinding(
            iri=r["rf"] or "",
            review_finding_id=r["id"] or "",
            review=(r["g"] or "").removeprefix(REVIEW_GRAPH_PREFIX),
            statement=r["statement"] or "",
            explanation=r["explanation"] or "",
            confidence=r["confidence"] or "",
            confidence_explanation=r["why"] or "",
            assessor=r["assessor"] or "",
            assessed_on=r["date"] or "",
        )
        for r in head
    }
    if not found:
        return []
    values = iri_terms(sorted(found))
    _add_support(store, found, values)
    _add_judgements(store, found, values)
    notes = store.query(
        sparql_prefixes() + f"SELECT ?rf ?n WHERE {{ VALUES ?rf {{ {values} }} ?rf skos:note ?n }}",
        include_inferred=False,
    ).values()
    for r in sorted(notes, key=lambda r: r["n"] or ""):
        found[r["rf"] or ""].notes.append(r["n"] or "")
    return sorted(found.values(), key=lambda f: _id_order(f.review_finding_id))


def _id_order(text: str) -> tuple[int, str]:
    """Sort key that puts RF2 before RF10 (shorter ids first, as the findings search does)."""
    return len(text), text


def review_finding(store: Store, review_finding_id: str) -> ReviewFinding:
    """One review finding by its id; BadInput if the store has none with that id."""
    for found in review_findings(store):
        if found.review_finding_id == review_finding_id:
            return found
    raise BadInput(f'no review finding "{review_finding_id}" in the graph (see `qikg soqf`)')


def _add_support(store: Store, found: dict[str, ReviewFinding], values: str) -> None:
    """The supporting findings of each review finding, and the contributing studies they derive."""
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?rf ?f ?fid ?s ?sid WHERE {{ VALUES ?rf {{ {values} }}
            ?rf qikg:synthesises ?f .
            OPTIONAL {{ ?f dcterms:identifier ?fid }}
            OPTIONAL {{ ?f qikg:reportedIn ?s . ?s dcterms:identifier ?sid }}
        }}""",  # two OPTIONALs: Oxigraph joins the one with three patterns by first reading
        # every finding in the store (3.9 s against 16 ms at 100,000 findings)
        include_inferred=False,
    ).values()
    index = {s.iri: s for s in studies(store)}
    for r in sorted(rows, key=lambda r: (r["sid"] or "", _id_order(r["fid"] or ""))):
        target = found[r["rf"] or ""]
        ref = f"{r['sid']}/{r['fid']}" if r["sid"] and r["fid"] else curie(r["f"] or "")
        if ref not in target.supporting:
            target.supporting.append(ref)
        study = index.get(r["s"] or "")
        if study is not None and study not in target.contributing:
            target.contributing.append(study)


def _add_judgements(store: Store, found: dict[str, ReviewFinding], values: str) -> None:
    """The component judgements of each review finding, in GRADE-CERQual's order."""
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?rf ?component (SAMPLE(?l) AS ?level) (SAMPLE(?e) AS ?why) WHERE {{
            VALUES ?rf {{ {values} }}
            ?rf qikg:hasAssessment/qikg:hasJudgement ?j . ?j qikg:judgedComponent ?component .
            OPTIONAL {{ ?j qikg:concernLevel/skos:prefLabel ?l {_LANG} }}
            OPTIONAL {{ ?j qikg:explanation ?e }}
        }} GROUP BY ?rf ?component""",
        include_inferred=False,
    ).values()
    for component in COMPONENTS:
        for r in rows:
            if r["component"] == str(component.concept):
                found[r["rf"] or ""].judgements.append(
                    Judgement(component.title, r["level"] or "", r["why"] or "")
                )


__all__ = ["Judgement", "ReviewFinding", "review_finding", "review_findings"]
