"""The explorer: every page renders on the bundled graph, and each task works as a user does it.

Pages run in Streamlit's AppTest (no browser); the read-side API they call (kg.read.findings,
kg.read.concepts, kg.read.neighbourhood) is tested directly too.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kg.explorer import PAGES
from kg.explorer.ui import md
from kg.namespaces import CFIR, QIKG
from kg.read.concepts import concept, label_index, scheme_trees, search_labels
from kg.read.findings import FindingFilters, facet_options, finding, search_findings
from kg.read.neighbourhood import neighbourhood, to_dot
from kg.read.stats import stats
from kg.store import open_store
from tests.hostile import NAMES, hostile_queries

REPO = Path(__file__).resolve().parent.parent

SEED = "carstensen2024"
STUDY_COLUMNS = (
    "study_id,title,authors,year,doi,journal,country,design,qic,clinical_area,participants,"
    "sample_size"
)
FINDING_COLUMNS = (
    "finding_id,study_id,statement,theme,professional_groups,roles,qic_components,enablers,"
    "barriers,outcomes,concepts,quote,quote_source,confidence,coder,coded_on"
)


def coding_sheet(professional_group: str = "nurse", coded_on: str = "2025-01-31") -> bytes:
    """A one-study, one-finding coding sheet as a .zip of studies.csv and findings.csv."""
    study = (
        "explorertest2025,A test study imported through the explorer,Tester A; Tester B,2025,"
        "10.1234/qikg.explorer.1,J Test 1(1):1-2,Denmark,Qualitative interview study,,stroke,"
        "12 nurses,12"
    )
    row = (
        "F1,explorertest2025,Nurses found that learning sessions gave them time to reflect on "
        "their improvement work together.,Learning sessions,"
        f"{professional_group},,learning session,,"
        f'lack of time,engagement,,We finally had time to think together.,"Results, p. 3",moderate,'
        f"Test Coder,{coded_on}"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("studies.csv", f"{STUDY_COLUMNS}\n{study}\n")
        archive.writestr("findings.csv", f"{FINDING_COLUMNS}\n{row}\n")
    return out.getvalue()


def app_on(
    monkeypatch: pytest.MonkeyPatch, store_path: str, page: str = "overview", **params: str
) -> AppTest:
    """The explorer pointed at a store, run once on ``page`` with these query parameters."""
    monkeypatch.setenv("QIKG_STORE", store_path)
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.run()
    if page != "overview":
        at.switch_page(f"kg/explorer/pages/{page}.py")
    at.query_params.update(params)
    return at.run()


def texts(at: AppTest) -> str:
    """Everything the page says in markdown, captions and headings, as one string."""
    parts = [
        e.value
        for kind in ("markdown", "caption", "title", "subheader", "header")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def no_errors(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


# --- every page --------------------------------------------------------------------------------


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_error(monkeypatch, built_store_path, page):
    at = app_on(monkeypatch, built_store_path, page)
    no_errors(at)
    assert at.title and at.title[0].value == PAGES[page][0]


def test_overview_counts_studies_and_lists_the_seed_study(
    monkeypatch, built_store, built_store_path
):
    at = app_on(monkeypatch, built_store_path)
    no_errors(at)
    numbers = stats(built_store)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Studies"] == f"{numbers['studies']:,}"
    assert metrics["Findings"] == f"{numbers['findings']:,}"
    assert metrics["Triples"] == f"{numbers['triples']:,}"
    studies_table = at.dataframe[0].value
    assert "Carstensen et al. 2024" in set(studies_table["study"])
    assert any(str(doi).startswith("https://doi.org/10.1177/") for doi in studies_table["DOI"])


def test_an_empty_store_offers_to_build_it(monkeypatch, tmp_path):
    at = app_on(monkeypatch, str(tmp_path / "empty"))
    assert "empty" in at.warning[0].value
    at.button[0].click()
    at.run()
    assert not at.exception
    assert stats(open_store(str(tmp_path / "empty")))["studies"] >= 11


# --- findings ----------------------------------------------------------------------------------


def finding_refs(at: AppTest) -> list[str]:
    return [link.proto.label for link in at.get("page_link") if "/" in link.proto.label]


def test_filters_change_the_findings_shown(monkeypatch, built_store, built_store_path):
    at = app_on(monkeypatch, built_store_path, "findings")
    everything = search_findings(built_store, FindingFilters()).total
    assert f"**{everything}** findings match" in texts(at)
    before = finding_refs(at)

    group = str(QIKG.QISupportStaff)
    at.multiselect(key="filter_professional_groups").set_value([group]).run()
    no_errors(at)
    narrowed = search_findings(built_store, FindingFilters(professional_groups=(group,)))
    assert 0 < narrowed.total < everything
    assert finding_refs(at) == [r.ref for r in narrowed.rows] != before

    at.text_input(key="filter_text").set_value("zzzz-no-such-word").run()
    assert "No findings match these filters" in at.info[0].value


def test_text_search_reads_statements_and_quotes(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "findings")
    at.text_input(key="filter_text").set_value("bottom-up").run()
    no_errors(at)
    assert f"{SEED}/F6" in finding_refs(at)


def test_a_finding_page_shows_quotes_codes_provenance_and_related(
    monkeypatch, built_store, built_store_path
):
    at = app_on(monkeypatch, built_store_path, "findings", finding=f"{SEED}/F7")
    no_errors(at)
    detail = finding(built_store, f"{SEED}/F7")
    shown = texts(at)
    assert detail is not None and md(detail.statement) in shown
    assert detail.quotes and md(detail.quotes[0].text) in shown
    assert "doi.org/10.1177/13558196241231169" in shown
    assert "qikg bundled-data coder" in shown
    labels = [link.proto.label for link in at.get("page_link")]
    assert detail.codes, "the finding shown should carry codes"
    assert all(code.label in labels for code in detail.codes)
    assert "Related findings in other studies" in shown


def test_an_unknown_finding_is_a_warning_not_a_traceback(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "findings", finding="nosuchstudy/F99")
    assert not at.exception
    assert "no finding nosuchstudy/F99" in at.warning[0].value


# --- ontology ----------------------------------------------------------------------------------


def test_search_forgives_typos_and_opens_a_concept(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "ontology")
    at.text_input[0].set_value("nurce").run()
    hit = next(b for b in at.button if b.label.startswith("nurse"))
    hit.click().run()
    no_errors(at)
    assert at.subheader[0].value == "nurse"
    assert "isco:C2221" in texts(at)


def test_a_concept_page_lists_findings_coded_below_it(monkeypatch, built_store, built_store_path):
    iri = str(QIKG.QISupportStaff)
    at = app_on(monkeypatch, built_store_path, "ontology", concept=iri)
    no_errors(at)
    below = search_findings(built_store, FindingFilters(coded_with=(iri,)))
    assert below.total >= 1
    assert set(finding_refs(at)) == {r.ref for r in below.rows}


# --- compare -----------------------------------------------------------------------------------


def test_compare_switches_columns_and_opens_a_cell(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "compare")
    no_errors(at)
    assert at.get("vega_lite_chart")
    assert at.get("download_button")
    at.session_state["compare_columns"] = "enablers"
    at.run()
    no_errors(at)
    at.selectbox(key="compare_study").set_value(SEED).run()
    concepts = at.selectbox(key="compare_concept").options
    assert concepts
    at.selectbox(key="compare_concept").set_value(str(QIKG.BottomUpApproach)).run()
    no_errors(at)
    assert f"{SEED}/F6" in finding_refs(at)


# --- graph -------------------------------------------------------------------------------------


def test_graph_view_draws_labels_not_iris(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "graph", node=str(QIKG.HealthProfessional))
    no_errors(at)
    dot = at.get("graphviz_chart")[0].proto.spec
    assert '"health professional"' in dot and '"nurse"' in dot
    assert 'label="https://' not in dot


def test_the_graph_page_opens_on_the_seed_study(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "graph")
    no_errors(at)
    dot = at.get("graphviz_chart")[0].proto.spec
    centre = [m.value for m in at.markdown if " · study · " in m.value]
    assert centre and "Carstensen" in centre[0], [m.value for m in at.markdown]
    assert "nodes" in centre[0] and dot.count("->") > 0
    assert any("seed study" in c.value for c in at.caption)


def test_graph_view_says_when_the_node_cap_is_reached(monkeypatch, built_store_path):
    at = app_on(
        monkeypatch,
        built_store_path,
        "graph",
        node=str(QIKG.HealthProfessional),
        depth="2",
        cap="10",
    )
    no_errors(at)
    assert "Showing the first 10 nodes" in at.warning[0].value


# --- SPARQL ------------------------------------------------------------------------------------


def test_the_example_query_runs_and_shows_rows(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "sparql")
    run = next(b for b in at.button if b.label == "Run query")
    run.click().run()
    no_errors(at)
    table = at.dataframe[0].value
    assert len(table) > 0 and "statement" in table.columns and "study label" in table.columns
    assert any("rows** in" in m.value for m in at.markdown)


def test_a_competency_question_loads_and_runs(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "sparql")
    if not at.selectbox:
        pytest.skip("no competency questions are installed")
    at.selectbox(key="sparql_question").select_index(0).run()
    assert "PREFIX qikg:" in at.text_area(key="sparql_text").value
    next(b for b in at.button if b.label == "Run query").click().run()
    no_errors(at)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("INSERT DATA { <urn:a> <urn:b> <urn:c> }", "read-only"),
        ("PREFIX x: <urn:x>\nSELECT * WHERE { ?s ?p ?o", "line 2, column"),
        ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ],
)
def test_refused_and_broken_queries_show_one_clear_message(
    monkeypatch, built_store, built_store_path, query, message
):
    before = stats(built_store)["triples"]
    at = app_on(monkeypatch, built_store_path, "sparql")
    at.text_area(key="sparql_text").set_value(query).run()
    next(b for b in at.button if b.label == "Run query").click().run()
    assert not at.exception
    assert message in at.error[0].value
    assert stats(built_store)["triples"] == before


@pytest.mark.parametrize("name", NAMES)
def test_every_hostile_query_is_refused_with_nothing_reaching_the_network(
    monkeypatch, built_store, built_store_path, listener, name
):
    """The hostile corpus (tests/fixtures/hostile) typed into the SPARQL page."""
    before = built_store.graph_sizes()
    at = app_on(monkeypatch, built_store_path, "sparql")
    at.text_area(key="sparql_text").set_value(hostile_queries(listener.url)[name]).run()
    next(b for b in at.button if b.label == "Run query").click().run()
    assert not at.exception
    assert at.error and "\n" not in at.error[0].value.strip()
    assert listener.connections == []
    assert built_store.graph_sizes() == before


def test_a_runaway_query_is_stopped_at_its_time_limit(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "sparql")
    at.text_area(key="sparql_text").set_value(
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    )
    at.number_input(key="sparql_seconds").set_value(1)
    at.run()
    next(b for b in at.button if b.label == "Run query").click().run(timeout=30)
    assert not at.exception
    assert "time limit" in at.error[0].value


def test_the_row_cap_is_shown_when_it_cuts_the_answer(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "sparql")
    at.text_area(key="sparql_text").set_value("SELECT * WHERE { ?s ?p ?o }")
    at.number_input(key="sparql_cap").set_value(5)
    at.run()
    next(b for b in at.button if b.label == "Run query").click().run()
    no_errors(at)
    assert len(at.dataframe[0].value) == 5
    assert "row cap of 5" in at.warning[0].value


# --- validate & import -------------------------------------------------------------------------


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="validate_upload").set_value((name, data, "application/zip"))
    return at.run(timeout=60)


def test_an_invalid_upload_shows_its_report_and_imports_nothing(monkeypatch, fresh_store_path):
    before = stats(open_store(fresh_store_path))["triples"]
    at = app_on(monkeypatch, fresh_store_path, "validate")
    upload(at, "study.zip", coding_sheet(professional_group="nurce", coded_on="not a date"))
    assert not at.exception
    assert "Nothing can be imported" in at.error[0].value
    report = at.table[0].value.reset_index()  # a short report: every message whole
    assert "findings.csv row 2, column professional_groups" in set(report["where"])
    assert any('did you mean "nurse"' in m for m in report["message"])
    order = {"violation": 0, "warning": 1, "info": 2}
    severities = [order[s] for s in report["severity"]]
    assert severities == sorted(severities) and 1 in severities, "violations first"
    assert not any("--" in m for m in report["message"]), "no CLI flags in the web UI"
    assert not [b for b in at.button if b.label == "Import"]
    assert stats(open_store(fresh_store_path))["triples"] == before


def test_a_valid_upload_imports_and_shows_up(monkeypatch, fresh_store_path):
    before = stats(open_store(fresh_store_path))
    at = app_on(monkeypatch, fresh_store_path, "validate")
    upload(at, "study.zip", coding_sheet())
    no_errors(at)
    assert "Ready to import" in (at.success or at.warning)[0].value
    next(b for b in at.button if b.label == "Import").click().run(timeout=60)
    no_errors(at)
    assert "Imported explorertest2025" in at.success[-1].value
    # the page does not offer the same file again, nor say it is ready to import
    assert not [b for b in at.button if b.label == "Import"]
    assert not any("Ready to import" in s.value for s in at.success)
    after = stats(open_store(fresh_store_path))
    assert after["studies"] == before["studies"] + 1 and after["triples"] > before["triples"]
    at.switch_page("kg/explorer/pages/overview.py").run()
    assert "Tester et al. 2025" in set(at.dataframe[0].value["study"])


def test_an_upload_over_the_limit_is_refused_with_a_clear_message(monkeypatch, fresh_store_path):
    import streamlit

    real = streamlit.get_option
    monkeypatch.setattr(
        streamlit, "get_option", lambda key: 1 if key == "server.maxUploadSize" else real(key)
    )
    at = app_on(monkeypatch, fresh_store_path, "validate")
    upload(at, "big.zip", b"0" * (2 * 1024 * 1024))
    assert "the limit is 1 MB" in at.error[0].value


def test_the_template_downloads(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "validate")
    assert at.get("download_button")[0].proto.label.startswith("Download the coding-sheet template")


# --- the read-side API -------------------------------------------------------------------------


def test_facets_count_findings_coded_below_a_concept(built_store):
    options = {o.iri: o.findings for o in facet_options(built_store)["professional_groups"]}
    assert options[str(QIKG.QISupportStaff)] >= options.get(str(QIKG.QISpecialist), 0) >= 1


def test_the_cfir_facet_follows_determinant_alignments(built_store):
    cfir = facet_options(built_store)["cfir"]
    assert cfir, "no finding reaches a CFIR construct"
    chosen = cfir[0]
    found = search_findings(built_store, FindingFilters(cfir=(chosen.iri,)), limit=1000)
    assert found.total == chosen.findings
    assert all(o.iri.startswith(str(CFIR)) for o in cfir)


def test_scheme_trees_nest_narrower_concepts(built_store):
    tree = scheme_trees(built_store)[str(QIKG.ProfessionalGroupScheme)]
    top = {n.iri: n for n in tree}
    assert str(QIKG.Nurse) in {c.iri for c in top[str(QIKG.HealthProfessional)].children}


def test_concept_records_carry_labels_in_all_languages_and_alignments(built_store):
    nurse = concept(built_store, "qikg:Nurse")
    assert nurse is not None
    assert {"en", "da"} <= {label.lang for label in nurse.labels}
    assert any(a.system == "ISCO-08" and a.iri.endswith("C2221") for a in nurse.alignments)
    assert concept(built_store, "qikg:NoSuchConcept") is None


def test_label_search_finds_alternative_and_misspelt_labels(built_store):
    index = label_index(built_store)
    assert search_labels(index, "PDSA")[0].iri == str(QIKG.PDSACycle)
    assert search_labels(index, "sygeplejerske")[0].iri == str(QIKG.Nurse)
    assert search_labels(index, "lerning sesion")[0].iri == str(QIKG.LearningSession)


def test_a_neighbourhood_respects_its_cap_and_names_its_nodes(built_store):
    hood = neighbourhood(built_store, str(QIKG.HealthProfessional), depth=2, cap=12)
    assert len(hood.nodes) == 12 and hood.capped
    assert hood.nodes[0].label == "health professional"
    assert all(not n.label.startswith("http") for n in hood.nodes)
    assert to_dot(hood).count(" -> ") == len(hood.edges)


def test_a_loaded_question_declares_each_prefix_once():
    from kg.explorer.pages.sparql import competency_questions, with_prefixes
    from kg.namespaces import PREFIXES

    questions = competency_questions()
    assert questions
    for question in questions:
        lines = with_prefixes(question.text).splitlines()
        for prefix in PREFIXES:
            declared = [line for line in lines if line.strip().startswith(f"PREFIX {prefix}:")]
            assert len(declared) == 1, (question.name, prefix)


def test_the_overview_lists_recent_changes(monkeypatch, fresh_store_path, tmp_path, cli):
    from tests.sheets import write_sheet

    ran = cli("import", str(write_sheet(tmp_path / "new.zip")), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    at = app_on(monkeypatch, fresh_store_path)
    no_errors(at)
    changes = at.dataframe[-1].value
    assert list(changes["what"])[0] == "import new.zip"
    assert list(changes["studies"])[0] == "newstudy2025"


def test_a_study_is_removed_from_the_explorer_after_it_says_what_goes(
    monkeypatch, fresh_store_path, tmp_path, cli
):
    from tests.sheets import write_sheet

    assert (
        cli("import", str(write_sheet(tmp_path / "new.zip")), store=fresh_store_path).exit_code == 0
    )
    at = app_on(monkeypatch, fresh_store_path, "validate")
    at.selectbox(key="remove_study").select("newstudy2025").run()
    no_errors(at)
    assert "Removing takes away study newstudy2025" in " ".join(m.value for m in at.markdown)
    with open_store(fresh_store_path) as store:
        assert "newstudy2025" in {
            r["id"]
            for r in store.query(
                "SELECT ?id WHERE { ?s a qikg:Study ; dcterms:identifier ?id }"
            ).values()
        }
    next(b for b in at.button if b.label == "Remove newstudy2025").click().run()
    no_errors(at)
    assert "removed study newstudy2025" in at.success[0].value
    with open_store(fresh_store_path) as store:
        ids = {
            r["id"]
            for r in store.query(
                "SELECT ?id WHERE { ?s a qikg:Study ; dcterms:identifier ?id }"
            ).values()
        }
    assert ids and "newstudy2025" not in ids
    assert cli("undo", store=fresh_store_path).exit_code == 0


def test_removing_a_study_cited_by_a_review_asks_first(monkeypatch, fresh_store_path):
    at = app_on(monkeypatch, fresh_store_path, "validate")
    at.selectbox(key="remove_study").select("carstensen2024").run()
    no_errors(at)
    assert "RF1" in at.warning[0].value
    button = next(b for b in at.button if b.label == "Remove carstensen2024")
    assert button.disabled


def test_a_study_already_in_the_graph_is_refused_or_its_changes_shown_before_import(
    monkeypatch, fresh_store_path
):
    at = app_on(monkeypatch, fresh_store_path, "validate")
    upload(at, "study.zip", coding_sheet())
    next(b for b in at.button if b.label == "Import").click().run(timeout=60)
    no_errors(at)
    at = app_on(monkeypatch, fresh_store_path, "validate")
    upload(at, "again.zip", coding_sheet(professional_group="physician"))
    messages = at.table[-1].value["message"]
    assert any("already in the graph" in m and "the Replace box" in m for m in messages)
    assert not [b for b in at.button if b.label == "Import"]
    at.checkbox(key="validate_replace").check().run(timeout=60)
    no_errors(at)
    shown = " ".join(i.value for i in at.info)
    assert "study explorertest2025: 1 finding changed (F1: professional_groups)" in shown
    assert [b for b in at.button if b.label == "Import"]


def test_graph_depth_changes_the_picture_and_the_url(monkeypatch, built_store_path):
    at = app_on(monkeypatch, built_store_path, "graph", node=str(QIKG.HealthProfessional))
    no_errors(at)
    one = at.get("graphviz_chart")[0].proto.spec
    assert at.query_params["depth"] == "1"
    at.session_state["graph_depth"] = 2
    at.run()
    no_errors(at)
    two = at.get("graphviz_chart")[0].proto.spec
    assert two != one and two.count("->") > one.count("->")
    assert at.query_params["depth"] == "2"
