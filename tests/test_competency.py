"""The competency questions (ontology/queries/*.rq) answer as the bundled coding says they should.

Each expectation below was read off the bundled coding sheets (data/studies/) and the ontology's
hierarchy and alignments, not off the queries' output.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kg.resources import queries_dir

Rows = list[dict[str, str | None]]


def pairs(rows: Rows, *keys: str) -> set[tuple]:
    return {tuple(r[k] for k in keys) for r in rows}


EXPECT: dict[str, Callable[[Rows], None]] = {}


def expect(name: str):
    def register(check: Callable[[Rows], None]) -> Callable[[Rows], None]:
        EXPECT[name] = check
        return check

    return register


@expect("cq01-studies")
def _(rows: Rows) -> None:
    assert len(rows) == 11
    assert ("carstensen2024", "2024", "https://doi.org/10.1177/13558196241231169") in pairs(
        rows, "study", "year", "doi"
    )
    assert rows[0]["study"] == "schouten2008"  # oldest first


@expect("cq02-findings-per-study")
def _(rows: Rows) -> None:
    counts = {r["study"]: int(r["findings"]) for r in rows}
    assert counts["carstensen2024"] == 9 and counts["zamboni2020"] == 5
    assert sum(counts.values()) == 41 and len(counts) == 11


@expect("cq03-enablers-across-studies")
def _(rows: Rows) -> None:
    assert pairs(rows, "enabler", "in") >= {
        ("bottom-up approach", "carstensen2024"),
        ("participation of QI specialists", "carstensen2024"),
        ("focus on high-quality patient care", "carstensen2024"),
        ("external support", "zamboni2020"),
        ("strong evidence base", "wells2018"),
        ("clear evidence-practice gap", "wells2018"),
    }
    assert len(rows) == 10


@expect("cq04-enablers-for-group")
def _(rows: Rows) -> None:
    assert pairs(rows, "group", "enabler", "study") == {
        ("QI specialist", "participation of QI specialists", "carstensen2024")
    }


@expect("cq05-cfir-inner-setting")
def _(rows: Rows) -> None:
    assert pairs(rows, "study", "finding") == {
        ("carstensen2024", "F8"),
        ("wells2018", "F2"),
        ("dixonwoods2012", "F2"),
        ("dixonwoods2012", "F3"),
    }


@expect("cq06-cfir-implementation-facilitators")
def _(rows: Rows) -> None:
    assert pairs(rows, "study", "finding", "coded") == {
        ("carstensen2024", "F7", "participation of QI specialists"),
        ("zamboni2020", "F1", "external support"),
    }


@expect("cq07-barriers")
def _(rows: Rows) -> None:
    assert {r["barrier"] for r in rows} == {
        "data collection burden",
        "tribalism",
        "staff engagement",
        "Incentive Systems",
    }
    assert {r["studies"] for r in rows} == {"dixonwoods2012"}


@expect("cq08-outcome-kinds")
def _(rows: Rows) -> None:
    counts = {r["kind"]: int(r["findings"]) for r in rows}
    assert counts["professional outcome"] == 8
    assert counts["implementation outcome"] == 2
    assert counts["patient outcome"] == 4


@expect("cq09-both-projects")
def _(rows: Rows) -> None:
    assert pairs(rows, "finding") == {("F2",), ("F5",), ("F6",), ("F7",), ("F8",), ("F9",)}


@expect("cq10-synergy-or-tension")
def _(rows: Rows) -> None:
    assert {r["finding"]: r["interplay"] for r in rows}["F2"] in (
        "synergy, tension",
        "tension, synergy",
    )
    assert pairs(rows, "finding") == {("F2",), ("F6",), ("F7",), ("F8",)}


@expect("cq11-qic-components")
def _(rows: Rows) -> None:
    counts = {r["component"]: int(r["studies"]) for r in rows}
    assert counts["measurement and data collection"] == 3
    assert counts["learning session"] == counts["PDSA cycle"] == 2
    assert rows[0]["component"] == "measurement and data collection"


@expect("cq12-shared-concepts")
def _(rows: Rows) -> None:
    found = pairs(rows, "a", "b", "concept")
    assert ("nadeem2013", "nadeem2014", "learning session") in found
    assert ("carstensen2022", "zamboni2020", "collaborative network") in found
    assert all(r["a"] < r["b"] for r in rows)


@expect("cq13-quotes-professionalisation")
def _(rows: Rows) -> None:
    from kg.resources import data_dir

    abstract = data_dir().parent.parent / "shared" / "reference" / "seed-carstensen-2024.txt"
    assert pairs(rows, "finding") == {("F2",), ("F3",), ("F5",), ("F6",), ("F7",), ("F8",), ("F9",)}
    assert {r["source"] for r in rows} == {"https://doi.org/10.1177/13558196241231169"}
    if abstract.exists():  # the quotes are verbatim from the seed paper's abstract
        text = abstract.read_text(encoding="utf-8")
        assert all(r["quote"] in text for r in rows)


@expect("cq14-danish-lkt")
def _(rows: Rows) -> None:
    assert {r["study"] for r in rows} == {
        "carstensen2022",
        "carstensen2023",
        "carstensen2024",
        "uggerby2021",
    }
    assert len(rows) == 3 + 4 + 9 + 3


@expect("cq15-provenance")
def _(rows: Rows) -> None:
    assert len(rows) == 11
    assert sum(int(r["findings"]) for r in rows) == 41


@expect("cq16-health-professionals")
def _(rows: Rows) -> None:
    assert {r["study"]: int(r["findings"]) for r in rows} == {
        "carstensen2024": 6,
        "martin2015": 2,
        "dixonwoods2012": 1,
        "zamboni2020": 1,
    }


@expect("cq17-implementation-outcomes")
def _(rows: Rows) -> None:
    assert pairs(rows, "study", "outcome") == {
        ("nadeem2014", "adoption"),
        ("dixonwoods2012", "sustainability"),
    }


@expect("cq18-text-search")
def _(rows: Rows) -> None:
    assert pairs(rows, "study", "finding") == {("zamboni2020", "F1")}


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
