"""The ``sparql`` engine: the profile's entailments as one SPARQL CONSTRUCT, run on the store.

The rules are data, not code: the closed ontology (kg.reasoning.tbox) becomes ``VALUES`` tables
(which property entails which, which class is above which, which domain or range types what), and
one fixed query applies them all. Only the transitive properties need a fixpoint; their edges are
few (the SKOS hierarchy of the ontology), so a first query fetches them and Python closes them.
A property chain is one join per axiom; what it derives feeds no further chain or transitive
closure (none does in the qikg ontology: docs/reasoning.md).
Every pattern reads the asserted named graphs through ``GRAPH ?g`` (fast however many study graphs
there are); a last query fetches the asserted triples among those derived, and Python drops them,
so the answer is exactly the new triples. (A ``FILTER NOT EXISTS`` per derived triple was far
slower on the embedded store.) Three store queries in all, whatever the size of the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rdflib.namespace import RDF, SKOS

from kg.namespaces import INFERRED_GRAPH, META_GRAPH, QIKG, SHAPES_GRAPH
from kg.reasoning.tbox import IRI, TBox, reach
from kg.sparql import iri_term, iri_terms
from kg.store import Store

RDF_TYPE = str(RDF.type)
CODED_WITH = str(QIKG.codedWith)
CFIR_CONSTRUCT = str(QIKG.CFIRConstruct)
#: The CFIR rule follows these (and what entails them) from a code up to a CFIR construct.
ALIGNMENT = (str(SKOS.broaderTransitive), str(SKOS.exactMatch))
#: Graphs that are not asserted knowledge: never an input.
NOT_ASSERTED = f"{iri_term(INFERRED_GRAPH)}, {iri_term(META_GRAPH)}, {iri_term(SHAPES_GRAPH)}"

Edge = tuple[IRI, IRI]


def run(
    store: Store, tbox: TBox, *, owl: bool = True, graphs: Sequence[str] | None = None
) -> set[str]:
    """The N-Triples lines of every new entailment, computed on the store's asserted graphs.

    ``owl=False``: only what the CFIR alignment rule adds (for the engines that run OWL rules).
    ``graphs``: only what the triples of these graphs entail (an import that adds studies); the
    transitive chains, a property of the whole store, are included either way.
    """
    edges, cfir_nodes = _fetch_edges(store, tbox)
    candidates = chain_triples(tbox, edges) if owl else []
    aligned = cfir_pairs(tbox, edges, cfir_nodes)
    scope = Scope(graphs)
    derived = _lines(store, rule_query(tbox, candidates, aligned, owl=owl, scope=scope))
    derived = {line for line in derived if _term(line, 0) not in tbox.entities}
    if graphs is None:  # everything: fetch the asserted triples of the predicates derived
        predicates = sorted({_term(line, 1) for line in derived})
        pattern = f"VALUES ?p {{ {_iris(predicates)} }} {Scope(None).match('?s ?p ?o')}"
    elif derived:  # a few: look each one up
        rows = " ".join(f"({line[:-2]})" for line in sorted(derived))
        pattern = f"VALUES (?s ?p ?o) {{ {rows} }} {Scope(None).match('?s ?p ?o')}"
    else:
        return set()
    return derived - _lines(store, f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}")


class Scope:
    """Which asserted graphs a pattern reads: all of them, or the ones named."""

    def __init__(self, graphs: Sequence[str] | None) -> None:
        self.graphs = graphs

    def match(self, pattern: str) -> str:
        """``pattern`` matched in the graphs of this scope, binding ``?g``."""
        if self.graphs is None:
            return f"GRAPH ?g {{ {pattern} }} FILTER(?g NOT IN ({NOT_ASSERTED}))"
        return f"VALUES ?g {{ {_iris(list(self.graphs))} }} GRAPH ?g {{ {pattern} }}"


def _lines(store: Store, query: str) -> set[str]:
    """A CONSTRUCT's answer as N-Triples lines (one canonical line per triple)."""
    return set(store.query(query, include_inferred=False).ntriples.splitlines()) - {""}


def _term(line: str, index: int) -> str:
    """The IRI of the subject (0) or predicate (1) of an N-Triples line ("" for a blank node)."""
    fields = line.split(" ", 2)
    return fields[index][1:-1] if fields[index].startswith("<") else ""


def _step_predicates(tbox: TBox, prop: IRI) -> list[tuple[IRI, bool]]:
    """The asserted predicates one step along ``prop`` can take: ``(p, True)`` runs backwards."""
    return [(prop, False), *tbox.producers(prop)]


def _fetch_edges(store: Store, tbox: TBox) -> tuple[dict[IRI, set[Edge]], set[IRI]]:
    """The asserted edges of each transitive property (and of the CFIR alignment), oriented, and
    the nodes typed as CFIR constructs."""
    wanted = sorted(
        {p for t in {*tbox.transitive, *ALIGNMENT} for p, _ in _step_predicates(tbox, t)}
    )
    kinds = tbox.subclasses_of(CFIR_CONSTRUCT) if CFIR_CONSTRUCT in tbox.classes else []
    if not wanted and not kinds:
        return {}, set()
    query = (
        "SELECT DISTINCT ?s ?p ?o WHERE {\n"
        f"  {{ VALUES ?p {{ {_iris(wanted)} }} GRAPH ?g {{ ?s ?p ?o }} }}\n"
        f"  UNION {{ VALUES ?o {{ {_iris(kinds)} }} GRAPH ?g {{ ?s a ?o }} BIND({iri_term(RDF_TYPE)} AS ?p) }}\n"
        f"  FILTER(isIRI(?s) && isIRI(?o) && ?g NOT IN ({NOT_ASSERTED}))\n}}"
    )
    by_predicate: dict[IRI, set[Edge]] = defaultdict(set)
    for row in store.query(query, include_inferred=False).values():
        by_predicate[str(row["p"])].add((str(row["s"]), str(row["o"])))
    cfir_nodes = {s for s, _ in by_predicate.pop(RDF_TYPE, set())}
    oriented = {
        t: {
            (o, s) if backwards else (s, o)
            for p, backwards in _step_predicates(tbox, t)
            for s, o in by_predicate.get(p, ())
        }
        for t in {*tbox.transitive, *ALIGNMENT}
    }
    return oriented, cfir_nodes


def _closure(edges: set[Edge]) -> set[Edge]:
    """Every pair joined by a path of one or more edges."""
    after: dict[IRI, set[IRI]] = defaultdict(set)
    for s, o in edges:
        after[s].add(o)
    return {(s, o) for s in list(after) for nxt in after[s] for o in reach(nxt, after)}


def chain_triples(tbox: TBox, edges: dict[IRI, set[Edge]]) -> list[tuple[IRI, IRI, IRI]]:
    """What the transitive properties entail: each chain, as every property it implies.

    >>> import rdflib
    >>> tbox = TBox.from_graph(rdflib.Graph().parse(data='''
    ...   @prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix : <urn:x:> .
    ...   :t a owl:ObjectProperty, owl:TransitiveProperty .''', format="turtle"))
    >>> edges = {"urn:x:t": {("urn:x:a", "urn:x:b"), ("urn:x:b", "urn:x:c")}}
    >>> ("urn:x:a", "urn:x:t", "urn:x:c") in chain_triples(tbox, edges)
    True
    """
    found = set()
    for t in sorted(tbox.transitive):
        pairs = _closure(edges.get(t, set()))
        for prop, backwards in tbox.implied[(t, False)]:
            found |= {(o, prop, s) if backwards else (s, prop, o) for s, o in pairs}
    return sorted(found)


def cfir_pairs(tbox: TBox, edges: dict[IRI, set[Edge]], cfir_nodes: set[IRI]) -> list[Edge]:
    """``(concept, construct)``: the CFIR constructs a code reaches up the hierarchy and along
    exact matches (one step or more)."""
    if CODED_WITH not in tbox.object_properties:
        return []
    steps = set().union(*(edges.get(p, set()) for p in ALIGNMENT))
    return sorted((d, c) for d, c in _closure(steps) if c in cfir_nodes and c != d)


def rule_query(
    tbox: TBox,
    candidates: list[tuple[IRI, IRI, IRI]],
    aligned: list[Edge],
    *,
    owl: bool = True,
    scope: Scope | None = None,
) -> str:
    """The one CONSTRUCT that applies every rule (``owl=False``: the CFIR rule only); its answer
    still holds triples that are also asserted."""
    scope = scope or Scope(None)
    branches = _owl_branches(tbox, candidates, scope) if owl else []
    if aligned:
        coded = _step_predicates(tbox, CODED_WITH)
        branches.append(
            f"VALUES (?q ?back) {{ {_rows(coded)} }} {scope.match('?x ?q ?y')}\n"
            "    BIND(IF(?back, ?y, ?x) AS ?s) BIND(IF(?back, ?x, ?y) AS ?d)\n"
            f"    VALUES (?d ?o) {{ {_rows(aligned)} }} BIND({iri_term(CODED_WITH)} AS ?p)"
        )
    if not branches:
        return "CONSTRUCT {} WHERE {}"
    body = "\n  UNION ".join("{ " + b + " }" for b in branches)
    return f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{\n  {body}\n  FILTER(isIRI(?s))\n}}"


def _owl_branches(tbox: TBox, candidates: list[tuple[IRI, IRI, IRI]], scope: Scope) -> list[str]:
    """Sub-properties, inverses and symmetry; types from the class hierarchy, domains and
    ranges; and the transitive chains computed beforehand."""
    props = sorted(tbox.object_properties | tbox.datatype_properties)
    entails = [
        (q, p, backwards, p in tbox.datatype_properties)
        for p in props
        for q, backwards in tbox.producers(p)
    ]
    by_class = [(a, c) for a in sorted(tbox.classes) for c in sorted(tbox.superclasses[a])]
    by_subject = [(p, c) for p in props for c in sorted(tbox.types_from_subject(p))]
    by_object = [
        (p, c) for p in sorted(tbox.object_properties) for c in sorted(tbox.types_from_object(p))
    ]
    branches = []
    if entails:
        branches.append(
            f"VALUES (?q ?p ?back ?literal) {{ {_rows(entails)} }} {scope.match('?x ?q ?y')}\n"
            "    BIND(IF(?back, ?y, ?x) AS ?s) BIND(IF(?back, ?x, ?y) AS ?o)\n"
            "    FILTER(IF(?literal, isLiteral(?o), isIRI(?o)))"
        )
    if by_class:
        branches.append(
            f"VALUES (?a ?o) {{ {_rows(by_class)} }} {scope.match('?s a ?a')} BIND({iri_term(RDF_TYPE)} AS ?p)"
        )
    for pairs, pattern in ((by_subject, "?s ?q ?y"), (by_object, "?x ?q ?s")):
        if pairs:
            branches.append(
                f"{{ SELECT DISTINCT ?s ?o WHERE {{ VALUES (?q ?o) {{ {_rows(pairs)} }}\n"
                f"      {scope.match(pattern)} }} }} BIND({iri_term(RDF_TYPE)} AS ?p)"
            )
    if candidates:
        branches.append(f"VALUES (?s ?p ?o) {{ {_rows(candidates)} }}")
    branches += [
        _chain_branch(tbox, prop, chain)
        for prop in sorted(tbox.chains)
        for chain in tbox.chains[prop]
    ]
    return branches


def _chain_branch(tbox: TBox, prop: IRI, chain: tuple[tuple[IRI, bool], ...]) -> str:
    """A property chain: one step per member, each in any asserted graph (a chain may join a
    review graph to a study graph), always over the whole store; then what the chain's property
    entails in turn (super-properties, inverses, domain and range)."""
    steps = []
    for i, (member, inverted) in enumerate(chain):
        path = _steps(tbox, member)
        a, b = f"?x{i}", "?y" if i == len(chain) - 1 else f"?x{i + 1}"
        steps.append(
            f"GRAPH ?g{i} {{ {a} {'^' if inverted else ''}{path} {b} }} "
            f"FILTER(?g{i} NOT IN ({NOT_ASSERTED}))"
        )
    rows = [(p, back, "UNDEF") for p, back in sorted(tbox.implied[(prop, False)])]
    rows += [(RDF_TYPE, False, c) for c in sorted(tbox.types_from_subject(prop))]
    rows += [(RDF_TYPE, True, c) for c in sorted(tbox.types_from_object(prop))]
    return (
        " ".join(steps) + f"\n    VALUES (?p ?back ?class) {{ {_rows(rows)} }}\n"
        "    BIND(IF(?back, ?y, ?x0) AS ?s) BIND(COALESCE(?class, IF(?back, ?x0, ?y)) AS ?o)"
    )


def _steps(tbox: TBox, prop: IRI) -> str:
    """A property path of one step along ``prop`` or anything that entails it."""
    steps = sorted(("^" if back else "") + iri_term(p) for p, back in _step_predicates(tbox, prop))
    return "(" + "|".join(steps) + ")"


def _iris(iris: list[IRI]) -> str:
    return iri_terms(iris)


def _rows(rows: list[tuple]) -> str:
    def term(value: str | bool) -> str:
        if isinstance(value, bool):
            return str(value).lower()
        return "UNDEF" if value == "UNDEF" else iri_term(value)

    return " ".join("(" + " ".join(term(v) for v in row) + ")" for row in rows)
