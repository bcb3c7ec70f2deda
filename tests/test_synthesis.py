"""Qualitative evidence synthesis: review findings, GRADE-CERQual assessments, the reviews sheet,
suggestions, the SoQF table and nanopublications (docs/synthesis.md)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import docx
import lxml.html
import owlready2
import pyoxigraph as ox
import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, XSD
from streamlit.testing.v1 import AppTest

from kg.importer import check_path
from kg.namespaces import DATA, QIKG
from kg.ontology import owlready_world
from kg.resources import data_dir
from kg.sheets import FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.write import write_tables
from kg.store import open_store
from kg.synthesis.model import (
    COMPONENTS,
    NP,
    REVIEW_COLUMNS,
    assessment_iri,
    judgement_iri,
    review_finding_iri,
    review_graph,
)
from kg.synthesis.reviews import review_findings
from kg.synthesis.soqf import FORMATS, PROFILE_COLUMNS, SOQF_COLUMNS
from kg.synthesis.suggest import suggest
from kg.validate import validate
from tests.conftest import run_cli
from tests.sheets import FINDING, STUDY, many_studies

BUNDLED = data_dir() / "reviews" / "reviews.csv"
PAGE = Path(__file__).resolve().parent.parent / "kg" / "explorer" / "pages" / "synthesis.py"

# --- the bundled review findings ---------------------------------------------------------------


def bundled_rows() -> list[dict[str, str]]:
    with BUNDLED.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def coded_findings() -> set[str]:
    """``study_id/finding_id`` of every finding in data/studies/*/findings.csv."""
    refs = set()
    for path in (data_dir() / "studies").glob("*/findings.csv"):
        with path.open(encoding="utf-8") as f:
            refs |= {f"{r['study_id']}/{r['finding_id']}" for r in csv.DictReader(f)}
    return refs


def test_bundled_reviews_cite_coded_findings_of_several_studies():
    rows = bundled_rows()
    assert len(rows) >= 3
    known = coded_findings()
    for row in rows:
        refs = [r.strip() for r in row["supporting_findings"].split(";")]
        assert set(refs) <= known, row["review_finding_id"]
        assert len({r.split("/")[0] for r in refs}) >= 2, row["review_finding_id"]
        assert row["assessor"] == "qikg bundled-data reviewer"
        assert row["assessed_on"] == "2026-11-26"
        for column in REVIEW_COLUMNS[REVIEW_COLUMNS.index("methodological_limitations") :]:
            assert row[column].strip(), (row["review_finding_id"], column)


def test_bundled_assessments_say_the_evidence_is_from_abstracts():
    for row in bundled_rows():
        assert "abstract" in row["methodological_limitations_explanation"].lower()
        assert row["adequacy"] in ("moderate concerns", "serious concerns")
        assert row["confidence"] in ("low", "very low")


def test_bundled_review_findings_validate_without_problems(built_store):
    # the bundled reviews are in the store already: checked as `import --replace --dry-run` does
    report = check_path(built_store, BUNDLED.parent, replace=True)
    assert report.conforms, report.to_text()
    assert [p for p in report.problems if p.severity != "info"] == [], report.to_text()


def test_bundled_review_findings_are_in_their_graph(built_store):
    found = review_findings(built_store)
    assert [f.review_finding_id for f in found] == ["RF1", "RF2", "RF3"]
    assert review_graph("bundled") in built_store.graph_sizes()
    for f in found:
        assert f.review == "bundled" and f.confidence and f.confidence_explanation
        assert [j.component for j in f.judgements] == [c.title for c in COMPONENTS]
        assert all(j.level and j.explanation for j in f.judgements)
        assert len(f.contributing) >= 2


def test_contributing_studies_are_derived_not_stored(built_store):
    stored = built_store.query(
        f"ASK {{ ?rf <{QIKG.contributingStudy}> ?s }}", include_inferred=False
    ).boolean
    assert not stored
    rf1 = review_findings(built_store)[0]
    assert {s.study_id for s in rf1.contributing} == {"carstensen2024", "martin2015", "zamboni2020"}


def test_an_owl_reasoner_derives_contributing_studies_from_the_chain():
    g = rdflib.Graph()
    rf, f, s = review_finding_iri("X"), DATA["s1/finding/F1"], DATA["s1"]
    g += [(rf, RDF.type, QIKG.ReviewFinding), (f, RDF.type, QIKG.Finding)]
    g += [(s, RDF.type, QIKG.Study), (rf, QIKG.synthesises, f), (f, QIKG.reportedIn, s)]
    owlready2.JAVA_EXE = "/usr/bin/java"
    world = owlready_world(g)
    owlready2.sync_reasoner_hermit(world, infer_property_values=True, debug=0)
    rows = world.sparql(f"SELECT ?o WHERE {{ <{rf}> <{QIKG.contributingStudy}> ?o }}")
    assert [row[0].iri for row in rows] == [str(s)]


# --- the SHACL rules ---------------------------------------------------------------------------

F1, F2, F3 = DATA["s1/finding/F1"], DATA["s2/finding/F1"], DATA["s1/finding/F2"]
RF = review_finding_iri("T1")
A = assessment_iri("T1")
AGENT = DATA["agent/test-reviewer"]
LEVELS = {c.slug: QIKG.MinorConcerns for c in COMPONENTS}


def context() -> rdflib.Graph:
    """The stored findings a review finding may cite: their types and studies."""
    g = rdflib.Graph()
    for f, study in ((F1, DATA["s1"]), (F2, DATA["s2"]), (F3, DATA["s1"])):
        g.add((f, RDF.type, QIKG.Finding))
        g.add((f, QIKG.reportedIn, study))
    return g


def review() -> rdflib.Graph:
    """A complete, valid review finding with its assessment."""
    g = rdflib.Graph()
    g.add((RF, RDF.type, QIKG.ReviewFinding))
    g.add((RF, DCTERMS.identifier, Literal("T1")))
    g.add((RF, QIKG.reviewStatement, Literal("Nurses engage when improvement work is theirs.")))
    g.add((RF, QIKG.synthesises, F1))
    g.add((RF, QIKG.synthesises, F2))
    g.add((RF, QIKG.hasAssessment, A))
    g.add((A, RDF.type, QIKG.CERQualAssessment))
    for component in COMPONENTS:
        j = judgement_iri("T1", component)
        g.add((A, QIKG.hasJudgement, j))
        g.add((j, RDF.type, QIKG.CERQualJudgement))
        g.add((j, QIKG.judgedComponent, component.concept))
        g.add((j, QIKG.concernLevel, LEVELS[component.slug]))
        g.add((j, QIKG.explanation, Literal(f"Why {component.title}.")))
    g.add((A, QIKG.overallConfidence, QIKG.ModerateConfidence))
    g.add((A, QIKG.explanation, Literal("Minor concerns on all four components.")))
    g.add((A, PROV.wasAttributedTo, AGENT))
    g.add((AGENT, RDF.type, PROV.Agent))
    g.add((AGENT, FOAF.name, Literal("Test Reviewer")))
    g.add((A, DCTERMS.created, Literal("2026-11-26", datatype=XSD.date)))
    return g


COHERENCE = judgement_iri("T1", COMPONENTS[1])


def _serious_and_high(g: rdflib.Graph) -> None:
    g.set((COHERENCE, QIKG.concernLevel, QIKG.SeriousConcerns))
    g.set((A, QIKG.overallConfidence, QIKG.HighConfidence))


def _no_assessment(g: rdflib.Graph) -> None:
    for node in [A, *g.objects(A, QIKG.hasJudgement)]:
        g.remove((node, None, None))
    g.remove((RF, QIKG.hasAssessment, None))


def _one_study(g: rdflib.Graph) -> None:
    g.remove((RF, QIKG.synthesises, F2))
    g.add((RF, QIKG.synthesises, F3))


BROKEN: dict[str, tuple[Callable[[rdflib.Graph], None], str, str]] = {
    "component without level": (
        lambda g: g.remove((COHERENCE, QIKG.concernLevel, None)),
        "violation",
        "Every GRADE-CERQual component needs a level of concern",
    ),
    "component without explanation": (
        lambda g: g.remove((COHERENCE, QIKG.explanation, None)),
        "violation",
        "Every GRADE-CERQual component needs an explanation",
    ),
    "component missing": (
        lambda g: g.remove((A, QIKG.hasJudgement, COHERENCE)),
        "violation",
        "needs exactly one judgement of coherence",
    ),
    "level that is not a concern level": (
        lambda g: g.set((COHERENCE, QIKG.concernLevel, QIKG.HighConfidence)),
        "violation",
        "is not a level of concern",
    ),
    "no overall confidence": (
        lambda g: g.remove((A, QIKG.overallConfidence, None)),
        "violation",
        "needs an overall confidence",
    ),
    "overall confidence unexplained": (
        lambda g: g.remove((A, QIKG.explanation, None)),
        "violation",
        "Explain the overall confidence",
    ),
    "no supporting finding": (
        lambda g: g.remove((RF, QIKG.synthesises, None)),
        "violation",
        "must cite at least one primary finding",
    ),
    "support that is not a finding": (
        lambda g: g.set((RF, QIKG.synthesises, DATA["s1"])),
        "violation",
        "is not a coded finding",
    ),
    "all support from one study": (
        _one_study,
        "warning",
        "All the findings this review finding synthesises come from one study",
    ),
    "high confidence beside serious concerns": (
        _serious_and_high,
        "warning",
        "The overall confidence is high although a component has serious concerns",
    ),
    "contributing study written by hand": (
        lambda g: g.add((RF, QIKG.contributingStudy, DATA["s1"])),
        "violation",
        "Contributing studies are derived from the supporting findings",
    ),
    "contributing study on any node": (
        lambda g: g.add((A, QIKG.contributingStudy, DATA["s1"])),
        "violation",
        "never written by hand",
    ),
    "no assessment yet": (
        _no_assessment,
        "warning",
        "has no GRADE-CERQual assessment yet",
    ),
}


def test_a_complete_review_finding_has_no_problems():
    report = validate(review(), context())
    assert report.problems == [], report.to_text()


@pytest.mark.parametrize("name", list(BROKEN))
def test_each_synthesis_rule_fires_with_its_message(name):
    mutate, severity, message = BROKEN[name]
    g = review()
    mutate(g)
    report = validate(g, context())
    found = [p for p in report.problems if message in p.message]
    assert found, report.to_text()
    assert {p.severity for p in found} == {severity}
    others = [p for p in report.problems if p not in found and p.severity == "violation"]
    assert others == [], report.to_text()


# --- the reviews sheet -------------------------------------------------------------------------

#: A review of two bundled findings, written with the words the export writes back.
MINE = [
    {
        "review_finding_id": "M1",
        "review": "mine",
        "statement": "QI specialists and external support may enable engagement in QICs.",
        "supporting_findings": "carstensen2024/F7; zamboni2020/F1",
        "explanation": "A test review finding.",
        "methodological_limitations": "moderate concerns",
        "methodological_limitations_explanation": "Abstracts only.",
        "coherence": "minor concerns",
        "coherence_explanation": "Different kinds of support.",
        "adequacy": "serious concerns",
        "adequacy_explanation": "Two sentences.",
        "relevance": "no or very minor concerns",
        "relevance_explanation": "QICs.",
        "confidence": "very low confidence",
        "confidence_explanation": "Serious concerns about adequacy.",
        "assessor": "Test Reviewer",
        "assessed_on": "2026-11-26",
        "memo": "an extra column",
    },
    {
        "review_finding_id": "M2",
        "review": "mine",
        "statement": "Data collection is common in QICs and hard to get right.",
        "supporting_findings": "dixonwoods2012/F1; nadeem2013/F2",
    },
]


def write_reviews(path: Path, rows: list[dict[str, str]]) -> Path:
    """Write a reviews sheet; the suffix of ``path`` picks .xlsx, .zip, or a folder."""
    columns = list(dict.fromkeys(c for row in rows for c in [*REVIEW_COLUMNS, *row]))
    write_tables({"reviews": (columns, rows)}, path)
    return path


@pytest.mark.parametrize("suffix", ["", ".xlsx", ".zip"])
def test_the_reviews_sheet_round_trips_through_import(cli, fresh_store_path, tmp_path, suffix):
    sheet = write_reviews(tmp_path / f"mine{suffix}", MINE)
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert "has no GRADE-CERQual assessment yet" in ran.err  # M2: a warning, not a refusal
    out = tmp_path / "exported"
    assert (
        cli("export-reviews", "--review", "mine", "-o", str(out), store=fresh_store_path).exit_code
        == 0
    )
    with (out / "reviews.csv").open(encoding="utf-8") as f:
        exported = list(csv.DictReader(f))
    expected = [{c: row.get(c, "") for c in exported[0]} for row in MINE]
    assert exported == expected
    with open_store(fresh_store_path) as store:
        before = store.dump("nt", review_graph("mine"))
    ran = cli("import", str(out), "--replace", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    with open_store(fresh_store_path) as store:
        after = store.dump("nt", review_graph("mine"))
    assert isomorphic(
        rdflib.Graph().parse(data=before, format="nt"),
        rdflib.Graph().parse(data=after, format="nt"),
    )


def test_a_bad_reviews_sheet_is_refused_with_row_and_column(cli, fresh_store_path, tmp_path):
    bad = [
        {**MINE[0], "supporting_findings": "carstensen2024/F77; zamboni2020/F1"},
        {**MINE[1], "coherence": "serius", "coherence_explanation": "x"},
    ]
    sheet = write_reviews(tmp_path / "bad", bad)
    with open_store(fresh_store_path) as store:
        before = store.graph_sizes()
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert "reviews.csv row 2, column supporting_findings" in ran.err
    assert 'finding "carstensen2024/F77" is neither in the sheet nor in the graph' in ran.err
    assert 'did you mean "carstensen2024/F7"?' in ran.err
    assert "reviews.csv row 3, column coherence" in ran.err
    assert 'did you mean "serious concerns"?' in ran.err
    assert "Traceback" not in ran.err
    with open_store(fresh_store_path) as store:
        assert store.graph_sizes() == before


def test_a_review_already_in_the_graph_needs_replace(cli, fresh_store_path):
    ran = cli("import", str(BUNDLED.parent), store=fresh_store_path)
    assert ran.exit_code == 1 and 'review "bundled" is already in the graph' in ran.err


def test_review_finding_ids_are_unique_across_reviews(cli, fresh_store_path, tmp_path):
    sheet = write_reviews(tmp_path / "clash", [{**MINE[1], "review_finding_id": "RF1"}])
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1 and 'review finding "RF1" is already in review "bundled"' in ran.err


def test_reviews_may_cite_findings_of_the_same_workbook(cli, fresh_store_path, tmp_path):
    row = {**MINE[1], "supporting_findings": "newstudy2025/F1; carstensen2024/F1"}
    path = tmp_path / "all.xlsx"
    write_tables(
        {
            "studies": (STUDY_COLUMNS, [STUDY]),
            "findings": (FINDING_COLUMNS, [FINDING]),
            "reviews": (REVIEW_COLUMNS, [row]),
        },
        path,
    )
    ran = cli("import", str(path), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    with open_store(fresh_store_path) as store:
        (m2,) = review_findings(store, "mine")
    assert m2.supporting == ["carstensen2024/F1", "newstudy2025/F1"]


def test_reviews_may_cite_findings_checked_in_an_earlier_batch(
    cli, fresh_store_path, tmp_path, monkeypatch
):
    monkeypatch.setattr("kg.importer.FINDINGS_PER_BATCH", 1)  # one study per batch
    studies, findings = many_studies(3, 2)
    rows = [
        {**MINE[1], "review_finding_id": "B1", "supporting_findings": "big0000/F0; big0001/F1"},
        {**MINE[1], "review_finding_id": "B2", "supporting_findings": "big0000/F0; big0000/F1"},
    ]
    path = tmp_path / "all"
    write_tables(
        {
            "studies": (STUDY_COLUMNS, studies),
            "findings": (FINDING_COLUMNS, findings),
            "reviews": (REVIEW_COLUMNS, rows),
        },
        path,
    )
    ran = cli("import", str(path), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert ran.err.count("come from one study") == 1, ran.err  # B2's, not B1's
    with open_store(fresh_store_path) as store:
        supporting = {rf.review_finding_id: rf.supporting for rf in review_findings(store, "mine")}
    assert supporting == {
        "B1": ["big0000/F0", "big0001/F1"],
        "B2": ["big0000/F0", "big0000/F1"],
    }


def test_the_template_has_a_reviews_sheet(cli, built_store_path, tmp_path):
    out = tmp_path / "template"
    assert cli("template", "-o", str(out), store=built_store_path).exit_code == 0
    with (out / "reviews.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == REVIEW_COLUMNS
        assert list(reader) == []  # the example row is on a sheet of its own, never imported
    with (out / "example-reviews.csv").open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == REVIEW_COLUMNS
        assert next(reader)["supporting_findings"] == "example2025/F1"


# --- suggestions -------------------------------------------------------------------------------


def test_suggestions_include_the_bundled_review_findings_support(built_store):
    groups = [{m.ref for m in s.members} for s in suggest(built_store)]
    for rf in review_findings(built_store):
        assert any(set(rf.supporting) <= g for g in groups), rf.review_finding_id


def test_suggestions_come_from_enough_studies(built_store):
    for s in suggest(built_store, min_studies=3):
        assert len(s.studies) >= 3 and s.shared
        assert {m.study for m in s.members} == set(s.studies)


def test_suggest_synthesis_cli_json_and_skeleton(cli, built_store_path, tmp_path):
    ran = cli("suggest-synthesis", "--json", store=built_store_path)
    assert ran.exit_code == 0, ran.err
    groups = json.loads(ran.out)
    facilitators = next(g for g in groups if "Implementation Facilitators" in g["shared"])
    # the bundled studies grow: these three are coded with it, others may join them
    refs = [m["ref"] for m in facilitators["members"]]
    assert {"brugman2022/F1", "carstensen2024/F7", "zamboni2020/F1"} <= set(refs)
    assert refs == sorted(set(refs)) and len({r.split("/")[0] for r in refs}) >= 3
    out = tmp_path / "skeleton"
    ran = cli("suggest-synthesis", "-o", str(out), store=built_store_path)
    assert ran.exit_code == 0 and "shared:" in ran.out
    with (out / "reviews.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(groups)
    assert rows[0]["supporting_findings"] and rows[0]["shared_concepts"]
    assert not rows[0]["statement"] and not rows[0]["confidence"] and not rows[0]["coherence"]


# --- the SoQF table ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def soqf_files(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("soqf")
    files = {}
    for fmt in FORMATS:
        files[fmt] = folder / f"soqf.{fmt}"
        ran = run_cli("soqf", "-o", str(files[fmt]), store=built_store_path)
        assert ran.exit_code == 0, ran.err
    return files


def test_soqf_csv(soqf_files):
    rows = list(csv.reader(io.StringIO(soqf_files["csv"].read_text(encoding="utf-8-sig"))))
    assert rows[0][: len(SOQF_COLUMNS)] == SOQF_COLUMNS
    assert "Coherence (concerns)" in rows[0] and "Relevance (explanation)" in rows[0]
    assert [r[0] for r in rows[1:]] == ["RF1", "RF2", "RF3"]
    assert rows[2][3] == "Very low confidence"
    assert rows[1][2] == "Carstensen et al. 2024; Martin et al. 2015; Zamboni et al. 2020"


def test_soqf_docx(soqf_files):
    document = docx.Document(str(soqf_files["docx"]))
    soqf, profile = document.tables
    assert [c.text for c in soqf.rows[0].cells] == SOQF_COLUMNS
    assert [c.text for c in profile.rows[0].cells] == PROFILE_COLUMNS
    assert len(soqf.rows) == len(profile.rows) == 4
    assert soqf.rows[1].cells[3].text == "Low confidence"
    assert (
        profile.rows[2]
        .cells[PROFILE_COLUMNS.index("Adequacy of data")]
        .text.startswith("Serious concerns: ")
    )
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == ["Summary of Qualitative Findings", "GRADE-CERQual Evidence Profile"]


def test_soqf_html(soqf_files):
    page = lxml.html.fromstring(soqf_files["html"].read_bytes())
    soqf, profile = page.findall(".//table")
    assert [th.text_content() for th in soqf.findall(".//th")] == SOQF_COLUMNS
    assert [th.text_content() for th in profile.findall(".//th")] == PROFILE_COLUMNS
    assert len(soqf.findall(".//tbody/tr")) == 3
    assert [h.text_content() for h in page.findall(".//h1")] == ["Summary of Qualitative Findings"]


def test_soqf_markdown(soqf_files):
    text = soqf_files["md"].read_text(encoding="utf-8")
    assert text.index("# Summary of Qualitative Findings") < text.index("## GRADE-CERQual Evidence")
    assert "| " + " | ".join(SOQF_COLUMNS) + " |" in text
    assert text.count("\n| RF") == 6


def test_soqf_refuses_an_unknown_format(cli, built_store_path, tmp_path):
    ran = cli("soqf", "-o", str(tmp_path / "soqf.txt"), store=built_store_path)
    assert ran.exit_code == 2 and "cannot tell the format" in ran.err


# --- nanopublications --------------------------------------------------------------------------


def named_graphs(path: Path) -> dict[str, rdflib.Graph]:
    """The named graphs of a TriG file (parsed by Oxigraph); nothing may be in the default graph."""
    triples: dict[str, list[ox.Triple]] = {}
    for quad in ox.parse(path=str(path), format=ox.RdfFormat.TRIG):
        assert isinstance(quad.graph_name, ox.NamedNode), quad
        triples.setdefault(quad.graph_name.value, []).append(quad.triple)
    return {
        name: rdflib.Graph().parse(
            data=ox.serialize(found, format=ox.RdfFormat.N_TRIPLES), format="nt"
        )
        for name, found in triples.items()
    }


def test_a_review_finding_exports_as_a_nanopublication(cli, built_store_path, tmp_path):
    out = tmp_path / "RF1.trig"
    ran = cli("nanopub", "RF1", "-o", str(out), store=built_store_path)
    assert ran.exit_code == 0, ran.err
    graphs = named_graphs(out)
    np = str(DATA["review/RF1/nanopub"])
    assert set(graphs) == {f"{np}#{p}" for p in ("Head", "assertion", "provenance", "pubinfo")}
    head = graphs[f"{np}#Head"]
    node = URIRef(np)
    assert (node, RDF.type, NP.Nanopublication) in head
    assert head.value(node, NP.hasAssertion) == URIRef(f"{np}#assertion")
    assert head.value(node, NP.hasProvenance) == URIRef(f"{np}#provenance")
    assert head.value(node, NP.hasPublicationInfo) == URIRef(f"{np}#pubinfo")
    assertion = graphs[f"{np}#assertion"]
    rf = review_finding_iri("RF1")
    assert (rf, RDF.type, QIKG.ReviewFinding) in assertion
    assert len(set(assertion.objects(rf, QIKG.synthesises))) == 5
    provenance = graphs[f"{np}#provenance"]
    assert len(set(provenance.objects(URIRef(f"{np}#assertion"), PROV.wasDerivedFrom))) == 5
    assert (assessment_iri("RF1"), QIKG.overallConfidence, QIKG.LowConfidence) in provenance
    assert (node, DCTERMS.created, None) in graphs[f"{np}#pubinfo"]


def test_all_review_findings_export_as_nanopublications(cli, built_store_path, tmp_path):
    out = tmp_path / "all.trig"
    assert cli("nanopub", "--all", "-o", str(out), store=built_store_path).exit_code == 0
    heads = [g for name, g in named_graphs(out).items() if name.endswith("#Head")]
    assert len(named_graphs(out)) == 4 * 3 and len(heads) == 3


def test_nanopub_of_an_unknown_review_finding(cli, built_store_path):
    ran = cli("nanopub", "RF99", store=built_store_path)
    assert ran.exit_code == 2 and ran.err.strip() == (
        'qikg: error: no review finding "RF99" in the graph (see `qikg soqf`)'
    )


# --- the explorer page -------------------------------------------------------------------------


def synthesis_page(monkeypatch: pytest.MonkeyPatch, store_path: str, **params: str) -> AppTest:
    """The Synthesis page run on its own (app.py registers it), with these query parameters."""
    monkeypatch.setenv("QIKG_STORE", store_path)
    at = AppTest.from_file(str(PAGE), default_timeout=60)
    at.query_params.update(params)
    return at.run()


def test_the_synthesis_page_shows_the_soqf_table(monkeypatch, built_store_path):
    at = synthesis_page(monkeypatch, built_store_path)
    assert not at.exception and not at.error
    assert at.title[0].value == "Synthesis"
    table = at.dataframe[0].value
    assert list(table.columns) == SOQF_COLUMNS and list(table["#"]) == ["RF1", "RF2", "RF3"]


def test_a_review_finding_opens_its_supporting_findings_and_quotes(monkeypatch, built_store_path):
    at = synthesis_page(monkeypatch, built_store_path, review_finding="RF1")
    assert not at.exception and not at.error
    assert "Review finding RF1" in [s.value for s in at.subheader]
    said = "\n".join(m.value for m in at.markdown)
    assert "**Supporting findings** (5)" in said
    assert "> This engagement was formed by a constructive interplay" in said
    assert "Converting practitioners' enthusiasm for the principle of professionalism" in said
