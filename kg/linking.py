"""Link findings across studies: related findings, and the study x concept comparison matrix.

Sharing is hierarchy-aware and follows the alignments: a concept a finding is coded with reaches
its broader concepts and the concepts it matches in other schemes (e.g. qikg:LackOfTime reaches
cfir:AvailableResources), so "nurse" and "health professional" meet at the broader concept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.errors import BadInput
from kg.namespaces import CFIR, DATA, QIKG, expand, sparql_prefixes
from kg.store import Store

CODED = "|".join(
    f"qikg:{p}"
    for p in (
        "concernsProfessionalGroup",
        "concernsRole",
        "involvesQICComponent",
        "hasEnabler",
        "hasBarrier",
        "relatesToOutcome",
        "relatesToConcept",
    )
)
REACH = "(skos:broader|skos:broadMatch|skos:closeMatch|skos:exactMatch)*"

#: The columns of the comparison matrix: the coding property each one counts.
COMPARE_COLUMNS = {
    "professional_groups": "qikg:concernsProfessionalGroup",
    "roles": "qikg:concernsRole",
    "qic_components": "qikg:involvesQICComponent",
    "enablers": "qikg:hasEnabler",
    "barriers": "qikg:hasBarrier",
    "outcomes": "qikg:relatesToOutcome",
    "concepts": "qikg:relatesToConcept",
    "cfir": None,
}


@dataclass
class Related:
    """A finding of another study that shares concepts with the one asked about."""

    finding: str
    finding_id: str
    study: str
    statement: str
    shared: list[str] = field(default_factory=list)
    score: float = 0.0


def finding_ref(text: str) -> str:
    """The IRI of a finding named as ``study_id/finding_id``, a CURIE or a full IRI.

    >>> finding_ref("carstensen2024/F1")
    'https://w3id.org/qikg/data/carstensen2024/finding/F1'
    """
    text = text.strip()
    if "://" in text:
        return text
    if expand(text):
        return expand(text)  # type: ignore[return-value]
    study, sep, finding = text.partition("/")
    if not sep or not study or not finding:
        raise BadInput(
            f'"{text}" is not a finding: write study_id/finding_id, e.g. carstensen2024/F1'
        )
    return f"{DATA}{study}/finding/{finding}"


def related(store: Store, finding: str, min_shared: int = 1, limit: int = 50) -> list[Related]:
    """Findings of other studies sharing concepts with ``finding``, most shared first."""
    iri = finding_ref(finding)
    if not store.query(f"ASK {{ <{iri}> a <{QIKG.Finding}> }}").boolean:
        raise BadInput(f"no finding {finding} in the graph (see `qikg query` or the explorer)")
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT DISTINCT ?other ?fid ?study ?statement ?c ?direct WHERE {{
            <{iri}> {CODED} ?mine ; qikg:reportedIn ?home .
            ?mine {REACH} ?c .
            ?c a skos:Concept .
            ?theirs {REACH} ?c .
            ?other {CODED} ?theirs ; qikg:reportedIn ?study ; dcterms:identifier ?fid .
            FILTER(?study != ?home)
            OPTIONAL {{ ?other qikg:statement ?statement }}
            BIND(?mine = ?c && ?theirs = ?c AS ?direct)
        }}""",
        include_inferred=False,
    ).values()
    shared: dict[str, dict[str, bool]] = {}
    info: dict[str, dict] = {}
    for row in rows:
        concepts = shared.setdefault(row["other"], {})
        concepts[row["c"]] = concepts.get(row["c"], False) or row["direct"] == "true"
        info[row["other"]] = row
    closure = _ancestors(store, {c for cs in shared.values() for c in cs})
    names = _pref_labels(store, {c for cs in shared.values() for c in cs})
    out = []
    for other, concepts in shared.items():
        specific = [
            c for c in concepts if not any(c in closure.get(d, ()) for d in concepts if d != c)
        ]
        if len(specific) < min_shared:
            continue
        row = info[other]
        out.append(
            Related(
                finding=other,
                finding_id=row["fid"],
                study=row["study"].removeprefix(str(DATA)),
                statement=row["statement"] or "",
                shared=sorted(names.get(c, c) for c in specific),
                score=sum(1.0 if concepts[c] else 0.5 for c in specific),
            )
        )
    out.sort(key=lambda r: (-r.score, r.study, r.finding_id))
    return out[:limit]


def _ancestors(store: Store, concepts: set[str]) -> dict[str, set[str]]:
    """Each concept's strict ancestors along broader and match links."""
    if not concepts:
        return {}
    values = " ".join(f"<{c}>" for c in concepts)
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT DISTINCT ?c ?up WHERE {{ VALUES ?c {{ {values} }}
            ?c (skos:broader|skos:broadMatch|skos:closeMatch|skos:exactMatch)+ ?up . FILTER(?up != ?c) }}""",
        include_inferred=False,
    ).values()
    out: dict[str, set[str]] = {}
    for row in rows:
        out.setdefault(row["c"], set()).add(row["up"])
    return out


def _pref_labels(store: Store, concepts: set[str]) -> dict[str, str]:
    from kg.labels import labels

    return labels(store, concepts)


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
        pattern = (
            f"?f {CODED} ?coded . ?coded (skos:broadMatch|skos:closeMatch|skos:exactMatch)? ?c . "
            f"?c skos:inScheme <{CFIR.CFIR2}> ."
        )
    else:
        pattern = f"?f {prop} ?c ."
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?sid ?c (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?f) AS ?n) WHERE {{
            ?f a qikg:Finding ; qikg:reportedIn ?s . ?s dcterms:identifier ?sid .
            {pattern}
            OPTIONAL {{ ?c skos:prefLabel ?l FILTER(lang(?l) IN ("", "en")) }}
        }} GROUP BY ?sid ?c""",
        include_inferred=include_inferred,
    ).values()
    studies = store.query(
        sparql_prefixes()
        + """SELECT ?sid ?authors ?year WHERE { ?s a qikg:Study ; dcterms:identifier ?sid .
            OPTIONAL { ?s qikg:authors ?authors } OPTIONAL { ?s qikg:publicationYear ?year } }
            ORDER BY ?sid""",
        include_inferred=False,
    ).values()
    labels = {r["c"]: r["label"] or r["c"] for r in rows}
    totals: dict[str, int] = {}
    counts = {}
    for r in rows:
        counts[r["sid"], r["c"]] = int(r["n"])
        totals[r["c"]] = totals.get(r["c"], 0) + int(r["n"])
    concepts = sorted(labels.items(), key=lambda kv: (-totals[kv[0]], kv[1].casefold()))
    return Matrix(
        columns,
        [(s["sid"], _citation(s["authors"], s["year"])) for s in studies],
        concepts,
        counts,
    )


def _citation(authors: str | None, year: str | None) -> str:
    first = (authors or "").split(";")[0].strip().split(" ")[0] or "?"
    many = authors and ";" in authors
    return f"{first}{' et al.' if many else ''} {year or ''}".strip()


def findings_for(store: Store, study_id: str, columns: str, concept: str) -> list[dict[str, str]]:
    """The findings behind one cell of the comparison matrix."""
    prop = COMPARE_COLUMNS.get(columns)
    if columns == "cfir":
        pattern = f"?f {CODED} ?coded . ?coded (skos:broadMatch|skos:closeMatch|skos:exactMatch)? <{concept}> ."
    elif prop:
        pattern = f"?f {prop} <{concept}> ."
    else:
        raise BadInput(f"unknown columns {columns!r}")
    return store.query(
        sparql_prefixes()
        + f"""SELECT DISTINCT ?f ?fid ?statement WHERE {{
            ?f a qikg:Finding ; qikg:reportedIn <{DATA}{study_id}> ; dcterms:identifier ?fid .
            {pattern} OPTIONAL {{ ?f qikg:statement ?statement }} }} ORDER BY ?fid""",
        include_inferred=False,
    ).values()
