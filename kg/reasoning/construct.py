"""The ``sparql`` engine: one SPARQL CONSTRUCT per kind of entailment, run on the store itself.

The queries are written from the closed ontology (kg.reasoning.tbox), so each needs no fixpoint:
a property's pattern is the union of every property that entails it (sub-properties, inverses,
symmetric use) plus a property path for each transitive property below it; a class membership
comes from an asserted type, a domain or a range, joined with the closed class hierarchy.
Every query reads the asserted graphs only (``include_inferred=False``) and skips what is
already asserted, so the answers are exactly the new triples.
"""

from __future__ import annotations

from rdflib.namespace import RDF, SKOS

from kg.namespaces import QIKG
from kg.reasoning.tbox import IRI, TBox
from kg.store import Store

RDF_TYPE = str(RDF.type)
CODED_WITH = str(QIKG.codedWith)
CFIR_CONSTRUCT = str(QIKG.CFIRConstruct)
#: The CFIR rule follows these (with everything below them) from a code to a CFIR construct.
ALIGNMENT = (str(SKOS.broaderTransitive), str(SKOS.exactMatch))


def queries(tbox: TBox) -> list[str]:
    """Every CONSTRUCT query of the engine, in a stable order."""
    found = [_property_query(tbox, p) for p in sorted(tbox.object_properties | tbox.datatype_properties)]
    found += _type_queries(tbox)
    found.append(cfir_query(tbox))
    return [q for q in found if q]


def run(store: Store, tbox: TBox) -> set[str]:
    """The N-Triples lines of every new entailment, computed on the store's asserted graphs."""
    return _answers(store, queries(tbox), tbox)


def cfir_rule(store: Store, tbox: TBox) -> set[str]:
    """The N-Triples lines the CFIR alignment rule adds (for engines that run OWL rules only)."""
    return _answers(store, [cfir_query(tbox)], tbox)


def _answers(store: Store, texts: list[str], tbox: TBox) -> set[str]:
    lines: set[str] = set()
    for text in texts:
        if text:
            lines.update(store.query(text, include_inferred=False).ntriples.splitlines())
    return {line for line in lines if line and _subject(line) not in tbox.entities}


def _subject(line: str) -> str:
    return line[1 : line.index(">")] if line.startswith("<") else ""


def entailed(tbox: TBox, prop: IRI, s: str, o: str) -> str:
    """A graph pattern matching ``s prop o`` whenever it is asserted or entailed.

    >>> import rdflib
    >>> tbox = TBox.from_graph(rdflib.Graph().parse(data='''
    ...   @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix : <urn:x:> .
    ...   :p a owl:ObjectProperty ; owl:inverseOf :q . :q a owl:ObjectProperty .''', format="turtle"))
    >>> print(entailed(tbox, "urn:x:q", "?s", "?o"))
    { ?s <urn:x:q> ?o } UNION { ?o <urn:x:p> ?s }
    """
    blocks = [f"{{ {s} <{prop}> {o} }}"]
    blocks += [
        f"{{ {o} <{p}> {s} }}" if inverted else f"{{ {s} <{p}> {o} }}"
        for p, inverted in tbox.producers(prop)
    ]
    for t in sorted(tbox.transitive):
        for inverted in (False, True):
            if (prop, inverted) in tbox.implied[(t, False)]:
                a, b = (o, s) if inverted else (s, o)
                blocks.append(f"{{ {a} {_steps(tbox, [t])} ?_{_var(t)} . ?_{_var(t)} {_steps(tbox, [t])}* {b} }}")
    return " UNION ".join(blocks)


def _steps(tbox: TBox, props: list[IRI]) -> str:
    """A property path of one step along any of ``props`` or what entails them."""
    alternatives = {f"<{p}>" for p in props}
    for prop in props:
        alternatives |= {f"^<{p}>" if inv else f"<{p}>" for p, inv in tbox.producers(prop)}
    return "(" + "|".join(sorted(alternatives)) + ")"


def _var(iri: IRI) -> str:
    return "".join(c if c.isalnum() else "_" for c in iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1])


def _property_query(tbox: TBox, prop: IRI) -> str:
    if not tbox.producers(prop) and prop not in tbox.transitive:
        return ""
    iri_object = "&& isIRI(?o)" if prop in tbox.object_properties else ""
    return (
        f"CONSTRUCT {{ ?s <{prop}> ?o }} WHERE {{\n  {entailed(tbox, prop, '?s', '?o')}\n"
        f"  FILTER(isIRI(?s) {iri_object})\n  FILTER NOT EXISTS {{ ?s <{prop}> ?o }}\n}}"
    )


def _type_queries(tbox: TBox) -> list[str]:
    """Class membership from an asserted type, from a domain, and from a range."""
    by_class = [(a, c) for a in sorted(tbox.classes) for c in sorted(tbox.superclasses[a])]
    props = sorted(tbox.object_properties | tbox.datatype_properties)
    from_subject = [(p, c) for p in props for c in sorted(tbox.types_from_subject(p))]
    from_object = [(p, c) for p in sorted(tbox.object_properties) for c in sorted(tbox.types_from_object(p))]
    patterns = [
        ("?s a ?a", "?a", by_class),
        ("?s ?p ?o", "?p", from_subject),
        ("?o ?p ?s", "?p", from_object),
    ]
    return [
        f"CONSTRUCT {{ ?s a ?c }} WHERE {{\n  VALUES ({var} ?c) {{ {_pairs(pairs)} }}\n"
        f"  {pattern} FILTER(isIRI(?s))\n  FILTER NOT EXISTS {{ ?s a ?c }}\n}}"
        for pattern, var, pairs in patterns
        if pairs
    ]


def _pairs(pairs: list[tuple[IRI, IRI]]) -> str:
    return " ".join(f"(<{a}> <{b}>)" for a, b in pairs)


def cfir_query(tbox: TBox) -> str:
    """The CFIR alignment rule: a finding coded with a concept that is narrower than (skos:broader
    or skos:broadMatch, transitively) or an exact match of a CFIR construct is ``qikg:codedWith``
    that construct and every construct and domain above it."""
    needed = [CODED_WITH, *ALIGNMENT]
    if any(p not in tbox.object_properties for p in needed) or CFIR_CONSTRUCT not in tbox.classes:
        return ""
    kinds = " ".join(f"<{c}>" for c in tbox.subclasses_of(CFIR_CONSTRUCT))
    return (
        f"CONSTRUCT {{ ?f <{CODED_WITH}> ?c }} WHERE {{\n"
        f"  {entailed(tbox, CODED_WITH, '?f', '?d')}\n"
        f"  ?d {_steps(tbox, list(ALIGNMENT))}+ ?c .\n"
        f"  VALUES ?kind {{ {kinds} }} ?c a ?kind .\n"
        f"  FILTER(isIRI(?f) && ?c != ?d)\n"
        f"  FILTER NOT EXISTS {{ ?f <{CODED_WITH}> ?c }}\n}}"
    )
