"""The comparison matrix: studies x concepts, the number of findings coded with each (directly,
or for CFIR 2.0 through the constructs a code is aligned to), and the findings behind a cell."""

from __future__ import annotations

from dataclasses import dataclass

from kg.coding import CODED, DIMENSIONS
from kg.errors import BadInput
from kg.namespaces import CFIR, DATA
from kg.sparql import any_of, iri_term, iri_terms, sparql_prefixes
from kg.store import Store
from kg.text import citation

#: The columns of the comparison matrix: the coding property each one counts (CFIR 2.0: the
#: constructs reached from any code).
COMPARE_COLUMNS: dict[str, str | None] = {
    **{d.column: d.curie for d in DIMENSIONS},
    "cfir": None,
}


@dataclass
class Matrix:
    """Counts of findings per study (rows) and concept (columns)."""

    column_kind: str
    studies: list[tuple[str, str]]  # (study_id, short citation)
    concepts: list[tuple[str, str]]  # (IRI, label)
    counts: dict[tuple[str, str], int]

    def rows(self) -> list[dict[str, object]]:
        """One dict per study: ``study`` then a count per concept label."""
        return [
            {
                "study": sid,
                **{label: self.counts.get((sid, iri), 0) for iri, label in self.concepts},
            }
            for sid, _ in self.studies
        ]


def compare(
    store: Store, columns: str = "professional_groups", include_inferred: bool = False
) -> Matrix:
    """The study x concept matrix of finding counts (the qualitative comparison table)."""
    if columns not in COMPARE_COLUMNS:
        raise BadInput(f"unknown columns {columns!r}: use {', '.join(COMPARE_COLUMNS)}")
    prop = COMPARE_COLUMNS[columns]
    if prop is None:
        pattern = f"?c skos:inScheme {iri_term(CFIR.CFIR2)} . {_aligned('?c')}"
    else:
        pattern = f"?f {prop} ?c ."
    # Each side of the joins is a subquery, which Oxigraph hash-joins: a scan per property
    # instead of a lookup per finding. Cells come one row per study, as "concept count" pairs.
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?sid (GROUP_CONCAT(CONCAT(STR(?c), " ", STR(?n)); separator=" ") AS ?cells) WHERE {{
            {{ SELECT ?sid ?c (COUNT(DISTINCT ?f) AS ?n) WHERE {{
                {{ SELECT ?f ?c WHERE {{ {pattern} }} }}
                {{ SELECT ?f WHERE {{ ?f a qikg:Finding }} }}
                {{ SELECT ?f ?s WHERE {{ ?f qikg:reportedIn ?s }} }}
                {{ SELECT ?s ?sid WHERE {{ ?s dcterms:identifier ?sid }} }}
            }} GROUP BY ?sid ?c }}
        }} GROUP BY ?sid""",
        include_inferred=include_inferred,
    ).values()
    studies = store.query(
        sparql_prefixes()
        + """SELECT ?sid ?authors ?year WHERE { ?s a qikg:Study ; dcterms:identifier ?sid .
            OPTIONAL { SELECT ?s ?authors WHERE { ?s qikg:authors ?authors } }
            OPTIONAL { SELECT ?s ?year WHERE { ?s qikg:publicationYear ?year } } }
            ORDER BY ?sid""",
        include_inferred=False,
    ).values()
    totals: dict[str, int] = {}
    counts: dict[tuple[str, str], int] = {}
    for r in rows:
        cells = (r["cells"] or "").split()
        for c, n in zip(cells[::2], cells[1::2], strict=True):
            counts[r["sid"] or "", c] = int(n)
            totals[c] = totals.get(c, 0) + int(n)
    labels = _skos_labels(store, set(totals))
    concepts = sorted(labels.items(), key=lambda kv: (-totals[kv[0]], kv[1].casefold()))
    return Matrix(
        columns,
        [(s["sid"] or "", citation(s["authors"], s["year"]) or "?") for s in studies],
        concepts,
        counts,
    )


def _aligned(concept: str) -> str:
    """The pattern of findings ?f coded with ``concept`` (a variable or an IRI) by any coding
    property, directly or through a concept aligned to it."""
    aligned = f"?coded (skos:broadMatch|skos:closeMatch|skos:exactMatch)? {concept} ."
    return f"{aligned} {any_of('?f', CODED, '?coded')}"


def _skos_labels(store: Store, concepts: set[str]) -> dict[str, str]:
    """Each concept's English (or untagged) skos:prefLabel, else its IRI."""
    values = iri_terms(concepts)
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?c (SAMPLE(?l) AS ?label) WHERE {{ VALUES ?c {{ {values} }}
            OPTIONAL {{ ?c skos:prefLabel ?l FILTER(lang(?l) IN ("", "en")) }} }} GROUP BY ?c""",
        include_inferred=False,
    ).values()
    return {c: r["label"] or c for r in rows if (c := r["c"]) is not None}


def findings_for(
    store: Store, study_id: str, columns: str, concept: str
) -> list[dict[str, str | None]]:
    """The findings behind one cell of the comparison matrix (``statement`` is None for a
    finding without one)."""
    prop = COMPARE_COLUMNS.get(columns)
    if columns == "cfir":
        pattern = _aligned(iri_term(concept))
    elif prop:
        pattern = f"?f {prop} {iri_term(concept)} ."
    else:
        raise BadInput(f"unknown columns {columns!r}")
    return store.query(
        sparql_prefixes()
        + f"""SELECT DISTINCT ?f ?fid ?statement WHERE {{
            ?f a qikg:Finding ; qikg:reportedIn {iri_term(str(DATA) + study_id)} ; dcterms:identifier ?fid .
            {pattern} OPTIONAL {{ ?f qikg:statement ?statement }} }} ORDER BY ?fid""",
        include_inferred=False,
    ).values()
