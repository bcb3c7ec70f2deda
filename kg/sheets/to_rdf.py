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
from collections.abc import Callable, Collection, Iterable, Mapping

import rdflib
from rdflib import Literal, URIRef, namespace
from rdflib.term import Node

from kg import namespaces
from kg.coding import BY_COLUMN, DIMENSIONS, QUALIFIERS
from kg.errors import BadInput
from kg.namespaces import DATA, DOI, finding_iri, study_iri
from kg.sheets import ADDED, CONCEPT_COLUMNS, FINDING_COLUMNS, REQUIRED, RETIRED, STUDY_COLUMNS
from kg.sheets.examples import EXAMPLE_FINDING, EXAMPLE_STUDY
from kg.sheets.read import Row, Table
from kg.sheets.rows import Batch, Terms, add_problem, check_id, typed
from kg.sparql import iri_term
from kg.synthesis.sheet import add_reviews
from kg.text import orcid_iri, slug
from kg.validate import new_graph
from kg.vocabulary import Unresolved, Vocabulary

# The vocabularies a row's triples use, each IRI made once (kg.sheets.rows.Terms).
QIKG, OA = Terms(namespaces.QIKG), Terms(namespaces.OA)
DCTERMS, FOAF, PROV = Terms(namespace.DCTERMS), Terms(namespace.FOAF), Terms(namespace.PROV)
RDF, RDFS, SKOS, XSD = (
    Terms(n) for n in (namespace.RDF, namespace.RDFS, namespace.SKOS, namespace.XSD)
)

#: The property each code or qualifier column writes (kg.coding).
CODING_PROPERTIES = {d.column: URIRef(d.iri) for d in DIMENSIONS + QUALIFIERS}
STUDY_TEXT = {
    "title": DCTERMS.title,
    "journal": QIKG.journal,
    "country": QIKG.country,
    "design_note": QIKG.studyDesign,
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
    str(QIKG.hasStudyDesign): "design",
    str(PROV.wasDerivedFrom): "source_url",
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
    sources: Mapping[str, str] | None = None,
) -> Batch:
    """Build each study's graph from the sheet; ``known_studies(id)`` says a study is in the store.

    A ``reviews`` table becomes one graph per review (kg.synthesis.sheet); its supporting
    findings must be in the sheet or in ``known_findings`` (``study_id/finding_id``).
    ``sources`` holds the text each study was coded from (kg.sheets.read.read_sources): its
    findings are derived from it and their quotes must be found in it, character for character.
    """
    batch = Batch()
    batch.sources = dict(sources or {})
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
    if findings:
        _contract(batch, findings)
    in_sheet = _add_studies(batch, studies, vocab) if studies else {}
    seen = (
        _add_findings(batch, findings, vocab, studies, in_sheet, known_studies) if findings else {}
    )
    for sid in sorted(batch.sources.keys() - in_sheet.keys()):
        add_problem(
            batch,
            f"sources/{sid}.txt is the source text of a study that is not in the studies sheet: "
            "a source text comes with its study's row (to change a stored study's text, import "
            "the study with its row and replace it)",
            f"sources/{sid}.txt",
            study=sid,
        )
    reviews = tables.get("reviews")
    if reviews is not None and reviews.rows:
        add_reviews(batch, reviews, vocab, known_findings)
    elif not in_sheet and not seen:
        first = findings or studies
        where = first.where(2) if first else "the sheet"
        add_problem(
            batch,
            "the sheet holds no studies and no findings: fill in the studies and findings "
            "sheets with your own study (the template's examples, on the sheets named example "
            "studies and example findings, show how; they are never imported)",
            where,
        )
    return batch


def _contract(batch: Batch, findings: Table) -> None:
    """Warn once about each column of an older contract the findings sheet has, or lacks."""
    for column, advice in RETIRED["findings"].items():
        if column in findings.columns:
            rows = [r.number for r in findings.rows if r.get(column)]
            held = f" ({len(rows)} value(s) not imported, rows {_rows(rows)})" if rows else ""
            add_problem(batch, advice + held, findings.where(1, column), severity="warning")
    for column, advice in ADDED["findings"].items():
        if column not in findings.columns:
            if column == "outcome_direction":
                rows = [r.number for r in findings.rows if r.get("outcomes")]
            else:
                rows = [r.number for r in findings.rows]
            if rows:
                add_problem(
                    batch, advice.format(n=len(rows)), findings.where(1), severity="warning"
                )


def _rows(numbers: list[int]) -> str:
    """Row numbers for a message, the first few: ``2, 3, 5 and 4 more``."""
    shown = ", ".join(map(str, numbers[:5]))
    return shown + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")


def _add_studies(batch: Batch, studies: Table, vocab: Vocabulary) -> dict[str, int]:
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
        if sid == EXAMPLE_STUDY["study_id"] or row.get("title") == EXAMPLE_STUDY["title"]:
            add_problem(
                batch,
                "this is the template's example study: replace it with your own study, or "
                "delete the row",
                studies.where(row.number),
                study=sid,
            )
        _study(batch, studies, row, sid, vocab)
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
        batch.graphs[sid] = new_graph()
    return batch.graphs[sid]


def _remember(
    batch: Batch, node: URIRef, table: Table, number: int, properties: Iterable[Node]
) -> None:
    key = str(node)
    batch.origins[key, None] = table.where(number)
    for prop in properties:
        batch.origins[key, str(prop)] = table.where(number, COLUMN_OF.get(str(prop)))


def _properties(g: rdflib.Graph, node: URIRef) -> set[Node]:
    """The properties ``node`` has in ``g``, each once. Read from the graph's store: through
    ``g.predicates`` it took twice as long (two more generators for every triple)."""
    return {p for (_, p, _), _ in g.store.triples((node, None, None), g)}


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


def _study(batch: Batch, table: Table, row: Row, sid: str, vocab: Vocabulary) -> None:
    g = _graph(batch, sid)
    s = study_iri(sid)
    g.add((s, RDF.type, QIKG.Study))
    g.add((s, DCTERMS.identifier, Literal(sid)))
    for column, prop in STUDY_TEXT.items():
        if row.get(column):
            g.add((s, prop, Literal(row.get(column))))
    _design(batch, table, row, sid, vocab)
    _source_text(batch, table, row, sid)
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
    if row.get("qic") or row.get("qic_id"):
        _programme(batch, table, row, sid, g)
    for column, value in row.cells.items():
        if column not in STUDY_COLUMNS:
            g.add((s, SKOS.note, Literal(f"{column}: {value}")))
    _remember(batch, s, table, row.number, _properties(g, s))


def _programme(batch: Batch, table: Table, row: Row, sid: str, g: rdflib.Graph) -> None:
    """The QIC programme the study evaluates, shared by the studies that name it. Its IRI is
    ``qikgd:programme/{qic_id}``, or without a qic_id the slug of its label, and a label never
    changes it: correct a label and keep qic_id (an exported sheet carries it) and the IRI stays
    (docs/model.md, "Identifiers")."""
    label, key = row.get("qic"), row.get("qic_id")
    if not label:
        add_problem(
            batch,
            "qic_id is the key of the programme the qic column names: give its name in qic too",
            table.where(row.number, "qic"),
            study=sid,
        )
        return
    if key and not check_id(batch, table, row.number, "qic_id", key):
        return
    programme = DATA[f"programme/{key or slug(label)}"]
    named = {str(n) for n in batch.shared.objects(programme, RDFS.label)} - {label}
    if named:
        add_problem(
            batch,
            f'programme "{key or slug(label)}" is named "{sorted(named)[0]}" in another row and '
            f'"{label}" here: a programme has one name (give each programme its own qic_id, or '
            "write the name the same way in every row)",
            table.where(row.number, "qic"),
            study=sid,
        )
        return
    g.add((study_iri(sid), QIKG.evaluatesProgramme, programme))
    batch.shared.add((programme, RDF.type, QIKG.QICProgramme))
    batch.shared.add((programme, RDFS.label, Literal(label)))


def _design(batch: Batch, table: Table, row: Row, sid: str, vocab: Vocabulary) -> None:
    """The design column: a study design of the vocabulary. A sheet of an older contract (no
    design_note column) wrote the authors' words there: those are kept as the design note."""
    words = row.get("design")
    if not words:
        return
    g, s = _graph(batch, sid), study_iri(sid)
    try:
        design = vocab.resolve(words, "design")
    except Unresolved as exc:
        designs = ", ".join(vocab.labels_for("design"))
        if "design_note" in table.columns:
            add_problem(
                batch,
                f"{exc}: write one of {designs}, and the design in the authors' words in "
                "design_note",
                table.where(row.number, "design"),
                study=sid,
                about=(s, QIKG.hasStudyDesign),
            )
        else:
            g.add((s, QIKG.studyDesign, Literal(words)))
            batch.reported.add((str(s), str(QIKG.hasStudyDesign)))
            add_problem(
                batch,
                f'"{words}" is not one of qikg\'s study designs ({designs}): it is kept as the '
                "design in the authors' words (the design_note column of qikg 0.3); add a "
                "design_note column and write one of the study designs in design",
                table.where(row.number, "design"),
                study=sid,
                severity="warning",
            )
        return
    g.add((s, QIKG.hasStudyDesign, URIRef(design)))
    batch.concepts.add(design)


def _source_text(batch: Batch, table: Table, row: Row, sid: str) -> None:
    """The text the study was coded from: where it was read, its licence and, when the sheet
    carries it (``sources/{study_id}.txt``), the text itself."""
    text = batch.sources.get(sid)
    url, licence = row.get("source_url"), row.get("source_licence")
    if text is None and not url and not licence:
        return
    g, s, src = _graph(batch, sid), study_iri(sid), source_iri(sid)
    g.add((src, RDF.type, QIKG.SourceText))
    g.add((src, DCTERMS.isPartOf, s))
    if text is not None:
        g.add((src, RDF.value, Literal(text)))
    if licence:
        g.add((src, DCTERMS.rights, Literal(licence)))
    if url:
        try:
            iri_term(url)  # Oxigraph's IRI parser: a web address with a space is no IRI
            g.add((src, DCTERMS.source, URIRef(url)))
        except BadInput:
            add_problem(
                batch,
                f'"{url}" is not a web address (write it as https://...)',
                table.where(row.number, "source_url"),
                study=sid,
            )
    _remember(batch, src, table, row.number, _properties(g, src))


def source_iri(study_id: str) -> URIRef:
    """The IRI of the text a study was coded from."""
    return DATA[f"{study_id}/source-text"]


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
    _example(batch, table, row, f"{sid}/{fid}")
    g.add((f, RDF.type, QIKG.Finding))
    g.add((f, DCTERMS.identifier, Literal(fid)))
    g.add((f, QIKG.reportedIn, s))
    get = row.get
    if get("statement"):
        g.add((f, QIKG.statement, Literal(get("statement"))))
    if get("theme"):
        g.add((f, QIKG.theme, Literal(get("theme"))))
    implied: set[str] = set()  # directions implied by deprecated outcome labels
    for column in CONCEPT_COLUMNS:
        for word in (w for w in get(column).split(";") if w.strip()):
            concept = _concept(batch, table, row, f"{sid}/{fid}", f, word, column, vocab)
            if concept is None:
                continue
            replaced = vocab.replacement(concept)
            if replaced is not None:
                concept, direction = replaced
                implied.update([direction] if direction else [])
                # the direction cell, when filled, says the direction (_qualifiers checks them)
                said = "" if not direction or get("outcome_direction") else direction
                add_problem(
                    batch,
                    f'"{word.strip()}" is retired: read as "{vocab.label(concept)}"'
                    + (f' with outcome direction "{vocab.label(said)}"' if said else "")
                    + "; write it that way in the sheet",
                    table.where(row.number, column),
                    f"{sid}/{fid}",
                    severity="warning",
                )
            if column == "enablers" and concept in vocab.barriers:
                add_problem(
                    batch,
                    f'"{word.strip()}" names a barrier: as an enabler it says the opposite of '
                    "itself; code it under barriers, or code what helped (e.g. protected time "
                    "rather than lack of time)",
                    table.where(row.number, column),
                    f"{sid}/{fid}",
                    severity="warning",
                )
            g.add((f, CODING_PROPERTIES[column], URIRef(concept)))
            batch.concepts.add(concept)
    _qualifiers(batch, table, row, sid, fid, f, vocab, implied)
    if get("coder") or get("coder_orcid"):
        _coder(batch, table, row, f"{sid}/{fid}", f)
    if sid in batch.sources:
        g.add((f, PROV.wasDerivedFrom, source_iri(sid)))
    if get("coded_on"):
        g.add((f, DCTERMS.created, typed(get("coded_on"), XSD.date, xsd_date)))
    for column, value in row.cells.items():
        if column not in FINDING_COLUMNS and column not in RETIRED["findings"]:
            g.add((f, SKOS.note, Literal(f"{column}: {value}")))
    _remember(batch, f, table, row.number, _properties(g, f))
    if get("quote"):
        _quote(batch, g, f, s, table, row)


def _example(batch: Batch, table: Table, row: Row, finding: str) -> None:
    """Refuse the template's example finding; warn about a row that kept the example's codes."""
    if any(row.get(c) == EXAMPLE_FINDING[c] for c in ("statement", "quote")):
        add_problem(
            batch,
            "this is the template's example finding: replace its statement and quote with your "
            "own, or delete the row",
            table.where(row.number),
            finding,
        )
        return
    codes = [c for c in CONCEPT_COLUMNS if EXAMPLE_FINDING.get(c)]
    if all(row.get(c) == EXAMPLE_FINDING[c] for c in codes):
        add_problem(
            batch,
            "this finding has every code of the template's example finding ("
            + "; ".join(EXAMPLE_FINDING[c] for c in codes)
            + "): check that they are this finding's codes",
            table.where(row.number),
            finding,
            severity="warning",
        )


def _concept(
    batch: Batch,
    table: Table,
    row: Row,
    finding: str,
    f: URIRef,
    word: str,
    column: str,
    vocab: Vocabulary,
) -> str | None:
    """The concept a word of a cell names, else None and a problem noted against the cell."""
    try:
        return vocab.resolve(word, column)
    except Unresolved as exc:
        add_problem(
            batch,
            str(exc),
            table.where(row.number, column),
            finding,
            about=(f, CODING_PROPERTIES[column]),
        )
        return None


def _qualifiers(
    batch: Batch,
    table: Table,
    row: Row,
    sid: str,
    fid: str,
    f: URIRef,
    vocab: Vocabulary,
    implied: set[str],
) -> None:
    """The finding's kind and the direction of its outcomes (one each).

    A direction is required when the finding has outcomes. A sheet of an older contract has no
    outcome_direction column: its outcomes are "not stated" (or the direction a retired outcome
    label implied), and _contract has said so once for the sheet.
    """
    g, where = _graph(batch, sid), f"{sid}/{fid}"
    kind = BY_COLUMN["finding_kind"]
    if kind.column not in table.columns:
        batch.reported.add((str(f), kind.iri))  # _contract said it once for the sheet
    if row.get(kind.column):
        concept = _concept(batch, table, row, where, f, row.get(kind.column), kind.column, vocab)
        if concept is not None:
            g.add((f, URIRef(kind.iri), URIRef(concept)))
            batch.concepts.add(concept)
    direction = BY_COLUMN["outcome_direction"]
    words, has_outcomes = row.get(direction.column), bool(row.get("outcomes"))
    if words and not has_outcomes:
        add_problem(
            batch,
            f'the outcome direction "{words}" has no outcome to go with: code the outcome in the '
            "outcomes column, or leave outcome_direction empty",
            table.where(row.number, direction.column),
            where,
            about=(f, URIRef(direction.iri)),
        )
        return
    if not has_outcomes:
        return
    if words:
        concept = _concept(batch, table, row, where, f, words, direction.column, vocab)
        if concept is not None and implied - {concept}:
            said = ", ".join(f'"{vocab.label(d)}"' for d in sorted(implied))
            add_problem(
                batch,
                f"a retired outcome label of this finding says {said}, but outcome_direction "
                f'says "{words}": write the neutral outcome and the one direction the source '
                "reports",
                table.where(row.number, direction.column),
                where,
                about=(f, URIRef(direction.iri)),
            )
            return
    elif len(implied) == 1:
        concept = implied.pop()
    elif direction.column not in table.columns:
        concept = str(QIKG.OutcomeDirectionNotStated)
    else:
        concept = None  # the shapes report the missing direction, with their message
    if concept is not None:
        g.add((f, URIRef(direction.iri), URIRef(concept)))
        batch.concepts.add(concept)


def _coder(batch: Batch, table: Table, row: Row, finding: str, f: URIRef) -> None:
    """Who coded the finding: a prov:Person named by their ORCID iD when the sheet gives one."""
    g, name, orcid = _graph(batch, finding.split("/")[0]), row.get("coder"), row.get("coder_orcid")
    agent = None
    if orcid:
        try:
            agent = URIRef(orcid_iri(orcid))
        except ValueError as exc:
            add_problem(
                batch,
                str(exc),
                table.where(row.number, "coder_orcid"),
                finding,
                about=(f, PROV.wasAttributedTo),
            )
            return
        batch.shared.add((agent, RDF.type, PROV.Person))
        batch.shared.add((agent, RDF.type, PROV.Agent))
    elif name:
        agent = DATA[f"agent/{slug(name)}"]
        batch.shared.add((agent, RDF.type, PROV.Agent))
    if agent is None:
        return
    g.add((f, PROV.wasAttributedTo, agent))
    if name:
        batch.shared.add((agent, FOAF.name, Literal(name)))


#: Characters of the source text kept either side of a quote (oa:prefix, oa:suffix).
CONTEXT = 32


def _quote(batch: Batch, g: rdflib.Graph, f: URIRef, s: URIRef, table: Table, row: Row) -> None:
    q = URIRef(f"{f}/quote/1")
    target, selector = URIRef(f"{q}/target"), URIRef(f"{q}/selector")
    exact, sid = row.get("quote"), str(s).removeprefix(str(DATA))
    text = batch.sources.get(sid)
    start = -1 if text is None else text.find(exact)
    if text is not None and start < 0:
        add_problem(
            batch,
            f"the quote is not in the study's source text (sources/{sid}.txt) character for "
            "character: copy it from there, or correct the source text",
            table.where(row.number, "quote"),
            f"{sid}/{row.get('finding_id')}",
            about=(f, QIKG.supportedBy),
        )
        return
    doi = next(g.objects(s, QIKG.doi), None)
    g.add((f, QIKG.supportedBy, q))
    g.add((q, RDF.type, QIKG.Quote))
    g.add((q, RDF.type, OA.Annotation))
    g.add((q, OA.motivatedBy, OA.classifying))
    g.add((q, OA.hasBody, f))
    g.add((q, OA.hasTarget, target))
    g.add((target, RDF.type, OA.SpecificResource))
    g.add((target, OA.hasSelector, selector))
    g.add((selector, RDF.type, OA.TextQuoteSelector))
    g.add((selector, OA.exact, Literal(exact)))
    nodes = [q, target, selector]
    if text is not None:
        end = start + len(exact)
        g.add((target, OA.hasSource, source_iri(sid)))
        if text[max(0, start - CONTEXT) : start]:
            g.add((selector, OA.prefix, Literal(text[max(0, start - CONTEXT) : start])))
        if text[end : end + CONTEXT]:
            g.add((selector, OA.suffix, Literal(text[end : end + CONTEXT])))
        position = URIRef(f"{q}/position")
        g.add((target, OA.hasSelector, position))
        g.add((position, RDF.type, OA.TextPositionSelector))
        g.add((position, OA.start, Literal(start, datatype=XSD.nonNegativeInteger)))
        g.add((position, OA.end, Literal(end, datatype=XSD.nonNegativeInteger)))
        nodes.append(position)
    else:
        g.add((target, OA.hasSource, doi or s))
    if row.get("quote_source"):
        g.add((q, QIKG.quoteLocation, Literal(row.get("quote_source"))))
    for node in nodes:
        _remember(batch, node, table, row.number, _properties(g, node))
