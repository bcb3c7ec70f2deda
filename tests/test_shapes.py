"""The SHACL shapes and kg.validate: valid data passes, each broken variant gets one message."""

from __future__ import annotations

import json
import re

import pytest
import rdflib
from pyshacl.entrypoints import meta_validate
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, RDFS, SKOS

from kg.namespaces import CFIR, DATA, OA, QIKG, SH
from kg.validate import Problem, Report, load_shapes, validate

STUDY = DATA["s1"]
DOI = URIRef("https://doi.org/10.1177/13558196241231169")
XSD_DATE = URIRef("http://www.w3.org/2001/XMLSchema#date")
AGENT = DATA["agent/jane-doe"]
PROGRAMME = DATA["programme/danish-lkt"]

#: The seven coding properties (subproperties of qikg:codedWith) the importer writes.
CODING = (
    QIKG.concernsProfessionalGroup,
    QIKG.concernsRole,
    QIKG.involvesQICComponent,
    QIKG.hasEnabler,
    QIKG.hasBarrier,
    QIKG.relatesToOutcome,
    QIKG.relatesToConcept,
)

#: Vocabulary concepts the test data points to, each with its kind class.
KINDS = {
    QIKG.Nurse: QIKG.ProfessionalGroup,
    QIKG.QITeamMember: QIKG.Role,
    QIKG.LearningSession: QIKG.QICComponent,
    QIKG.BottomUpApproach: QIKG.Determinant,
    QIKG.LackOfTime: QIKG.Determinant,
    CFIR.AvailableResources: QIKG.CFIRConstruct,
    QIKG.Engagement: QIKG.Outcome,
    QIKG.Synergy: QIKG.TheoryConcept,
    QIKG.ModerateConfidence: QIKG.CERQualConfidenceLevel,
    QIKG.ParticipantsAccount: QIKG.FindingKind,
    QIKG.ContextDescription: QIKG.FindingKind,
    QIKG.OutcomeImproved: QIKG.OutcomeDirection,
    QIKG.OutcomeWorsened: QIKG.OutcomeDirection,
    QIKG.PrimaryQualitative: QIKG.StudyDesign,
    QIKG.MixedMethods: QIKG.StudyDesign,
}


def context() -> rdflib.Graph:
    """What an importer passes: the type triples of the concepts the data points to."""
    g = rdflib.Graph()
    for concept, kind in KINDS.items():
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, RDF.type, kind))
    return g


def finding_iri(fid: str) -> URIRef:
    return DATA[f"s1/finding/{fid}"]


def add_finding(g: rdflib.Graph, fid: str = "F1", *, complete: bool = True) -> URIRef:
    """A finding of study s1; ``complete=False`` leaves out everything optional."""
    f = finding_iri(fid)
    g.add((f, RDF.type, QIKG.Finding))
    g.add((f, DCTERMS.identifier, Literal(fid)))
    g.add((f, QIKG.reportedIn, STUDY))
    g.add((f, QIKG.statement, Literal("Nurses engaged when the approach was bottom-up.")))
    g.add((f, QIKG.concernsProfessionalGroup, QIKG.Nurse))
    g.add((f, QIKG.hasEnabler, QIKG.BottomUpApproach))
    if not complete:
        return f
    g.add((f, QIKG.findingKind, QIKG.ParticipantsAccount))
    g.add((f, QIKG.theme, Literal("Professionalisation")))
    g.add((f, QIKG.concernsRole, QIKG.QITeamMember))
    g.add((f, QIKG.involvesQICComponent, QIKG.LearningSession))
    g.add((f, QIKG.hasBarrier, QIKG.LackOfTime))
    g.add((f, QIKG.relatesToOutcome, QIKG.Engagement))
    g.add((f, QIKG.outcomeDirection, QIKG.OutcomeImproved))
    g.add((f, QIKG.relatesToConcept, QIKG.Synergy))
    g.add((f, PROV.wasAttributedTo, AGENT))
    g.add((AGENT, RDF.type, PROV.Agent))
    g.add((AGENT, FOAF.name, Literal("Jane Doe")))
    g.add((f, DCTERMS.created, Literal("2024-05-31", datatype=XSD_DATE)))
    g.add((f, PROV.wasDerivedFrom, DOI))
    q = URIRef(f"{f}/quote/1")
    target, selector = URIRef(f"{q}/target"), URIRef(f"{q}/selector")
    g.add((f, QIKG.supportedBy, q))
    g.add((q, RDF.type, QIKG.Quote))
    g.add((q, RDF.type, OA.Annotation))
    g.add((q, OA.hasTarget, target))
    g.add((q, QIKG.quoteLocation, Literal("Results")))
    g.add((target, RDF.type, OA.SpecificResource))
    g.add((target, OA.hasSource, DOI))
    g.add((target, OA.hasSelector, selector))
    g.add((selector, RDF.type, OA.TextQuoteSelector))
    g.add((selector, OA.exact, Literal("We decided ourselves what to improve.")))
    return f


def add_study(g: rdflib.Graph, *, complete: bool = True) -> URIRef:
    """Study s1 with its required fields; ``complete=True`` adds DOI, programme and the rest."""
    g.add((STUDY, RDF.type, QIKG.Study))
    g.add((STUDY, DCTERMS.identifier, Literal("s1")))
    g.add((STUDY, DCTERMS.title, Literal("Engaging health care professionals in QI")))
    g.add((STUDY, QIKG.authors, Literal("Carstensen K; Goldman J")))
    g.add((STUDY, DCTERMS.creator, Literal("Carstensen K")))
    g.add((STUDY, DCTERMS.creator, Literal("Goldman J")))
    g.add((STUDY, QIKG.publicationYear, Literal(2024)))
    if complete:
        g.add((STUDY, QIKG.doi, DOI))
        g.add((STUDY, QIKG.hasStudyDesign, QIKG.PrimaryQualitative))
        g.add((STUDY, QIKG.journal, Literal("J Health Serv Res Policy")))
        g.add((STUDY, QIKG.sampleSize, Literal(75)))
        g.add((STUDY, QIKG.evaluatesProgramme, PROGRAMME))
        g.add((PROGRAMME, RDF.type, QIKG.QICProgramme))
        g.add((PROGRAMME, RDFS.label, Literal("Danish LKT")))
    return STUDY


def valid(findings: int = 1, *, complete: bool = True) -> rdflib.Graph:
    g = rdflib.Graph()
    add_study(g, complete=complete)
    for n in range(1, findings + 1):
        add_finding(g, f"F{n}", complete=complete)
    return g


def quote_part(part: str, fid: str = "F1") -> URIRef:
    return URIRef(f"{finding_iri(fid)}/quote/1{part}")


def only(report: Report, severity: str = "violation") -> Problem:
    """The one problem of a severity; fails listing all problems if there are more or none."""
    found = [p for p in report.problems if p.severity == severity]
    assert len(found) == 1, "\n" + report.to_text()
    return found[0]


def has_words(message: str, *words: str) -> bool:
    return all(w.lower() in message.lower() for w in words)


# --- valid data --------------------------------------------------------------------------------


def test_complete_study_has_no_problems():
    report = validate(valid(3), context())
    assert report.problems == [], report.to_text()
    assert report.conforms
    assert report.findings_checked == 3
    assert report.summary() == "no problems in 3 findings"


def test_minimal_study_passes_with_the_expected_warnings_and_infos():
    report = validate(valid(complete=False), context())
    assert report.conforms
    got = {(p.severity, p.path) for p in report.problems}
    assert got == {
        ("warning", str(QIKG.doi)),
        ("warning", str(QIKG.hasStudyDesign)),
        ("warning", str(QIKG.supportedBy)),
        ("warning", str(QIKG.findingKind)),
        ("info", str(QIKG.theme)),
        ("info", str(PROV.wasAttributedTo)),
    }
    by_path = {p.path: p for p in report.problems}
    assert has_words(by_path[str(QIKG.doi)].message, "no DOI")
    assert has_words(by_path[str(QIKG.hasStudyDesign)].message, "design", "column design")
    assert has_words(by_path[str(QIKG.supportedBy)].message, "no supporting quote")
    assert has_words(by_path[str(QIKG.findingKind)].message, "kind of finding", "finding_kind")
    assert has_words(by_path[str(QIKG.theme)].message, "no theme")
    assert by_path[str(QIKG.doi)].study == "s1" and by_path[str(QIKG.doi)].finding is None
    assert by_path[str(QIKG.hasStudyDesign)].finding is None
    assert by_path[str(QIKG.theme)].finding == "s1/F1"
    assert by_path[str(QIKG.findingKind)].finding == "s1/F1"
    assert report.summary() == "4 warnings, 2 infos in 1 finding"


def test_an_enabler_may_be_a_cfir_construct():
    g = valid()
    g.add((finding_iri("F1"), QIKG.hasEnabler, CFIR.AvailableResources))
    g.add((finding_iri("F1"), QIKG.hasBarrier, CFIR.AvailableResources))
    assert validate(g, context()).problems == []


def test_findings_may_code_only_with_qikg_coded_with():
    g = valid()
    f = finding_iri("F1")
    for p in (*CODING, QIKG.outcomeDirection):  # no outcome left for a direction to be about
        g.remove((f, p, None))
    g.add((f, QIKG.codedWith, QIKG.Synergy))
    assert validate(g, context()).problems == []


# --- broken variants: exactly one violation, in plain words ------------------------------------

F1 = finding_iri("F1")


def _without(s, p):
    def edit(g: rdflib.Graph) -> None:
        g.remove((s, p, None))

    return edit


def _replace(s, p, o):
    def edit(g: rdflib.Graph) -> None:
        g.remove((s, p, None))
        g.add((s, p, o))

    return edit


def _impossible_date(g: rdflib.Graph) -> None:
    # made here, not at import: rdflib logs a warning when it builds an ill-typed literal
    _replace(F1, DCTERMS.created, Literal("2024-13-45", datatype=XSD_DATE))(g)


def _bad_position(g: rdflib.Graph) -> None:
    position = quote_part("/position")
    g.add((quote_part("/target"), OA.hasSelector, position))
    g.add((position, RDF.type, OA.TextPositionSelector))
    g.add((position, OA.start, Literal(120)))
    g.add((position, OA.end, Literal(-5)))


def _uncode(g: rdflib.Graph) -> None:
    for p in (*CODING, QIKG.outcomeDirection):  # a direction goes with the outcome it is about
        g.remove((F1, p, None))


BROKEN = {
    # name: (edit, focus, path, words in the message)
    "missing statement": (_without(F1, QIKG.statement), F1, QIKG.statement, ["needs a statement"]),
    "missing study": (_without(F1, QIKG.reportedIn), F1, QIKG.reportedIn, ["belong to a study"]),
    "unknown study": (
        _replace(F1, QIKG.reportedIn, DATA["nope"]),
        F1,
        QIKG.reportedIn,
        ["qikgd:nope", "not a known study"],
    ),
    "study without title": (
        _without(STUDY, DCTERMS.title),
        STUDY,
        DCTERMS.title,
        ["study needs", "title"],
    ),
    "study without authors": (
        _without(STUDY, QIKG.authors),
        STUDY,
        QIKG.authors,
        ["study needs", "authors"],
    ),
    "study without year": (
        _without(STUDY, QIKG.publicationYear),
        STUDY,
        QIKG.publicationYear,
        ["study needs", "publication year"],
    ),
    "year 1850": (
        _replace(STUDY, QIKG.publicationYear, Literal(1850)),
        STUDY,
        QIKG.publicationYear,
        ['"1850"', "between 1900 and 2100"],
    ),
    "year as a string": (
        _replace(STUDY, QIKG.publicationYear, Literal("2024")),
        STUDY,
        QIKG.publicationYear,
        ['"2024"', "whole number"],
    ),
    "malformed DOI": (
        _replace(STUDY, QIKG.doi, URIRef("https://doi.org/abc")),
        STUDY,
        QIKG.doi,
        ["https://doi.org/abc", "is not a DOI", "10.1177/"],
    ),
    "DOI as text": (
        _replace(STUDY, QIKG.doi, Literal("10.1177/13558196241231169")),
        STUDY,
        QIKG.doi,
        ["is not a DOI"],
    ),
    "coded_on not a date": (
        _replace(F1, DCTERMS.created, Literal("31/05/2024")),
        F1,
        DCTERMS.created,
        ['"31/05/2024"', "not a date", "YYYY-MM-DD"],
    ),
    "coded_on impossible date": (
        _impossible_date,
        F1,
        DCTERMS.created,
        ['"2024-13-45"', "not a date"],
    ),
    "finding kind that is a direction": (
        _replace(F1, QIKG.findingKind, QIKG.OutcomeImproved),
        F1,
        QIKG.findingKind,
        ["qikg:OutcomeImproved", "not a finding kind", "finding_kind"],
    ),
    "two kinds on one finding": (
        lambda g: g.add((F1, QIKG.findingKind, QIKG.ContextDescription)),
        F1,
        QIKG.findingKind,
        ["more than one kind", "finding_kind"],
    ),
    "outcome direction that is a kind": (
        _replace(F1, QIKG.outcomeDirection, QIKG.ParticipantsAccount),
        F1,
        QIKG.outcomeDirection,
        ["qikg:ParticipantsAccount", "not an outcome direction", "outcome_direction"],
    ),
    "two outcome directions on one finding": (
        lambda g: g.add((F1, QIKG.outcomeDirection, QIKG.OutcomeWorsened)),
        F1,
        QIKG.outcomeDirection,
        ["more than one outcome direction", "outcome_direction"],
    ),
    "outcome without a direction": (
        _without(F1, QIKG.outcomeDirection),
        F1,
        QIKG.outcomeDirection,
        ["coded with an outcome", "outcome_direction", "improved", "worsened"],
    ),
    "outcome direction without an outcome": (
        _without(F1, QIKG.relatesToOutcome),
        F1,
        QIKG.relatesToOutcome,
        ["outcome direction but no outcome", "column outcomes", "outcome_direction empty"],
    ),
    "study design that is not a design": (
        _replace(STUDY, QIKG.hasStudyDesign, QIKG.Nurse),
        STUDY,
        QIKG.hasStudyDesign,
        ["qikg:Nurse", "not a study design", "column design"],
    ),
    "two designs on one study": (
        lambda g: g.add((STUDY, QIKG.hasStudyDesign, QIKG.MixedMethods)),
        STUDY,
        QIKG.hasStudyDesign,
        ["more than one design", "design_note"],
    ),
    "professional group that is a determinant": (
        _replace(F1, QIKG.concernsProfessionalGroup, QIKG.LackOfTime),
        F1,
        QIKG.concernsProfessionalGroup,
        ["qikg:LackOfTime", "not a professional group"],
    ),
    "professional group written as text": (
        _replace(F1, QIKG.concernsProfessionalGroup, Literal("nurse")),
        F1,
        QIKG.concernsProfessionalGroup,
        ['"nurse"', "not a professional group"],
    ),
    "enabler that is an outcome": (
        _replace(F1, QIKG.hasEnabler, QIKG.Engagement),
        F1,
        QIKG.hasEnabler,
        ["qikg:Engagement", "cannot be an enabler"],
    ),
    "barrier that is a role": (
        _replace(F1, QIKG.hasBarrier, QIKG.QITeamMember),
        F1,
        QIKG.hasBarrier,
        ["cannot be a barrier"],
    ),
    "outcome that is a determinant": (
        _replace(F1, QIKG.relatesToOutcome, QIKG.LackOfTime),
        F1,
        QIKG.relatesToOutcome,
        ["not an outcome"],
    ),
    "role that is a group": (
        _replace(F1, QIKG.concernsRole, QIKG.Nurse),
        F1,
        QIKG.concernsRole,
        ["not a role"],
    ),
    "QIC component that is an outcome": (
        _replace(F1, QIKG.involvesQICComponent, QIKG.Engagement),
        F1,
        QIKG.involvesQICComponent,
        ["not a QIC component"],
    ),
    "concept not in the vocabulary": (
        _replace(F1, QIKG.relatesToConcept, QIKG.Unheard),
        F1,
        QIKG.relatesToConcept,
        ["not a concept"],
    ),
    "empty quote text": (
        _replace(quote_part("/selector"), OA.exact, Literal("")),
        quote_part("/selector"),
        OA.exact,
        ["quote", "empty"],
    ),
    "blank quote text": (
        _replace(quote_part("/selector"), OA.exact, Literal("  \t")),
        quote_part("/selector"),
        OA.exact,
        ["quote", "empty"],
    ),
    "quote without text": (
        _without(quote_part("/selector"), OA.exact),
        quote_part("/selector"),
        OA.exact,
        ["quote has no text"],
    ),
    "quote without selector": (
        _without(quote_part("/target"), OA.hasSelector),
        quote_part("/target"),
        OA.hasSelector,
        ["quote has no text"],
    ),
    "quote position before the start": (
        _bad_position,
        quote_part("/position"),
        OA.end,
        ["position of a quote", "end", "0 or more"],
    ),
    "quote without source": (
        _without(quote_part("/target"), OA.hasSource),
        quote_part("/target"),
        OA.hasSource,
        ["quote has no source"],
    ),
    "finding with no coded concept": (_uncode, F1, None, ["not coded", "professional group"]),
    "two identifiers on one finding": (
        lambda g: g.add((F1, DCTERMS.identifier, Literal("F1b"))),
        F1,
        DCTERMS.identifier,
        ["more than one id", "unique"],
    ),
    "two statements on one finding": (
        lambda g: g.add((F1, QIKG.statement, Literal("A second statement from a second row."))),
        F1,
        QIKG.statement,
        ["more than one statement", "two rows"],
    ),
    "statement under 10 characters": (
        _replace(F1, QIKG.statement, Literal("Too short")),
        F1,
        QIKG.statement,
        ['"Too short"', "too short", "10 characters"],
    ),
    "statement over 2000 characters": (
        _replace(F1, QIKG.statement, Literal("x" * 2001)),
        F1,
        QIKG.statement,
        ["longer than 2000 characters"],
    ),
    "coder without a name": (_without(AGENT, FOAF.name), AGENT, FOAF.name, ["coder needs a name"]),
    "programme without a name": (
        _without(PROGRAMME, RDFS.label),
        PROGRAMME,
        RDFS.label,
        ["programme needs a name"],
    ),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_variant_gets_one_plain_violation(name):
    edit, focus, path, words = BROKEN[name]
    g = valid(2)  # F2 keeps the study from having no findings when F1 leaves it
    edit(g)
    report = validate(g, context())
    assert not report.conforms
    problem = only(report, "violation")
    assert problem.focus == str(focus)
    assert problem.path == (str(path) if path is not None else None)
    assert has_words(problem.message, *words), problem.message
    assert "{$" not in problem.message and "sh:" not in problem.message
    assert [p for p in report.problems if p.severity != "violation"] == [], report.to_text()


def test_a_context_description_may_stand_uncoded_but_an_account_may_not():
    g = valid()
    _uncode(g)
    _replace(F1, QIKG.findingKind, QIKG.ContextDescription)(g)
    report = validate(g, context())
    assert report.problems == [], report.to_text()
    _replace(F1, QIKG.findingKind, QIKG.ParticipantsAccount)(g)
    assert has_words(only(validate(g, context())).message, "not coded", "context description")


def test_a_cerqual_confidence_on_a_primary_finding_is_a_warning_that_says_where_it_goes():
    g = valid()
    g.add((F1, QIKG.cerqualConfidence, QIKG.ModerateConfidence))
    report = validate(g, context())
    assert report.conforms
    problem = only(report, "warning")
    assert problem.path == str(QIKG.cerqualConfidence) and problem.finding == "s1/F1"
    assert has_words(problem.message, "GRADE-CERQual", "retired", "review finding")
    assert len(report.problems) == 1, report.to_text()


def test_statement_of_10_to_19_characters_is_only_a_warning():
    g = valid()
    _replace(F1, QIKG.statement, Literal("Nurses engaged."))(g)
    report = validate(g, context())
    assert report.conforms
    problem = only(report, "warning")
    assert has_words(problem.message, "very short", "20 characters", '"Nurses engaged."')
    assert len(report.problems) == 1


def test_quote_problems_name_their_finding_and_study():
    g = valid(2)
    g.remove((quote_part("/target", "F2"), OA.hasSource, None))
    problem = only(validate(g, context()))
    assert (problem.finding, problem.study) == ("s1/F2", "s1")


def test_finding_and_study_fall_back_to_the_iri_when_ids_are_missing():
    g = valid()
    g.remove((F1, DCTERMS.identifier, None))
    g.remove((STUDY, DCTERMS.identifier, None))
    report = validate(g, context())
    assert {(p.finding, p.study) for p in report.problems} == {("s1/F1", "s1"), (None, "s1")}


# --- context ------------------------------------------------------------------------------------


def test_concept_kinds_come_from_the_context():
    report = validate(valid())
    kinds = {p.path for p in report.problems if has_words(p.message, "vocabulary")}
    assert str(QIKG.concernsProfessionalGroup) in kinds
    assert validate(valid(), context()).problems == []


def test_subclass_axioms_in_the_context_count():
    ctx = rdflib.Graph()
    for concept, kind in KINDS.items():
        ctx.add((concept, RDF.type, kind))  # no skos:Concept type: comes from the axioms
    ctx.add((QIKG.TheoryConcept, RDFS.subClassOf, SKOS.Concept))
    assert validate(valid(), ctx).problems == []


def test_findings_of_a_study_already_in_the_store():
    data = rdflib.Graph()
    add_finding(data)
    ctx = context()
    ctx.add((STUDY, RDF.type, QIKG.Study))  # the study is in the store, with no title here
    ctx.add((STUDY, DCTERMS.identifier, Literal("s1")))
    report = validate(data, ctx)
    assert report.problems == [], report.to_text()  # the study itself is not checked
    assert report.findings_checked == 1


def test_old_version_in_the_context_does_not_mix_with_the_data():
    ctx = context()
    ctx.add((STUDY, DCTERMS.title, Literal("The old title")))
    ctx.add((F1, QIKG.statement, Literal("The statement before the correction.")))
    assert validate(valid(), ctx).problems == []


def test_only_problems_of_the_data_are_reported():
    ctx = context()
    other = DATA["s2/finding/F9"]
    ctx.add((other, RDF.type, QIKG.Finding))  # a broken finding in the store
    ctx.add((F1, QIKG.relatesToConcept, other))
    assert validate(valid(), ctx).problems == []


def test_blank_nodes_are_checked_too():
    # docs/model.md forbids blank nodes in data, but an RDF file may hold them: still check them
    g = valid()
    target = quote_part("/target")
    blank = rdflib.BNode()
    for p, o in list(g.predicate_objects(target)):
        if p != OA.hasSource:
            g.add((blank, p, o))
    g.remove((target, None, None))
    g.set((quote_part(""), OA.hasTarget, blank))
    problem = only(validate(g, context()))
    assert has_words(problem.message, "quote has no source")
    assert problem.finding == "s1/F1"


def test_empty_data_has_no_problems():
    report = validate(rdflib.Graph(), context())
    assert report.problems == [] and report.summary() == "no problems in 0 findings"


# --- reporting ----------------------------------------------------------------------------------


def test_locate_fills_the_source():
    g = valid()
    g.remove((F1, QIKG.statement, None))
    seen: list[Problem] = []

    def locate(p: Problem) -> str:
        seen.append(p)
        return "findings.csv row 2, column statement"

    report = validate(g, context(), locate=locate)
    assert only(report).source == "findings.csv row 2, column statement"
    assert seen[0].finding == "s1/F1"
    assert "violation: findings.csv row 2, column statement: A finding needs a statement" in (
        report.to_text()
    )


def test_summary_wording():
    p = Problem("violation", "m", "x", None, None)
    w, i = Problem("warning", "m", "x", None, None), Problem("info", "m", "x", None, None)
    assert Report([], 14).summary() == "no problems in 14 findings"
    assert Report([], 1).summary() == "no problems in 1 finding"
    assert Report([p, p, w, w, w], 14).summary() == "2 violations, 3 warnings in 14 findings"
    assert Report([p, w, i], 1).summary() == "1 violation, 1 warning, 1 info in 1 finding"
    assert Report([w, i, i], 2).summary() == "1 warning, 2 infos in 2 findings"
    assert Report([w], 0).conforms and not Report([p], 0).conforms
    assert Report([p, w, i], 1).counts() == {"violation": 1, "warning": 1, "info": 1}


def test_to_text_groups_by_finding_then_study_then_other():
    report = Report(
        [
            Problem("warning", "no DOI", "s", None, None, study="s1"),
            Problem("info", "other thing", "x", None, None),
            Problem("warning", "no quote", "f10", None, None, finding="s1/F10", study="s1"),
            Problem(
                "violation",
                "no statement",
                "f2",
                None,
                None,
                finding="s1/F2",
                study="s1",
                source="findings.csv row 3",
            ),
            Problem("info", "no theme", "f2", None, None, finding="s1/F2", study="s1"),
        ],
        2,
    )
    assert report.to_text().splitlines() == [
        "Finding s1/F2",
        "  violation: findings.csv row 3: no statement",
        "  info: no theme",
        "Finding s1/F10",
        "  warning: no quote",
        "Study s1",
        "  warning: no DOI",
        "Other",
        "  info: other thing",
        "1 violation, 2 warnings, 2 infos in 2 findings",
    ]


def test_to_json_and_to_turtle():
    g = valid()
    g.remove((F1, QIKG.statement, None))
    g.remove((STUDY, QIKG.doi, None))
    report = validate(g, context())
    data = json.loads(json.dumps(report.to_json()))
    assert data["conforms"] is False
    assert data["counts"] == {"violation": 1, "warning": 1, "info": 0}
    assert data["summary"] == report.summary()
    assert {p["severity"] for p in data["problems"]} == {"violation", "warning"}
    results = rdflib.Graph().parse(data=report.to_turtle(), format="turtle")
    reports = list(results.subjects(RDF.type, SH.ValidationReport))
    assert len(reports) == 1
    assert results.value(reports[0], SH.conforms).toPython() is False
    messages = {str(m) for m in results.objects(None, SH.resultMessage)}
    assert any("needs a statement" in m for m in messages)
    assert not any("{$" in m for m in messages)
    built = Report([Problem("warning", "no DOI", str(STUDY), str(QIKG.doi), None)], 0)
    parsed = rdflib.Graph().parse(data=built.to_turtle(), format="turtle")
    assert (None, SH.resultMessage, Literal("no DOI")) in parsed
    assert (None, SH.conforms, Literal(True)) in parsed


def test_to_turtle_includes_problems_added_by_the_importer():
    report = validate(valid(), context())
    report.problems[:0] = [
        Problem(
            "violation",
            '"nurces" is not a professional group',
            "",
            None,
            None,
            source="findings.csv row 2, column professional_groups",
        )
    ]
    parsed = rdflib.Graph().parse(data=report.to_turtle(), format="turtle")
    assert (None, SH.resultMessage, Literal('"nurces" is not a professional group')) in parsed
    assert (None, SH.conforms, Literal(False)) in parsed
    assert "findings.csv row 2" in report.to_text()


def test_message_values_are_filled_readably():
    g = valid()
    _replace(F1, QIKG.statement, Literal("short"))(g)
    assert only(validate(g, context())).message.startswith('The statement "short" is too short')
    g = valid()
    _replace(F1, QIKG.statement, Literal("y" * 3000))(g)
    problem = only(validate(g, context()))
    assert problem.value == "y" * 3000 and len(problem.message) < 300


# --- the shapes themselves ----------------------------------------------------------------------

_CONSTRAINTS = {
    SH[n]
    for n in (
        "class datatype nodeKind minCount maxCount minExclusive minInclusive maxExclusive "
        "maxInclusive minLength maxLength pattern languageIn uniqueLang equals disjoint lessThan "
        "lessThanOrEquals not and or xone node qualifiedValueShape closed hasValue in sparql "
        "expression"
    ).split()
}
_LOGICAL = (SH["or"], SH["and"], SH.xone, SH["not"], SH.node, SH.qualifiedValueShape)


def _shapes() -> tuple[rdflib.Graph, set]:
    """The shapes a result can come from: node shapes with constraints, and property shapes.

    Shapes inside sh:or/sh:and/sh:xone/sh:not/sh:node/sh:qualifiedValueShape are left out: a
    failure there is reported by (and with the message of) the shape that uses them.
    """
    g = load_shapes()
    nested = set()
    for p in _LOGICAL:
        for o in g.objects(None, p):
            nested.update(g.items(o) if (o, RDF.first, None) in g else [o])
    shapes = set(g.subjects(RDF.type, SH.NodeShape)) | set(g.subjects(RDF.type, SH.PropertyShape))
    shapes |= set(g.objects(None, SH.property)) | set(g.subjects(SH.path, None))
    shapes = {s for s in shapes - nested if any((s, c, None) in g for c in _CONSTRAINTS)}
    return g, shapes


def test_shapes_exist_for_every_class_researchers_write():
    g = load_shapes()
    targets = set(g.objects(None, SH.targetClass))
    for cls in (
        QIKG.Study,
        QIKG.Finding,
        QIKG.Quote,
        OA.SpecificResource,
        OA.TextQuoteSelector,
        PROV.Agent,
        QIKG.QICProgramme,
    ):
        assert cls in targets, cls


def test_every_constraint_has_a_message_and_a_severity():
    g, shapes = _shapes()
    assert len(shapes) > 40
    for shape in shapes:
        messages = list(g.objects(shape, SH.message))
        severities = list(g.objects(shape, SH.severity))
        assert len(messages) == 1 and str(messages[0]).strip(), f"{shape} needs one sh:message"
        assert severities in ([SH.Violation], [SH.Warning], [SH.Info]), f"{shape} needs a severity"


def test_messages_use_only_placeholders_validate_fills():
    g, shapes = _shapes()
    for shape in shapes:
        message = str(g.value(shape, SH.message))
        assert set(re.findall(r"\{[$?]?(\w+)\}", message)) <= {"value", "this", "path"}, shape
        counting = any(
            (shape, p, None) in g for p in (SH.minCount, SH.maxCount, SH.qualifiedMinCount)
        )
        if counting:  # a count result has no value to fill in
            assert "{$value}" not in message, shape


def test_every_property_shape_is_used_and_every_used_one_exists():
    g = load_shapes()
    used = set(g.objects(None, SH.property))
    defined = {s for s in g.subjects(SH.path, None) if isinstance(s, URIRef)}
    assert defined - used == set(), "defined but not attached to a node shape"
    assert {u for u in used if (u, SH.path, None) not in g} == set(), "attached but not defined"


#: How deep pyshacl may go checking the shapes against SHACL-SHACL: its default, 15, is just what
#: shacl.ttl itself needs, and a property shape with an alternative path inside sh:or
#: (qikgsh:CodedFindingShape) needs a few levels more; the limit guards recursion, not validity.
_META_DEPTH = 20


def test_shapes_are_well_formed_shacl():
    conforms, _, text = meta_validate(load_shapes(), max_validation_depth=_META_DEPTH)
    assert conforms, text


def test_the_well_formedness_check_refuses_a_malformed_shape():
    shapes = load_shapes()
    shapes.add((QIKG.BrokenShape, RDF.type, SH.NodeShape))
    shapes.add((QIKG.BrokenShape, SH.minCount, Literal("one")))  # not an integer, not on a path
    conforms, _, _ = meta_validate(shapes, max_validation_depth=_META_DEPTH)
    assert not conforms
