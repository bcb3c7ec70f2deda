"""Import coded studies into the store: read, resolve, validate, then commit all or nothing.

Nothing reaches the store unless every study in the file passes the SHACL shapes with no
violation; the commit itself is one transaction, so an import killed half-way leaves the store as
it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
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
from kg.sheets.read import read_sources, read_tables, split_tables
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
from kg.validate import Report, Violations, validate
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


def read_batches(
    path: str | Path, vocab: Vocabulary, store: Store, progress: Progress | None = None
) -> Iterator[Batch]:
    """Read a coding sheet or an RDF file into batches of per-study graphs (nothing is written).

    A sheet comes a few whole studies at a time (kg.sheets.read.split_tables), so that however
    large it is, only one batch is held as RDF; ``progress`` is told how many finding rows the
    batches taken so far held.
    """
    path = Path(path)
    if path.suffix.lower() in RDF_SUFFIXES:
        yield _read_rdf(path)
        return
    tables = read_tables(path)
    sources = read_sources(path)
    known = set(study_ids(store))
    reviews = "reviews" in tables
    stored = finding_refs(store) if reviews else set()
    read: set[str] = set()  # the findings of the batches so far, which the reviews may cite
    total = len(tables["findings"].rows) if "findings" in tables else 0
    done = 0
    for part in split_tables(tables, FINDINGS_PER_BATCH):
        if progress is not None:
            progress(done, total)
        if "reviews" in part:
            batch = tables_to_batch(part, vocab, known.__contains__, stored | read, sources)
            batch.context = read_support(batch, read)
        else:
            batch = tables_to_batch(part, vocab, known.__contains__, sources=sources)
            if reviews:
                read |= batch_findings(batch)
        yield batch
        done += len(part["findings"].rows) if "findings" in part else 0
    if progress is not None:
        progress(total, total)


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

        def resolved(batch: Batch) -> Batch:
            changes.extend(_resolve_existing(store, batch, existing, replace, vocab))
            return batch

        batches = map(resolved, read_batches(path, vocab, store, progress))
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
    batches: Iterable[Batch],
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
        checked = _validate(batch, vocab, store)
        report.extend(checked)
        result.studies += batch.graphs
        result.reviews += batch.reviews
        result.findings += batch.findings
        write = write and checked.conforms
        if write:
            graphs.update(batch.named_graphs())
            shared += batch.shared
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


def _validate(batch: Batch, vocab: Vocabulary, store: Store) -> Report:
    data = batch.data()
    pointed = {str(o) for o in data.objects() if isinstance(o, rdflib.URIRef)}
    context = vocab.type_triples(pointed)
    described = {str(s) for s in data.subjects()}
    context += _stored_types(store, {i for i in pointed - described if i.startswith(str(DATA))})
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
