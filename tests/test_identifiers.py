"""Identifiers that survive relabelling (issue #20, docs/model.md "Identifiers"): a programme's
IRI comes from the studies sheet's qic_id, or at first import from its label's slug, and a
corrected label never changes it; a finding's IRI comes from its finding_id, whatever its
statement or codes say."""

from __future__ import annotations

import csv
from pathlib import Path

from kg.store import open_store
from tests.sheets import finding, study, write_sheet

SID = "newstudy2025"
PROGRAMME = "https://w3id.org/qikg/data/programme/"


def _programmes(store_path: str, sid: str = SID) -> list[tuple[str, str]]:
    """The (IRI, label) of the programme a study evaluates, one row per label."""
    with open_store(store_path) as store:
        rows = store.query(
            f"""SELECT ?p ?l WHERE {{ qikgd:{sid} qikg:evaluatesProgramme ?p .
                OPTIONAL {{ ?p rdfs:label ?l }} }} ORDER BY ?l""",
            include_inferred=False,
        ).values()
    return [(r["p"] or "", r["l"] or "") for r in rows]


def _import(cli, store_path: str, sheet: Path, *args: str):
    return cli("import", str(sheet), *args, store=store_path)


def test_a_corrected_label_with_qic_id_keeps_the_programme_iri(
    cli, fresh_store_path: str, tmp_path: Path
) -> None:
    first = write_sheet(tmp_path / "first", [study(qic="Learnig Collaborative", qic_id="lc1")])
    ran = _import(cli, fresh_store_path, first)
    assert ran.exit_code == 0, ran.err
    assert _programmes(fresh_store_path) == [(PROGRAMME + "lc1", "Learnig Collaborative")]
    fixed = write_sheet(tmp_path / "fixed", [study(qic="Learning Collaborative", qic_id="lc1")])
    ran = _import(cli, fresh_store_path, fixed, "--replace")
    assert ran.exit_code == 0, ran.err
    assert {iri for iri, _ in _programmes(fresh_store_path)} == {PROGRAMME + "lc1"}
    assert "Learning Collaborative" in {label for _, label in _programmes(fresh_store_path)}


def test_a_corrected_label_replaces_the_old_one(cli, fresh_store_path: str, tmp_path: Path) -> None:
    first = write_sheet(tmp_path / "first", [study(qic="Learnig Collaborative", qic_id="lc1")])
    assert _import(cli, fresh_store_path, first).exit_code == 0
    fixed = write_sheet(tmp_path / "fixed", [study(qic="Learning Collaborative", qic_id="lc1")])
    assert _import(cli, fresh_store_path, fixed, "--replace").exit_code == 0
    assert _programmes(fresh_store_path) == [(PROGRAMME + "lc1", "Learning Collaborative")]


def test_without_qic_id_the_iri_is_the_labels_slug_and_qic_id_can_keep_it(
    cli, fresh_store_path: str, tmp_path: Path
) -> None:
    first = write_sheet(tmp_path / "first", [study(qic="Better Care Programme", qic_id="")])
    assert _import(cli, fresh_store_path, first).exit_code == 0
    key = "better-care-programme"
    assert _programmes(fresh_store_path) == [(PROGRAMME + key, "Better Care Programme")]
    # correcting the label alone would mint a new IRI; the old slug as qic_id keeps the old one
    fixed = write_sheet(tmp_path / "fixed", [study(qic="Better-Care Programme 2", qic_id=key)])
    ran = _import(cli, fresh_store_path, fixed, "--replace")
    assert ran.exit_code == 0, ran.err
    assert {iri for iri, _ in _programmes(fresh_store_path)} == {PROGRAMME + key}


def test_export_sheet_writes_qic_id_and_importing_it_back_keeps_the_iri(
    cli, fresh_store_path: str, tmp_path: Path
) -> None:
    sheet = write_sheet(tmp_path / "in", [study(qic="Quality Teams (QT)", qic_id="")])
    assert _import(cli, fresh_store_path, sheet).exit_code == 0
    (before,) = _programmes(fresh_store_path)
    out = tmp_path / "out"
    ran = cli("export-sheet", SID, "-o", str(out), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    with (out / "studies.csv").open(encoding="utf-8", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["qic"] == "Quality Teams (QT)" and row["qic_id"] == "quality-teams-qt"
    # the researcher corrects the label in the exported sheet: the IRI stays
    row["qic"] = "Quality Teams"
    with (out / "studies.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    ran = _import(cli, fresh_store_path, out, "--replace")
    assert ran.exit_code == 0, ran.err
    assert {iri for iri, _ in _programmes(fresh_store_path)} == {before[0]}
    # and a second export round-trips the key unchanged
    again = tmp_path / "again"
    assert cli("export-sheet", SID, "-o", str(again), store=fresh_store_path).exit_code == 0
    with (again / "studies.csv").open(encoding="utf-8", newline="") as f:
        assert [r["qic_id"] for r in csv.DictReader(f)] == ["quality-teams-qt"]


def test_the_bundled_studies_export_their_programmes_key(cli, built_store_path, tmp_path) -> None:
    out = tmp_path / "out"
    ran = cli("export-sheet", "carstensen2024", "-o", str(out), store=built_store_path)
    assert ran.exit_code == 0, ran.err
    with (out / "studies.csv").open(encoding="utf-8", newline="") as f:
        (row,) = list(csv.DictReader(f))
    ((iri, _),) = _programmes(built_store_path, "carstensen2024")
    assert row["qic"] and iri == PROGRAMME + row["qic_id"]


def test_a_bad_qic_id_is_refused_and_nothing_is_written(
    cli, fresh_store_path: str, tmp_path: Path
) -> None:
    for n, (cells, message) in enumerate(
        [
            ({"qic": "A programme", "qic_id": "not a key"}, "not a usable qic_id"),
            ({"qic": "", "qic_id": "p1"}, "give its name in qic too"),
        ]
    ):
        sheet = write_sheet(tmp_path / f"bad{n}", [study(**cells)])
        ran = _import(cli, fresh_store_path, sheet)
        assert ran.exit_code != 0 and message in ran.out + ran.err, ran.out + ran.err
        assert _programmes(fresh_store_path) == []
        with open_store(fresh_store_path) as store:
            assert store.query(f"ASK {{ qikgd:{SID} ?p ?o }}").boolean is False


def test_one_qic_id_with_two_names_in_a_sheet_is_refused(
    cli, fresh_store_path: str, tmp_path: Path
) -> None:
    sheet = write_sheet(
        tmp_path / "two",
        [
            study(qic="Name one", qic_id="p1"),
            study(study_id="other2025", qic="Name two", qic_id="p1"),
        ],
        [finding(), finding(study_id="other2025")],
    )
    ran = _import(cli, fresh_store_path, sheet)
    assert ran.exit_code != 0 and "a programme has one name" in ran.out + ran.err
    assert _programmes(fresh_store_path) == [] and _programmes(fresh_store_path, "other2025") == []


def test_a_finding_keeps_its_iri_when_its_statement_and_codes_change(
    cli, fresh_store_path: str, tmp_path: Path
) -> None:
    iri = f"https://w3id.org/qikg/data/{SID}/finding/F1"
    first = write_sheet(tmp_path / "first")
    assert _import(cli, fresh_store_path, first).exit_code == 0
    recoded = finding(statement="Nurses said time was short.", barriers="", outcomes="")
    recoded["outcome_direction"] = ""
    sheet = write_sheet(tmp_path / "recoded", findings=[recoded])
    ran = _import(cli, fresh_store_path, sheet, "--replace")
    assert ran.exit_code == 0, ran.out + ran.err
    with open_store(fresh_store_path) as store:
        rows = store.query(
            f"SELECT ?f ?s WHERE {{ ?f qikg:reportedIn qikgd:{SID} ; qikg:statement ?s }}",
            include_inferred=False,
        ).values()
    assert [(r["f"], r["s"]) for r in rows] == [(iri, "Nurses said time was short.")]
