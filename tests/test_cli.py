"""Every CLI verb of the foundation, with its error paths: one clear line, the right exit code."""

import importlib
import json
import pkgutil
import subprocess
import sys

import pytest

import kg.cli
from kg.build import bundled_studies
from kg.cli import VERBS, module_commands

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def triples(cli, store):
    return json.loads(cli("stats", "--json", store=store).out)["triples"]


def test_stats_json_has_the_documented_keys(cli, built_store_path):
    ran = cli("stats", "--json", store=built_store_path)
    assert ran.exit_code == 0, ran.err
    numbers = json.loads(ran.out)
    assert {"triples", "graphs", "studies", "findings", "concepts"} <= set(numbers)
    assert numbers["studies"] >= 11 and numbers["findings"] >= 40
    assert "ontology" in numbers["graphs"] and "study/carstensen2024" in numbers["graphs"]
    assert numbers["triples"] == sum(numbers["graphs"].values())


def test_stats_text(cli, built_store_path):
    ran = cli("stats", store=built_store_path)
    assert ran.exit_code == 0 and "findings" in ran.out and "study/carstensen2024" in ran.out


def test_build_is_idempotent(cli, fresh_store_path):
    before = json.loads(cli("stats", "--json", store=fresh_store_path).out)
    ran = cli("build", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    after = json.loads(cli("stats", "--json", store=fresh_store_path).out)
    assert after["graphs"] == before["graphs"]


def test_first_use_builds_the_store(cli, tmp_path):
    ran = cli("stats", "--json", store=str(tmp_path / "new"))
    assert ran.exit_code == 0, ran.err
    assert "building it" in ran.err
    assert json.loads(ran.out)["findings"] >= 40


def test_build_fresh_drops_imported_graphs(cli, fresh_store_path, tmp_path):
    from kg.store import open_store

    with open_store(fresh_store_path) as store:
        store.replace_graphs(
            {"https://w3id.org/qikg/graph/study/extra": "<urn:a> <urn:b> <urn:c> .\n"}
        )
    assert cli("build", store=fresh_store_path).exit_code == 0
    assert "study/extra" in json.loads(cli("stats", "--json", store=fresh_store_path).out)["graphs"]
    assert cli("build", "--fresh", store=fresh_store_path).exit_code == 0
    assert (
        "study/extra"
        not in json.loads(cli("stats", "--json", store=fresh_store_path).out)["graphs"]
    )


def test_query_json_is_the_sparql_results_format(cli, built_store_path):
    ran = cli("query", COUNT, "--format", "json", store=built_store_path)
    assert ran.exit_code == 0, ran.err
    doc = json.loads(ran.out)
    assert doc["head"]["vars"] == ["n"]
    assert int(doc["results"]["bindings"][0]["n"]["value"]) > 1000


@pytest.mark.parametrize("fmt,marker", [("csv", "n\r\n"), ("tsv", "?n\n")])
def test_query_csv_and_tsv(cli, built_store_path, fmt, marker):
    ran = cli("query", COUNT, "--format", fmt, store=built_store_path)
    assert ran.exit_code == 0 and ran.out.startswith(marker)


def test_query_table_shows_labels_beside_iris(cli, built_store_path):
    ran = cli(
        "query",
        "SELECT ?s WHERE { VALUES ?s { qikgd:carstensen2022 qikgd:carstensen2023 qikgd:carstensen2024 } }",
        store=built_store_path,
    )
    assert ran.exit_code == 0, ran.err
    assert "qikgd:carstensen2022 (The Danish health care quality" in ran.out
    assert "(3 rows" in ran.out


def test_a_long_one_line_query_is_a_query_not_a_file_name(cli, built_store_path):
    long = 'ASK { ?s ?p ?o FILTER(STR(?o) = "' + "x" * 400 + '") }'
    ran = cli("query", long, "--format", "json", store=built_store_path)
    assert ran.exit_code == 0 and json.loads(ran.out)["boolean"] is False


def test_query_from_a_file(cli, built_store_path, tmp_path):
    file = tmp_path / "q.rq"
    file.write_text("# how many findings?\nSELECT (COUNT(?f) AS ?n) WHERE { ?f a qikg:Finding }")
    ran = cli("query", str(file), "--format", "csv", store=built_store_path)
    assert ran.exit_code == 0 and int(ran.out.split()[1]) >= 40


def test_query_construct_as_turtle(cli, built_store_path):
    ran = cli(
        "query", "CONSTRUCT WHERE { ?s a qikg:Study }", "--format", "ttl", store=built_store_path
    )
    assert ran.exit_code == 0 and "qikg:Study" in ran.out


def test_query_ask(cli, built_store_path):
    assert cli("query", "ASK { ?s a qikg:Finding }", store=built_store_path).out.strip() == "yes"


def test_update_is_refused_with_exit_2_and_nothing_changes(cli, fresh_store_path):
    before = triples(cli, fresh_store_path)
    ran = cli("query", "INSERT DATA { <urn:a> <urn:b> <urn:c> }", store=fresh_store_path)
    assert ran.exit_code == 2
    assert "read-only" in ran.err and "Traceback" not in ran.err
    assert len(ran.err.strip().splitlines()) == 1
    assert triples(cli, fresh_store_path) == before


def test_bad_sparql_names_line_and_column(cli, built_store_path):
    ran = cli("query", "SELECT ?s\nWHERE { ?s ?p }", store=built_store_path)
    assert ran.exit_code == 2
    assert "line 2, column" in ran.err and "Traceback" not in ran.err


def test_query_timeout(cli, built_store_path):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    ran = cli("query", slow, "--timeout", "0.5", store=built_store_path)
    assert ran.exit_code == 1 and "time limit" in ran.err


def test_query_limit_warns_when_rows_are_cut(cli, built_store_path):
    ran = cli(
        "query",
        "SELECT ?s WHERE { ?s ?p ?o }",
        "--limit",
        "5",
        "--format",
        "csv",
        store=built_store_path,
    )
    assert ran.exit_code == 0 and len(ran.out.strip().splitlines()) == 6
    assert "first 5 rows" in ran.err


def test_unknown_format_is_a_usage_error(cli, built_store_path):
    ran = cli("query", COUNT, "--format", "yaml", store=built_store_path)
    assert ran.exit_code == 2 and "yaml" in ran.err


def test_missing_query_file_reads_as_text_and_fails_clearly(cli, built_store_path):
    ran = cli("query", "no-such-file.rq", store=built_store_path)
    assert ran.exit_code == 2 and "no-such-file.rq" in ran.err and "Traceback" not in ran.err


@pytest.mark.parametrize(
    "fmt,check",
    [
        ("trig", lambda text: "GRAPH" in text or "{" in text),
        ("nq", lambda text: "<https://w3id.org/qikg/graph/ontology>" in text),
        ("ttl", lambda text: "@prefix" in text),
        ("jsonld", lambda text: text.lstrip().startswith(("[", "{"))),
    ],
)
def test_export_formats(cli, built_store_path, tmp_path, fmt, check):
    out = tmp_path / f"all.{fmt}"
    ran = cli("export", "--format", fmt, "-o", str(out), store=built_store_path)
    assert ran.exit_code == 0, ran.err
    assert check(out.read_text())


def test_export_one_graph_round_trips(cli, built_store_path, tmp_path):
    import rdflib

    ran = cli(
        "export", "--graph", "study/carstensen2024", "--format", "ttl", store=built_store_path
    )
    graph = rdflib.Graph().parse(data=ran.out, format="turtle")
    sizes = json.loads(cli("stats", "--json", store=built_store_path).out)["graphs"]
    assert len(graph) == sizes["study/carstensen2024"]


def test_export_unknown_graph(cli, built_store_path):
    ran = cli("export", "--graph", "study/nope", store=built_store_path)
    assert ran.exit_code == 2 and "no graph" in ran.err


def test_export_to_an_unwritable_place(cli, built_store_path, tmp_path):
    ran = cli("export", "-o", str(tmp_path / "missing" / "x.trig"), store=built_store_path)
    assert ran.exit_code == 2 and "cannot write" in ran.err


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_every_verb_has_help_with_an_example(cli, verb):
    ran = cli(verb, "--help")
    assert ran.exit_code == 0 and "Example" in ran.out


def test_every_verb_module_is_listed_with_its_verbs():
    """A verb missing from kg.cli.VERBS could not be run; a listed one must exist."""
    found = {
        command.name: info.name
        for info in pkgutil.iter_modules(kg.cli.__path__)
        for command in module_commands(importlib.import_module(f"kg.cli.{info.name}"))
    }
    assert found == VERBS


def test_query_does_not_load_the_server_or_the_validator():
    script = (
        "import sys; from kg.cli import main; "
        "sys.exit = lambda code=0: print(sorted(m for m in sys.modules if m in "
        "('fastapi', 'pyshacl', 'owlready2', 'streamlit'))); "
        "main(['query', '--help'])"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout.strip().endswith("[]"), ran.stdout


def test_unknown_verb(cli):
    ran = cli("frobnicate")
    assert ran.exit_code == 2 and "frobnicate" in ran.err


READER = """
import sys, time
from kg.store import open_store
store = open_store(sys.argv[1])
end = time.monotonic() + float(sys.argv[2])
answers = 0
while time.monotonic() < end:
    n = store.query("SELECT (COUNT(?f) AS ?n) WHERE { ?f a qikg:Finding }").values()[0]["n"]
    assert int(n) >= 41, n
    answers += 1
print(answers)
"""


def test_rebuild_and_import_while_another_process_keeps_querying(fresh_store_path, tmp_path):
    import subprocess
    import sys

    from tests.sheets import write_sheet

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, fresh_store_path, "8"], stdout=subprocess.PIPE, text=True
    )
    qikg = [sys.executable, "-m", "kg", "--store", fresh_store_path]
    build = subprocess.run([*qikg, "build"], capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    sheet = write_sheet(tmp_path / "s.xlsx")
    imported = subprocess.run(
        [*qikg, "import", str(sheet)], capture_output=True, text=True, timeout=120
    )
    assert imported.returncode == 0, imported.stderr
    out, _ = reader.communicate(timeout=60)
    assert reader.returncode == 0 and int(out) > 10
    ran = subprocess.run([*qikg, "stats", "--json"], capture_output=True, text=True, timeout=60)
    assert json.loads(ran.stdout)["studies"] == len(bundled_studies()) + 1
