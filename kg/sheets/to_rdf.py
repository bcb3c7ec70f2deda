"""Turn coding-sheet tables into one RDF graph per study, following docs/model.md.

Coders and QIC programmes are shared by studies, so their descriptions go to the shared graph
(written once, never duplicated across study graphs); each study graph only points to them.

Words are resolved to concepts here; everything a SHACL shape can check (years, dates, DOIs,
cardinalities) is written as found and left to the shapes, so the rules live in one place. What
RDF cannot carry (an unknown label, a duplicate row, an unknown study) is reported here, with the
row and column it came from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable

import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from kg.coding import DIMENSIONS
from kg.errors import BadInput
from kg.namespaces import DATA, DOI, OA, QIKG, finding_iri, study_iri
from kg.sheets import CONCEPT_COLUMNS, FINDING_COLUMNS, REQUIRED, STUDY_COLUMNS
from kg.sheets.read import Row, Table
from kg.sheets.rows import CONFIDENCE, Batch, add_problem, check_id, typed
from kg.sparql import iri_term
from kg.synthesis.sheet import add_reviews
from kg.text import slug
from kg.vocabulary import Unresolved, Vocabulary

#: The property each code column writes (kg.coding).
CODING_PROPERTIES = {d.column: URIRef(d.iri) for d in DIMENSIONS}
STUDY_TEXT = {
    "title": DCTERMS.title,
    "journal": QIKG.journal,
    "country": QIKG.country,
    "design": QIKG.studyDesign,
    "clinical_area": QIKG.clinicalArea,
    "participants": QIKG.participants,
}
#: Which sheet column each property comes from, to name the cell a SHACL result is about.
COLUMN_OF = {
    **{str(p): c for c, p in CODING_PROPERTIES.items()},
    **{str(p): c for c, p in STUDY_TEXT.items()},
    str(DCTERMS.identifier): "finding_id",
    str(QIKG.statement): "statement",
    str(QIKG.theme): "theme",
    str(QIKG.reportedIn): "study_id",
    str(QIKG.supportedBy): "quote",
    str(QIKG.cerqualConfidence): "confidence",
    str(PROV.wasAttributedTo): "coder",
    str(DCTERMS.created): "coded_on",
    str(QIKG.authors): "authors",
    str(QIKG.publicationYear): "year",
    str(QIKG.doi): "doi",
    str(QIKG.evaluatesProgramme): "qic",
    str(QIKG.sampleSize): "sample_size",
    str(OA.hasSource): "quote_source",
    str(OA.exact): "quote",
}


def tables_to_batch(
    tables: dict[str, Table],
    vocab: Vocabulary,
    known_studies: Callable[[str], bool],
    known_findings: Collection[str] = (),
) -> Batch:
    """Build each study's graph from the sheet; ``known_studies(id)`` says a study is in the store.

    A ``reviews`` table becomes one graph per review (kg.synthesis.sheet); its supporting
    findings must be in the sheet or in ``known_findings`` (``study_id/finding_id``).
    """
    batch = Batch()
    for table in tables.values():
        for number, column, message in table.problems:
            add_problem(batch, message, table.where(number, column))
    studies = tables.get("studies")
    findings = tables.get("findings")
    for name, sheet in (("studies", studies), ("findings", findings)):
        missing = [c for c in REQUIRED[name] if sheet and c not in sheet.columns]
        if sheet and missing:
            add_problem(
                batch,
                f"the header row lacks the required column(s) {', '.join(missing)}",
                sheet.where(1),
            )
    if batch.problems:
        return batch
    in_sheet = _add_studies(batch, studies) if studies else {}
    seen = (
        _add_findings(batch, findings, vocab, studies, in_sheet, known_studies) if findings else {}
    )
    if "reviews" in tables:
        add_reviews(batch, tables["reviews"], vocab, known_findings)
    elif not in_sheet and not seen:
        first = findings or studies
        where = first.where(2) if first else "the sheet"
        add_problem(batch, "the sheet holds no studies and no findings", where)
    return batch


def _add_studies(batch: Batch, studies: Table) -> dict[str, int]:
    """Each study row into the batch; return the row number of each study id."""
    in_sheet: dict[str, int] = {}
    for row in studies.rows:
        sid = row.get("study_id")
        if not check_id(batch, studies, row.number, "study_id", sid):
            continue
        if sid in in_sheet:
            add_problem(
                batch,
                f'study "{sid}" appears twice (rows {in_sheet[sid]} and {row.number})',
                studies.where(row.number, "study_id"),
                study=sid,
            )
            continue
        in_sheet[sid] = row.number
        _study(batch, studies, row, sid)
    return in_sheet


def _add_findings(
    batch: Batch,
    findings: Table,
    vocab: Vocabulary,
    studies: Table | None,
    in_sheet: dict[str, int],
    known_studies: Callable[[str], bool],
) -> dict[tuple[str, str], int]:
    """Each finding row into the batch; return the row number of each (study, finding) id."""
    seen: dict[tuple[str, str], int] = {}
    for row in findings.rows:
        sid, fid = row.get("study_id"), row.get("finding_id")
        ok = check_id(batch, findings, row.number, "study_id", sid)
        ok = check_id(batch, findings, row.number, "finding_id", fid) and ok
        if not ok:
            continue
        if sid not in in_sheet and not known_studies(sid):
            add_problem(
                batch,
                f'study "{sid}" is neither in the studies sheet nor in the graph',
                findings.where(row.number, "study_id"),
                f"{sid}/{fid}",
            )
            continue
        if (sid, fid) in seen:
            add_problem(
                batch,
                f'finding id "{fid}" is used twice in study "{sid}" '
                f"(rows {seen[sid, fid]} and {row.number}); finding ids must be unique "
                "within a study",
                findings.where(row.number, "finding_id"),
                f"{sid}/{fid}",
            )
            # checked in full all the same, as a finding of its own, so that one run names
            # every problem of the row
            twin = finding_iri(sid, f"{fid}~row{row.number}")
            _finding(batch, findings, row, sid, fid, vocab, studies, node=twin)
            continue
        seen[sid, fid] = row.number
        _finding(batch, findings, row, sid, fid, vocab, studies)
    return seen


def _graph(batch: Batch, sid: str) -> rdflib.Graph:
    if sid not in batch.graphs:
        batch.graphs[sid] = rdflib.Graph()
    return batch.graphs[sid]


def _remember(
    batch: Batch, node: URIRef, table: Table, number: int, properties: Iterable[Node]
) -> None:
    batch.origins[str(node), None] = table.where(number)
    for prop in properties:
        column = COLUMN_OF.get(str(prop))
        batch.origins[str(node), str(prop)] = table.where(number, column)


def xsd_date(text: str) -> dt.date:
    """The date ``text`` writes as xsd:date does (YYYY-MM-DD), else ValueError.

    Python reads more forms than xsd:date allows (``20250101``, ``2025-W01-1``); typed as
    xsd:date, rdflib would fail to read them and log its own traceback.

    >>> xsd_date("2025-01-01")
    datetime.date(2025, 1, 1)
    >>> xsd_date("20250101")
    Traceback (most recent call last):
    ...
    ValueError: not a date written YYYY-MM-DD: '20250101'
    """
    try:
        date = dt.date.fromisoformat(text)
    except ValueError:
        date = None
    if date is None or date.isoformat() != text:
        raise ValueError(f"not a date written YYYY-MM-DD: {text!r}")
    return date


def _study(batch: Batch, table: Table, row: Row, sid: str) -> None:
    g = _graph(batch, sid)
    s = study_iri(sid)
    g.add((s, RDF.type, QIKG.Study))
    g.add((s, DCTERMS.identifier, Literal(sid)))
    for column, prop in STUDY_TEXT.items():
        if row.get(column):
            g.add((s, prop, Literal(row.get(column))))
    authors = [a.strip() for a in row.get("authors").split(";") if a.strip()]
    if authors:
        g.add((s, QIKG.authors, Literal("; ".join(authors))))
        for author in authors:
            g.add((s, DCTERMS.creator, Literal(author)))
    if row.get("year"):
        g.add((s, QIKG.publicationYear, typed(row.get("year"), XSD.integer, int)))
    if row.get("sample_size"):
        g.add((s, QIKG.sampleSize, typed(row.get("sample_size"), XSD.integer, int)))
    doi = doi_iri(row.get("doi"))
    if doi is not None:
        try:
            iri_term(doi)  # Oxigraph's IRI parser: a DOI with a space or quote is no IRI
        except BadInput:
            add_problem(
                batch,
                f'"{row.get("doi")}" is not a DOI (a DOI looks like 10.1177/1355819...)',
                table.where(row.number, "doi"),
                study=sid,
                about=(s, QIKG.doi),
            )
        else:
            g.add((s, QIKG.doi, URIRef(doi)))
    if row.get("qic"):
        programme = DATA[f"programme/{slug(row.get('qic'))}"]
        g.add((s, QIKG.evaluatesProgramme, programme))
        batch.shared.add((programme, RDF.type, QIKG.QICProgramme))
        batch.shared.add((programme, RDFS.label, Literal(row.get("qic"))))
    for column, value in row.cells.items():
        if column not in STUDY_COLUMNS:
            g.add((s, SKOS.note, Literal(f"{column}: {value}")))
    _remember(batch, s, table, row.number, g.predicates(s, None))


def doi_iri(text: str) -> str | None:
    """The ``https://doi.org/`` IRI of a DOI written bare, as ``doi:...`` or as a URL.

    >>> doi_iri("doi:10.1177/13558196241231169")
    'https://doi.org/10.1177/13558196241231169'
    """
    text = text.strip()
    if not text:
        return None
    for prefix in ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "doi:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :]
    return DOI + text


def _finding(
    batch: Batch,
    table: Table,
    row: Row,
    sid: str,
    fid: str,
    vocab: Vocabulary,
    studies: Table | None,
    node: URIRef | None = None,
) -> None:
    """One finding row into the batch (``node``: a duplicate row's own IRI, not counted)."""
    g = _graph(batch, sid)
    f = node or finding_iri(sid, fid)
    s = study_iri(sid)
    batch.findings += node is None
    g.add((f, RDF.type, QIKG.Finding))
    g.add((f, DCTERMS.identifier, Literal(fid)))
    g.add((f, QIKG.reportedIn, s))
    get = row.get
    if get("statement"):
        g.add((f, QIKG.statement, Literal(get("statement"))))
    if get("theme"):
        g.add((f, QIKG.theme, Literal(get("theme"))))
    for column in CONCEPT_COLUMNS:
        for word in (w for w in get(column).split(";") if w.strip()):
            try:
                concept = vocab.resolve(word, column)
            except Unresolved as exc:
                add_problem(
                    batch,
                    str(exc),
                    table.where(row.number, column),
                    f"{sid}/{fid}",
                    about=(f, CODING_PROPERTIES[column]),
                )
                continue
            g.add((f, CODING_PROPERTIES[column], URIRef(concept)))
            batch.concepts.add(concept)
    if get("confidence"):
        level = CONFIDENCE.get(" ".join(get("confidence").casefold().split()))
        try:
            level = level or URIRef(vocab.resolve(get("confidence"), "confidence"))
        except Unresolved:
            add_problem(
                batch,
                f'"{get("confidence")}" is not a GRADE-CERQual confidence level: '
                "write high, moderate, low or very low",
                table.where(row.number, "confidence"),
                f"{sid}/{fid}",
                about=(f, QIKG.cerqualConfidence),
            )
        else:
            g.add((f, QIKG.cerqualConfidence, level))
            batch.concepts.add(str(level))
    if get("coder"):
        agent = DATA[f"agent/{slug(get('coder'))}"]
        g.add((f, PROV.wasAttributedTo, agent))
        batch.shared.add((agent, RDF.type, PROV.Agent))
        batch.shared.add((agent, FOAF.name, Literal(get("coder"))))
    if get("coded_on"):
        g.add((f, DCTERMS.created, typed(get("coded_on"), XSD.date, xsd_date)))
    for column, value in row.cells.items():
        if column not in FINDING_COLUMNS:
            g.add((f, SKOS.note, Literal(f"{column}: {value}")))
    _remember(batch, f, table, row.number, g.predicates(f, None))
    if get("quote"):
        _quote(batch, g, f, s, table, row)


def _quote(batch: Batch, g: rdflib.Graph, f: URIRef, s: URIRef, table: Table, row: Row) -> None:
    q = URIRef(f"{f}/quote/1")
    target, selector = URIRef(f"{q}/target"), URIRef(f"{q}/selector")
    doi = next(g.objects(s, QIKG.doi), None)
    g.add((f, QIKG.supportedBy, q))
    g.add((q, RDF.type, QIKG.Quote))
    g.add((q, RDF.type, OA.Annotation))
    g.add((q, OA.hasTarget, target))
    g.add((target, RDF.type, OA.SpecificResource))
    g.add((target, OA.hasSource, doi or s))
    g.add((target, OA.hasSelector, selector))
    g.add((selector, RDF.type, OA.TextQuoteSelector))
    g.add((selector, OA.exact, Literal(row.get("quote"))))
    if row.get("quote_source"):
        g.add((q, QIKG.quoteLocation, Literal(row.get("quote_source"))))
    for node in (q, target, selector):
        _remember(batch, node, table, row.number, g.predicates(node, None))
