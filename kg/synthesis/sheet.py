"""Turn a ``reviews`` sheet into RDF for the all-or-nothing import (docs/coding-sheet.md).

Each row is a review finding in its review's named graph; the primary findings it synthesises
must be in the same sheet or already in the graph. Concern and confidence words resolve like
concept words, with a suggestion when one is misspelt; everything the shapes can check (missing
levels or explanations, dates) is left to ``shapes/synthesis.ttl``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping

import rdflib
from rapidfuzz import process
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS, XSD

from kg.errors import REPLACE_IT
from kg.namespaces import DATA, QIKG, expand, finding_iri, study_iri
from kg.sheets.examples import EXAMPLE_REVIEW
from kg.sheets.read import Row, Table
from kg.sheets.rows import CONFIDENCE, Batch, add_problem, check_id, typed
from kg.sparql import iri_terms, sparql_prefixes
from kg.store import Store
from kg.synthesis.model import (
    ASSESSMENT_COLUMNS,
    COMPONENTS,
    CONCERN_WORDS,
    DEFAULT_REVIEW,
    REQUIRED_REVIEW_COLUMNS,
    REVIEW_COLUMNS,
    assessment_iri,
    judgement_iri,
    review_finding_iri,
    review_graph,
)
from kg.text import slug
from kg.vocabulary import Unresolved, Vocabulary

#: How to name each kind of level in a message, and the words to write instead.
LEVEL_KINDS = {
    QIKG.CERQualConcernLevel: (
        "a GRADE-CERQual level of concern",
        "no or very minor, minor, moderate or serious concerns",
    ),
    QIKG.CERQualConfidenceLevel: (
        "a GRADE-CERQual confidence level",
        "high, moderate, low or very low",
    ),
}
#: The sheet column each property of a review finding, and of its assessment, comes from.
REVIEW_FINDING_CELLS = {
    DCTERMS.identifier: "review_finding_id",
    QIKG.reviewStatement: "statement",
    QIKG.explanation: "explanation",
    QIKG.synthesises: "supporting_findings",
    QIKG.hasAssessment: "confidence",
}
ASSESSMENT_CELLS = {
    QIKG.hasJudgement: "confidence",
    QIKG.overallConfidence: "confidence",
    QIKG.explanation: "confidence_explanation",
    PROV.wasAttributedTo: "assessor",
    DCTERMS.created: "assessed_on",
}


def add_reviews(
    batch: Batch, table: Table, vocab: Vocabulary, known_findings: Collection[str]
) -> None:
    """Add the review findings of a ``reviews`` table to ``batch.reviews`` (one graph per review).

    ``known_findings`` holds the ``study_id/finding_id`` of the findings already in the graph;
    the findings of the batch itself count too.
    """
    missing = [c for c in REQUIRED_REVIEW_COLUMNS if c not in table.columns]
    if missing:
        add_problem(
            batch,
            f"the header row lacks the required column(s) {', '.join(missing)}",
            table.where(1),
        )
        return
    known = set(known_findings) | batch_findings(batch)
    seen: dict[str, int] = {}
    for row in table.rows:
        rid = row.get("review_finding_id")
        review = row.get("review") or DEFAULT_REVIEW
        ok = check_id(batch, table, row.number, "review_finding_id", rid)
        if not ok or not check_id(batch, table, row.number, "review", review):
            continue
        if rid in seen:
            add_problem(
                batch,
                f'review finding "{rid}" appears twice (rows {seen[rid]} and {row.number}); '
                "review finding ids must be unique",
                table.where(row.number, "review_finding_id"),
            )
            continue
        seen[rid] = row.number
        if row.get("statement") == EXAMPLE_REVIEW["statement"]:
            add_problem(
                batch,
                "this is the template's example review finding: replace it with your own, or "
                "delete the row",
                table.where(row.number),
            )
        _review_finding(batch, table, row, rid, review, vocab, known)


def batch_findings(batch: Batch) -> set[str]:
    """``study_id/finding_id`` of the findings the batch itself holds."""
    refs = set()
    for graph in batch.graphs.values():
        for f in graph.subjects(RDF.type, QIKG.Finding):
            study, fid = graph.value(f, QIKG.reportedIn), graph.value(f, DCTERMS.identifier)
            if study is not None and fid is not None:
                refs.add(f"{str(study).removeprefix(str(DATA))}/{fid}")
    return refs


def _review_finding(
    batch: Batch,
    table: Table,
    row: Row,
    rid: str,
    review: str,
    vocab: Vocabulary,
    known: set[str],
) -> None:
    g = batch.reviews.setdefault(review, rdflib.Graph())
    rf = review_finding_iri(rid)
    get = row.get
    g.add((rf, RDF.type, QIKG.ReviewFinding))
    g.add((rf, DCTERMS.identifier, Literal(rid)))
    if get("statement"):
        g.add((rf, QIKG.reviewStatement, Literal(get("statement"))))
    if get("explanation"):
        g.add((rf, QIKG.explanation, Literal(get("explanation"))))
    for ref in dict.fromkeys(r.strip() for r in get("supporting_findings").split(";")):
        if ref:
            finding = _supporting(batch, table, row, ref, known)
            if finding is not None:
                g.add((rf, QIKG.synthesises, finding))
    for column, value in row.cells.items():
        if column not in REVIEW_COLUMNS:
            g.add((rf, SKOS.note, Literal(f"{column}: {value}")))
    _locate(batch, rf, table, row, REVIEW_FINDING_CELLS)
    if any(get(c) for c in ASSESSMENT_COLUMNS):
        _assessment(batch, g, table, row, rid, vocab)


def _supporting(batch: Batch, table: Table, row: Row, ref: str, known: set[str]) -> URIRef | None:
    """The IRI of a supporting finding named ``study_id/finding_id``, or None (and a problem)."""
    where = table.where(row.number, "supporting_findings")
    study, sep, fid = ref.partition("/")
    if not sep or not study or not fid or "/" in fid:
        add_problem(
            batch,
            f'"{ref}" is not a finding: write study_id/finding_id, e.g. carstensen2024/F1, '
            'and separate findings with ";"',
            where,
        )
        return None
    if ref not in known:
        close = process.extractOne(ref, sorted(known), score_cutoff=80) if known else None
        hint = f'; did you mean "{close[0]}"?' if close else ""
        add_problem(batch, f'finding "{ref}" is neither in the sheet nor in the graph{hint}', where)
        return None
    return finding_iri(study, fid)


def _assessment(
    batch: Batch, g: rdflib.Graph, table: Table, row: Row, rid: str, vocab: Vocabulary
) -> None:
    get = row.get
    a = assessment_iri(rid)
    g.add((review_finding_iri(rid), QIKG.hasAssessment, a))
    g.add((a, RDF.type, QIKG.CERQualAssessment))
    for component in COMPONENTS:
        j = judgement_iri(rid, component)
        g.add((a, QIKG.hasJudgement, j))
        g.add((j, RDF.type, QIKG.CERQualJudgement))
        g.add((j, QIKG.judgedComponent, component.concept))
        word = get(component.column)
        if word:
            try:
                level = resolve_level(vocab, word, QIKG.CERQualConcernLevel, CONCERN_WORDS)
            except Unresolved as exc:
                add_problem(batch, str(exc), table.where(row.number, component.column))
            else:
                g.add((j, QIKG.concernLevel, level))
        if get(component.explanation_column):
            g.add((j, QIKG.explanation, Literal(get(component.explanation_column))))
        cells = {QIKG.judgedComponent: component.column, QIKG.concernLevel: component.column}
        _locate(batch, j, table, row, {**cells, QIKG.explanation: component.explanation_column})
    if get("confidence"):
        try:
            level = resolve_level(vocab, get("confidence"), QIKG.CERQualConfidenceLevel, CONFIDENCE)
        except Unresolved as exc:
            add_problem(batch, str(exc), table.where(row.number, "confidence"))
        else:
            g.add((a, QIKG.overallConfidence, level))
    if get("confidence_explanation"):
        g.add((a, QIKG.explanation, Literal(get("confidence_explanation"))))
    if get("assessor"):
        agent = DATA[f"agent/{slug(get('assessor'))}"]
        g.add((a, PROV.wasAttributedTo, agent))
        batch.shared.add((agent, RDF.type, PROV.Agent))
        batch.shared.add((agent, FOAF.name, Literal(get("assessor"))))
    if get("assessed_on"):
        g.add((a, DCTERMS.created, typed(get("assessed_on"), XSD.date, dt.date.fromisoformat)))
    _locate(batch, a, table, row, ASSESSMENT_CELLS)


def _locate(
    batch: Batch, node: URIRef, table: Table, row: Row, columns: Mapping[URIRef, str]
) -> None:
    """Remember the row of a node and the column of each of its properties, for problems."""
    batch.origins[str(node), None] = table.where(row.number)
    for prop, column in columns.items():
        batch.origins[str(node), str(prop)] = table.where(row.number, column)


def resolve_level(
    vocab: Vocabulary, word: str, kind: URIRef, words: Mapping[str, URIRef]
) -> URIRef:
    """The GRADE-CERQual level (of class ``kind``, a key of LEVEL_KINDS) a word names: a short
    word of ``words``, a label, a CURIE or an IRI; else Unresolved, with the closest label.

    >>> from kg.build import turtle_folder_ntriples
    >>> from kg.resources import ontology_dir
    >>> vocab = Vocabulary.from_graph(
    ...     rdflib.Graph().parse(data=turtle_folder_ntriples(ontology_dir()), format="nt"))
    >>> level = QIKG.CERQualConcernLevel
    >>> resolve_level(vocab, "Serious", level, CONCERN_WORDS).fragment
    'SeriousConcerns'
    >>> try:
    ...     resolve_level(vocab, "serius", level, CONCERN_WORDS)
    ... except Unresolved as exc:
    ...     print(str(exc).split(";")[0])
    "serius" is not a GRADE-CERQual level of concern (did you mean "serious concerns"?)
    """
    text = " ".join(word.casefold().split())
    if text in words:
        return words[text]
    named = expand(word.strip()) or (word.strip("<> ") if "://" in word else None)
    candidates = {named} if named else vocab.by_label.get(text, set())
    found = sorted(c for c in candidates if str(kind) in vocab.kinds(c))
    if len(found) == 1:
        return URIRef(found[0])
    suggestion = vocab.suggest(text, (str(kind),))
    hint = f' (did you mean "{suggestion}"?)' if suggestion else ""
    name, allowed = LEVEL_KINDS[kind]
    raise Unresolved(f'"{word.strip()}" is not {name}{hint}; write {allowed}')


def finding_refs(store: Store) -> set[str]:
    """``study_id/finding_id`` of every finding in the store."""
    rows = store.query(
        sparql_prefixes()
        + """SELECT ?sid ?fid WHERE {
            ?f a qikg:Finding ; dcterms:identifier ?fid ; qikg:reportedIn/dcterms:identifier ?sid
        }""",
        include_inferred=False,
    ).values()
    return {f"{r['sid']}/{r['fid']}" for r in rows}


def stored_support(store: Store, batch: Batch) -> rdflib.Graph:
    """What validation needs to know of the stored findings the batch's review findings cite:
    their types and the studies that report them (for the single-study warning)."""
    cited = _cited(batch)
    graph = rdflib.Graph()
    if cited:
        values = iri_terms(sorted(cited))
        rows = store.query(
            sparql_prefixes()
            + f"""SELECT ?f ?p ?o WHERE {{ VALUES ?f {{ {values} }}
                VALUES ?p {{ rdf:type qikg:reportedIn }} ?f ?p ?o }}""",
            include_inferred=False,
        ).values()
        for r in rows:
            f, p, o = r["f"], r["p"], r["o"]
            if f is not None and p is not None and o is not None:  # the pattern binds all three
                graph.add((URIRef(f), URIRef(p), URIRef(o)))
    return graph


def read_support(batch: Batch, refs: Collection[str]) -> rdflib.Graph:
    """What stored_support tells of the findings ``refs`` (``study_id/finding_id``) that the
    batch's review findings cite: for the findings of a sheet read in earlier batches."""
    cited = _cited(batch)
    graph = rdflib.Graph()
    for ref in refs:
        study, _, fid = ref.partition("/")
        finding = finding_iri(study, fid)
        if finding in cited:
            graph.add((finding, RDF.type, QIKG.Finding))
            graph.add((finding, QIKG.reportedIn, study_iri(study)))
    return graph


def _cited(batch: Batch) -> set[URIRef]:
    """The findings the batch's review findings synthesise that the batch does not describe."""
    described = {s for g in batch.graphs.values() for s in g.subjects()}
    return {
        o
        for g in batch.reviews.values()
        for o in g.objects(None, QIKG.synthesises)
        if isinstance(o, URIRef) and o not in described
    }


def review_clashes(store: Store, batch: Batch, replace: bool) -> list[str]:
    """Why the batch's reviews cannot be committed: a review already in the graph (unless
    ``replace``), or a review finding id used by another review."""
    problems = []
    stored = set(store.graph_names())
    for review in sorted(batch.reviews):
        if review_graph(review) in stored and not replace:
            problems.append(f'review "{review}" is already in the graph; {REPLACE_IT}')
    mine = {review_graph(r) for r in batch.reviews}
    iris = sorted(
        {str(rf) for g in batch.reviews.values() for rf in g.subjects(RDF.type, QIKG.ReviewFinding)}
    )
    if iris:
        values = iri_terms(iris)
        rows = store.query(
            sparql_prefixes()
            + f"""SELECT ?id ?g WHERE {{ VALUES ?rf {{ {values} }}
                GRAPH ?g {{ ?rf a qikg:ReviewFinding ; dcterms:identifier ?id }} }}""",
            include_inferred=False,
        ).values()
        for r in rows:
            if r["g"] not in mine:
                other = (r["g"] or "").rsplit("/", 1)[-1]
                problems.append(
                    f'review finding "{r["id"]}" is already in review "{other}"; '
                    "review finding ids must be unique across reviews"
                )
    return problems


__all__ = [
    "add_reviews",
    "batch_findings",
    "finding_refs",
    "read_support",
    "resolve_level",
    "review_clashes",
    "stored_support",
]
