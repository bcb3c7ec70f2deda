"""Concepts above concepts, walked here from the single links: what ``?x (up)* ?c`` finds.

qikg's own reads send no ``*`` or ``+`` path to the store. Virtuoso 7.2.5 can answer such a path
wrongly when it is joined with other patterns (it did with qikg's graphs named one by one or in a
graph group), and refuses one whose start comes from VALUES of two or more rows (docs/deploy.md).
A vocabulary has few links (about 200 with the bundled data), so they are read in one query and
walked in Python; what a read needs goes back into its query as VALUES.
"""

from __future__ import annotations

from collections.abc import Iterable

from kg.sparql import any_of, iri_term, sparql_prefixes
from kg.store import Store

#: Concepts above a concept, by concept; a concept with no link upwards is not a key.
Above = dict[str, set[str]]


def above(store: Store, up: str, include_inferred: bool = False) -> Above:
    """Each concept with a link ``up`` (a property, or alternatives ``a|b``), and every concept
    one or more such links above it (itself only if the links lead back to it)."""
    links = store.query(
        sparql_prefixes() + f"SELECT DISTINCT ?x ?y WHERE {{ {any_of('?x', up, '?y')} }}",
        include_inferred=include_inferred,
    ).values()
    parents: Above = {}
    for row in links:
        if row["x"] and row["y"]:
            parents.setdefault(row["x"], set()).add(row["y"])
    out: Above = {}
    for start, first in parents.items():
        seen: set[str] = set()
        todo = list(first)
        while todo:
            concept = todo.pop()
            if concept not in seen:
                seen.add(concept)
                todo.extend(parents.get(concept, ()))
        out[start] = seen
    return out


def below(hierarchy: Above, chosen: Iterable[str]) -> set[str]:
    """The chosen concepts and every concept under one of them.

    >>> sorted(below({"nurse": {"clinician"}, "clinician": {"professional"}}, ["clinician"]))
    ['clinician', 'nurse']
    """
    picked = set(chosen)
    return picked | {c for c, ups in hierarchy.items() if ups & picked}


def climb(anchor: str, hierarchy: Above, x: str = "?x", c: str = "?c") -> str:
    """A graph pattern: ``anchor`` (which binds ``c``), with ``x`` bound to ``c`` and to each
    concept under it, as ``x (up)* c`` would.

    >>> climb("?c a ?k .", {"urn:n": {"urn:p"}})
    '{ ?c a ?k . BIND(?c AS ?x) } UNION { ?c a ?k . VALUES (?x ?c) { (<urn:n> <urn:p>) } }'
    """
    pairs = " ".join(
        f"({iri_term(low)} {iri_term(high)})"
        for low, highs in sorted(hierarchy.items())
        for high in sorted(highs)
    )
    itself = f"{{ {anchor} BIND({c} AS {x}) }}"
    return f"{itself} UNION {{ {anchor} VALUES ({x} {c}) {{ {pairs} }} }}" if pairs else itself
