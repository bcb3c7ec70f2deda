"""Import REFI-QDA projects (``.qdpx``) and codebooks (``.qdc``) into a study (docs/qda-import.md).

The study must already be in the graph (imported from its row of a coding sheet): a QDA project
holds codes and coded text, not the study's title, authors and year. The import goes through the
same checks as a coding sheet (kg.importer.commit_batches): SHACL validation, then one
transaction that writes everything or nothing.

>>> import tempfile
>>> from kg.store import open_store
>>> import_qda(open_store(tempfile.mkdtemp()), "missing.qdc", "s1")
Traceback (most recent call last):
...
kg.errors.BadInput: no such file: missing.qdc
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import rdflib
from rdflib.namespace import RDF

from kg.errors import REPLACE_IT, BadInput, DataProblem
from kg.importer import commit_batches
from kg.namespaces import QIKG, study_graph, study_iri
from kg.qda.mapping import Mapping, read_mapping, write_template
from kg.qda.read import Project, read_qda
from kg.qda.to_rdf import Anchoring, build
from kg.sheets.rows import Batch
from kg.store import Store, on_current_version
from kg.store.history import change
from kg.studies import qda_subjects, study_ids
from kg.validate import Problem, Report, Violations
from kg.vocabulary import Vocabulary

__all__ = ["QdaResult", "QdaViolations", "import_qda", "mapping_template", "read_qda"]


@dataclass
class QdaResult:
    """What a QDA import did (or, with ``dry_run``, would do), with the re-anchoring report."""

    study: str
    file: str
    codes: int
    quotes: int
    findings: int
    mapped: int
    anchoring: Anchoring
    report: Report = field(default_factory=lambda: Report([], 0))
    replaced: bool = False
    committed: bool = False

    def summary(self) -> str:
        """One line: what was (or would be) imported into which study."""
        verb = "imported" if self.committed else "would import"
        return (
            f"{verb} {self.file} into study {self.study}: {self.codes} codes ({self.mapped} "
            f"mapped), {self.quotes} quotes, {self.findings} findings"
            + (" (replacing the QDA data it held)" if self.replaced else "")
        )


class QdaViolations(Violations):
    """A QDA import refused for problems in the data: ``report`` names them, ``result`` says
    what the import found (the re-anchoring report among it)."""

    def __init__(self, message: str, report: Report, result: QdaResult) -> None:
        super().__init__(message, report)
        self.result = result


def import_qda(
    store: Store,
    path: str | Path,
    study_id: str,
    mapping: str | Path | None = None,
    *,
    dry_run: bool = False,
    replace: bool = False,
) -> QdaResult:
    """Import a .qdpx project or .qdc codebook into ``study_id``, mapped through an SSSOM table.

    Raise BadInput for a file that is unsafe or unreadable or a study not in the graph, and
    QdaViolations (a DataProblem with ``.report`` and ``.result``) when anything is wrong in the
    data: then nothing is written. A study that already holds QDA data is refused unless
    ``replace``. Like every import, it is done again on the new store if another write commits
    meanwhile.
    """
    project = read_qda(path)

    def attempt(version: str | None) -> QdaResult:
        with change("import-qda", file=path):  # what the commit is, in the store's history
            return _import_once(store, project, study_id, mapping, dry_run, replace, version)

    return on_current_version(store, attempt)


def _import_once(
    store: Store,
    project: Project,
    study_id: str,
    mapping: str | Path | None,
    dry_run: bool,
    replace: bool,
    version: str | None,
) -> QdaResult:
    stored = _stored_study(store, study_id)
    vocab = Vocabulary.from_store(store)
    table = read_mapping(mapping, project, study_id, vocab) if mapping else Mapping()
    doi = stored.value(study_iri(study_id), QIKG.doi)
    built = build(project, study_id, table, vocab, doi if isinstance(doi, rdflib.URIRef) else None)
    graph, replaced = _merge(stored, built.graph, study_id, replace)
    batch = Batch(
        graphs={study_id: graph},
        shared=built.shared,
        origins=built.origins,
        findings=built.findings,
    )
    batch.problems = [
        Problem("violation", message, "", None, None, study=study_id, source=where)
        for message, where in project.problems + table.problems
    ] + built.problems
    result = QdaResult(
        study_id,
        project.file,
        len(project.codes),
        built.quotes,
        built.findings,
        len({r.code for r in table.rows if r.concept}),
        built.anchoring,
        replaced=replaced,
    )
    try:
        outcome = commit_batches(store, [batch], vocab, dry_run=dry_run, expect=version)
    except Violations as exc:
        result.report = _tidy(exc.report, study_id)
        raise QdaViolations(
            f"nothing was imported: {result.report.summary()}", result.report, result
        ) from None
    result.report = _tidy(outcome.report, study_id)
    result.committed = outcome.committed
    return result


def mapping_template(store: Store, path: str | Path, output: str | Path) -> int:
    """Write an SSSOM mapping table for a project's codes with suggested matches; return rows."""
    return write_template(read_qda(path), Vocabulary.from_store(store), output)


def _stored_study(store: Store, study_id: str) -> rdflib.Graph:
    """The study's stored graph; BadInput if the study is not in the graph."""
    graph = rdflib.Graph()
    if study_id in study_ids(store):
        graph.parse(data=store.dump("nt", study_graph(study_id)).decode(), format="nt")
    if (study_iri(study_id), RDF.type, QIKG.Study) not in graph:
        raise BadInput(
            f'study "{study_id}" is not in the graph: import its row of the studies sheet first '
            "(`qikg template -o study.xlsx`, fill in the studies sheet, `qikg import study.xlsx`), "
            "then import the QDA file into it"
        )
    return graph


def _merge(
    stored: rdflib.Graph, new: rdflib.Graph, study_id: str, replace: bool
) -> tuple[rdflib.Graph, bool]:
    """The study graph with its old QDA data swapped for ``new``; True if there was old QDA data."""
    old = qda_subjects(stored, study_id)
    if old and not replace:
        raise DataProblem(
            f'study "{study_id}" already holds an imported QDA project or codebook; {REPLACE_IT}'
        )
    graph = rdflib.Graph()
    for triple in stored:
        if triple[0] not in old:
            graph.add(triple)
    graph += new
    return graph, bool(old)


def _tidy(report: Report, study_id: str) -> Report:
    """Fold the per-quote "supports no finding" warnings into one line: coded selections that
    no finding code covers are expected in a QDA project."""
    lonely = [p for p in report.problems if p.message.startswith("This quote supports no finding")]
    if lonely:
        rest = [p for p in report.problems if not p.message.startswith("This quote supports no")]
        rest.append(
            Problem(
                "info",
                f"{len(lonely)} quote(s) support no finding: they are kept, coded with the "
                "study's codes (docs/qda-import.md says how codes become findings)",
                "",
                None,
                None,
                study=study_id,
            )
        )
        report.problems[:] = rest
    return report
