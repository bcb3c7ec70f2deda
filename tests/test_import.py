"""Importing coding sheets: every column, every error path, all-or-nothing, the round trip."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import pytest
import rdflib

from kg.importer import import_path
from kg.namespaces import study_graph
from kg.sheets import FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.write import write_tables
from kg.store import open_store
from tests.sheets import FINDING, finding, many_studies, study, write_sheet


def state(path: str) -> tuple[int, str]:
    """Triple count and a checksum of the whole store: equal means nothing changed."""
    with open_store(path) as store:
        data = store.dump("nq")
    lines = sorted(line for line in data.decode().splitlines() if line.strip() and "_:" not in line)
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.mark.parametrize("form", ["sheet.xlsx", "sheet.zip", "sheetdir"])
def test_a_valid_sheet_imports_in_every_form(cli, fresh_store_path, tmp_path, form):
    path = write_sheet(tmp_path / form)
    ran = cli("import", str(path), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert "imported 1 study (newstudy2025) with 1 findings" in ran.out
    with open_store(fresh_store_path) as store:
        rows = store.query(
            """SELECT ?statement ?exact ?group ?barrier ?doi ?coder ?date WHERE {
                ?f qikg:reportedIn qikgd:newstudy2025 ; qikg:statement ?statement ;
                   qikg:concernsProfessionalGroup ?group ; qikg:hasBarrier ?barrier ;
                   prov:wasDerivedFrom|qikg:reportedIn/qikg:doi ?doi ;
                   prov:wasAttributedTo/foaf:name ?coder ; dcterms:created ?date ;
                   qikg:supportedBy/oa:hasTarget/oa:hasSelector/oa:exact ?exact }"""
        ).values()
    assert rows and rows[0] == {
        "statement": FINDING["statement"],
        "exact": FINDING["quote"],
        "group": "https://w3id.org/qikg/ontology#Nurse",
        "barrier": "https://w3id.org/qikg/ontology#LackOfTime",
        "doi": "https://doi.org/10.1234/qikg.test.1",
        "coder": "Test Coder",
        "date": "2025-03-01",
    }


def test_every_concept_column_resolves_labels_curies_and_iris(fresh_store_path, tmp_path):
    row = finding(
        professional_groups="Doctor; qikg:Nurse",
        roles="clinical champion",
        qic_components="PDSA; learning session",
        enablers="Available Resources; external support",
        barriers="https://w3id.org/qikg/ontology#LackOfTime",
        outcomes="QI competence; adoption",
        concepts="synergy; project of professionalisation",
        finding_kind="qikg:EmpiricalResult",
        outcome_direction="https://w3id.org/qikg/ontology#OutcomeMixed",
    )
    with open_store(fresh_store_path) as store:
        result = import_path(store, write_sheet(tmp_path / "s.xlsx", findings=[row]))
        coded = store.query(
            "SELECT ?p ?c WHERE { qikgd:newstudy2025\\/finding\\/F1 ?p ?c . ?c a skos:Concept }"
        ).values()
    assert result.committed and result.findings == 1
    got = {(r["p"].rsplit("#")[1], r["c"].rsplit("#")[1]) for r in coded}
    assert ("concernsProfessionalGroup", "Physician") in got
    assert ("concernsProfessionalGroup", "Nurse") in got
    assert ("hasEnabler", "AvailableResources") in got
    assert ("hasBarrier", "LackOfTime") in got
    assert ("findingKind", "EmpiricalResult") in got
    assert ("outcomeDirection", "OutcomeMixed") in got
    assert len(got) == 14
    assert not any(p == "cerqualConfidence" for p, _ in got)


def test_extra_columns_are_kept_as_notes_and_round_trip(cli, fresh_store_path, tmp_path):
    row = finding(site="Aarhus")
    path = write_sheet(tmp_path / "s", findings=[row], extra_columns=("site",))
    assert cli("import", str(path), store=fresh_store_path).exit_code == 0
    out = tmp_path / "back"
    assert (
        cli("export-sheet", "newstudy2025", "-o", str(out), store=fresh_store_path).exit_code == 0
    )
    assert "site" in (out / "findings.csv").read_text().splitlines()[0]
    assert "Aarhus" in (out / "findings.csv").read_text()


def _cells(folder):
    import csv

    out = {}
    for name in ("studies", "findings"):
        with open(folder / f"{name}.csv", encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                key = (name, row.get("finding_id") or row["study_id"])
                out[key] = {
                    k: frozenset(v.casefold().strip() for v in value.split(";"))
                    if ";" in value
                    else value.strip()
                    for k, value in row.items()
                    if value.strip()
                }
    return out


def _with_qic_id(cells: dict) -> dict:
    """The cells of a sheet without qic_id as export-sheet writes them back: with the key of each
    study's programme, the slug of its label at first import (docs/model.md, "Identifiers")."""
    from kg.text import slug

    for (name, _), row in cells.items():
        if name == "studies" and row.get("qic") and "qic_id" not in row:
            row["qic_id"] = slug(row["qic"])
    return cells


def test_round_trip_import_then_export_gives_the_same_cells(cli, fresh_store_path, tmp_path):
    rows = [
        finding(),
        finding(
            finding_id="F2",
            statement="Physicians valued the learning sessions for peer learning.",
            professional_groups="physician",
            barriers="",
            enablers="collaborative culture; peer recognition",
            quote="",
            quote_source="",
        ),
    ]
    original = write_sheet(tmp_path / "orig", findings=rows)
    assert cli("import", str(original), store=fresh_store_path).exit_code == 0
    back = tmp_path / "back"
    assert (
        cli("export-sheet", "newstudy2025", "-o", str(back), store=fresh_store_path).exit_code == 0
    )
    assert _cells(back) == _with_qic_id(_cells(original))


def test_bundled_study_round_trips(cli, built_store_path, tmp_path):
    out = tmp_path / "seed"
    assert (
        cli("export-sheet", "carstensen2024", "-o", str(out), store=built_store_path).exit_code == 0
    )
    from kg.resources import data_dir

    assert _cells(out) == _with_qic_id(_cells(data_dir() / "studies" / "carstensen2024"))


def test_export_sheet_of_an_unknown_study(cli, built_store_path, tmp_path):
    ran = cli("export-sheet", "nope", "-o", str(tmp_path / "x.xlsx"), store=built_store_path)
    assert ran.exit_code == 2 and 'no study "nope"' in ran.err


def test_reimport_needs_replace_and_replace_swaps_the_study(cli, fresh_store_path, tmp_path):
    first = write_sheet(tmp_path / "a", findings=[finding(), finding(finding_id="F2")])
    assert cli("import", str(first), store=fresh_store_path).exit_code == 0
    before = state(fresh_store_path)
    again = write_sheet(
        tmp_path / "b", findings=[finding(statement="A changed statement about nurses and time.")]
    )
    ran = cli("import", str(again), store=fresh_store_path)
    assert ran.exit_code == 1 and "--replace" in ran.err
    assert state(fresh_store_path) == before
    assert cli("import", str(again), "--replace", store=fresh_store_path).exit_code == 0
    with open_store(fresh_store_path) as store:
        statements = store.query(
            "SELECT ?s WHERE { ?f qikg:reportedIn qikgd:newstudy2025 ; qikg:statement ?s }"
        ).column("s")
    assert statements == ["A changed statement about nurses and time."]


def test_findings_for_a_study_already_in_the_graph_are_added(cli, fresh_store_path, tmp_path):
    extra = write_sheet(
        tmp_path / "x",
        studies=[],
        findings=[finding(study_id="carstensen2024", finding_id="X1", quote="", quote_source="")],
    )
    with open_store(fresh_store_path) as store:
        before = store.graph_sizes()[study_graph("carstensen2024")]
    ran = cli("import", str(extra), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    with open_store(fresh_store_path) as store:
        assert store.graph_sizes()[study_graph("carstensen2024")] > before
        assert store.query("ASK { qikgd:carstensen2024\\/finding\\/F1 a qikg:Finding }").boolean
    clash = cli("import", str(extra), store=fresh_store_path)
    assert clash.exit_code == 1 and 'finding "X1"' in clash.err


def test_dry_run_writes_nothing(cli, fresh_store_path, tmp_path):
    before = state(fresh_store_path)
    ran = cli("import", str(write_sheet(tmp_path / "s.xlsx")), "--dry-run", store=fresh_store_path)
    assert ran.exit_code == 0 and "would import" in ran.out
    assert state(fresh_store_path) == before


ERRORS = {
    "unknown label": (
        finding(finding_id="E1", professional_groups="nurces"),
        '"nurces" is not a professional group; did you mean "nurse"?',
    ),
    "label of another kind": (
        finding(finding_id="E2", professional_groups="lack of time"),
        '"lack of time" is not a professional group',
    ),
    "missing statement": (finding(finding_id="E3", statement=""), "column statement"),
    "unknown study": (
        finding(finding_id="E4", study_id="ghost2020"),
        'study "ghost2020" is neither in the studies sheet nor in the graph',
    ),
    "duplicate id": (finding(finding_id="F1"), 'finding id "F1" is used twice'),
    "bad date": (finding(finding_id="E6", coded_on="31/01/2025"), "column coded_on"),
    "bad finding kind": (
        finding(finding_id="E7", finding_kind="anecdote"),
        '"anecdote" is not a finding kind',
    ),
    "bad outcome direction": (
        finding(finding_id="E10", outcome_direction="pretty good"),
        '"pretty good" is not an outcome direction',
    ),
    "outcome without a direction": (
        finding(finding_id="E11", outcome_direction=""),
        "coded with an outcome but not with what happened to it",
    ),
    "direction without an outcome": (
        finding(finding_id="E12", outcomes="", outcome_direction="improved"),
        'the outcome direction "improved" has no outcome to go with',
    ),
    "not coded": (
        finding(
            finding_id="E8",
            professional_groups="",
            roles="",
            qic_components="",
            barriers="",
            outcomes="",
            outcome_direction="",
        ),
        "E8",
    ),
    "bad id": (finding(finding_id="F 9"), "is not a usable finding_id"),
}
STUDY_ERRORS = {
    "bad year": (study(year="twenty"), "column year"),
    "year out of range": (study(study_id="old1850", year="1850"), "column year"),
    "malformed DOI": (study(study_id="baddoi", doi="not a doi"), "column doi"),
    "DOI pattern": (study(study_id="baddoi2", doi="11.5/abc"), "column doi"),
    "missing title": (study(study_id="notitle", title=""), "column title"),
}


def test_one_report_lists_every_error_by_row_and_column_and_nothing_is_written(
    cli, fresh_store_path, tmp_path
):
    findings = [finding()] + [row for row, _ in ERRORS.values()]
    studies = [row for row, _ in STUDY_ERRORS.values()]
    path = write_sheet(tmp_path / "bad.xlsx", studies=studies, findings=findings)
    before = state(fresh_store_path)
    ran = cli("import", str(path), store=fresh_store_path)
    assert ran.exit_code == 1, ran.out
    for name, (_, expected) in {**ERRORS, **STUDY_ERRORS}.items():
        assert expected in ran.err, f"{name}: {expected!r} not in report"
    assert "row " in ran.err and "nothing was imported" in ran.err
    assert "Traceback" not in ran.err
    assert state(fresh_store_path) == before


def test_validate_reports_without_importing(cli, fresh_store_path, tmp_path):
    path = write_sheet(tmp_path / "bad", findings=[finding(professional_groups="nurces")])
    before = state(fresh_store_path)
    ran = cli("validate", str(path), store=fresh_store_path)
    assert ran.exit_code == 1
    assert ran.out.strip().splitlines()[-1].startswith("1 violation")
    assert state(fresh_store_path) == before
    doc = json.loads(cli("validate", str(path), "--format", "json", store=fresh_store_path).out)
    assert doc["conforms"] is False
    assert any("nurces" in p["message"] for p in doc["problems"])
    ttl = cli("validate", str(path), "--format", "ttl", store=fresh_store_path).out
    assert rdflib.Graph().parse(data=ttl, format="turtle")


def test_validate_a_good_sheet_exits_0(cli, built_store_path, tmp_path):
    ran = cli("validate", str(write_sheet(tmp_path / "ok.zip")), store=built_store_path)
    assert ran.exit_code == 0, ran.out
    assert "in 1 finding" in ran.out


@pytest.mark.parametrize(
    "name,content,expected",
    [
        ("empty.xlsx", b"", "not a readable .xlsx"),
        ("junk.xlsx", os.urandom(2048), "not a readable .xlsx"),
        ("junk.zip", b"PK\x03\x04" + os.urandom(100), "not a readable .zip"),
        ("notes.txt", b"hello", "not a coding sheet"),
        ("findings.csv", b"finding_id\n", "give the folder"),
    ],
)
def test_unreadable_files_are_refused_with_exit_2(
    cli, built_store_path, tmp_path, name, content, expected
):
    path = tmp_path / name
    path.write_bytes(content)
    ran = cli("import", str(path), store=built_store_path)
    assert ran.exit_code == 2 and expected in ran.err and "Traceback" not in ran.err


def test_truncated_xlsx(cli, built_store_path, tmp_path):
    good = write_sheet(tmp_path / "good.xlsx").read_bytes()
    (tmp_path / "cut.xlsx").write_bytes(good[: len(good) // 2])
    ran = cli("import", str(tmp_path / "cut.xlsx"), store=built_store_path)
    assert ran.exit_code == 2 and "xlsx" in ran.err


def test_missing_file(cli, built_store_path, tmp_path):
    ran = cli("import", str(tmp_path / "nope.xlsx"), store=built_store_path)
    assert ran.exit_code == 2 and "no such file" in ran.err


def test_wrong_sheet_names(cli, built_store_path, tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.save(tmp_path / "w.xlsx")
    ran = cli("import", str(tmp_path / "w.xlsx"), store=built_store_path)
    assert ran.exit_code == 2 and "expected sheets named 'studies' and 'findings'" in ran.err


def test_empty_sheets(cli, built_store_path, tmp_path):
    path = write_sheet(tmp_path / "empty", studies=[], findings=[])
    ran = cli("import", str(path), store=built_store_path)
    assert ran.exit_code == 1 and "holds no studies and no findings" in ran.err


def test_non_utf8_csv(cli, built_store_path, tmp_path):
    folder = write_sheet(tmp_path / "latin")
    text = (
        (folder / "findings.csv")
        .read_text(encoding="utf-8")
        .replace("Nurses", "Sygeplejersker på ø")
    )
    (folder / "findings.csv").write_bytes(text.encode("latin-1"))
    ran = cli("import", str(folder), store=built_store_path)
    assert ran.exit_code == 2 and "not UTF-8" in ran.err


def test_utf8_bom_is_accepted(cli, fresh_store_path, tmp_path):
    folder = write_sheet(tmp_path / "bom")
    for name in ("studies.csv", "findings.csv"):
        file = folder / name
        file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())
    assert cli("import", str(folder), store=fresh_store_path).exit_code == 0


def test_formula_cells_are_refused(cli, built_store_path, tmp_path):
    import openpyxl

    path = write_sheet(tmp_path / "f.xlsx")
    book = openpyxl.load_workbook(path)
    book["findings"]["C2"] = '=CONCATENATE("a","b")'
    book.save(path)
    ran = cli("import", str(path), store=built_store_path)
    assert ran.exit_code == 1 and "holds a formula" in ran.err and "column statement" in ran.err


def test_csv_injection_is_stored_as_plain_text(cli, fresh_store_path, tmp_path):
    evil = "=cmd|' /C calc'!A0 and nurses said so"
    path = write_sheet(tmp_path / "inj", findings=[finding(statement=evil, quote="+SUM(1,2)")])
    assert cli("import", str(path), store=fresh_store_path).exit_code == 0
    out = tmp_path / "back.xlsx"
    assert (
        cli("export-sheet", "newstudy2025", "-o", str(out), store=fresh_store_path).exit_code == 0
    )
    import openpyxl

    cell = openpyxl.load_workbook(out)["findings"]["C2"]
    assert cell.value == evil and cell.data_type == "s"


def test_unicode_is_kept_verbatim(cli, fresh_store_path, tmp_path):
    quote = "Sygeplejersken sagde: \u201cvi gjorde det sammen\u201d \U0001f60a — e\u0301 \u05e9\u05dc\u05d5\u05dd"
    path = write_sheet(tmp_path / "u.xlsx", findings=[finding(quote=quote)])
    assert cli("import", str(path), store=fresh_store_path).exit_code == 0
    with open_store(fresh_store_path) as store:
        got = store.query("SELECT ?q WHERE { ?s oa:exact ?q }").column("q")
    assert quote in got


def test_turtle_syntax_error_names_line_and_column(cli, built_store_path, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix qikg: <https://w3id.org/qikg/ontology#> .\n<urn:a> qikg:x "open .\n')
    ran = cli("import", str(bad), store=built_store_path)
    assert ran.exit_code == 2 and "line 2" in ran.err and "column" in ran.err


def test_an_rdf_file_imports_through_the_same_checks(cli, fresh_store_path, tmp_path):
    assert cli("import", str(write_sheet(tmp_path / "s")), store=fresh_store_path).exit_code == 0
    ttl = cli(
        "export", "--graph", "study/newstudy2025", "--format", "ttl", store=fresh_store_path
    ).out
    (tmp_path / "study.ttl").write_text(ttl)
    assert cli("import", str(tmp_path / "study.ttl"), store=fresh_store_path).exit_code == 1
    ran = cli("import", str(tmp_path / "study.ttl"), "--replace", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    broken = ttl.replace("qikg:Nurse", "qikg:LackOfTime")
    (tmp_path / "broken.ttl").write_text(broken)
    ran = cli("validate", str(tmp_path / "broken.ttl"), store=fresh_store_path)
    assert ran.exit_code == 1 and "professional group" in ran.out


def test_zip_with_path_traversal_is_refused(cli, built_store_path, tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("../../findings.csv", "finding_id,study_id,statement\n")
    ran = cli("import", str(path), store=built_store_path)
    assert ran.exit_code == 2 and "unsafe path" in ran.err


def test_zip_bomb_is_refused(cli, built_store_path, tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("findings.csv", b"0" * (600 * 1024 * 1024))
    ran = cli("import", str(path), store=built_store_path)
    assert ran.exit_code == 2 and "more than 512 MB" in ran.err


# --- large sheets: checked a few studies at a time -----------------------------------------------


def test_a_large_sheet_imports_batch_by_batch_with_a_progress_bar(cli, fresh_store_path, tmp_path):
    path = write_sheet(tmp_path / "big", *many_studies(40, 25))
    ran = cli("import", str(path), store=fresh_store_path, terminal=True)
    assert ran.exit_code == 0, ran.err
    assert "imported 40 studies (big0000, big0001," in ran.out
    assert "… 30 more) with 1000 findings" in ran.out
    assert "checking findings" in ran.err and "100%" in ran.err
    assert "writing to the graph…" in ran.err
    with open_store(fresh_store_path) as store:
        (counts,) = store.query(
            """SELECT (COUNT(DISTINCT ?s) AS ?studies) (COUNT(?f) AS ?findings) WHERE {
                ?f a qikg:Finding ; qikg:reportedIn ?s FILTER(STRSTARTS(STR(?s), STR(qikgd:big)))
            }"""
        ).values()
    assert counts == {"studies": "40", "findings": "1000"}


def test_one_violation_in_the_last_study_refuses_the_whole_sheet(
    cli, fresh_store_path, tmp_path, monkeypatch
):
    monkeypatch.setattr("kg.importer.FINDINGS_PER_BATCH", 10)
    studies, findings = many_studies(12, 5)
    findings[-1] = {**findings[-1], "coded_on": "31/01/2025"}
    path = write_sheet(tmp_path / "big", studies, findings)
    before = state(fresh_store_path)
    ran = cli("import", str(path), store=fresh_store_path)
    assert ran.exit_code == 1
    assert f"findings.csv row {len(findings) + 1}, column coded_on" in ran.err
    assert "nothing was imported: 1 violation in 60 findings" in ran.err
    assert "Traceback" not in ran.err
    assert state(fresh_store_path) == before


def test_a_missing_column_of_a_large_sheet_is_reported_once(
    cli, built_store_path, tmp_path, monkeypatch
):
    monkeypatch.setattr("kg.importer.FINDINGS_PER_BATCH", 1)
    studies, findings = many_studies(3, 2)
    columns = [c for c in FINDING_COLUMNS if c != "statement"]
    write_tables({"studies": (STUDY_COLUMNS, studies), "findings": (columns, findings)}, tmp_path)
    ran = cli("validate", str(tmp_path), store=built_store_path)
    assert ran.exit_code == 1
    assert ran.out.count("lacks the required column(s) statement") == 1


MEMORY_SCRIPT = """
import resource, sys
import kg.importer
from kg.store import open_store
kg.importer.FINDINGS_PER_BATCH = 50
report = kg.importer.check_path(open_store(sys.argv[1]), sys.argv[2])
assert report.conforms, report.to_text()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


@pytest.mark.slow
def test_validating_four_times_the_studies_takes_about_the_same_memory(fresh_store_path, tmp_path):
    peaks = []
    for studies in (8, 32):
        path = write_sheet(tmp_path / f"s{studies}", *many_studies(studies, 25))
        run = [sys.executable, "-c", MEMORY_SCRIPT, fresh_store_path, str(path)]
        peaks.append(int(subprocess.run(run, capture_output=True, text=True, check=True).stdout))
    # Validating the whole sheet at once, as qikg once did, took about 1.5 times the memory.
    assert peaks[1] / peaks[0] < 1.25, peaks


IMPORT_SCRIPT = """
import sys
from kg.store import open_store
from kg.importer import import_path
store = open_store(sys.argv[1])
commit = store.replace_graphs
def announced(*args, **kwargs):
    print("commit", flush=True)
    commit(*args, **kwargs)
store.replace_graphs = announced
import_path(store, sys.argv[2], replace=True)
print("done", flush=True)
"""


@pytest.mark.slow
def test_an_import_killed_half_way_leaves_the_store_exactly_as_it_was(fresh_store_path, tmp_path):
    rows = [
        finding(finding_id=f"K{i}", statement=f"Finding number {i} about nurses and lack of time.")
        for i in range(1500)
    ]
    path = write_sheet(tmp_path / "big", findings=rows)
    before = state(fresh_store_path)
    finished = tmp_path / "finished"
    shutil.copytree(fresh_store_path, finished)
    subprocess.run([sys.executable, "-c", IMPORT_SCRIPT, str(finished), str(path)], check=True)
    after = state(str(finished))
    assert after[0] > before[0]
    interrupted = 0
    for delay in (0.0, 0.05, 0.2, 0.5):
        proc = subprocess.Popen(
            [sys.executable, "-c", IMPORT_SCRIPT, fresh_store_path, str(path)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout.readline().strip() == "commit"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        now = state(fresh_store_path)
        if now != before:
            # The kill came after the commit: then all of the import is there.
            assert now == after
            break
        interrupted += 1
    assert interrupted, "every import had committed before it could be killed"


def test_one_run_names_every_problem_once_each_under_its_study_or_finding(
    cli, fresh_store_path, tmp_path
):
    """Eight planted errors, one on a duplicate row: all eight in one report, none contradicted
    by a second message about the same cell, study problems under their study."""
    rows = [
        finding(finding_id="F1", professional_groups="nurces"),
        finding(finding_id="F2", outcome_direction="very sure"),
        finding(finding_id="F3", coded_on="2026-13-45"),
        finding(finding_id="F1", coded_on="2025-02-30"),  # a duplicate row with its own error
        finding(finding_id="F4", study_id="nosuch2025"),
    ]
    sheet = write_sheet(tmp_path / "eight.zip", [study(doi="10.1234/ab c", year="20x5")], rows)
    before = state(fresh_store_path)
    ran = cli("validate", str(sheet), "--format", "json", store=fresh_store_path)
    assert ran.exit_code == 1
    problems = json.loads(ran.out)["problems"]
    violations = [p for p in problems if p["severity"] == "violation"]
    where = sorted((p["source"], p.get("study"), p.get("finding")) for p in violations)
    assert where == sorted(
        [
            ("findings.csv row 2, column professional_groups", "newstudy2025", "newstudy2025/F1"),
            ("findings.csv row 3, column outcome_direction", "newstudy2025", "newstudy2025/F2"),
            ("findings.csv row 4, column coded_on", "newstudy2025", "newstudy2025/F3"),
            ("findings.csv row 5, column finding_id", "newstudy2025", "newstudy2025/F1"),
            ("findings.csv row 5, column coded_on", "newstudy2025", "newstudy2025/F1"),
            ("findings.csv row 6, column study_id", "nosuch2025", "nosuch2025/F4"),
            ("studies.csv row 2, column doi", "newstudy2025", None),
            ("studies.csv row 2, column year", "newstudy2025", None),
        ]
    )
    messages = " ".join(p["message"] for p in problems)
    assert "has no DOI" not in messages
    f2 = [p["message"] for p in problems if p.get("finding") == "newstudy2025/F2"]
    assert f2 and not any("not with what happened to it" in m for m in f2)
    refused = cli("import", str(sheet), store=fresh_store_path)
    assert refused.exit_code == 1 and "8 violations" in refused.err + refused.out
    assert state(fresh_store_path) == before


def test_replace_says_what_it_changes_before_and_when_it_does(cli, fresh_store_path, tmp_path):
    first = [
        finding(finding_id="F1"),
        finding(finding_id="F2", quote="An old quote we used to hold."),
        finding(finding_id="F3"),
    ]
    ran = cli(
        "import", str(write_sheet(tmp_path / "v1.zip", [study()], first)), store=fresh_store_path
    )
    assert ran.exit_code == 0, ran.err
    second = [
        finding(finding_id="F1", statement="Nurses said the time for improvement work was cut."),
        finding(finding_id="F2", quote="A new quote in its place."),
        finding(finding_id="F4"),
    ]
    sheet = write_sheet(tmp_path / "v2.zip", [study()], second)
    before = state(fresh_store_path)
    preview = cli("import", str(sheet), "--replace", "--dry-run", store=fresh_store_path)
    assert preview.exit_code == 0, preview.err
    expected = (
        "study newstudy2025: 1 finding added (F4); 1 finding removed (F3); 2 findings changed "
        "(F1: statement; F2: quote); 1 quote added; 1 quote removed"
    )
    assert expected in preview.out
    assert state(fresh_store_path) == before
    done = cli("import", str(sheet), "--replace", store=fresh_store_path)
    assert done.exit_code == 0 and expected in done.out


def test_a_semicolon_separated_csv_imports_as_excel_writes_it_in_europe(
    cli, fresh_store_path, tmp_path
):
    folder = tmp_path / "semicolons"
    write_sheet(folder, [study()], [finding(quote="Tid; det havde vi ikke, sagde hun.")])
    for name in ("studies.csv", "findings.csv"):
        rows = list(csv.reader((folder / name).open(encoding="utf-8-sig", newline="")))
        with (folder / name).open("w", encoding="utf-8-sig", newline="") as out:
            csv.writer(out, delimiter=";").writerows(rows)
    assert ";" in (folder / "findings.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    ran = cli("import", str(folder), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    with open_store(fresh_store_path) as store:
        quotes = store.query("SELECT ?q WHERE { ?s oa:exact ?q }").column("q")
    assert "Tid; det havde vi ikke, sagde hun." in quotes


def test_labels_separated_by_commas_get_told_to_use_semicolons(cli, fresh_store_path, tmp_path):
    sheet = write_sheet(
        tmp_path / "c.zip", [study()], [finding(professional_groups="physician, nurse")]
    )
    ran = cli("validate", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert 'separate labels with ";" ("physician; nurse")' in ran.out + ran.err
    assert "did you mean" not in ran.out + ran.err


def test_an_rdf_file_with_a_triple_term_is_refused_with_a_message(cli, fresh_store_path, tmp_path):
    """RDF 1.2 triple terms parse (pyoxigraph) but cannot be stored as qikg data: one line, exit
    2, nothing written (it crashed with AttributeError)."""
    star = tmp_path / "star.nq"
    star.write_text(
        "<urn:a> <urn:says> <<( <urn:s> <urn:p> <urn:o> )>> "
        "<https://w3id.org/qikg/graph/study/star> .\n"
    )
    before = state(fresh_store_path)
    ran = cli("import", str(star), store=fresh_store_path)
    assert ran.exit_code == 2, ran.err
    assert "triple terms (RDF 1.2, RDF-star) cannot be imported" in ran.err
    assert "Traceback" not in ran.err
    assert state(fresh_store_path) == before


def test_source_texts_in_a_sheet_of_many_batches_are_each_read_with_their_study(
    cli, fresh_store_path, tmp_path
):
    """A folder sheet with a source text per study, over several batches of findings: no batch
    takes the other batches' texts for texts without a study; a text whose study is nowhere in
    the sheet is refused once."""
    studies, findings = many_studies(12, 25)  # 300 findings: more than one batch
    for row in findings:
        row["quote"] = ""
    sheet = write_sheet(tmp_path / "sheet", studies, findings)
    (sheet / "sources").mkdir()
    for row in studies:
        (sheet / "sources" / f"{row['study_id']}.txt").write_text("The text.", encoding="utf-8")
    ran = cli("validate", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 0, ran.out + ran.err
    (sheet / "sources" / "nowhere2020.txt").write_text("A text.", encoding="utf-8")
    ran = cli("validate", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    said = ran.out + ran.err
    assert said.count("sources/nowhere2020.txt is the source text of a study that is not") == 1
    assert "big0000.txt is the source text" not in said
