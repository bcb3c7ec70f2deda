"""Export review findings as nanopublications, so one synthesised claim can be cited, and
retracted, on its own (http://nanopub.org/guidelines/working_draft/).

A nanopublication is four named graphs: the head (``{np}#Head``) says which graph is which; the
assertion (``{np}#assertion``) holds the review finding, its statement and the findings it
synthesises; the provenance (``{np}#provenance``) says where the assertion comes from: the
supporting findings and their studies, the GRADE-CERQual assessment and who made it; the
publication info (``{np}#pubinfo``) describes the nanopublication itself. ``{np}`` is
``qikgd:review/{review_finding_id}/nanopub``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pyoxigraph as ox
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, XSD

from kg.namespaces import PREFIXES, QIKG
from kg.sparql import iri_term, sparql_prefixes
from kg.store import Store
from kg.synthesis.model import NP, nanopub_iri, review_graph
from kg.synthesis.reviews import ReviewFinding

LICENSE = "https://creativecommons.org/licenses/by/4.0/"
#: The prefixes the TriG is written with (not qikgd:, whose IRIs would need escaped slashes).
TRIG_PREFIXES = ("qikg", "prov", "dcterms", "foaf", "rdfs", "xsd")


def _node(iri: object) -> ox.NamedNode:
    return ox.NamedNode(str(iri))


def nanopublication(store: Store, finding: ReviewFinding, created: dt.datetime) -> list[ox.Quad]:
    """The quads of one review finding's nanopublication."""
    np = str(nanopub_iri(finding.review_finding_id))
    head, assertion, provenance, pubinfo = (
        _node(f"{np}#{part}") for part in ("Head", "assertion", "provenance", "pubinfo")
    )
    node = _node(np)
    quads = [
        ox.Quad(node, _node(RDF.type), _node(NP.Nanopublication), head),
        ox.Quad(node, _node(NP.hasAssertion), assertion, head),
        ox.Quad(node, _node(NP.hasProvenance), provenance, head),
        ox.Quad(node, _node(NP.hasPublicationInfo), pubinfo, head),
    ]
    claim = _construct(
        store, finding, "{ ?rf ?p ?o }", "{ ?rf ?p ?o FILTER(?p != qikg:hasAssessment) }"
    )
    quads += [ox.Quad(t.subject, t.predicate, t.object, assertion) for t in claim]
    origin = _construct(
        store,
        finding,
        """{ ?rf qikg:hasAssessment ?a . ?a ?ap ?ao . ?j ?jp ?jo . ?agent foaf:name ?name .
             ?f qikg:reportedIn ?s . ?s qikg:doi ?doi }""",
        """{ ?rf qikg:hasAssessment ?a . ?a ?ap ?ao }
           UNION { ?rf qikg:hasAssessment/qikg:hasJudgement ?j . ?j ?jp ?jo }
           UNION { ?rf qikg:hasAssessment/prov:wasAttributedTo ?agent . ?agent foaf:name ?name }
           UNION { ?rf qikg:synthesises ?f . ?f qikg:reportedIn ?s OPTIONAL { ?s qikg:doi ?doi } }""",
    )
    quads += [ox.Quad(t.subject, t.predicate, t.object, provenance) for t in origin]
    # Only IRIs can be named by prov:wasDerivedFrom and prov:wasAttributedTo below.
    findings = sorted(
        {
            t.subject.value
            for t in origin
            if t.predicate == _node(QIKG.reportedIn) and isinstance(t.subject, ox.NamedNode)
        }
    )
    agents = sorted(
        {
            t.object.value
            for t in origin
            if t.predicate == _node(PROV.wasAttributedTo) and isinstance(t.object, ox.NamedNode)
        }
    )
    quads += [
        ox.Quad(assertion, _node(PROV.wasDerivedFrom), _node(f), provenance) for f in findings
    ]
    quads += [ox.Quad(assertion, _node(PROV.wasAttributedTo), _node(a), provenance) for a in agents]
    label = ox.Literal(f"Review finding {finding.review_finding_id}")
    when = ox.Literal(created.isoformat(), datatype=_node(XSD.dateTime))
    quads += [
        ox.Quad(node, _node(RDFS.label), label, pubinfo),
        ox.Quad(node, _node(DCTERMS.created), when, pubinfo),
        ox.Quad(node, _node(DCTERMS.license), _node(LICENSE), pubinfo),
        ox.Quad(node, _node(PROV.wasDerivedFrom), _node(review_graph(finding.review)), pubinfo),
        *(ox.Quad(node, _node(PROV.wasAttributedTo), _node(a), pubinfo) for a in agents),
    ]
    return quads


def nanopublications_trig(
    store: Store, findings: Iterable[ReviewFinding], created: dt.datetime | None = None
) -> bytes:
    """One nanopublication per review finding, as TriG (``created`` defaults to now)."""
    when = created or dt.datetime.now(dt.UTC).replace(microsecond=0)
    quads = [q for f in findings for q in nanopublication(store, f, when)]
    prefixes = {"np": str(NP), **{p: PREFIXES[p] for p in TRIG_PREFIXES}}
    return ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=prefixes) or b""


def _construct(
    store: Store, finding: ReviewFinding, template: str, pattern: str
) -> list[ox.Triple]:
    """The triples a CONSTRUCT about one review finding (``?rf``) answers, asserted data only."""
    text = store.query(
        sparql_prefixes()
        + f"CONSTRUCT {template} WHERE {{ VALUES ?rf {{ {iri_term(finding.iri)} }} {pattern} }}",
        include_inferred=False,
    ).ntriples
    return [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)]


__all__ = ["LICENSE", "nanopublication", "nanopublications_trig"]
