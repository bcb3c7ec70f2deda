"""The ontology: it parses, HermiT finds it consistent, the QC checks pass, and it holds the
vocabulary, CFIR 2.0 structure and alignments that coders and the importer rely on."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import owlready2
import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg.coding import DIMENSIONS
from kg.namespaces import CFIR, DATA, ERIC, ISCO, QIKG
from kg.ontology import (
    ONTOLOGY_IRI,
    VERSION_IRI,
    load_merged_graph,
    ontology_files,
    owlready_world,
    standalone_graph,
)
from kg.resources import ontology_dir

owlready2.JAVA_EXE = "/usr/bin/java"

CHECKS = sorted((ontology_dir() / "checks").glob("*-violation.rq"))
MODULES = [
    "model",
    "professions",
    "qic",
    "determinants",
    "outcomes",
    "theory",
    "cfir",
    "cerqual",
    "synthesis",
]

# ---------------------------------------------------------------------------------------------
# Vocabulary as data
# ---------------------------------------------------------------------------------------------

MINIMUM_VOCABULARY: dict[str, list[str]] = {
    "ProfessionalGroup": [
        "physician",
        "doctor",
        "nurse",
        "physiotherapist",
        "occupational therapist",
        "medical secretary",
        "social and health care assistant",
        "dietitian",
        "pharmacist",
        "psychologist",
        "midwife",
        "health services manager",
        "manager",
        "QI specialist",
        "improvement adviser",
        "data manager",
        "patient representative",
    ],
    "Role": [
        "QI team member",
        "QI team leader",
        "clinical champion",
        "improvement coach",
        "expert group member",
        "executive sponsor",
        "national project manager",
    ],
    "QICComponent": [
        "expert panel",
        "change package",
        "learning session",
        "action period",
        "PDSA cycle",
        "multidisciplinary QI team",
        "measurement and data collection",
        "data reporting",
        "performance feedback",
        "benchmarking",
        "training in QI methods",
        "coaching",
        "virtual meeting",
        "site visit",
        "leadership involvement",
        "collaborative network",
        "national goals and indicators",
        "national learning seminar",
    ],
    "Determinant": [
        "bottom-up approach",
        "participation of QI specialists",
        "focus on high-quality patient care",
        "leadership support",
        "external support",
        "QI team functioning",
        "alignment with national priorities",
        "professional ownership",
        "professional leadership",
        "staff engagement",
        "peer recognition",
        "normative pressure",
        "collaborative culture",
        "data infrastructure",
        "protected time",
        "lack of time",
        "data collection burden",
        "competing priorities",
        "free-riding",
        "competition between sites",
        "tribalism",
        "top-down steering",
        "strong evidence base",
        "clear evidence-practice gap",
        "work structures",
        "working relationships",
    ],
    "Outcome": [
        "engagement",
        "professional recognition",
        "professional development",
        "QI competence",
        "teamwork",
        "sense of community",
        "improved care processes",
        "improved patient outcomes",
        "sustained improvement",
        "advancement of QI",
        "acceptability",
        "adoption",
        "appropriateness",
        "feasibility",
        "fidelity",
        "implementation cost",
        "penetration",
        "sustainability",
    ],
    "TheoryConcept": [
        "project of professionalisation",
        "project of institutionalisation",
        "professional project",
        "institutional work",
        "institutional logic",
        "professional logic",
        "managerial logic",
        "market logic",
        "synergy",
        "tension",
        "translation",
    ],
}

# Synonyms researchers write, which must resolve to the named concept.
SYNONYMS: list[tuple[str, str, URIRef]] = [
    ("ProfessionalGroup", "doctor", QIKG.Physician),
    ("ProfessionalGroup", "improvement adviser", QIKG.QISpecialist),
    ("ProfessionalGroup", "improvement advisor", QIKG.QISpecialist),
    ("ProfessionalGroup", "forbedringsagent", QIKG.QISpecialist),
    ("ProfessionalGroup", "SOSU assistant", QIKG.SocialAndHealthCareAssistant),
    ("ProfessionalGroup", "patient representative", QIKG.PatientAndRelativeRepresentative),
    ("QICComponent", "PDSA", QIKG.PDSACycle),
    ("QICComponent", "Plan-Do-Study-Act cycle", QIKG.PDSACycle),
    ("QICComponent", "rapid test of change", QIKG.PDSACycle),
    ("QICComponent", "faculty", QIKG.ExpertPanel),
    ("QICComponent", "expert group", QIKG.ExpertPanel),
    ("QICComponent", "læringsseminar", QIKG.LearningSession),
    ("QICComponent", "forbedringsteam", QIKG.MultidisciplinaryQITeam),
]

DANISH_LABELS: list[tuple[URIRef, str]] = [
    (QIKG.Nurse, "sygeplejerske"),
    (QIKG.Physician, "læge"),
    (QIKG.Physiotherapist, "fysioterapeut"),
    (QIKG.OccupationalTherapist, "ergoterapeut"),
    (QIKG.MedicalSecretary, "lægesekretær"),
    (QIKG.SocialAndHealthCareAssistant, "social- og sundhedsassistent"),
    (QIKG.Dietitian, "diætist"),
    (QIKG.Pharmacist, "farmaceut"),
    (QIKG.Psychologist, "psykolog"),
    (QIKG.Midwife, "jordemoder"),
    (QIKG.LearningSession, "læringsseminar"),
    (QIKG.MultidisciplinaryQITeam, "forbedringsteam"),
]

# CFIR 2.0 (Damschroder et al. 2022) by the names in frameworks.md: domain -> construct -> subs.
CFIR2: dict[str, dict[str, list[str]]] = {
    "Innovation": {
        "Innovation Source": [],
        "Evidence-Base": [],
        "Relative Advantage": [],
        "Adaptability": [],
        "Trialability": [],
        "Complexity": [],
        "Design": [],
        "Cost": [],
    },
    "Outer Setting": {
        "Critical Incidents": [],
        "Local Attitudes": [],
        "Local Conditions": [],
        "Partnerships & Connections": [],
        "Policies & Laws": [],
        "Financing": [],
        "External Pressure": [
            "Societal Pressure",
            "Market Pressure",
            "Performance-Measurement Pressure",
        ],
    },
    "Inner Setting": {
        "Structural Characteristics": [
            "Physical Infrastructure",
            "IT Infrastructure",
            "Work Infrastructure",
        ],
        "Relational Connections": [],
        "Communications": [],
        "Culture": [
            "Human Equality-Centeredness",
            "Recipient-Centeredness",
            "Deliverer-Centeredness",
            "Learning-Centeredness",
        ],
        "Tension for Change": [],
        "Compatibility": [],
        "Relative Priority": [],
        "Incentive Systems": [],
        "Mission Alignment": [],
        "Available Resources": ["Funding", "Space", "Materials & Equipment"],
        "Access to Knowledge & Information": [],
    },
    "Individuals": {
        "High-level Leaders": [],
        "Mid-level Leaders": [],
        "Opinion Leaders": [],
        "Implementation Facilitators": [],
        "Implementation Leads": [],
        "Implementation Team Members": [],
        "Other Implementation Support": [],
        "Innovation Deliverers": [],
        "Innovation Recipients": [],
        "Need": [],
        "Capability": [],
        "Opportunity": [],
        "Motivation": [],
    },
    "Implementation Process": {
        "Teaming": [],
        "Assessing Needs": ["Innovation Deliverers", "Innovation Recipients"],
        "Assessing Context": [],
        "Planning": [],
        "Tailoring Strategies": [],
        "Engaging": ["Innovation Deliverers", "Innovation Recipients"],
        "Doing": [],
        "Reflecting & Evaluating": ["Implementation", "Innovation"],
        "Adapting": [],
    },
}

# The full published names of the Innovation domain's constructs.
CFIR2_FULL_NAMES = [
    "Innovation Evidence-Base",
    "Innovation Relative Advantage",
    "Innovation Adaptability",
    "Innovation Trialability",
    "Innovation Complexity",
    "Innovation Design",
    "Innovation Cost",
]

# ISCO-08 unit groups named in frameworks.md, with the qikg group aligned to each.
ISCO_ALIGNMENTS: dict[str, URIRef] = {
    "2211": QIKG.GeneralPractitioner,
    "2212": QIKG.SpecialistPhysician,
    "2221": QIKG.Nurse,
    "2222": QIKG.Midwife,
    "2261": QIKG.Dentist,
    "2262": QIKG.Pharmacist,
    "2264": QIKG.Physiotherapist,
    "2265": QIKG.Dietitian,
    "2266": QIKG.SpeechTherapist,
    "2269": QIKG.OccupationalTherapist,
    "2634": QIKG.Psychologist,
    "2635": QIKG.SocialWorker,
    "3221": QIKG.NursingAssociateProfessional,
    "3344": QIKG.MedicalSecretary,
    "5321": QIKG.HealthCareAssistant,
    "1342": QIKG.HealthServicesManager,
}

DETERMINANT_CFIR: list[tuple[URIRef, URIRef]] = [
    (QIKG.LackOfTime, CFIR.AvailableResources),
    (QIKG.ProtectedTime, CFIR.AvailableResources),
    (QIKG.CompetingPriorities, CFIR.RelativePriority),
    (QIKG.DataInfrastructure, CFIR.ITInfrastructure),
    (QIKG.StrongEvidenceBase, CFIR.EvidenceBase),
    (QIKG.ClearEvidencePracticeGap, CFIR.TensionForChange),
    (QIKG.LeadershipSupport, CFIR.HighLevelLeaders),
    (QIKG.LeadershipSupport, CFIR.MidLevelLeaders),
    (QIKG.ExternalSupport, CFIR.ImplementationFacilitators),
    (QIKG.CollaborativeCulture, CFIR.LearningCenteredness),
    (QIKG.AlignmentWithNationalPriorities, CFIR.PoliciesAndLaws),
    (QIKG.WorkStructures, CFIR.WorkInfrastructure),
    (QIKG.WorkingRelationships, CFIR.RelationalConnections),
    (QIKG.QITeamFunctioning, CFIR.Teaming),
]

ROLE_CFIR: list[tuple[URIRef, URIRef]] = [
    (QIKG.QITeamMember, CFIR.ImplementationTeamMembers),
    (QIKG.QITeamLeader, CFIR.ImplementationLeads),
    (QIKG.ClinicalChampion, CFIR.OpinionLeaders),
    (QIKG.ImprovementCoach, CFIR.ImplementationFacilitators),
    (QIKG.ExecutiveSponsor, CFIR.HighLevelLeaders),
]

QIC_ERIC: list[tuple[URIRef, URIRef]] = [
    (QIKG.CollaborativeNetwork, ERIC.CreateALearningCollaborative),
    (QIKG.PDSACycle, ERIC.ConductCyclicalSmallTestsOfChange),
    (QIKG.PerformanceFeedback, ERIC.AuditAndProvideFeedback),
    (QIKG.DataReporting, ERIC.AuditAndProvideFeedback),
    (QIKG.Coaching, ERIC.ProvideOngoingConsultation),
    (QIKG.Coaching, ERIC.Facilitation),
    (QIKG.MeasurementAndDataCollection, ERIC.DevelopAndOrganizeQualityMonitoringSystems),
    (QIKG.TrainingInQIMethods, ERIC.ConductOngoingTraining),
]

SCHEME_OF_CLASS: dict[URIRef, URIRef] = {
    QIKG.ProfessionalGroup: QIKG.ProfessionalGroupScheme,
    QIKG.Role: QIKG.RoleScheme,
    QIKG.QICComponent: QIKG.QICComponentScheme,
    QIKG.Determinant: QIKG.DeterminantScheme,
    QIKG.Outcome: QIKG.OutcomeScheme,
    QIKG.TheoryConcept: QIKG.TheoryScheme,
    QIKG.CFIRConstruct: CFIR.CFIR2,
    QIKG.CERQualConfidenceLevel: QIKG.CERQualConfidenceScheme,
    QIKG.CERQualComponent: QIKG.CERQualComponentScheme,
    QIKG.CERQualConcernLevel: QIKG.CERQualConcernScheme,
    QIKG.ImplementationStrategy: ERIC.ERIC,
}

# The example IRIs docs/model.md promises, with their class.
MODEL_EXAMPLES: list[tuple[URIRef, URIRef]] = [
    (QIKG.Nurse, QIKG.ProfessionalGroup),
    (QIKG.Physician, QIKG.ProfessionalGroup),
    (QIKG.QISpecialist, QIKG.ProfessionalGroup),
    (QIKG.QITeamMember, QIKG.Role),
    (QIKG.ClinicalChampion, QIKG.Role),
    (QIKG.LearningSession, QIKG.QICComponent),
    (QIKG.PDSACycle, QIKG.QICComponent),
    (QIKG.BottomUpApproach, QIKG.Determinant),
    (QIKG.LackOfTime, QIKG.Determinant),
    (QIKG.Engagement, QIKG.Outcome),
    (QIKG.Acceptability, QIKG.Outcome),
    (QIKG.ProjectOfProfessionalisation, QIKG.TheoryConcept),
    (QIKG.Synergy, QIKG.TheoryConcept),
    (CFIR.InnerSetting, QIKG.CFIRConstruct),
    (CFIR.AvailableResources, QIKG.CFIRConstruct),
    (CFIR.Funding, QIKG.CFIRConstruct),
    (QIKG.HighConfidence, QIKG.CERQualConfidenceLevel),
    (QIKG.ModerateConfidence, QIKG.CERQualConfidenceLevel),
    (QIKG.LowConfidence, QIKG.CERQualConfidenceLevel),
    (QIKG.VeryLowConfidence, QIKG.CERQualConfidenceLevel),
    (QIKG.MethodologicalLimitations, QIKG.CERQualComponent),
    (QIKG.Coherence, QIKG.CERQualComponent),
    (QIKG.Adequacy, QIKG.CERQualComponent),
    (QIKG.Relevance, QIKG.CERQualComponent),
    (QIKG.NoOrVeryMinorConcerns, QIKG.CERQualConcernLevel),
    (QIKG.MinorConcerns, QIKG.CERQualConcernLevel),
    (QIKG.ModerateConcerns, QIKG.CERQualConcernLevel),
    (QIKG.SeriousConcerns, QIKG.CERQualConcernLevel),
    (ERIC.CreateALearningCollaborative, QIKG.ImplementationStrategy),
]

MATCHES = (SKOS.exactMatch, SKOS.closeMatch, SKOS.broadMatch)

# ---------------------------------------------------------------------------------------------
# Fixtures: load once per session
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def merged() -> Graph:
    return load_merged_graph()


@pytest.fixture(scope="session")
def store(merged: Graph) -> ox.Store:
    """The merged ontology in the default graph of an in-memory Oxigraph store."""
    s = ox.Store()
    s.load(merged.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES)
    return s


@pytest.fixture(scope="session")
def label_index(merged: Graph) -> dict[tuple[URIRef, str], set[URIRef]]:
    """(kind class, lower-cased prefLabel or altLabel) -> the concepts of that class with it."""
    index: dict[tuple[URIRef, str], set[URIRef]] = defaultdict(set)
    for kind in merged.subjects(RDFS.subClassOf, SKOS.Concept):
        for concept in merged.subjects(RDF.type, kind):
            for prop in (SKOS.prefLabel, SKOS.altLabel):
                for label in merged.objects(concept, prop):
                    index[(kind, str(label).lower())].add(concept)
    return index


def resolve(index: dict[tuple[URIRef, str], set[URIRef]], kind: URIRef, label: str) -> set[URIRef]:
    return index.get((kind, label.lower()), set())


def reason(world: owlready2.World) -> None:
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)


# ---------------------------------------------------------------------------------------------
# Files and header
# ---------------------------------------------------------------------------------------------


def test_all_module_files_present() -> None:
    assert {p.stem for p in ontology_files()} == {"qikg", *MODULES}


@pytest.mark.parametrize("path", ontology_files(), ids=lambda p: p.name)
def test_file_parses_and_declares_its_ontology(path: Path) -> None:
    graph = Graph().parse(path, format="turtle")
    expected = ONTOLOGY_IRI if path.stem == "qikg" else URIRef(f"{ONTOLOGY_IRI}/{path.stem}")
    assert list(graph.subjects(RDF.type, OWL.Ontology)) == [expected]
    assert len(graph) > 5


def test_entry_file_header(merged: Graph) -> None:
    o = ONTOLOGY_IRI
    assert (o, OWL.versionIRI, VERSION_IRI) in merged
    assert (o, OWL.versionInfo, Literal("0.3.0")) in merged
    assert (o, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in merged
    for prop in (DCTERMS.creator, DCTERMS.title, DCTERMS.description):
        assert merged.value(o, prop) is not None, prop
    imports = set(merged.objects(o, OWL.imports))
    assert imports == {URIRef(f"{ONTOLOGY_IRI}/{m}") for m in MODULES}


def test_standalone_graph_has_no_imports(merged: Graph) -> None:
    g = standalone_graph(merged)
    assert not list(g.triples((None, OWL.imports, None)))
    assert list(g.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]


# ---------------------------------------------------------------------------------------------
# Reasoning (HermiT via owlready2)
# ---------------------------------------------------------------------------------------------


def test_hermit_consistent_and_all_classes_satisfiable() -> None:
    world = owlready_world()
    reason(world)  # raises OwlReadyInconsistentOntologyError if inconsistent
    unsatisfiable = [c.iri for c in world.inconsistent_classes()]
    assert unsatisfiable == []
    assert world[str(QIKG.Finding)] is not None


def test_hermit_rejects_finding_whose_study_is_a_professional_group() -> None:
    """Disjointness must bite: a study that is also a concept is a contradiction."""
    data = Graph()
    finding = DATA["bad/finding/1"]
    data.add((finding, RDF.type, QIKG.Finding))
    data.add((finding, QIKG.reportedIn, QIKG.Nurse))
    world = owlready_world(data)
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(world)


def test_hermit_rejects_a_concept_of_two_kinds() -> None:
    """The concept-kind classes are pairwise disjoint."""
    data = Graph()
    data.add((QIKG.LackOfTime, RDF.type, QIKG.CFIRConstruct))
    world = owlready_world(data)
    with pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        reason(world)


def test_owl_declarations_of_reused_terms(merged: Graph) -> None:
    assert (SKOS.broader, RDF.type, OWL.ObjectProperty) in merged
    assert (SKOS.narrower, RDF.type, OWL.ObjectProperty) in merged
    assert (SKOS.broader, OWL.inverseOf, SKOS.narrower) in merged
    assert (SKOS.broaderTransitive, RDF.type, OWL.TransitiveProperty) in merged
    assert (SKOS.broader, RDFS.subPropertyOf, SKOS.broaderTransitive) in merged
    for prop in (SKOS.prefLabel, SKOS.altLabel, SKOS.definition, DCTERMS.title, DCTERMS.source):
        assert (prop, RDF.type, OWL.AnnotationProperty) in merged, prop
    # no IRI is declared with two of the OWL property kinds (OWL 2 DL)
    kinds = (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    seen: dict[URIRef, set[URIRef]] = defaultdict(set)
    for kind in kinds:
        for prop in merged.subjects(RDF.type, kind):
            seen[prop].add(kind)
    assert {p: k for p, k in seen.items() if len(k) > 1} == {}


def test_the_coding_table_is_the_ontologys_coding_properties(merged: Graph) -> None:
    """kg.coding.DIMENSIONS and the sub-properties of qikg:codedWith are the same set, and each
    property's range is a kind its column accepts and its comment names its column."""
    coded = set(merged.subjects(RDFS.subPropertyOf, QIKG.codedWith))
    assert coded == {URIRef(d.iri) for d in DIMENSIONS}
    for d in DIMENSIONS:
        ranges = set()
        for kind in merged.objects(URIRef(d.iri), RDFS.range):
            union = merged.value(kind, OWL.unionOf)
            ranges |= {str(k) for k in Collection(merged, union)} if union else {str(kind)}
        assert ranges == set(d.kind_iris), d.column
        assert f"sheet column {d.column}" in str(merged.value(URIRef(d.iri), RDFS.comment))


def test_model_classes_and_properties(merged: Graph) -> None:
    assert (QIKG.Finding, RDFS.subClassOf, URIRef("http://www.w3.org/ns/prov#Entity")) in merged
    assert (QIKG.Quote, RDFS.subClassOf, URIRef("http://www.w3.org/ns/oa#Annotation")) in merged
    assert (QIKG.reportedIn, OWL.inverseOf, QIKG.reports) in merged
    assert merged.value(QIKG.codedWith, RDFS.range) == SKOS.Concept
    for kind in SCHEME_OF_CLASS:
        assert (kind, RDFS.subClassOf, SKOS.Concept) in merged, kind


# ---------------------------------------------------------------------------------------------
# QC checks: each must return no rows
# ---------------------------------------------------------------------------------------------


def test_there_are_checks() -> None:
    assert len(CHECKS) >= 7


@pytest.mark.parametrize("check", CHECKS, ids=lambda p: p.stem)
def test_check_returns_no_rows(check: Path, store: ox.Store) -> None:
    query = check.read_text(encoding="utf-8")
    assert query.lstrip().startswith("#"), "a check starts with a comment saying what it checks"
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]
    rows = [{n: str(s[n]) for n in names if s[n] is not None} for s in solutions]
    assert rows == [], f"{check.name}: {len(rows)} violation(s):\n" + "\n".join(map(str, rows))


# ---------------------------------------------------------------------------------------------
# Concepts: typing, schemes, minimum vocabulary
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(SCHEME_OF_CLASS), ids=lambda k: str(k).split("#")[-1])
def test_concepts_of_a_class_are_in_its_scheme(kind: URIRef, merged: Graph) -> None:
    scheme = SCHEME_OF_CLASS[kind]
    concepts = set(merged.subjects(RDF.type, kind))
    assert concepts, f"no concepts of {kind}"
    assert (scheme, RDF.type, SKOS.ConceptScheme) in merged
    for concept in concepts:
        assert (concept, RDF.type, SKOS.Concept) in merged, concept
        assert set(merged.objects(concept, SKOS.inScheme)) == {scheme}, concept


@pytest.mark.parametrize(("iri", "kind"), MODEL_EXAMPLES, ids=lambda x: str(x).split("#")[-1])
def test_model_md_example_iris_exist(iri: URIRef, kind: URIRef, merged: Graph) -> None:
    assert (iri, RDF.type, kind) in merged


@pytest.mark.parametrize(
    ("kind", "label"),
    [(k, label) for k, labels in MINIMUM_VOCABULARY.items() for label in labels],
)
def test_minimum_vocabulary_resolves(kind: str, label: str, label_index) -> None:
    found = resolve(label_index, QIKG[kind], label)
    assert len(found) == 1, f"{label!r} resolves to {sorted(found)} in qikg:{kind}"


@pytest.mark.parametrize(("kind", "label", "expected"), SYNONYMS)
def test_synonyms_resolve(kind: str, label: str, expected: URIRef, label_index) -> None:
    assert resolve(label_index, QIKG[kind], label) == {expected}


@pytest.mark.parametrize(("concept", "label"), DANISH_LABELS)
def test_danish_labels(concept: URIRef, label: str, merged: Graph) -> None:
    labels = set(merged.objects(concept, SKOS.prefLabel)) | set(
        merged.objects(concept, SKOS.altLabel)
    )
    assert Literal(label, lang="da") in labels


def test_patient_representatives_are_participants_not_a_profession(merged: Graph) -> None:
    note = str(merged.value(QIKG.PatientAndRelativeRepresentative, SKOS.scopeNote))
    assert "not a profession" in note


def test_sources_are_doi_iris_or_citations(merged: Graph) -> None:
    for concept, source in merged.subject_objects(DCTERMS.source):
        if isinstance(source, URIRef):
            assert str(source).startswith("https://doi.org/10."), (concept, source)
        else:
            assert isinstance(source, Literal) and len(str(source)) > 20, (concept, source)


# ---------------------------------------------------------------------------------------------
# Hierarchies
# ---------------------------------------------------------------------------------------------


def test_theory_hierarchy(merged: Graph) -> None:
    for project in (QIKG.ProjectOfProfessionalisation, QIKG.ProjectOfInstitutionalisation):
        assert (project, SKOS.broader, QIKG.ProfessionalProject) in merged
    logics = set(merged.subjects(SKOS.broader, QIKG.InstitutionalLogic))
    assert logics == {QIKG.ProfessionalLogic, QIKG.ManagerialLogic, QIKG.MarketLogic}
    comment = str(merged.value(QIKG.TheoryConcept, RDFS.comment))
    assert "ProjectOfProfessionalisation" in comment or "project of professionalisation" in comment


def test_proctor_outcomes_under_implementation_outcome(merged: Graph) -> None:
    proctor = {
        str(merged.value(c, SKOS.prefLabel))
        for c in merged.subjects(SKOS.broader, QIKG.ImplementationOutcome)
    }
    assert proctor == {
        "acceptability",
        "adoption",
        "appropriateness",
        "feasibility",
        "fidelity",
        "implementation cost",
        "penetration",
        "sustainability",
    }


@pytest.mark.parametrize(
    ("group", "members"),
    [
        (QIKG.ProfessionalOutcome, {QIKG.Engagement, QIKG.ProfessionalRecognition}),
        (QIKG.CareProcessOutcome, {QIKG.ImprovedCareProcesses}),
        (QIKG.PatientOutcome, {QIKG.ImprovedPatientOutcomes}),
        (QIKG.QIFieldOutcome, {QIKG.AdvancementOfQI}),
        (QIKG.HealthProfessional, {QIKG.Physician, QIKG.Nurse, QIKG.Physiotherapist}),
        (QIKG.ManagementGroup, {QIKG.HealthServicesManager}),
        (QIKG.QISupportStaff, {QIKG.QISpecialist, QIKG.DataManager}),
    ],
    ids=lambda x: str(x).split("#")[-1] if isinstance(x, URIRef) else "members",
)
def test_grouping_concepts(group: URIRef, members: set[URIRef], merged: Graph) -> None:
    assert members <= set(merged.subjects(SKOS.broader, group))


# ---------------------------------------------------------------------------------------------
# CFIR 2.0
# ---------------------------------------------------------------------------------------------


def cfir_level(merged: Graph, concept: URIRef) -> int:
    """0 for a domain, 1 for a construct, 2 for a subconstruct (skos:broader depth)."""
    depth = 0
    while (parent := merged.value(concept, SKOS.broader)) is not None:
        concept, depth = parent, depth + 1
    return depth


def test_cfir_counts_by_level(merged: Graph) -> None:
    concepts = set(merged.subjects(RDF.type, QIKG.CFIRConstruct))
    levels = defaultdict(set)
    for concept in concepts:
        levels[cfir_level(merged, concept)].add(concept)
    assert {k: len(v) for k, v in levels.items()} == {0: 5, 1: 48, 2: 19}
    assert levels[0] == set(merged.subjects(SKOS.topConceptOf, CFIR.CFIR2))
    for concept in concepts:
        assert len(set(merged.objects(concept, SKOS.broader))) <= 1, concept


@pytest.mark.parametrize("domain", list(CFIR2))
def test_cfir_domain_resolves(domain: str, merged: Graph, label_index) -> None:
    (concept,) = resolve(label_index, QIKG.CFIRConstruct, domain)
    assert (concept, SKOS.topConceptOf, CFIR.CFIR2) in merged
    assert len(set(merged.subjects(SKOS.broader, concept))) == len(CFIR2[domain])


@pytest.mark.parametrize(("domain", "construct"), [(d, c) for d, cs in CFIR2.items() for c in cs])
def test_cfir_construct_resolves(domain: str, construct: str, merged: Graph, label_index) -> None:
    found = resolve(label_index, QIKG.CFIRConstruct, construct)
    assert len(found) == 1, f"{construct!r} -> {found}"
    (concept,) = found
    (parent,) = resolve(label_index, QIKG.CFIRConstruct, domain)
    assert (concept, SKOS.broader, parent) in merged
    children = set(merged.subjects(SKOS.broader, concept))
    assert len(children) == len(CFIR2[domain][construct])


@pytest.mark.parametrize(
    ("construct", "sub"),
    [(c, s) for cs in CFIR2.values() for c, subs in cs.items() for s in subs],
)
def test_cfir_subconstruct_resolves(construct: str, sub: str, merged: Graph, label_index) -> None:
    (parent,) = resolve(label_index, QIKG.CFIRConstruct, construct)
    candidates = resolve(label_index, QIKG.CFIRConstruct, sub) | resolve(
        label_index, QIKG.CFIRConstruct, f"{construct}: {sub}"
    )
    under = {c for c in candidates if (c, SKOS.broader, parent) in merged}
    assert len(under) == 1, f"{construct} / {sub} -> {candidates}"


@pytest.mark.parametrize("name", CFIR2_FULL_NAMES)
def test_cfir_full_published_names_resolve(name: str, label_index) -> None:
    assert len(resolve(label_index, QIKG.CFIRConstruct, name)) == 1


def test_cfir_ampersand_names_also_resolve_with_and(label_index) -> None:
    names = [n for cs in CFIR2.values() for c, subs in cs.items() for n in [c, *subs] if "&" in n]
    assert len(names) == 5
    names += ["Reflecting & Evaluating: Implementation", "Reflecting & Evaluating: Innovation"]
    for name in names:
        assert resolve(label_index, QIKG.CFIRConstruct, name.replace("&", "and")) == resolve(
            label_index, QIKG.CFIRConstruct, name
        )


def test_cfir_source(merged: Graph) -> None:
    doi = URIRef("https://doi.org/10.1186/s13012-022-01245-0")
    for concept in merged.subjects(RDF.type, QIKG.CFIRConstruct):
        assert (concept, DCTERMS.source, doi) in merged, concept


# ---------------------------------------------------------------------------------------------
# Alignments
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "group"), list(ISCO_ALIGNMENTS.items()))
def test_isco_alignment(code: str, group: URIRef, merged: Graph) -> None:
    assert (group, RDF.type, QIKG.ProfessionalGroup) in merged
    targets = {o for m in MATCHES for o in merged.objects(group, m)}
    assert ISCO[f"C{code}"] in targets


def test_isco_targets_are_well_formed(merged: Graph) -> None:
    for group in merged.subjects(RDF.type, QIKG.ProfessionalGroup):
        for m in MATCHES:
            for target in merged.objects(group, m):
                if str(target).startswith(str(ISCO)):
                    assert str(target)[len(str(ISCO)) :].lstrip("C").isdigit(), target


@pytest.mark.parametrize(
    ("determinant", "construct"), DETERMINANT_CFIR, ids=lambda x: str(x).split("#")[-1]
)
def test_determinant_cfir_alignment(determinant: URIRef, construct: URIRef, merged: Graph) -> None:
    assert (determinant, RDF.type, QIKG.Determinant) in merged
    assert (construct, RDF.type, QIKG.CFIRConstruct) in merged
    assert (determinant, SKOS.broadMatch, construct) in merged


@pytest.mark.parametrize(("role", "construct"), ROLE_CFIR, ids=lambda x: str(x).split("#")[-1])
def test_role_cfir_alignment(role: URIRef, construct: URIRef, merged: Graph) -> None:
    assert (role, RDF.type, QIKG.Role) in merged
    assert any((role, m, construct) in merged for m in MATCHES)


@pytest.mark.parametrize(("component", "strategy"), QIC_ERIC, ids=lambda x: str(x).split("#")[-1])
def test_qic_component_eric_alignment(component: URIRef, strategy: URIRef, merged: Graph) -> None:
    assert (component, RDF.type, QIKG.QICComponent) in merged
    assert (strategy, RDF.type, QIKG.ImplementationStrategy) in merged
    assert any((component, m, strategy) in merged for m in MATCHES)
