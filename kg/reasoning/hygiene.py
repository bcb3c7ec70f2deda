"""What the inferred graph leaves out so that it never breaks the ontology's own checks
(``ontology/checks/``): SKOS entails ``skos:broader`` from ``skos:broadMatch``, and a concept type
for anything a mapping property points at, but qikg keeps ``skos:broader`` inside one scheme (a
link across schemes stays the mapping it was asserted as) and types only what it describes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kg.namespaces import INFERRED_GRAPH
from kg.sparql import iri_term, iri_terms
from kg.store import Store

BROADER = iri_term("http://www.w3.org/2004/02/skos/core#broader")
NARROWER = iri_term("http://www.w3.org/2004/02/skos/core#narrower")
TYPE = iri_term("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
#: How many IRIs one lookup names.
BATCH = 500


def hygienic(store: Store, lines: Iterable[str]) -> set[str]:
    """The entailed N-Triples ``lines`` without a ``skos:broader``/``skos:narrower`` between
    concepts that share no scheme, and without a type for an IRI the store does not describe
    (an ESCO or ISCO occupation only matched to, say).

    >>> import tempfile
    >>> from kg.store import open_store
    >>> store = open_store(tempfile.mkdtemp())
    >>> sorted(hygienic(store, ["<urn:x> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:C>"]))
    []
    """
    lines = set(lines)
    parts = {line: line.split(" ", 2) for line in lines}
    hierarchy = {line for line, (_, p, _) in parts.items() if p in (BROADER, NARROWER)}
    typed = {line for line, (_, p, _) in parts.items() if p == TYPE}
    nodes = {s[1:-1] for s, _, _ in parts.values() if s.startswith("<")}
    nodes |= {o.rstrip(" .")[1:-1] for line in hierarchy for o in [parts[line][2]]}
    schemes = _schemes(store, nodes)
    described = _described(store, {parts[line][0][1:-1] for line in typed})
    dropped = set()
    for line in hierarchy:
        subject, _, rest = parts[line]
        if not schemes[subject[1:-1]] & schemes[rest.rstrip(" .")[1:-1]]:
            dropped.add(line)
    dropped |= {line for line in typed if parts[line][0][1:-1] not in described}
    return lines - dropped


def _schemes(store: Store, iris: set[str]) -> dict[str, set[str]]:
    """The asserted schemes of each IRI."""
    found: dict[str, set[str]] = defaultdict(set)
    ordered = sorted(i for i in iris if i)
    for start in range(0, len(ordered), BATCH):
        rows = store.query(
            f"SELECT ?c ?s WHERE {{ VALUES ?c {{ {iri_terms(ordered[start : start + BATCH])} }} "
            "?c <http://www.w3.org/2004/02/skos/core#inScheme> ?s }",
            include_inferred=False,
        ).values()
        for row in rows:
            found[row["c"] or ""].add(row["s"] or "")
    return found


def _described(store: Store, iris: set[str]) -> set[str]:
    """Of these IRIs, those the store says anything about (outside the inferred graph)."""
    found = set()
    ordered = sorted(i for i in iris if i)
    for start in range(0, len(ordered), BATCH):
        rows = store.query(
            f"SELECT DISTINCT ?c WHERE {{ VALUES ?c {{ {iri_terms(ordered[start : start + BATCH])} }} "
            f"GRAPH ?g {{ ?c ?p ?o }} FILTER(?g != {iri_term(str(INFERRED_GRAPH))}) }}",
            include_inferred=False,
        ).column("c")
        found |= {c for c in rows if c}
    return found
