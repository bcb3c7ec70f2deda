"""What the inferred graph leaves out so that it never breaks the ontology's own checks
(``ontology/checks/``): SKOS entails ``skos:broader`` from ``skos:broadMatch``, and a concept type
for anything a mapping property points at, but qikg keeps ``skos:broader`` inside one scheme (a
link across schemes stays the mapping it was asserted as) and types only what it describes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kg.sparql import iri_term, iri_terms
from kg.store import Store

IN_SCHEME = "http://www.w3.org/2004/02/skos/core#inScheme"
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
    triples = {line: _iris(line) for line in lines}
    hierarchy = [line for line, (s, p, o) in triples.items() if p in (BROADER, NARROWER)]
    typed = [line for line, (s, p, _) in triples.items() if p == TYPE and s]
    schemes = _schemes(store, {n for line in hierarchy for n in triples[line][::2] if n})
    described = _described(store, {triples[line][0] for line in typed})
    dropped = {line for line in hierarchy if not _shared(schemes, *triples[line][::2])}
    dropped |= {line for line in typed if triples[line][0] not in described}
    return lines - dropped


def _iris(line: str) -> tuple[str, str, str]:
    """An N-Triples line (as qikg's engines write it: single spaces) as its subject IRI,
    predicate term and object IRI; "" for a subject or object that is not an IRI."""
    subject, predicate, rest = line.split(" ", 2)
    obj = rest.rstrip(" .")

    def inner(term: str) -> str:
        return term[1:-1] if term.startswith("<") else ""

    return inner(subject), predicate, inner(obj)


def _shared(schemes: dict[str, set[str]], a: str, b: str) -> bool:
    return bool(a and b and schemes[a] & schemes[b])


def _schemes(store: Store, iris: set[str]) -> dict[str, set[str]]:
    """The asserted schemes of each IRI."""
    found: dict[str, set[str]] = defaultdict(set)
    for row in _rows(store, iris, f"?c {iri_term(IN_SCHEME)} ?s"):
        found[row["c"] or ""].add(row["s"] or "")
    return found


def _described(store: Store, iris: set[str]) -> set[str]:
    """Of these IRIs, those the store says anything about (outside the inferred graph)."""
    return {row["c"] or "" for row in _rows(store, iris, "FILTER EXISTS { ?c ?p ?o }")}


def _rows(store: Store, iris: set[str], pattern: str) -> list[dict[str, str | None]]:
    """The distinct answers of ``pattern`` about ``?c`` for each of these IRIs, a batch at a
    time, leaving the inferred graph out."""
    ordered = sorted(iris)
    rows: list[dict[str, str | None]] = []
    for start in range(0, len(ordered), BATCH):
        values = iri_terms(ordered[start : start + BATCH])
        rows += store.query(
            f"SELECT DISTINCT * WHERE {{ VALUES ?c {{ {values} }} {pattern} }}",
            include_inferred=False,
        ).values()
    return rows
