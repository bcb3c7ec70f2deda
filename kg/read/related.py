"""Related findings: the findings of other studies that share concepts with one finding.

Sharing is hierarchy-aware and follows the alignments: a concept a finding is coded with reaches
its broader concepts and the concepts it matches in other schemes (e.g. qikg:LackOfTime reaches
cfir:AvailableResources), so "nurse" and "health professional" meet at the broader concept.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.coding import CODED
from kg.errors import BadInput
from kg.namespaces import DATA, QIKG, expand
from kg.read.hierarchy import Above, above
from kg.sparql import any_of, iri_term, iri_terms, sparql_prefixes
from kg.store import Store

REACH = "skos:broader|skos:broadMatch|skos:closeMatch|skos:exactMatch"


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
    >>> finding_ref("http://x/> } DROP ALL {")
    Traceback (most recent call last):
    ...
    kg.errors.BadInput: "http://x/> } DROP ALL {" is not an IRI
    """
    text = text.strip()
    study, sep, finding = text.partition("/")
    if "://" in text or expand(text):
        iri = expand(text) or text
    elif sep and study and finding:
        iri = f"{DATA}{study}/finding/{finding}"
    else:
        raise BadInput(
            f'"{text}" is not a finding: write study_id/finding_id, e.g. carstensen2024/F1'
        )
    iri_term(iri)  # BadInput unless it is an IRI: nothing else reaches a query
    return iri


def related(store: Store, finding: str, min_shared: int = 1, limit: int = 50) -> list[Related]:
    """Findings of other studies sharing concepts with ``finding``, most shared first.

    A finding scores for each most specific concept it shares: 1 when both findings are coded
    with the concept itself, else 0.5. On a large graph most findings share some broad concept,
    so they are not read one by one: codes that reach the same of this finding's concepts score
    alike, the store groups findings by the kinds of code they have (a bit mask per finding),
    and only the findings of the best-scoring groups are read.
    """
    iri = finding_ref(finding)
    if not store.query(f"ASK {{ {iri_term(iri)} a {iri_term(QIKG.Finding)} }}").boolean:
        raise BadInput(f"no finding {finding} in the graph (see `qikg query` or the explorer)")
    coded = store.query(
        sparql_prefixes()
        + f"""SELECT DISTINCT ?mine ?home WHERE {{
            {iri_term(iri)} {CODED} ?mine ; qikg:reportedIn ?home }}""",
        include_inferred=False,
    ).values()
    hierarchy = above(store, REACH)
    mine = {code for r in coded if (code := r["mine"])}
    reach = set(mine).union(*(hierarchy.get(code, set()) for code in mine))
    typed = store.query(
        sparql_prefixes()
        + f"SELECT ?c WHERE {{ VALUES ?c {{ {iri_terms(reach)} }} ?c a skos:Concept }}",
        include_inferred=False,
    ).column("c")
    concepts = {c for c in typed if c}
    if not concepts or limit < 1:
        return []
    names = _pref_labels(store, concepts)
    kind_of = _code_kinds(hierarchy, concepts, mine)
    # Each concept of this finding reaches itself and the others above it.
    closure = {c: kind_of[c][0] - {c} for c in concepts if c in kind_of}
    kinds = sorted(set(kind_of.values()), key=lambda k: (sorted(k[0]), k[1]))
    number = {kind: i for i, kind in enumerate(kinds)}
    homes = ", ".join(sorted({iri_term(home) for r in coded if (home := r["home"]) is not None}))

    def shared(have: list[int]) -> tuple[float, list[str]]:
        """The score and the most specific shared concepts of a finding with these kinds."""
        reached = set().union(*(kinds[i][0] for i in have))
        direct = {kinds[i][1] for i in have}
        specific = [
            c for c in reached if not any(c in closure.get(d, ()) for d in reached if d != c)
        ]
        score = sum(1.0 if c in direct else 0.5 for c in specific)
        return score, sorted(names.get(c, c) for c in specific)

    groups = _groups(store, {code: number[kind] for code, kind in kind_of.items()}, homes)
    scored = [(*shared(have), members) for have, members in groups]
    ranked = sorted((r for r in scored if len(r[1]) >= min_shared), key=lambda r: -r[0])
    best: dict[str, tuple[float, list[str]]] = {}
    for i, (score, specific, members) in enumerate(ranked):
        if len(best) >= limit and score < ranked[i - 1][0]:
            break
        best.update(dict.fromkeys(members, (score, specific)))
    if not best:
        return []
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?o (SAMPLE(?s) AS ?study) (SAMPLE(?id) AS ?fid) (SAMPLE(?st) AS ?statement)
            WHERE {{ VALUES ?o {{ {iri_terms(best)} }}
                ?o qikg:reportedIn ?s ; dcterms:identifier ?id . FILTER(?s NOT IN ({homes}))
                OPTIONAL {{ ?o qikg:statement ?st }}
            }} GROUP BY ?o""",
        include_inferred=False,
    ).values()
    out = [
        Related(
            finding=row["o"] or "",
            finding_id=row["fid"] or "",
            study=(row["study"] or "").removeprefix(str(DATA)),
            statement=row["statement"] or "",
            shared=list(best[row["o"] or ""][1]),
            score=best[row["o"] or ""][0],
        )
        for row in rows
    ]
    out.sort(key=lambda r: (-r.score, r.study, r.finding_id))
    return out[:limit]


#: Kinds of code per bit mask (Oxigraph's integers have 64 bits).
_BITS = 62


def _groups(store: Store, kind: dict[str, int], homes: str) -> list[tuple[list[int], list[str]]]:
    """The findings of studies other than ``homes`` coded with a code of ``kind`` (code -> kind
    number), grouped by the kinds of code they have: each group's kind numbers and findings.

    The store adds up each finding's kinds as bits, in as many masks of ``_BITS`` as needed.
    """
    masks = range(max(kind.values(), default=0) // _BITS + 1)
    bits = " ".join(
        f"({iri_term(code)} {' '.join(str(1 << n % _BITS if n // _BITS == m else 0) for m in masks)})"
        for code, n in kind.items()
    )
    names = " ".join(f"?m{m}" for m in masks)
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT {names} (GROUP_CONCAT(STR(?o); separator=" ") AS ?members) WHERE {{
            {{ SELECT ?o {" ".join(f"(SUM(DISTINCT ?b{m}) AS ?m{m})" for m in masks)} WHERE {{
                VALUES (?code {" ".join(f"?b{m}" for m in masks)}) {{ {bits} }}
                {any_of("?o", CODED, "?code")} }} GROUP BY ?o }}
            {{ SELECT ?o ?s WHERE {{ ?o qikg:reportedIn ?s }} }} FILTER(?s NOT IN ({homes}))
            {{ SELECT ?o WHERE {{ ?o dcterms:identifier ?fid }} }}
        }} GROUP BY {names}""",
        include_inferred=False,
    ).values()
    out = []
    for row in rows:
        mask = [int(row[f"m{m}"] or 0) for m in masks]
        have = [n for n in range(len(mask) * _BITS) if mask[n // _BITS] >> n % _BITS & 1]
        out.append((have, (row["members"] or "").split()))
    return out


def _code_kinds(
    hierarchy: Above, concepts: set[str], mine: set[str]
) -> dict[str, tuple[frozenset[str], str]]:
    """Each code that reaches some of ``concepts`` (itself or by REACH links): which of them it
    reaches, and the code itself when it is one of ``mine`` (a finding coded with it shares it
    directly)."""
    reached: dict[str, set[str]] = {c: {c} for c in concepts}
    for code, ups in hierarchy.items():
        if ups & concepts:
            reached.setdefault(code, set()).update(ups & concepts)
    return {code: (frozenset(cs), code if code in mine else "") for code, cs in reached.items()}


def _pref_labels(store: Store, concepts: set[str]) -> dict[str, str]:
    from kg.read.labels import labels

    return labels(store, concepts)
