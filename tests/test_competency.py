"""The competency questions (ontology/queries/*.rq) answer as the bundled coding says they should.

Each expectation is worked out here from the bundled coding sheets (data/studies/*.csv, read with
the csv module) and the ontology's hierarchy and alignments (the Turtle files, walked with
rdflib): an implementation apart from the SPARQL engine, so that the bundle can grow and every
question is still checked against what the sheets say, never against the queries' own output.
A few fixed facts of the seed study are asserted as well.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable, Iterator
from functools import cache

import pytest
import rdflib
from rdflib.namespace import SKOS

from kg.build import bundled_studies, turtle_folder_ntriples
from kg.namespaces import CFIR, QIKG
from kg.resources import ontology_dir, queries_dir
from kg.vocabulary import Vocabulary

Rows = list[dict[str, str | None]]
COLUMNS = ("professional_groups", "roles", "qic_components", "enablers", "barriers")
CODES = (*COLUMNS, "outcomes", "concepts")


def pairs(rows: Rows, *keys: str) -> set[tuple]:
    return {tuple(r[k] for k in keys) for r in rows}


@cache
def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(data=turtle_folder_ntriples(ontology_dir()), format="nt")


@cache
def vocab() -> Vocabulary:
    return Vocabulary.from_graph(ontology())


def sheet(name: str) -> list[dict[str, str]]:
    rows = []
    for folder in bundled_studies():
        with (folder / f"{name}.csv").open(encoding="utf-8") as f:
            rows += list(csv.DictReader(f))
    return rows


def codes(finding: dict[str, str], column: str) -> list[str]:
    """The IRIs a finding's cell names (as the importer resolves them)."""
    words = [w.strip() for w in finding[column].split(";") if w.strip()]
    return [vocab().resolve(w, column) for w in words]


def label(iri: str) -> str:
    return vocab().label(iri)


def up(iri: str, via: tuple = (SKOS.broader,)) -> set[str]:
    """The concept and everything above it along ``via`` (transitively)."""
    seen, todo = {iri}, [rdflib.URIRef(iri)]
    while todo:
        node = todo.pop()
        for prop in via:
            for above in ontology().objects(node, prop):
                if str(above) not in seen:
                    seen.add(str(above))
                    todo.append(above)
    return seen


def findings() -> Iterator[dict[str, str]]:
    yield from sheet("findings")


EXPECT: dict[str, Callable[[Rows], None]] = {}


def expect(name: str):
    def register(check: Callable[[Rows], None]) -> Callable[[Rows], None]:
        EXPECT[name] = check
        return check

    return register


@expect("cq01-studies")
def _(rows: Rows) -> None:
    studies = sheet("studies")
    assert pairs(rows, "study", "year") == {(s["study_id"], s["year"]) for s in studies}
    assert ("carstensen2024", "2024", "https://doi.org/10.1177/13558196241231169") in pairs(
        rows, "study", "year", "doi"
    )
    years = [int(r["year"] or 0) for r in rows]
    assert years == sorted(years)  # oldest first


@expect("cq02-findings-per-study")
def _(rows: Rows) -> None:
    counts: dict[str, int] = defaultdict(int)
    for f in findings():
        counts[f["study_id"]] += 1
    assert {r["study"]: int(r["findings"] or 0) for r in rows} == counts
    assert counts["carstensen2024"] == 9


@expect("cq03-enablers-across-studies")
def _(rows: Rows) -> None:
    studies: dict[str, set[str]] = defaultdict(set)
    for f in findings():
        for e in codes(f, "enablers"):
            studies[label(e)].add(f["study_id"])
    assert {r["enabler"]: int(r["studies"] or 0) for r in rows} == {
        e: len(s) for e, s in studies.items()
    }
    assert ("participation of QI specialists" in studies) and (
        "carstensen2024" in studies["participation of QI specialists"]
    )


@expect("cq04-enablers-for-group")
def _(rows: Rows) -> None:
    expected = {
        (label(g), label(e), f["study_id"])
        for f in findings()
        for g in codes(f, "professional_groups")
        if str(QIKG.QISupportStaff) in up(g)
        for e in codes(f, "enablers")
    }
    assert pairs(rows, "group", "enabler", "study") == expected
    assert ("QI specialist", "participation of QI specialists", "carstensen2024") in expected


def _cfir(concept: str) -> set[str]:
    """The CFIR constructs a coded concept is, or is aligned to by skos:broadMatch."""
    reached = {concept} | {
        str(m) for m in ontology().objects(rdflib.URIRef(concept), SKOS.broadMatch)
    }
    return {c for c in reached if (rdflib.URIRef(c), SKOS.inScheme, CFIR.CFIR2) in ontology()}


@expect("cq05-cfir-inner-setting")
def _(rows: Rows) -> None:
    expected = {
        (f["study_id"], f["finding_id"])
        for f in findings()
        for d in codes(f, "enablers") + codes(f, "barriers")
        if any(str(CFIR.InnerSetting) in up(c) for c in _cfir(d))
    }
    assert pairs(rows, "study", "finding") == expected
    assert ("carstensen2024", "F8") in expected  # focus on patient care: Mission Alignment


@expect("cq06-cfir-implementation-facilitators")
def _(rows: Rows) -> None:
    aligned = (SKOS.broadMatch, SKOS.closeMatch, SKOS.exactMatch)
    target = str(CFIR.ImplementationFacilitators)
    expected = set()
    for f in findings():
        for column in CODES:
            for d in codes(f, column):
                direct = {str(o) for p in aligned for o in ontology().objects(rdflib.URIRef(d), p)}
                if d == target or target in direct:
                    expected.add((f["study_id"], f["finding_id"], label(d)))
    assert pairs(rows, "study", "finding", "coded") == expected
    assert ("carstensen2024", "F7", "participation of QI specialists") in expected


@expect("cq07-barriers")
def _(rows: Rows) -> None:
    studies: dict[str, set[str]] = defaultdict(set)
    for f in findings():
        for b in codes(f, "barriers"):
            studies[label(b)].add(f["study_id"])
    assert {r["barrier"]: set((r["studies"] or "").split(", ")) for r in rows} == studies


@expect("cq08-outcome-kinds")
def _(rows: Rows) -> None:
    tops = {str(t) for t in ontology().subjects(SKOS.topConceptOf, QIKG.OutcomeScheme)}
    counted: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in findings():
        for o in codes(f, "outcomes"):
            for top in up(o) & tops:
                counted[label(top)].add((f["study_id"], f["finding_id"]))
    assert {r["kind"]: int(r["findings"] or 0) for r in rows} == {
        k: len(v) for k, v in counted.items()
    }


def _with_concepts(*wanted: str) -> set[tuple[str, str]]:
    return {
        (f["study_id"], f["finding_id"])
        for f in findings()
        if set(wanted) <= set(codes(f, "concepts"))
    }


@expect("cq09-both-projects")
def _(rows: Rows) -> None:
    both = _with_concepts(
        str(QIKG.ProjectOfProfessionalisation), str(QIKG.ProjectOfInstitutionalisation)
    )
    assert pairs(rows, "study", "finding") == both
    assert ("carstensen2024", "F2") in both


@expect("cq10-synergy-or-tension")
def _(rows: Rows) -> None:
    either = _with_concepts(str(QIKG.Synergy)) | _with_concepts(str(QIKG.Tension))
    assert pairs(rows, "study", "finding") == either
    found = {(r["study"], r["finding"]): r["interplay"] for r in rows}
    assert set((found[("carstensen2024", "F2")] or "").split(", ")) == {"synergy", "tension"}


@expect("cq11-qic-components")
def _(rows: Rows) -> None:
    studies: dict[str, set[str]] = defaultdict(set)
    for f in findings():
        for c in codes(f, "qic_components"):
            studies[label(c)].add(f["study_id"])
    assert {r["component"]: int(r["studies"] or 0) for r in rows} == {
        c: len(s) for c, s in studies.items()
    }
    counts = [int(r["studies"] or 0) for r in rows]
    assert counts == sorted(counts, reverse=True)


@expect("cq12-shared-concepts")
def _(rows: Rows) -> None:
    studies: dict[str, set[str]] = defaultdict(set)
    for f in findings():
        for column in CODES:
            for c in codes(f, column):
                studies[label(c)].add(f["study_id"])
    shared = {c: s for c, s in studies.items() if len(s) > 1}
    assert pairs(rows, "concept", "study") == {(c, s) for c, ss in shared.items() for s in ss}
    assert {r["concept"]: int(r["studies"] or 0) for r in rows} == {
        c: len(s) for c, s in shared.items()
    }
    assert {"nadeem2013", "nadeem2014"} <= shared["learning session"]
    order = [(-int(r["studies"] or 0), r["concept"], r["study"]) for r in rows]
    assert order == sorted(order)


@expect("cq13-quotes-professionalisation")
def _(rows: Rows) -> None:
    quoted = {
        (f["study_id"], f["finding_id"]): f["quote"]
        for f in findings()
        if str(QIKG.ProjectOfProfessionalisation) in codes(f, "concepts") and f["quote"]
    }
    assert {(r["study"], r["finding"]): r["quote"] for r in rows} == quoted
    assert ("carstensen2024", "F2") in quoted
    for r in rows:  # each quote points to the text it was found in
        assert r["source"] == f"https://w3id.org/qikg/data/{r['study']}/source-text"


@expect("cq14-danish-lkt")
def _(rows: Rows) -> None:
    lkt = {
        s["study_id"] for s in sheet("studies") if "learning and quality teams" in s["qic"].lower()
    }
    expected = {(f["study_id"], f["finding_id"]) for f in findings() if f["study_id"] in lkt}
    assert pairs(rows, "study", "finding") == expected
    assert {"carstensen2023", "carstensen2024"} <= lkt


@expect("cq15-provenance")
def _(rows: Rows) -> None:
    coded: dict[tuple[str, str], int] = defaultdict(int)
    for f in findings():
        coded[f["study_id"], f["coder"]] += 1
    assert {(r["study"], r["coder"]): int(r["findings"] or 0) for r in rows} == coded


@expect("cq16-health-professionals")
def _(rows: Rows) -> None:
    counts: dict[str, int] = defaultdict(int)
    for f in findings():
        if any(str(QIKG.HealthProfessional) in up(g) for g in codes(f, "professional_groups")):
            counts[f["study_id"]] += 1
    assert {r["study"]: int(r["findings"] or 0) for r in rows} == counts


@expect("cq17-implementation-outcomes")
def _(rows: Rows) -> None:
    expected = {
        (f["study_id"], label(o))
        for f in findings()
        for o in codes(f, "outcomes")
        if (rdflib.URIRef(o), SKOS.broader, QIKG.ImplementationOutcome) in ontology()
    }
    assert pairs(rows, "study", "outcome") == expected


@expect("cq18-text-search")
def _(rows: Rows) -> None:
    expected = {
        (f["study_id"], f["finding_id"])
        for f in findings()
        if "external support" in f["statement"].lower() or "coaching" in f["statement"].lower()
    }
    assert pairs(rows, "study", "finding") == expected


@expect("cq19-patient-outcome-effects")
def _(rows: Rows) -> None:
    expected = {
        (f["study_id"], f["finding_id"], label(o), f["outcome_direction"])
        for f in findings()
        for o in codes(f, "outcomes")
        if str(QIKG.PatientOutcome) in up(o)
        and f["outcome_direction"] not in ("intended", "not measured")
    }
    assert pairs(rows, "study", "finding", "outcome", "direction") == expected


QUERIES = sorted(queries_dir().glob("*.rq"))


def test_there_are_at_least_15_competency_questions_each_with_its_question():
    assert len(QUERIES) >= 15
    for path in QUERIES:
        assert path.read_text().startswith("# "), f"{path.name} must start with its question"


def test_every_question_has_an_expectation():
    assert {p.stem for p in QUERIES} == set(EXPECT)


@pytest.mark.parametrize("path", QUERIES, ids=[p.stem for p in QUERIES])
def test_competency_question(built_store, path):
    result = built_store.query(path.read_text(), include_inferred=False)
    rows = result.values()
    assert rows, f"{path.stem} returned nothing"
    EXPECT[path.stem](rows)
