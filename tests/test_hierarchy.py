"""Concepts above concepts walked in Python (kg.read.hierarchy) find what a `*` path finds on an
engine that answers paths rightly (the embedded store), with chains, several parents and loops."""

from __future__ import annotations

import pytest

from kg.read.concepts import UP
from kg.read.hierarchy import above, below, climb
from kg.read.related import REACH
from kg.sparql import sparql_prefixes
from kg.store import open_store

LINKS = """<urn:nurse> <http://www.w3.org/2004/02/skos/core#broader> <urn:clinician> .
<urn:clinician> <http://www.w3.org/2004/02/skos/core#broader> <urn:professional> .
<urn:nurse> <http://www.w3.org/2004/02/skos/core#broadMatch> <urn:staff> .
<urn:a> <http://www.w3.org/2004/02/skos/core#broader> <urn:b> .
<urn:b> <http://www.w3.org/2004/02/skos/core#broader> <urn:a> .
"""


def test_chains_several_parents_and_loops(tmp_path):
    store = open_store(str(tmp_path / "s"))
    store.replace_graphs({"urn:g": LINKS})
    found = above(store, UP)
    assert found == {
        "urn:nurse": {"urn:clinician", "urn:professional", "urn:staff"},
        "urn:clinician": {"urn:professional"},
        "urn:a": {"urn:a", "urn:b"},
        "urn:b": {"urn:a", "urn:b"},
    }
    assert below(found, ["urn:professional"]) == {"urn:professional", "urn:clinician", "urn:nurse"}
    assert below(found, ["urn:unknown"]) == {"urn:unknown"}  # a choice is always its own


@pytest.mark.parametrize("up", [UP, REACH, "skos:broader"])
def test_climb_pairs_what_the_path_pairs_on_the_bundled_data(built_store, up):
    anchor = "?c a skos:Concept ."
    by_path = built_store.query(
        sparql_prefixes() + f"SELECT DISTINCT ?x ?c WHERE {{ {anchor} ?x ({up})* ?c }}"
    ).values()
    walked = built_store.query(
        sparql_prefixes()
        + f"SELECT DISTINCT ?x ?c WHERE {{ {climb(anchor, above(built_store, up))} }}"
    ).values()
    assert len(by_path) > 100  # the bundled vocabulary, with its links
    assert sorted(map(sorted, (r.items() for r in walked))) == sorted(
        map(sorted, (r.items() for r in by_path))
    )
