"""Reasoning: check the coded data against the ontology, and materialise what it entails.

``check`` runs HermiT (owlready2, Java) on the ontology and study graphs and explains a clash.
``materialise`` writes the entailments researchers query on (docs/reasoning.md) into the inferred
graph, with one of three engines, in one transaction that also marks the graph current.

>>> import tempfile
>>> from kg.store import open_store
>>> from kg.build import build
>>> store = open_store(tempfile.mkdtemp())
>>> _ = build(store)
>>> summary = materialise(store)
>>> summary.engine, summary.triples > 0
('sparql', True)
>>> from kg.meta import inferred_state
>>> inferred_state(store)
'current'
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyoxigraph as ox
import rdflib

from kg.errors import BadInput
from kg.meta import inferred_state
from kg.namespaces import INFERRED_GRAPH, META_GRAPH, QIKG, curie
from kg.reasoning import construct, hermit
from kg.reasoning.asserted import Asserted, Triple
from kg.reasoning.hermit import Consistency
from kg.reasoning.hygiene import hygienic
from kg.reasoning.tbox import TBox
from kg.sparql import iri_term, iri_terms
from kg.store import Store
from kg.store.history import change

ENGINES = ("sparql", "owlrl", "hermit")
#: The default: the same triples as owlrl on the bundled graph, at store scale (docs/reasoning.md).
DEFAULT_ENGINE = "sparql"
#: The meta-graph property that names the engine that wrote the inferred graph.
REASONER = QIKG.reasoner
GENERATED_AT = "http://www.w3.org/ns/prov#generatedAtTime"
DATE_TIME = "http://www.w3.org/2001/XMLSchema#dateTime"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@dataclass
class Summary:
    """What one materialisation wrote."""

    engine: str
    triples: int
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def check(store: Store) -> Consistency:
    """Whether the ontology and the study graphs are consistent (HermiT), with the clashes
    explained and the unsatisfiable classes named."""
    return hermit.check(Asserted.from_store(store), TBox.from_store(store))


def infer(store: Store, engine: str = DEFAULT_ENGINE) -> set[str]:
    """The new triples (N-Triples lines) an engine entails from the store, less what would break
    the ontology's checks (kg.reasoning.hygiene); nothing is written."""
    return hygienic(store, _entailed(store, engine))


def _entailed(store: Store, engine: str) -> set[str]:
    if engine not in ENGINES:
        raise BadInput(f"unknown engine {engine!r}: use {', '.join(ENGINES)}")
    tbox = TBox.from_store(store)
    if engine == "sparql":
        return construct.run(store, tbox)
    from kg.reasoning import engines  # owlrl and Java are needed by these engines only

    graph = Asserted.from_store(store).graph()
    if engine == "hermit":
        types = {t for t in engines.hermit_types(graph) if tbox.in_profile(*t) and t not in graph}
        rules = construct.run(store, tbox)
        rules = {line for line in rules if line.split(" ", 2)[1] != iri_term(construct.RDF_TYPE)}
        return ntriples_lines(types) | rules
    entailed = {t for t in engines.owlrl_closure(graph) if tbox.in_profile(*t) and t not in graph}
    return ntriples_lines(entailed) | construct.run(store, tbox, owl=False)


def materialise(store: Store, engine: str = DEFAULT_ENGINE) -> Summary:
    """Replace the inferred graph with what ``engine`` entails, and mark it current."""
    start = time.perf_counter()
    lines = infer(store, engine)
    with change("reason"):  # one version of the store's history
        _write(store, lines, engine)
    return Summary(engine, len(lines), _counts(lines), time.perf_counter() - start)


@contextmanager
def keep_current(
    store: Store, written: Sequence[str], extended: Sequence[str] = ()
) -> Iterator[None]:
    """Around an import that writes the graphs ``written`` and adds to ``extended``: if the
    inferred graph was current (``sparql`` engine) and every written graph is new, add what the
    new triples entail and keep it current. Otherwise the import's stale flag stays.

    Sound because every rule but the transitive chains and property chains reads one asserted
    triple at a time, and those two are recomputed over the whole store.
    """
    written = [g for g in written if g not in (str(META_GRAPH), str(INFERRED_GRAPH))]
    existing = set(store.graph_names())
    incremental = not existing.intersection(written) and current_engine(store) == "sparql"
    yield
    if not incremental:
        return
    scope = [*written, *extended]
    new = hygienic(store, construct.run(store, TBox.from_store(store), graphs=scope))
    now_asserted = store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {iri_terms(scope)} }} "
        f"GRAPH ?g {{ ?s ?p ?o }} GRAPH {iri_term(INFERRED_GRAPH)} {{ ?s ?p ?o }} }}"
    ).ntriples
    if now_asserted.strip():  # the import asserts what was inferred: rewrite the graph
        kept = set(store.dump("nt", str(INFERRED_GRAPH)).decode().splitlines())
        _write(store, (kept | new) - set(now_asserted.splitlines()) - {""}, "sparql")
    else:
        store.replace_graphs(
            {str(META_GRAPH): _meta(store, "sparql")},
            extend={str(INFERRED_GRAPH): "".join(line + "\n" for line in sorted(new))},
        )


def current_engine(store: Store) -> str | None:
    """The engine that wrote the inferred graph, if it is current; else None."""
    if inferred_state(store) != "current":
        return None
    rows = store.query(
        f"SELECT ?e WHERE {{ GRAPH {iri_term(META_GRAPH)} {{ {iri_term(INFERRED_GRAPH)} {iri_term(REASONER)} ?e }} }}"
    ).column("e")
    return rows[0] if rows else None


def _write(store: Store, lines: Iterable[str], engine: str) -> None:
    """The inferred graph and the meta graph that says it is current, in one transaction."""
    text = "".join(line + "\n" for line in sorted(lines))
    store.replace_graphs({str(INFERRED_GRAPH): text, str(META_GRAPH): _meta(store, engine)})


def _meta(store: Store, engine: str) -> str:
    """The meta graph without the stale flag: other bookkeeping kept, when and how stated."""
    kept = []
    if str(META_GRAPH) in store.graph_names():
        ours = f"{iri_term(INFERRED_GRAPH)} "
        kept = [
            line
            for line in store.dump("nt", str(META_GRAPH)).decode().splitlines()
            if line and not line.startswith(ours)
        ]
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    kept += [
        f'{iri_term(INFERRED_GRAPH)} {iri_term(GENERATED_AT)} "{now}"^^{iri_term(DATE_TIME)} .',
        f'{iri_term(INFERRED_GRAPH)} {iri_term(REASONER)} "{engine}" .',
    ]
    return "\n".join(kept) + "\n"


@dataclass
class EngineRun:
    """One engine's answer on a store, against a reference engine's (docs/reasoning.md)."""

    engine: str
    triples: int
    seconds: float
    extra: dict[str, int]
    missing: dict[str, int]


def compare(
    store: Store, engines: Sequence[str] = ENGINES, reference: str = DEFAULT_ENGINE
) -> list[EngineRun]:
    """Run each engine (nothing is written) and count what it adds or lacks against ``reference``,
    per predicate."""
    answers: dict[str, tuple[set[str], float]] = {}
    for engine in dict.fromkeys([reference, *engines]):
        start = time.perf_counter()
        answers[engine] = infer(store, engine), time.perf_counter() - start
    expected = answers[reference][0]
    return [
        EngineRun(e, len(lines), secs, _counts(lines - expected), _counts(expected - lines))
        for e, (lines, secs) in answers.items()
        if e in engines
    ]


def _counts(lines: Iterable[str]) -> dict[str, int]:
    """How many new triples per predicate (``rdf:type`` per class as ``a qikg:Study``)."""
    found: Counter[str] = Counter()
    for line in lines:
        _, p, o = line.split(" ", 2)
        name = curie(p[1:-1])
        found["a " + curie(o.rstrip(" .")[1:-1]) if name == "rdf:type" else name] += 1
    return dict(found.most_common())


def ntriples_lines(triples: Iterable[Triple]) -> set[str]:
    """rdflib triples as N-Triples lines in Oxigraph's form (what the store's answers use).

    >>> sorted(ntriples_lines([(rdflib.URIRef("urn:a"), rdflib.URIRef("urn:b"), rdflib.Literal("c"))]))
    ['<urn:a> <urn:b> "c" .']
    """

    def term(node: rdflib.term.Node) -> ox.NamedNode | ox.Literal:
        if isinstance(node, rdflib.Literal):
            if node.language:
                return ox.Literal(str(node), language=node.language)
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype or XSD_STRING)))
        return ox.NamedNode(str(node))

    # Subjects and predicates are IRIs: only an object can be a literal.
    text = ox.serialize(
        [ox.Triple(ox.NamedNode(str(s)), ox.NamedNode(str(p)), term(o)) for s, p, o in triples],
        format=ox.RdfFormat.N_TRIPLES,
    )
    return set((text or b"").decode().splitlines()) - {""}
