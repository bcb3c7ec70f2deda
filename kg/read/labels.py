"""Human-readable labels for IRIs, so results show "nurse" beside qikg:Nurse."""

from __future__ import annotations

from collections.abc import Iterable

from kg.sparql import iri_terms, sparql_prefixes
from kg.store import Store


def labels(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The English (or untagged) preferred label, else rdfs:label or title, of each IRI that has one."""
    wanted = sorted({i for i in iris if i})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        values = iri_terms(wanted[start : start + 500])
        rows = store.query(
            sparql_prefixes()
            + f"""SELECT ?x (SAMPLE(?l) AS ?label) WHERE {{
                VALUES ?x {{ {values} }}
                ?x skos:prefLabel|rdfs:label|dcterms:title|foaf:name ?l .
                FILTER(lang(?l) IN ("", "en"))
            }} GROUP BY ?x""",
            include_inferred=False,
        ).values()
        found.update(
            {
                x: label
                for row in rows
                if (x := row["x"]) is not None and (label := row["label"]) is not None
            }
        )
    return found
