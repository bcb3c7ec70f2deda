"""``qikg reason``: HermiT's consistency check, explained clashes, and the inferred graph."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH, study_graph
from kg.reasoning import check, infer, materialise
from kg.store import open_store
from tests.conftest import need
from tests.sheets import many_studies, write_sheet

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "reason"

FINDINGS_AS_ENTITIES = "SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE { ?f a qikg:Finding , prov:Entity }"
CODED_WITH_CFIR = """SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {
    ?f a qikg:Finding ; qikg:codedWith ?c . ?c a qikg:CFIRConstruct }"""


def count(store, query: str, include_inferred: bool = True) -> int:
    return int(store.query(query, include_inferred=include_inferred).values()[0]["n"])


def turtle_as_ntriples(path: Path) -> str:
    triples = [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]
    return (ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"").decode()


def inferred_state(cli, store: str) -> str:
    return json.loads(cli("stats", "--json", store=store).out)["inferred"]


def test_hermit_finds_the_bundled_graph_consistent(built_store):
    result = check(built_store)
    assert result.consistent and result.ok, result.clashes
    assert result.unsatisfiable == []
    assert result.graphs > 11


def test_a_clash_is_named_and_exits_1(cli, fresh_store_path):
    with open_store(fresh_store_path) as store:
        store.replace_graphs(
            {study_graph("clash"): turtle_as_ntriples(FIXTURES / "disjoint-clash.ttl")}
        )
    ran = cli("reason", store=fresh_store_path)
    assert ran.exit_code == 1, ran.err
    assert "inconsistent:" in ran.err and "Traceback" not in ran.err
    assert "qikgd:clash is typed both qikg:ProfessionalGroup and qikg:Study" in ran.err
    assert "qikgd:clash/finding/F2 is typed both qikg:Finding and qikg:Quote" in ran.err
    assert "which the ontology declares disjoint" in ran.err
    assert "(from study graph study/clash)" in ran.err
    assert inferred_state(cli, fresh_store_path) == "absent"  # nothing was materialised


@pytest.mark.slow
def test_a_clash_without_disjoint_types_is_narrowed_by_retesting(built_store, tmp_path):
    """An outcome coded as a barrier breaks qikg:hasBarrier's union range: HermiT re-runs on
    ever smaller data until one triple is left."""
    with open_store(str(tmp_path / "small")) as store:
        store.replace_graphs(
            {
                str(ONTOLOGY_GRAPH): built_store.dump("nt", str(ONTOLOGY_GRAPH)).decode(),
                study_graph("ranged"): turtle_as_ntriples(FIXTURES / "range-clash.ttl"),
            }
        )
        result = check(store)
    assert not result.consistent
    assert result.clashes == [
        "these triples cannot all hold with the ontology: "
        "qikgd:ranged/finding/F1 qikg:hasBarrier qikg:Engagement (from study graph study/ranged)"
    ]


def test_queries_with_and_without_inference_differ(cli, fresh_store_path):
    ran = cli("reason", "--skip-check", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert "inferred:" in ran.out
    with open_store(fresh_store_path) as store:
        findings = count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?f a qikg:Finding }")
        assert count(store, FINDINGS_AS_ENTITIES, include_inferred=False) == 0
        assert count(store, FINDINGS_AS_ENTITIES) == findings
        assert count(store, CODED_WITH_CFIR, include_inferred=False) == 0
        assert count(store, CODED_WITH_CFIR) > 0
        in_graph = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}"
        assert count(store, in_graph) == store.graph_sizes()[str(INFERRED_GRAPH)]
    query = "SELECT ?s WHERE { ?s qikg:reports ?f } LIMIT 1"
    assert "qikgd:" in cli("query", query, store=fresh_store_path).out
    assert "qikgd:" not in cli("query", "--no-inferred", query, store=fresh_store_path).out


def test_materialisation_is_idempotent_and_holds_only_new_triples(fresh_store_path):
    with open_store(fresh_store_path) as store:
        first = materialise(store)
        graph = store.dump("nt", str(INFERRED_GRAPH))
        second = materialise(store)
        assert second.triples == first.triples > 0
        assert store.dump("nt", str(INFERRED_GRAPH)) == graph
        copies = f"""ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }}
            GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{INFERRED_GRAPH}>) }}"""
        assert store.query(copies).boolean is False


def test_cfir_alignment_and_stale_flag_follow_imports(cli, fresh_store_path):
    """A finding coded with the barrier "lack of time" (skos:broadMatch cfir:AvailableResources)
    is coded with that construct and its domain once inferred; an import of a new study keeps
    the inferred graph current, a replacing import marks it stale."""
    sheet = str(FIXTURES / "lack-of-time")
    resources = """SELECT (COUNT(*) AS ?n) WHERE {
        qikgd:reasonfixture2025\\/finding\\/F1 qikg:codedWith cfir:AvailableResources , cfir:InnerSetting }"""
    assert cli("reason", "--skip-check", store=fresh_store_path).exit_code == 0
    assert inferred_state(cli, fresh_store_path) == "current"
    assert cli("import", sheet, store=fresh_store_path).exit_code == 0
    assert inferred_state(cli, fresh_store_path) == "current"
    with open_store(fresh_store_path) as store:
        assert count(store, resources, include_inferred=False) == 0
        assert count(store, resources) == 1
        kept = set(store.dump("nt", str(INFERRED_GRAPH)).decode().splitlines())
        assert kept == infer(store)  # the incremental update equals a full materialisation
    assert cli("import", "--replace", sheet, store=fresh_store_path).exit_code == 0
    assert inferred_state(cli, fresh_store_path) == "stale"
    assert cli("reason", "--skip-check", store=fresh_store_path).exit_code == 0
    assert inferred_state(cli, fresh_store_path) == "current"
    assert cli("build", store=fresh_store_path).exit_code == 0
    assert inferred_state(cli, fresh_store_path) == "stale"


@pytest.mark.slow
def test_the_sparql_engine_matches_owlrl_and_hermit_on_the_bundled_graph(built_store):
    """The default engine's rules give exactly what owlrl's OWL 2 RL closure gives, cut down to
    the materialised profile, and the class memberships HermiT's realisation gives (the CFIR
    rule comes from one query for all)."""
    expected = infer(built_store, "sparql")
    assert infer(built_store, "owlrl") == expected
    assert infer(built_store, "hermit") == expected


def test_usage_errors_exit_2(cli, built_store_path):
    for engine in ("pellet", "reasonable"):  # reasonable 0.4.4 answered wrongly: removed
        ran = cli("reason", "--engine", engine, store=built_store_path)
        assert ran.exit_code == 2 and engine in ran.err
    ran = cli("reason", "--check-only", "--skip-check", store=built_store_path)
    assert ran.exit_code == 2 and "nothing to do" in ran.err


@pytest.mark.slow
def test_hermit_out_of_memory_is_one_line_that_says_what_to_do(
    cli, fresh_store_path, tmp_path, monkeypatch
):
    need("java", "Java 17, which HermiT runs on (default-jre-headless)")
    studies, findings = many_studies(40, 25)
    sheet = write_sheet(tmp_path / "many.zip", studies=studies, findings=findings)
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    with open_store(fresh_store_path) as store:
        before = store.graph_sizes()
    monkeypatch.setenv("QIKG_JAVA_MEMORY_MB", "16")
    ran = cli("reason", store=fresh_store_path)
    assert ran.exit_code != 0
    assert "HermiT ran out of memory (a Java heap of 16 MB)" in ran.err
    assert "QIKG_JAVA_MEMORY_MB" in ran.err and "Traceback" not in ran.err
    monkeypatch.setenv("QIKG_JAVA_MEMORY_MB", "lots")
    ran = cli("reason", store=fresh_store_path)
    assert "QIKG_JAVA_MEMORY_MB=lots is not a number of MB" in ran.err
    with open_store(fresh_store_path) as store:
        assert store.graph_sizes() == before  # nothing inferred, nothing written


@pytest.mark.parametrize("engine", ["sparql", "owlrl"])
def test_inferences_break_none_of_the_ontology_checks(cli, fresh_store_path, engine):
    """After `qikg reason`, every check in ontology/checks/ returns nothing on the default graph
    (ontology, bundled data and the inferred graph): no skos:broader across schemes, no type
    for an IRI qikg does not describe."""
    from kg.resources import ontology_dir

    ran = cli("reason", "--engine", engine, store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    checks = sorted((ontology_dir() / "checks").glob("*-violation.rq"))
    assert checks
    with open_store(fresh_store_path) as store:
        inferred = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{INFERRED_GRAPH}> {{ ?s ?p ?o }} }}"
        assert count(store, inferred) > 0
        for path in checks:
            rows = store.query(path.read_text(encoding="utf-8")).values()
            assert rows == [], f"{path.name}: {rows[:3]}"
