"""What a write would change in a study, in the researcher's terms: findings added, removed and
changed (which cells), quotes added and removed. Shown before a replace happens (``--dry-run``,
the explorer before its Import button) and after it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import rdflib
from rdflib.namespace import RDF

from kg.namespaces import OA, QIKG
from kg.sheets.from_rdf import graph_tables
from kg.sheets.to_rdf import source_iri
from kg.vocabulary import Vocabulary


@dataclass
class StudyChanges:
    """How one study's findings and quotes differ between two versions of its graph."""

    study: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    quotes_added: list[str] = field(default_factory=list)
    quotes_removed: list[str] = field(default_factory=list)
    #: Whether the text the study was coded from (or where it came from, its licence) changes.
    source_changed: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.added
            or self.removed
            or self.changed
            or self.quotes_added
            or self.quotes_removed
            or self.source_changed
        )

    def to_text(self) -> str:
        """One line per kind of change, for the command line and the explorer.

        >>> print(StudyChanges("s1", added=["F3"], changed={"F1": ["statement"]}).to_text())
        study s1: 1 finding added (F3); 1 finding changed (F1: statement)
        """
        parts = []
        for what, ids in (("added", self.added), ("removed", self.removed)):
            if ids:
                parts.append(f"{_n(len(ids), 'finding')} {what} ({', '.join(ids)})")
        if self.changed:
            cells = "; ".join(f"{fid}: {', '.join(cols)}" for fid, cols in self.changed.items())
            parts.append(f"{_n(len(self.changed), 'finding')} changed ({cells})")
        for what, quotes in (("added", self.quotes_added), ("removed", self.quotes_removed)):
            if quotes:
                parts.append(f"{_n(len(quotes), 'quote')} {what}")
        if self.source_changed:
            parts.append("its source text changed")
        return f"study {self.study}: " + ("; ".join(parts) if parts else "no change")


def study_changes(
    study: str, before: rdflib.Graph, after: rdflib.Graph, vocab: Vocabulary
) -> StudyChanges:
    """The changes from ``before`` to ``after`` (a study's graph with the shared descriptions)."""
    old = {row["finding_id"]: row for row in graph_tables(before, study, vocab)["findings"][1]}
    new = {row["finding_id"]: row for row in graph_tables(after, study, vocab)["findings"][1]}
    changes = StudyChanges(study)
    changes.added = [fid for fid in new if fid not in old]
    changes.removed = [fid for fid in old if fid not in new]
    for fid in new.keys() & old.keys():
        columns = [
            c for c in {**old[fid], **new[fid]} if old[fid].get(c, "") != new[fid].get(c, "")
        ]
        if columns:
            changes.changed[fid] = columns
    changes.changed = dict(sorted(changes.changed.items()))
    quotes_before, quotes_after = _quotes(before), _quotes(after)
    changes.quotes_added = sorted((quotes_after - quotes_before).elements())
    changes.quotes_removed = sorted((quotes_before - quotes_after).elements())
    source = source_iri(study)
    changes.source_changed = set(before.predicate_objects(source)) != set(
        after.predicate_objects(source)
    )
    return changes


def _quotes(graph: rdflib.Graph) -> Counter[str]:
    """The exact text of every quote in the graph (a sheet's and a QDA project's alike)."""
    return Counter(
        str(exact)
        for quote in graph.subjects(RDF.type, QIKG.Quote)
        for target in graph.objects(quote, OA.hasTarget)
        for selector in graph.objects(target, OA.hasSelector)
        for exact in graph.objects(selector, OA.exact)
    )


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
