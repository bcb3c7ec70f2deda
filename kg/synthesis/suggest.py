"""Propose candidate review findings: findings of different studies that meet at a concept.

Sharing is decided by kg.read.related.related, so it is hierarchy- and CFIR-aware in the same way as
``qikg related``: "nurse" meets "health professional", and "lack of time" meets CFIR's Available
Resources. Every concept two findings of different studies share makes a group of all the
findings that share it across studies; groups with the same members are one suggestion. The
researcher accepts a suggestion by writing it into a reviews sheet (``skeleton_rows``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from kg.read.related import related
from kg.sparql import sparql_prefixes
from kg.store import Store
from kg.synthesis.model import REVIEW_COLUMNS


@dataclass(frozen=True)
class Member:
    """A finding in a suggested group."""

    ref: str  # study_id/finding_id
    study: str
    statement: str


@dataclass
class Suggestion:
    """A candidate review finding: findings of several studies and the concepts they share."""

    shared: list[str]
    members: list[Member]
    score: float = 0.0  # how closely the members' studies are linked, on average (see suggest)
    studies: list[str] = field(default_factory=list)

    @property
    def supporting_findings(self) -> str:
        """The members as a reviews-sheet cell: ``study_id/finding_id; ...``."""
        return "; ".join(m.ref for m in self.members)


def suggest(store: Store, min_studies: int = 2) -> list[Suggestion]:
    """Groups of findings from at least ``min_studies`` studies that share a concept.

    Each group's ``score`` is the mean, over its pairs of findings from different studies that
    kg.read.related relates, of the pair's score (1 per concept coded in both, 0.5 per concept met
    through the hierarchy or an alignment). Best first: most studies, then highest score.
    """
    findings = store.query(
        sparql_prefixes()
        + """SELECT ?sid ?fid ?statement WHERE {
            ?f a qikg:Finding ; dcterms:identifier ?fid ; qikg:reportedIn/dcterms:identifier ?sid .
            OPTIONAL { ?f qikg:statement ?statement } }""",
        include_inferred=False,
    ).values()
    members = {
        f"{r['sid']}/{r['fid']}": Member(
            f"{r['sid']}/{r['fid']}", r["sid"] or "", r["statement"] or ""
        )
        for r in findings
    }
    pairs: dict[frozenset[str], float] = {}
    by_concept: dict[str, set[str]] = {}
    for ref in sorted(members):
        for other in related(store, ref, limit=len(members)):
            pair = frozenset({ref, f"{other.study}/{other.finding_id}"})
            pairs[pair] = other.score
            for concept in other.shared:
                by_concept.setdefault(concept, set()).update(pair)
    groups: dict[frozenset[str], list[str]] = {}
    for concept, refs in by_concept.items():
        groups.setdefault(frozenset(refs), []).append(concept)
    out = []
    for group, shared in groups.items():
        studies = sorted({members[r].study for r in group})
        if len(studies) < min_studies:
            continue
        linked = [pairs[frozenset(p)] for p in combinations(group, 2) if frozenset(p) in pairs]
        out.append(
            Suggestion(
                shared=sorted(shared, key=str.casefold),
                members=[members[r] for r in sorted(group)],
                score=round(sum(linked) / len(linked), 2) if linked else 0.0,
                studies=studies,
            )
        )
    out.sort(key=lambda s: (-len(s.studies), -s.score, len(s.members), s.shared))
    return out


def skeleton_rows(suggestions: list[Suggestion]) -> list[dict[str, str]]:
    """The suggestions as a reviews-sheet skeleton: ids S1, S2, ..., the supporting findings
    filled in, the shared concepts in a ``shared_concepts`` column (kept as a note on import),
    and the statement and GRADE-CERQual judgements left for the researcher."""
    return [
        {
            **dict.fromkeys(REVIEW_COLUMNS, ""),
            "review_finding_id": f"S{n}",
            "supporting_findings": s.supporting_findings,
            "shared_concepts": "; ".join(s.shared),
        }
        for n, s in enumerate(suggestions, start=1)
    ]


#: The columns of a skeleton sheet: the reviews columns and the shared concepts.
SKELETON_COLUMNS = [*REVIEW_COLUMNS, "shared_concepts"]

__all__ = ["SKELETON_COLUMNS", "Member", "Suggestion", "skeleton_rows", "suggest"]
