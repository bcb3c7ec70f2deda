"""Withdraw a study: its graph (findings, quotes, QDA codes and codings) and what was inferred
about it, in one write that the store's history can undo (docs/history.md).

A review finding that synthesises one of the study's findings would be left citing findings that
are gone, so the removal is refused unless forced; forced, the review findings are named and kept
as they are (they are the review's record).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kg.errors import BadInput, DataProblem
from kg.meta import stale_flag
from kg.namespaces import DATA, INFERRED_GRAPH, META_GRAPH, study_graph, study_iri
from kg.sparql import iri_term, literal_term
from kg.store import Store, on_current_version
from kg.store.history import change
from kg.studies import study_ids
from kg.synthesis.model import REVIEW_GRAPH_PREFIX


@dataclass
class Removal:
    """What removing a study takes away (or, with ``dry_run``, would)."""

    study: str
    triples: int
    findings: int
    quotes: int
    codings: int
    inferred: int
    citing: list[str] = field(default_factory=list)
    committed: bool = False

    def summary(self) -> str:
        """One line: what goes."""
        verb = "removed" if self.committed else "would remove"
        return (
            f"{verb} study {self.study}: {self.triples} triples ({self.findings} findings, "
            f"{self.quotes} quotes, {self.codings} QDA codings) and {self.inferred} inferred "
            "triples about it"
        )


def remove_study(
    store: Store, study_id: str, *, force: bool = False, dry_run: bool = False
) -> Removal:
    """Remove ``study_id`` and everything that came from it, all or nothing.

    Raise DataProblem naming the review findings that cite its findings, unless ``force``;
    BadInput if the study is not in the store, or the store keeps no history to undo it with.
    The inferred graph loses the triples about the study's nodes and is marked stale, as after
    an import (``qikg reason`` recomputes it).
    """
    if not store.keeps_history:
        raise store.refuse_history("qikg remove")

    def attempt(version: str | None) -> Removal:
        removal, inferred = _plan(store, study_id)
        if removal.citing and not force:
            raise DataProblem(
                f"study {study_id} was not removed: review findings cite its findings "
                f"({', '.join(removal.citing)}); remove them from their review first, or use "
                "--force to remove the study and leave them citing findings that are gone"
            )
        if dry_run:
            return removal
        graphs = {str(META_GRAPH): stale_flag()}
        if inferred is not None:
            graphs[str(INFERRED_GRAPH)] = inferred
        with change("remove"):
            store.replace_graphs(graphs, drop=(study_graph(study_id),), expect=version)
        removal.committed = True
        return removal

    return on_current_version(store, attempt)


def _plan(store: Store, study_id: str) -> tuple[Removal, str | None]:
    """What removing the study takes, and the inferred graph without it (None: there is none)."""
    if study_id not in study_ids(store):
        raise BadInput(f'study "{study_id}" is not in the graph; nothing was removed')
    graph = iri_term(study_graph(study_id))
    codings = literal_term(f"{DATA}{study_id}/coding/")
    counts: dict[str, str | None] = store.query(
        f"""SELECT (COUNT(DISTINCT ?f) AS ?findings) (COUNT(DISTINCT ?q) AS ?quotes)
            (COUNT(DISTINCT ?c) AS ?codings) WHERE {{ GRAPH {graph} {{
              {{ ?f a qikg:Finding }} UNION {{ ?q a qikg:Quote }}
              UNION {{ ?c a oa:Annotation FILTER(STRSTARTS(STR(?c), {codings})) }} }} }}""",
        include_inferred=False,
    ).values()[0]
    counts["triples"] = str(store.graph_sizes().get(study_graph(study_id), 0))
    prefix = literal_term(f"{DATA}{study_id}/")
    citing: list[str] = store.query(
        f"""SELECT DISTINCT ?id WHERE {{ GRAPH ?g {{ ?rf qikg:synthesises ?f }}
            FILTER(STRSTARTS(STR(?g), {literal_term(REVIEW_GRAPH_PREFIX)}))
            FILTER(STRSTARTS(STR(?f), {prefix}))
            OPTIONAL {{ GRAPH ?g {{ ?rf dcterms:identifier ?given }} }}
            BIND(COALESCE(STR(?given), STR(?rf)) AS ?id) }} ORDER BY ?id""",
        include_inferred=False,
    ).column("id")  # type: ignore[assignment]
    inferred, kept = 0, None
    if str(INFERRED_GRAPH) in store.graph_names():
        study = f"{iri_term(study_iri(study_id))} "
        starts = iri_term(f"{DATA}{study_id}/")[:-1]  # any IRI under the study, as N-Triples
        lines = store.dump("nt", str(INFERRED_GRAPH)).decode().splitlines()
        left = [
            line
            for line in lines
            if line and not any(term.startswith((study, starts)) for term in _ends(line))
        ]
        inferred, kept = len(lines) - len(left), "".join(line + "\n" for line in left)
    removal = Removal(
        study_id,
        int(counts["triples"] or 0),
        int(counts["findings"] or 0),
        int(counts["quotes"] or 0),
        int(counts["codings"] or 0),
        inferred,
        citing,
    )
    return removal, kept


def _ends(line: str) -> tuple[str, str]:
    """The subject and the object of an N-Triples line, each followed by a space."""
    subject, _, rest = line.partition(" ")
    _, _, obj = rest.partition(" ")
    return subject + " ", obj.rstrip(" .") + " "
