"""Write a stored study back into coding-sheet rows (the inverse of kg.sheets.to_rdf)."""

from __future__ import annotations

import rdflib
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS

from kg.errors import BadInput
from kg.namespaces import DATA, DOI, OA, QIKG, study_graph, study_iri
from kg.sheets import FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.to_rdf import CODING_PROPERTIES, STUDY_TEXT, source_iri
from kg.store import Store
from kg.studies import stored_study
from kg.text import natural_key
from kg.vocabulary import Vocabulary

#: Where programme IRIs are minted: ``qikgd:programme/{qic_id}`` (kg.sheets.to_rdf).
PROGRAMME = f"{DATA}programme/"
TablesOut = dict[str, tuple[list[str], list[dict[str, str]]]]


def study_tables(store: Store, study_id: str, vocab: Vocabulary) -> TablesOut:
    """The ``studies`` and ``findings`` tables of one stored study."""
    if study_graph(study_id) not in store.graph_names():
        raise BadInput(f'no study "{study_id}" in the graph (see `qikg stats`)')
    return graph_tables(stored_study(store, study_id), study_id, vocab)


def graph_tables(g: rdflib.Graph, study_id: str, vocab: Vocabulary) -> TablesOut:
    """The ``studies`` and ``findings`` tables of a study's graph (with the shared descriptions
    it points to)."""
    s = study_iri(study_id)

    def one(node: rdflib.term.Node, prop: rdflib.URIRef) -> str:
        value = g.value(node, prop)
        return "" if value is None else str(value)

    study = {
        "study_id": study_id,
        "authors": one(s, QIKG.authors),
        "year": one(s, QIKG.publicationYear),
        "sample_size": one(s, QIKG.sampleSize),
    }
    study.update({column: one(s, prop) for column, prop in STUDY_TEXT.items()})
    study["doi"] = one(s, QIKG.doi).removeprefix(DOI)
    design = g.value(s, QIKG.hasStudyDesign)
    study["design"] = vocab.label(str(design)) if design is not None else ""
    study["source_url"] = one(source_iri(study_id), DCTERMS.source)
    study["source_licence"] = one(source_iri(study_id), DCTERMS.rights)
    programme = g.value(s, QIKG.evaluatesProgramme)
    study["qic"] = one(programme, RDFS.label) if programme is not None else ""
    # the programme's key, so that a label corrected in the exported sheet keeps the IRI
    study["qic_id"] = str(programme).removeprefix(PROGRAMME) if programme is not None else ""
    study_extra = _notes(g, s, study)
    extra: set[str] = set()
    findings = []
    for f in sorted(
        g.subjects(QIKG.reportedIn, s), key=lambda n: natural_key(one(n, DCTERMS.identifier))
    ):
        row = {
            "finding_id": one(f, DCTERMS.identifier),
            "study_id": study_id,
            "statement": one(f, QIKG.statement),
            "theme": one(f, QIKG.theme),
        }
        for column, prop in CODING_PROPERTIES.items():
            row[column] = "; ".join(
                sorted((vocab.label(str(c)) for c in g.objects(f, prop)), key=str.casefold)
            )
        agent = g.value(f, PROV.wasAttributedTo)
        row["coder"] = one(agent, FOAF.name) if agent is not None else ""
        person = agent is not None and (agent, RDF.type, PROV.Person) in g
        row["coder_orcid"] = str(agent).removeprefix("https://orcid.org/") if person else ""
        row["coded_on"] = one(f, DCTERMS.created)
        quote = g.value(f, QIKG.supportedBy)
        if quote is not None:
            target = g.value(quote, OA.hasTarget)
            selectors = g.objects(target, OA.hasSelector) if target is not None else ()
            row["quote"] = next((str(e) for s in selectors for e in g.objects(s, OA.exact)), "")
            row["quote_source"] = one(quote, QIKG.quoteLocation)
        extra |= _notes(g, f, row)
        findings.append(row)
    return {
        "studies": (STUDY_COLUMNS + sorted(study_extra), [study]),
        "findings": (FINDING_COLUMNS + sorted(extra), findings),
    }


def study_source(store: Store, study_id: str) -> str | None:
    """The source text a stored study was coded from, if the graph holds it."""
    text = stored_study(store, study_id).value(source_iri(study_id), RDF.value)
    return None if text is None else str(text)


def _notes(g: rdflib.Graph, node: rdflib.term.Node, row: dict[str, str]) -> set[str]:
    """Put ``skos:note "column: value"`` back into extra columns; return their names."""
    columns = set()
    for note in g.objects(node, SKOS.note):
        column, sep, value = str(note).partition(": ")
        if sep:
            row[column] = value
            columns.add(column)
    return columns


__all__ = ["graph_tables", "study_source", "study_tables"]
