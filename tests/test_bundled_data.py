"""The bundled studies are evidence a reader can check: every study carries the text it was
coded from and that text's licence, every quote is that text character for character, outcomes
carry their direction, no primary finding carries a GRADE-CERQual rating, and there is enough
evidence to link findings across studies. Never skipped: these need nothing but the repository."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import pytest

from kg.build import bundled_studies
from kg.read.related import related
from kg.read.stats import stats
from kg.resources import queries_dir

FOLDERS = bundled_studies()


def rows(folder: Path, sheet: str) -> list[dict[str, str]]:
    with (folder / f"{sheet}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def source_text(folder: Path) -> str:
    return (folder / "sources" / f"{folder.name}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_each_study_carries_its_source_text_with_where_it_came_from_and_its_licence(folder):
    study = rows(folder, "studies")[0]
    assert study["study_id"] == folder.name
    assert source_text(folder).strip(), "the source text is empty"
    assert study["source_url"].startswith(("https://", "http://"))
    assert study["source_licence"].strip()
    assert study["doi"].startswith("10."), "every study is tied to its DOI"


@pytest.mark.parametrize("folder", FOLDERS, ids=[f.name for f in FOLDERS])
def test_every_quote_is_verbatim_in_the_stored_source_text(folder):
    text = source_text(folder)
    for finding in rows(folder, "findings"):
        quote = finding["quote"]
        assert quote, f"{folder.name}/{finding['finding_id']} has no quote"
        assert quote in text, f"{folder.name}/{finding['finding_id']}: {quote[:60]!r}"


def test_every_stored_quote_is_its_source_text_at_its_position(built_store):
    answer = built_store.query(
        """SELECT ?exact ?start ?end ?text WHERE {
            ?q a qikg:Quote ; oa:hasTarget ?t . ?t oa:hasSelector ?s, ?p ; oa:hasSource ?src .
            ?s oa:exact ?exact . ?p oa:start ?start ; oa:end ?end . ?src rdf:value ?text }""",
        include_inferred=False,
    ).values()
    quotes = built_store.query(
        "SELECT (COUNT(?q) AS ?n) WHERE { ?q a qikg:Quote }", include_inferred=False
    ).values()
    assert len(answer) == int(quotes[0]["n"] or 0) > 0, "every quote is anchored in a text"
    for r in answer:
        text, start, end = r["text"] or "", int(r["start"] or 0), int(r["end"] or 0)
        assert text[start:end] == r["exact"]


def test_no_primary_finding_carries_a_cerqual_confidence_and_outcomes_have_directions(
    built_store,
):
    assert not built_store.query("ASK { ?f qikg:cerqualConfidence ?c }").boolean
    assert not built_store.query(
        "ASK { ?f qikg:relatesToOutcome ?o FILTER NOT EXISTS { ?f qikg:outcomeDirection ?d } }"
    ).boolean
    assert not built_store.query(
        "ASK { ?f qikg:outcomeDirection qikg:OutcomeDirectionNotStated }"
    ).boolean, "the bundled sheets are written to the current contract"
    assert not built_store.query(
        "ASK { ?f a qikg:Finding FILTER NOT EXISTS { ?f qikg:findingKind ?k } }"
    ).boolean


def test_the_patient_outcome_question_returns_only_reported_effects_with_their_direction(
    built_store,
):
    query = (queries_dir() / "cq19-patient-outcome-effects.rq").read_text()
    answer = built_store.query(query, include_inferred=False).values()
    assert answer
    for r in answer:
        assert r["direction"] not in ("intended", "not measured", "not stated")
    coded = {
        (folder.name, f["finding_id"])
        for folder in FOLDERS
        for f in rows(folder, "findings")
        if "patient outcome" in f["outcomes"]
        and f["outcome_direction"] not in ("intended", "not measured")
    }
    assert {(r["study"], r["finding"]) for r in answer} == coded


def test_there_are_enough_studies_and_findings_to_link(built_store):
    counts = stats(built_store)
    assert counts["studies"] >= 25 and counts["findings"] >= 150, counts
    designs = [rows(f, "studies")[0]["design"] for f in FOLDERS]
    assert sum(d in ("primary qualitative", "mixed methods") for d in designs) >= 11


def test_at_least_five_determinants_are_each_found_in_three_studies():
    studies: dict[str, set[str]] = defaultdict(set)
    for folder in FOLDERS:
        for finding in rows(folder, "findings"):
            for column in ("enablers", "barriers"):
                for label in filter(None, (w.strip() for w in finding[column].split(";"))):
                    studies[label.casefold()].add(folder.name)
    common = {label for label, found in studies.items() if len(found) >= 3}
    assert len(common) >= 5, sorted(studies.items(), key=lambda kv: -len(kv[1]))[:8]


def test_the_readmes_related_example_reaches_three_other_studies_below_a_cfir_domain(
    built_store,
):
    domains = {
        r["label"]
        for r in built_store.query(
            """SELECT ?label WHERE { ?d skos:topConceptOf cfir:CFIR2 ; skos:prefLabel ?label }"""
        ).values()
    }
    assert "Individuals" in domains
    found = related(built_store, "carstensen2024/F7")
    below = {r.study for r in found if set(r.shared) - domains and r.study != "carstensen2024"}
    assert len(below) >= 3, [(r.study, r.shared, r.score) for r in found]
    assert any(r.score >= 1 for r in found), "one shares a concept itself, not only an alignment"
