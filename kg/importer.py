"""Import coded studies into the store: read, resolve, validate, then commit all or nothing.

Nothing reaches the store unless every study in the file passes the SHACL shapes with no
violation; the commit itself is one transaction, so an import killed half-way leaves the store as
it was.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS

from kg.errors import REPLACE_IT, BadInput
from kg.meta import stale_flag
from kg.namespaces import DATA, META_GRAPH, QIKG, SHARED_GRAPH, study_iri
from kg.reasoning import keep_current
from kg.sheets.changes import StudyChanges, study_changes
from kg.sheets.read import Table, read_sources, read_tables, split_tables
from kg.sheets.rows import Batch
from kg.sheets.to_rdf import tables_to_batch
from kg.sparql import iri_term, iri_terms
from kg.store import Store, on_current_version
from kg.store.history import change
from kg.studies import qda_subjects, stored_study, study_ids
from kg.synthesis.sheet import (
    batch_findings,
    finding_refs,
    read_support,
    review_clashes,
    stored_support,
)
from kg.validate import Report, Violations, graph_nodes, validate
from kg.vocabulary import Vocabulary

RDF_SUFFIXES = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
}

#: Nodes shared by studies (coders, QIC programmes): described once, in the shared graph.
SHARED_PREFIXES = (str(DATA) + "agent/", str(DATA) + "programme/")
#: Finding rows per batch of a large sheet: enough that pyshacl's cost per call is small beside
#: its cost per finding, few enough that a batch's graphs and validation take little memory.
FINDINGS_PER_BATCH = 200

#: A sheet of at least this many finding rows is checked by worker processes side by side, a
#: batch each at a time (a worker takes about 2 s to start: rdflib, the SHACL engines, shapes).
PARALLEL_FROM = 5_000
#: How many worker processes check a large sheet: this setting, else one per core (at most 4);
#: 1 checks every sheet in the importing process.
WORKERS_SETTING = "QIKG_CHECK_WORKERS"

#: Told (finding rows checked, finding rows in all) as a sheet is checked batch by batch.
Progress = Callable[[int, int], None]


@dataclass
class ImportResult:
    """What an import did (or, with ``dry_run``, would do)."""

    studies: list[str]
    findings: int
    report: Report
    replaced: list[str] = field(default_factory=list)
    committed: bool = False
    #: What the import changes (or would change) in each study already in the store.
    changes: list[StudyChanges] = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)


@dataclass
class Checked:
    """A batch as validated, here or in a worker process: what commit_batches takes of it."""

    report: Report
    studies: list[str]
    reviews: list[str]
    findings: int
    #: The N-Triples of each study and review graph, by graph IRI: none unless it is written.
    graphs: dict[str, str] = field(default_factory=dict)
    #: The triples of the shared graph (coders, programmes): none unless they are written.
    shared: list[tuple] = field(default_factory=list)
    #: ``study_id/finding_id`` of its findings, when reviews later in the sheet may cite them.
    refs: set[str] = field(default_factory=set)


def check_batch(
    batch: Batch, vocab: Vocabulary, store: Store | None, *, write: bool = False, refs: bool = False
) -> Checked:
    """Validate a batch; with ``write``, keep what it would write if it has no violation."""
    report = _validate(batch, vocab, store)
    keep = write and report.conforms
    return Checked(
        report,
        list(batch.graphs),
        list(batch.reviews),
        batch.findings,
        batch.named_graphs() if keep else {},
        list(batch.shared) if keep else [],
        batch_findings(batch) if refs else set(),
    )


def read_batches(
    path: str | Path,
    vocab: Vocabulary,
    store: Store,
    progress: Progress | None = None,
    *,
    write: bool = False,
) -> Iterator[Batch | Checked]:
    """Read a coding sheet or an RDF file into batches of per-study graphs (nothing is written).

    A sheet comes a few whole studies at a time (kg.sheets.read.split_tables), so that however
    large it is, only one batch is held as RDF; ``progress`` is told how many finding rows the
    batches taken so far held. A large sheet's batches of studies new to the store come already
    checked (Checked, with what they would write when ``write``), by worker processes side by
    side (``PARALLEL_FROM``); the rest come as batches, in the sheet's order all the same.
    """
    path = Path(path)
    if path.suffix.lower() in RDF_SUFFIXES:
        yield _read_rdf(path)
        return
    tables = read_tables(path)
    sources = read_sources(path)
    with _kept(), _Checkers(total_rows(tables), vocab, sources, "reviews" in tables, write) as c:
        yield from _batches(tables, sources, vocab, store, c, progress)


def total_rows(tables: dict[str, Table]) -> int:
    """How many finding rows a sheet has."""
    return len(tables["findings"].rows) if "findings" in tables else 0


@contextlib.contextmanager
def _kept() -> Iterator[None]:
    """Leave what the process holds now (a sheet's rows: two objects a row; the modules) out of
    the garbage collector's full passes until the sheet is checked. They would be scanned again
    at each pass: checking 40,000 findings in one process took 35 s instead of 27 s."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _batches(
    tables: dict[str, Table],
    sources: dict[str, str],
    vocab: Vocabulary,
    store: Store,
    checkers: _Checkers,
    progress: Progress | None,
) -> Iterator[Batch | Checked]:
    known = set(study_ids(store))
    reviews = "reviews" in tables
    # Each part gets the source texts of its own studies; a text whose study is nowhere in the
    # sheet goes to the first part, which refuses it once (kg.sheets.to_rdf). Every text in
    # every part made each part refuse the others' texts as having no study row.
    named = part_ids(tables)
    orphans = {sid: text for sid, text in sources.items() if sid not in named}
    stored = finding_refs(store) if reviews else set()
    read: set[str] = set()  # the findings of the batches so far, which the reviews may cite
    total = total_rows(tables)
    done = 0
    for part, checked in checkers.run(split_tables(tables, FINDINGS_PER_BATCH), known):
        if progress is not None:
            progress(done, total)
        own = {**own_sources(part, sources), **orphans}
        orphans = {}  # the first part only
        if checked is not None:
            read |= checked.refs
            yield checked
        elif "reviews" in part:
            batch = tables_to_batch(part, vocab, known.__contains__, stored | read, own)
            batch.context = read_support(batch, read)
            yield batch
        else:
            batch = tables_to_batch(part, vocab, known.__contains__, sources=own)
            if reviews:
                read |= batch_findings(batch)
            yield batch
        done += total_rows(part)
    if progress is not None:
        progress(total, total)


def part_ids(tables: dict[str, Table]) -> set[str]:
    """The study ids the rows of some tables name."""
    return {row.get("study_id") for table in tables.values() for row in table.rows}


def own_sources(part: dict[str, Table], sources: dict[str, str]) -> dict[str, str]:
    """The source texts of the studies a part's rows name."""
    ids = part_ids(part)
    return {sid: text for sid, text in sources.items() if sid in ids}


def check_workers() -> int:
    """How many worker processes check a large sheet (``QIKG_CHECK_WORKERS``, else the cores).

    >>> check_workers() >= 1
    True
    """
    setting = os.environ.get(WORKERS_SETTING, "").strip()
    if setting:
        try:
            return max(1, int(setting))
        except ValueError:
            raise BadInput(f"{WORKERS_SETTING}={setting!r}: give a number of processes") from None
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return min(4, cores or 1)


class _NeedsStore(Exception):
    """A worker's batch points to something only the store can say: it is checked here."""


class _Checkers:
    """Worker processes that turn parts of a large sheet into RDF and check them, a few parts
    ahead of the one the import takes next: the parts whose studies are all new to the store
    and that hold no reviews (the others ask the store, and are left to the importing process).

    A part a worker cannot check (it fails in any way) is checked again here, so what the import
    reports and raises is what checking it here gives.
    """

    def __init__(
        self, rows: int, vocab: Vocabulary, sources: dict[str, str], refs: bool, write: bool
    ) -> None:
        workers = check_workers() if rows >= PARALLEL_FROM else 1
        self.sources = sources
        self.first = True
        self.ahead = 2 * workers
        self.pool: ProcessPoolExecutor | None = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(
                workers,
                # spawned, not forked: the importing process may hold the store's threads
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(vocab, refs, write),
            )

    def __enter__(self) -> _Checkers:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def run(
        self, parts: Iterable[dict[str, Table]], known: set[str]
    ) -> Iterator[tuple[dict[str, Table], Checked | None]]:
        """Each part in order, with its Checked if a worker checked it, else None."""
        pending: deque[tuple[dict[str, Table], Future | None]] = deque()
        for part in parts:
            pending.append((part, self._submit(part, known)))
            if len(pending) > self.ahead:
                yield self._take(*pending.popleft())
        while pending:
            yield self._take(*pending.popleft())

    def _submit(self, part: dict[str, Table], known: set[str]) -> Future | None:
        ids = part_ids(part)
        if self.pool is None or "reviews" in part or ids & known or self.first:
            self.first = False
            return None  # the first part is checked here: it also gets the orphaned texts
        try:
            return self.pool.submit(_check_part, part, own_sources(part, self.sources))
        except RuntimeError:  # the pool broke (a worker died): the part is checked here
            return None

    @staticmethod
    def _take(
        part: dict[str, Table], future: Future | None
    ) -> tuple[dict[str, Table], Checked | None]:
        try:
            return part, None if future is None else future.result()
        except Exception:  # noqa: BLE001 (_NeedsStore, a broken worker: checked here instead)
            return part, None


#: What a worker process checks parts with (set once when it starts).
_WORKER: dict = {}


def _start_worker(vocab: Vocabulary, refs: bool, write: bool) -> None:
    _WORKER.update(vocab=vocab, refs=refs, write=write)
    gc.freeze()  # the modules and the vocabulary, for good (see _kept)


def _check_part(part: dict[str, Table], sources: dict[str, str]) -> Checked:
    """In a worker: a part of new studies into RDF, checked as the importing process would."""
    vocab = _WORKER["vocab"]
    batch = tables_to_batch(part, vocab, lambda _: False, sources=sources)
    return check_batch(batch, vocab, None, write=_WORKER["write"], refs=_WORKER["refs"])


def _read_rdf(path: Path) -> Batch:
    try:
        quads = list(ox.parse(path=str(path), format=RDF_SUFFIXES[path.suffix.lower()]))
    except SyntaxError as exc:
        raise BadInput(f"{path.name}: RDF syntax error {_position(str(exc))}") from None
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path.name}: cannot read RDF ({exc})") from None
    dataset = rdflib.Dataset()
    for quad in quads:
        context = None if isinstance(quad.graph_name, ox.DefaultGraph) else quad.graph_name.value
        dataset.add(_rdflib_quad(quad, context))
    union = rdflib.Graph()
    for s, p, o, _ in dataset.quads():
        union.add((s, p, o))
    batch = Batch()
    studies = {
        str(i): s
        for s in union.subjects(RDF.type, QIKG.Study)
        for i in union.objects(s, DCTERMS.identifier)
    }
    if not studies:
        raise BadInput(f"{path.name}: holds no qikg:Study with a dcterms:identifier")
    if len(studies) > 1:
        raise BadInput(
            f"{path.name}: holds {len(studies)} studies ({', '.join(sorted(studies))}); "
            "import one study per RDF file"
        )
    ((sid, node),) = studies.items()
    if node != study_iri(sid):
        raise BadInput(
            f"{path.name}: study {sid} must have the IRI {study_iri(sid)} (docs/model.md)"
        )
    if any(isinstance(term, rdflib.BNode) for triple in union for term in triple):
        raise BadInput(f"{path.name}: holds blank nodes; give every node an IRI (docs/model.md)")
    for s, p, o in union:
        (
            batch.shared
            if str(s).startswith(SHARED_PREFIXES)
            else batch.graphs.setdefault(sid, rdflib.Graph())
        ).add((s, p, o))
    batch.findings = len(set(union.subjects(RDF.type, QIKG.Finding)))
    batch.concepts = {str(o) for _, p, o in union if isinstance(o, rdflib.URIRef)}
    return batch


def _position(message: str) -> str:
    import re

    match = re.match(r"error at (\d+):(\d+): (.*)", message, re.S)
    if match:
        return f"at line {match[1]}, column {match[2]}: {match[3].strip()}"
    return f"({message})"


def _rdflib_quad(quad: ox.Quad, context: str | None) -> tuple:
    def term(t: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
        if isinstance(t, ox.NamedNode):
            return rdflib.URIRef(t.value)
        if isinstance(t, ox.BlankNode):
            return rdflib.BNode(t.value)
        if isinstance(t, ox.Triple):
            raise BadInput(f"triple terms (RDF 1.2, RDF-star) cannot be imported: {t}")
        lang = t.language
        datatype = None if lang else rdflib.URIRef(t.datatype.value)
        return rdflib.Literal(t.value, lang=lang, datatype=datatype)

    graph = rdflib.URIRef(context) if context else rdflib.graph.DATASET_DEFAULT_GRAPH_ID
    return term(quad.subject), term(quad.predicate), term(quad.object), graph


def check_path(
    store: Store, path: str | Path, progress: Progress | None = None, *, replace: bool = False
) -> Report:
    """Check a coding sheet or RDF file exactly as ``import --dry-run`` does (the shapes, and what
    the store already holds), writing nothing: both give the same verdict on the same file."""
    try:
        return import_path(store, path, replace=replace, dry_run=True, progress=progress).report
    except Violations as exc:
        return exc.report


def import_path(
    store: Store,
    path: str | Path,
    *,
    replace: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import a coding sheet or RDF file; raise DataProblem (with ``.report``) if it has violations.

    A study already in the store is refused unless ``replace``; findings of a study that is in
    the store but not in the sheet are added to it (``replace`` lets them overwrite findings with
    the same id). With ``dry_run`` everything is checked and nothing written.

    What is in the store is decided at the commit, not before: if another write commits while
    this one is read and checked, it is done again on the new store (so two imports into one
    study both land, and a study imported twice at once is refused the second time).
    """

    def attempt(version: str | None) -> ImportResult:
        vocab = Vocabulary.from_store(store)
        existing = set(study_ids(store))
        changes: list[StudyChanges] = []

        def resolved(batch: Batch | Checked) -> Batch | Checked:
            if isinstance(batch, Batch):  # a Checked one holds only studies new to the store
                changes.extend(_resolve_existing(store, batch, existing, replace, vocab))
            return batch

        batches = map(resolved, read_batches(path, vocab, store, progress, write=not dry_run))
        with change("import", file=path):  # what the commit is, in the store's history
            result = commit_batches(store, batches, vocab, dry_run=dry_run, expect=version)
        result.replaced = [c.study for c in changes]
        result.changes = changes
        return result

    return on_current_version(store, attempt)


def _resolve_existing(
    store: Store, batch: Batch, existing: set[str], replace: bool, vocab: Vocabulary
) -> list[StudyChanges]:
    """Refuse (or, with ``replace``, merge) what the batch holds that the store already has;
    return what it changes in each stored study it replaces or adds to."""
    changes = []
    for sid, graph in batch.graphs.items():
        if sid not in existing:
            continue
        has_study = (study_iri(sid), RDF.type, QIKG.Study) in graph
        if has_study and not replace:
            _refuse(batch, f'study "{sid}" is already in the graph; {REPLACE_IT}')
            continue
        stored = stored_study(store, sid)
        if has_study:
            _keep_other_sources(batch, stored, sid)
        else:
            clashes = _merge_existing(batch, stored, sid, replace)
            for fid in clashes:
                _refuse(
                    batch,
                    f'finding "{fid}" of study "{sid}" is already in the graph; {REPLACE_IT}',
                )
        changes.append(study_changes(sid, stored, batch.graphs[sid] + batch.shared, vocab))
    for message in review_clashes(store, batch, replace):
        _refuse(batch, message)
    return changes


def commit_batches(
    store: Store,
    batches: Iterable[Batch | Checked],
    vocab: Vocabulary,
    *,
    dry_run: bool = False,
    expect: str | None = None,
) -> ImportResult:
    """Validate batches one by one and, unless ``dry_run``, write them in one transaction: all or
    nothing.

    Each study graph in a batch replaces the stored one; the shared descriptions are added.
    Raise Violations (a DataProblem with ``.report``) if any batch has violations, Conflict if
    ``expect`` is given and the store is no longer at that version. Every importer (coding
    sheets, RDF files, REFI-QDA projects) ends here.
    """
    report = Report([], 0)
    result = ImportResult([], 0, report)
    graphs: dict[str, str] = {}
    shared = rdflib.Graph()
    write = not dry_run
    for batch in batches:
        checked = (
            batch if isinstance(batch, Checked) else check_batch(batch, vocab, store, write=write)
        )
        report.extend(checked.report)
        result.studies += checked.studies
        result.reviews += checked.reviews
        result.findings += checked.findings
        write = write and checked.report.conforms
        if write:
            graphs.update(checked.graphs)
            shared.addN((s, p, o, shared) for s, p, o in checked.shared)
        else:
            graphs.clear()  # nothing will be written
    result.studies.sort()
    result.reviews.sort()
    if not report.conforms:
        raise Violations(f"nothing was imported: {report.summary()}", report)
    if dry_run:
        return result
    renamed = _renamed_shared(store, shared)
    if renamed is not None:  # a corrected name replaces the old one: the shared graph is rewritten
        graphs[str(SHARED_GRAPH)] = renamed.serialize(format="nt")
        shared = rdflib.Graph()
    written = list(graphs)
    graphs[str(META_GRAPH)] = stale_flag()
    extended = [] if renamed is not None else [str(SHARED_GRAPH)]
    # One version of the store's history, with the inferences keep_current adds after it.
    with change("import"), keep_current(store, written, extended=extended):
        store.replace_graphs(
            graphs, extend={str(SHARED_GRAPH): shared.serialize(format="nt")}, expect=expect
        )
    result.committed = True
    return result


#: The one name a shared description (a programme, a coder) has: a sheet's name replaces it.
NAMES = (RDFS.label, FOAF.name)


def _renamed_shared(store: Store, shared: rdflib.Graph) -> rdflib.Graph | None:
    """The whole shared graph as it should be when ``shared`` renames a programme or coder the
    store already names otherwise (their old name goes); None when it renames nothing, and the
    descriptions are only added."""
    named = {(s, p) for s, p, _ in shared if p in NAMES}
    if not named:
        return None
    graph = iri_term(SHARED_GRAPH)
    values = iri_terms(sorted({str(s) for s, _ in named}))
    stored = store.query(
        f"""SELECT ?s ?p ?o WHERE {{ GRAPH {graph} {{ VALUES ?s {{ {values} }}
            ?s ?p ?o FILTER(?p IN (rdfs:label, foaf:name)) }} }}""",
        include_inferred=False,
    ).values()
    stale = [
        r
        for r in stored
        if (rdflib.URIRef(r["s"] or ""), rdflib.URIRef(r["p"] or "")) in named
        and (rdflib.URIRef(r["s"] or ""), rdflib.URIRef(r["p"] or ""), rdflib.Literal(r["o"] or ""))
        not in shared
    ]
    if not stale:
        return None
    whole = rdflib.Graph().parse(data=store.dump("nt", str(SHARED_GRAPH)).decode(), format="nt")
    for s, p in named:
        whole.remove((s, p, None))
    return whole + shared


def _refuse(batch: Batch, message: str) -> None:
    from kg.validate import Problem

    batch.problems.append(Problem("violation", message, "", None, None))


def _keep_other_sources(batch: Batch, stored: rdflib.Graph, sid: str) -> None:
    """A study replaced from its sheet keeps what other sources gave it: the codes, quotes and
    findings of an imported QDA project are that project's to replace (``qikg import-qda``)."""
    graph = batch.graphs[sid]
    for subject in qda_subjects(stored, sid):
        for p, o in stored.predicate_objects(subject):
            graph.add((subject, p, o))


def _merge_existing(batch: Batch, stored: rdflib.Graph, sid: str, replace: bool) -> list[str]:
    """Add the study's stored triples to its graph in the batch; return ids of clashing findings."""
    graph = batch.graphs[sid]
    new_findings = {str(f) for f in graph.subjects(RDF.type, QIKG.Finding)}
    clashes = sorted(
        str(next(stored.objects(f, DCTERMS.identifier), f))
        for f in stored.subjects(RDF.type, QIKG.Finding)
        if str(f) in new_findings
    )
    if clashes and not replace:
        return clashes
    for s, p, o in stored:
        if str(s).startswith(SHARED_PREFIXES):
            batch.shared.add((s, p, o))
        elif not any(str(s) == f or str(s).startswith(f + "/") for f in new_findings):
            graph.add((s, p, o))
    return []


def _validate(batch: Batch, vocab: Vocabulary, store: Store | None) -> Report:
    """The batch's report; ``store`` None (in a worker) raises _NeedsStore if it must be asked."""
    data = batch.parts()  # validated as one graph, without copying them into one first
    iris = {str(o) for o in graph_nodes(data)[1]}  # what the batch points to, not describes
    context = vocab.type_triples(iris)
    stored = {i for i in iris if i.startswith(str(DATA))}
    if store is None and (stored or batch.reviews):
        raise _NeedsStore
    if store is not None:
        context += _stored_types(store, stored)
        if batch.reviews:  # only review findings cite stored findings
            context += stored_support(store, batch)
    context += batch.context
    report = validate(data, context, locate=batch.locate)
    # a cell the sheet already reported as unreadable is not also "missing"
    report.problems = [p for p in report.problems if (p.focus, p.path) not in batch.reported]
    report.problems[:0] = batch.problems
    return report


def _stored_types(store: Store, iris: set[str]) -> rdflib.Graph:
    """The rdf:type triples the store holds for these nodes (studies, coders, programmes)."""
    graph = rdflib.Graph()
    if iris:
        values = iri_terms(sorted(iris))
        rows = store.query(f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} ?s a ?t }}").values()
        for row in rows:
            node, kind = row["s"], row["t"]
            if node is not None and kind is not None:  # the pattern binds both
                graph.add((rdflib.URIRef(node), RDF.type, rdflib.URIRef(kind)))
    return graph
