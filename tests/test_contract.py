"""The coding-sheet contract 0.3 (docs/coding-sheet.md): what a sheet of an older contract is
told and stored as, the finding kind and outcome direction, study designs, coder ORCID iDs,
and source texts that quotes are anchored in, character for character."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import rdflib
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS

from kg.namespaces import DATA, OA, QIKG, SHARED_GRAPH, study_graph
from kg.sheets import CONTRACT, FINDING_COLUMNS, STUDY_COLUMNS
from kg.sheets.write import write_tables
from kg.store import open_store
from tests.sheets import FINDING, STUDY, finding, study, write_sheet

SID = STUDY["study_id"]
F1 = DATA[f"{SID}/finding/F1"]
#: The source text's IRI: apart from the sources of a REFI-QDA project (qikgd:{sid}/source/...).
SOURCE = DATA[f"{SID}/source-text"]
#: (named apart: pytest's collection trips over rdflib's closed XSD namespace)
XSD_INTEGER = URIRef("http://www.w3.org/2001/XMLSchema#integer")
XSD_NON_NEGATIVE = URIRef("http://www.w3.org/2001/XMLSchema#nonNegativeInteger")

#: The columns of the coding sheet of qikg 0.2, the contract before this one.
STUDY_COLUMNS_02 = [
    "study_id",
    "title",
    "authors",
    "year",
    "doi",
    "journal",
    "country",
    "design",
    "qic",
    "clinical_area",
    "participants",
    "sample_size",
]
FINDING_COLUMNS_02 = [
    "finding_id",
    "study_id",
    "statement",
    "theme",
    "professional_groups",
    "roles",
    "qic_components",
    "enablers",
    "barriers",
    "outcomes",
    "concepts",
    "quote",
    "quote_source",
    "confidence",
    "coder",
    "coded_on",
]
#: A study row as qikg 0.2 took it: the design in the authors' words.
STUDY_02 = {
    **{c: v for c, v in STUDY.items() if c in STUDY_COLUMNS_02},
    "design": "Qualitative interview study",
}

#: The text the test study was coded from, with the quote of FINDING in it: non-ASCII text and
#: an emoji before it (offsets count code points), more than 32 characters either side.
QUOTE = FINDING["quote"]
TEXT = (
    "Resultater / Results\n"
    "Åse, a nurse 👩\u200d⚕️, said about the collaborative: \u201c"
    + QUOTE
    + "\u201d She added that the team met once a month, when the ward allowed it.\n"
)
URL = "https://example.org/articles/newstudy2025"
LICENCE = "CC BY 4.0"


def test_the_contract_is_version_0_3_and_its_columns_are_the_ones_tested_here():
    assert CONTRACT == "0.3"
    assert "confidence" not in FINDING_COLUMNS
    new = {"finding_kind", "outcome_direction", "coder_orcid"}
    assert new <= set(FINDING_COLUMNS)
    assert set(FINDING_COLUMNS) - set(FINDING_COLUMNS_02) == new
    assert set(STUDY_COLUMNS) - set(STUDY_COLUMNS_02) == {
        "design_note",
        "qic_id",
        "source_url",
        "source_licence",
    }
    assert FINDING_COLUMNS.index("outcome_direction") == FINDING_COLUMNS.index("outcomes") + 1


# --- helpers -------------------------------------------------------------------------------------


def state(path: str) -> tuple[int, str]:
    """Triple count and a checksum of the whole store: equal means nothing changed."""
    with open_store(path) as store:
        lines = sorted(
            line
            for line in store.dump("nq").decode().splitlines()
            if line.strip() and "_:" not in line
        )
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


def study_data(path: str, sid: str = SID) -> rdflib.Graph:
    """The study's graph as stored."""
    with open_store(path) as store:
        data = store.dump("nt", str(study_graph(sid)))
    return rdflib.Graph().parse(data=data.decode(), format="nt")


def shared_data(path: str) -> rdflib.Graph:
    """The shared graph as stored (where coders are described, once for all their findings)."""
    with open_store(path) as store:
        data = store.dump("nt", str(SHARED_GRAPH))
    return rdflib.Graph().parse(data=data.decode(), format="nt")


def problems(cli, sheet: Path, store: str, *extra: str) -> tuple[int, list[dict]]:
    """``qikg validate --format json``: its exit code and the problems it lists."""
    ran = cli("validate", str(sheet), "--format", "json", *extra, store=store)
    assert "Traceback" not in ran.err, ran.err
    return ran.exit_code, json.loads(ran.out)["problems"]


def with_words(found: list[dict], *words: str, severity: str | None = None) -> list[dict]:
    """The problems whose message has all ``words`` (and the severity, if given)."""
    return [
        p
        for p in found
        if all(w in p["message"] for w in words) and severity in (None, p["severity"])
    ]


def old_sheet(path: Path, findings: list[dict[str, str]], studies: list[dict[str, str]]) -> Path:
    """A coding sheet with the columns of qikg 0.2 (no finding_kind, outcome_direction, ...)."""
    write_tables(
        {"studies": (STUDY_COLUMNS_02, studies), "findings": (FINDING_COLUMNS_02, findings)}, path
    )
    return path


def old_finding(**changes: str) -> dict[str, str]:
    """The example finding as a qikg 0.2 sheet had it."""
    row = {c: v for c, v in FINDING.items() if c in FINDING_COLUMNS_02}
    return {**row, **changes}


def sourced_sheet(
    path: Path, text: str = TEXT, findings: list[dict[str, str]] | None = None
) -> Path:
    """A folder coding sheet that carries the study's source text in sources/{study_id}.txt."""
    rows = [finding()] if findings is None else findings
    write_tables(
        {
            "studies": (STUDY_COLUMNS, [study(source_url=URL, source_licence=LICENCE)]),
            "findings": (FINDING_COLUMNS, rows),
        },
        path,
        {SID: text},
    )
    return path


# --- a sheet of the older contract ---------------------------------------------------------------


def test_an_old_contract_sheet_imports_with_one_warning_per_retired_or_missing_column(
    cli, fresh_store_path, tmp_path
):
    sheet = old_sheet(
        tmp_path / "old",
        [
            old_finding(confidence="moderate"),
            old_finding(finding_id="F2", confidence="low"),
            old_finding(finding_id="F3", outcomes=""),
        ],
        [STUDY_02],
    )
    code, found = problems(cli, sheet, fresh_store_path)
    assert code == 0, found
    assert not [p for p in found if p["severity"] == "violation"], found

    retired = [p for p in found if p["source"] == "findings.csv row 1, column confidence"]
    assert len(retired) == 1, found
    assert retired[0]["severity"] == "warning"
    for words in (
        "confidence column is no longer read",
        "review findings",
        "reviews sheet",
        "delete the column",
        "2 value(s) not imported, rows 2, 3",
    ):
        assert words in retired[0]["message"], retired[0]["message"]

    direction = with_words(found, "no outcome_direction column", severity="warning")
    assert len(direction) == 1, found
    for words in ("2 finding(s) with outcomes", '"not stated"', "add the column"):
        assert words in direction[0]["message"], direction[0]["message"]
    kind = with_words(found, "no finding_kind column", severity="warning")
    assert len(kind) == 1, found
    for words in ("3 finding(s)", "without a kind", "add the column"):
        assert words in kind[0]["message"], kind[0]["message"]
    # said once for the sheet, not once more for each finding by the shapes
    assert with_words(found, "Say what kind of finding this is") == []
    assert with_words(found, "not with what happened to it") == []

    design = [p for p in found if p["source"] == "studies.csv row 2, column design"]
    assert len(design) == 1 and design[0]["severity"] == "warning", found
    for words in ('"Qualitative interview study"', "kept as the design", "design_note"):
        assert words in design[0]["message"], design[0]["message"]
    assert with_words(found, "Say what design this study has") == []

    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert "imported 1 study (newstudy2025) with 3 findings" in ran.out
    assert ran.err.count("confidence column is no longer read") == 1, ran.err
    assert ran.err.count("no outcome_direction column") == 1, ran.err
    assert ran.err.count("no finding_kind column") == 1, ran.err

    g = study_data(fresh_store_path)
    s = DATA[SID]
    assert set(g.objects(s, QIKG.studyDesign)) == {Literal("Qualitative interview study")}
    assert set(g.objects(s, QIKG.hasStudyDesign)) == set()
    for fid in ("F1", "F2"):
        assert set(g.objects(DATA[f"{SID}/finding/{fid}"], QIKG.outcomeDirection)) == {
            QIKG.OutcomeDirectionNotStated
        }
    f3 = DATA[f"{SID}/finding/F3"]
    assert (f3, RDF.type, QIKG.Finding) in g
    assert set(g.objects(f3, QIKG.outcomeDirection)) == set()  # no outcome, no direction
    assert list(g.triples((None, QIKG.cerqualConfidence, None))) == []
    assert list(g.triples((None, QIKG.findingKind, None))) == []
    notes = [str(n) for n in g.objects(None, SKOS.note)]
    assert not [n for n in notes if n.startswith("confidence")], notes


def test_an_empty_retired_column_is_still_named_once(cli, fresh_store_path, tmp_path):
    sheet = old_sheet(tmp_path / "old", [old_finding(confidence="")], [STUDY_02])
    code, found = problems(cli, sheet, fresh_store_path)
    assert code == 0, found
    retired = [p for p in found if p["source"] == "findings.csv row 1, column confidence"]
    assert len(retired) == 1 and "delete the column" in retired[0]["message"], found
    assert "not imported" not in retired[0]["message"]


def test_a_retired_outcome_label_is_read_as_the_outcome_with_its_direction(
    cli, fresh_store_path, tmp_path
):
    sheet = old_sheet(
        tmp_path / "old", [old_finding(outcomes="improved patient outcomes")], [STUDY_02]
    )
    code, found = problems(cli, sheet, fresh_store_path)
    assert code == 0, found
    retired = [p for p in found if p["source"] == "findings.csv row 2, column outcomes"]
    assert len(retired) == 1 and retired[0]["severity"] == "warning", found
    assert retired[0]["message"] == (
        '"improved patient outcomes" is retired: read as "patient outcome" with outcome '
        'direction "improved"; write it that way in the sheet'
    )
    assert retired[0]["finding"] == f"{SID}/F1"

    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    g = study_data(fresh_store_path)
    assert set(g.objects(F1, QIKG.relatesToOutcome)) == {QIKG.PatientOutcome}
    assert set(g.objects(F1, QIKG.outcomeDirection)) == {QIKG.OutcomeImproved}
    assert (F1, QIKG.relatesToOutcome, QIKG.ImprovedPatientOutcomes) not in g


def test_a_retired_outcome_label_in_a_new_sheet_gives_its_direction_when_none_is_written(
    cli, fresh_store_path, tmp_path
):
    row = finding(outcomes="improved care processes", outcome_direction="")
    sheet = write_sheet(tmp_path / "new", findings=[row])
    code, found = problems(cli, sheet, fresh_store_path)
    assert code == 0, found
    assert with_words(found, '"improved care processes" is retired', '"care-process outcome"')
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    g = study_data(fresh_store_path)
    assert set(g.objects(F1, QIKG.relatesToOutcome)) == {QIKG.CareProcessOutcome}
    assert set(g.objects(F1, QIKG.outcomeDirection)) == {QIKG.OutcomeImproved}


# --- finding kind and outcome direction ----------------------------------------------------------


def test_a_new_sheet_stores_the_finding_kind_and_outcome_direction(cli, fresh_store_path, tmp_path):
    sheet = write_sheet(tmp_path / "s.zip")
    code, found = problems(cli, sheet, fresh_store_path)
    assert code == 0 and not [p for p in found if p["severity"] != "info"], found
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    g = study_data(fresh_store_path)
    assert set(g.objects(F1, QIKG.findingKind)) == {QIKG.ParticipantsAccount}
    assert set(g.objects(F1, QIKG.outcomeDirection)) == {QIKG.OutcomeWorsened}
    assert set(g.objects(DATA[SID], QIKG.hasStudyDesign)) == {QIKG.PrimaryQualitative}
    assert set(g.objects(DATA[SID], QIKG.studyDesign)) == {Literal(STUDY["design_note"])}


def test_outcomes_without_a_direction_are_refused_and_nothing_is_written(
    cli, fresh_store_path, tmp_path
):
    sheet = write_sheet(tmp_path / "s", findings=[finding(outcome_direction="")])
    before = state(fresh_store_path)
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert (
        "This finding is coded with an outcome but not with what happened to it: say in "
        "outcome_direction whether it improved, worsened, did not change, was mixed, was only "
        "intended, or was not measured." in ran.err
    )
    assert "findings.csv row 2" in ran.err
    assert "nothing was imported: 1 violation" in ran.err
    assert state(fresh_store_path) == before


def test_a_direction_without_outcomes_is_refused_and_nothing_is_written(
    cli, fresh_store_path, tmp_path
):
    sheet = write_sheet(
        tmp_path / "s", findings=[finding(outcomes="", outcome_direction="improved")]
    )
    before = state(fresh_store_path)
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert (
        'findings.csv row 2, column outcome_direction: the outcome direction "improved" has no '
        "outcome to go with: code the outcome in the outcomes column, or leave "
        "outcome_direction empty" in ran.err
    )
    assert "has an outcome direction but no outcome" not in ran.err  # said once, not twice
    assert "nothing was imported: 1 violation" in ran.err
    assert state(fresh_store_path) == before


@pytest.mark.parametrize(
    "column,word,expected",
    [
        (
            "finding_kind",
            "participants acount",
            '"participants acount" is not a finding kind; did you mean "participants\' account"?',
        ),
        (
            "outcome_direction",
            "improvd",
            '"improvd" is not an outcome direction; did you mean "improved"?',
        ),
    ],
)
def test_an_unknown_kind_or_direction_gets_a_suggestion_and_nothing_is_written(
    cli, fresh_store_path, tmp_path, column, word, expected
):
    sheet = write_sheet(tmp_path / "s.xlsx", findings=[finding(**{column: word})])
    before = state(fresh_store_path)
    code, found = problems(cli, sheet, fresh_store_path)
    assert code == 1
    violations = [p for p in found if p["severity"] == "violation"]
    assert len(violations) == 1, found
    assert violations[0]["message"] == expected
    assert violations[0]["source"] == f's.xlsx sheet "findings" row 2, column {column}'
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1 and expected in ran.err
    assert state(fresh_store_path) == before


def test_a_design_outside_the_vocabulary_is_refused_in_a_new_sheet(cli, fresh_store_path, tmp_path):
    sheet = write_sheet(tmp_path / "s", [study(design="Qualitative interview study")])
    before = state(fresh_store_path)
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert '"Qualitative interview study" is not a study design' in ran.err
    assert "studies.csv row 2, column design" in ran.err
    assert "design_note" in ran.err and "primary qualitative" in ran.err
    assert state(fresh_store_path) == before


# --- coder ORCID iD ------------------------------------------------------------------------------


def test_an_orcid_with_a_wrong_check_digit_is_refused_and_nothing_is_written(
    cli, fresh_store_path, tmp_path
):
    sheet = write_sheet(tmp_path / "s", findings=[finding(coder_orcid="0000-0002-4999-1315")])
    before = state(fresh_store_path)
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert (
        'findings.csv row 2, column coder_orcid: "0000-0002-4999-1315" is not an ORCID iD: its '
        "check digit is wrong (a typo?)" in ran.err
    )
    assert "nothing was imported: 1 violation" in ran.err
    assert state(fresh_store_path) == before


def test_a_malformed_orcid_is_refused_with_its_shape(cli, fresh_store_path, tmp_path):
    sheet = write_sheet(tmp_path / "s", findings=[finding(coder_orcid="0000-0002-4999")])
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert '"0000-0002-4999" is not an ORCID iD (it looks like 0000-0002-1825-0097)' in ran.err


@pytest.mark.parametrize(
    "written", ["0000-0002-1694-233X", "https://orcid.org/0000-0002-1694-233X"]
)
def test_a_good_orcid_makes_the_coder_a_person_named_by_it(
    cli, fresh_store_path, tmp_path, written
):
    sheet = write_sheet(tmp_path / "s", findings=[finding(coder_orcid=written)])
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    person = URIRef("https://orcid.org/0000-0002-1694-233X")
    g = study_data(fresh_store_path)
    assert set(g.objects(F1, PROV.wasAttributedTo)) == {person}
    everything = shared_data(fresh_store_path)
    assert (person, RDF.type, PROV.Person) in everything
    assert (person, FOAF.name, Literal(FINDING["coder"])) in everything
    out = tmp_path / "back"
    assert cli("export-sheet", SID, "-o", str(out), store=fresh_store_path).exit_code == 0
    exported = (out / "findings.csv").read_text(encoding="utf-8")
    assert "0000-0002-1694-233X" in exported and "https://orcid.org" not in exported


def test_a_coder_without_an_orcid_stays_an_agent_not_a_person(cli, fresh_store_path, tmp_path):
    assert cli("import", str(write_sheet(tmp_path / "s")), store=fresh_store_path).exit_code == 0
    (agent,) = study_data(fresh_store_path).objects(F1, PROV.wasAttributedTo)
    assert not str(agent).startswith("https://orcid.org/")
    assert (agent, RDF.type, PROV.Person) not in shared_data(fresh_store_path)


# --- source texts --------------------------------------------------------------------------------


def test_a_quote_is_anchored_in_the_source_text_the_sheet_carries(cli, fresh_store_path, tmp_path):
    sheet = sourced_sheet(tmp_path / "sourced")
    assert (sheet / "sources" / f"{SID}.txt").read_text(encoding="utf-8") == TEXT
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    g = study_data(fresh_store_path)

    assert set(g.objects(F1, PROV.wasDerivedFrom)) == {SOURCE}
    assert (SOURCE, RDF.type, QIKG.SourceText) in g
    assert set(g.objects(SOURCE, RDF.value)) == {Literal(TEXT)}
    assert set(g.objects(SOURCE, DCTERMS.rights)) == {Literal(LICENCE)}
    assert set(g.objects(SOURCE, DCTERMS.source)) == {URIRef(URL)}

    (quote,) = g.objects(F1, QIKG.supportedBy)
    (target,) = g.objects(quote, OA.hasTarget)
    assert set(g.objects(target, OA.hasSource)) == {SOURCE}
    selectors = set(g.objects(target, OA.hasSelector))
    (position,) = [s for s in selectors if (s, RDF.type, OA.TextPositionSelector) in g]
    (exact,) = [s for s in selectors if (s, RDF.type, OA.TextQuoteSelector) in g]
    start = g.value(position, OA.start)
    end = g.value(position, OA.end)
    # written as xsd:nonNegativeInteger; Oxigraph stores the derived type as xsd:integer
    assert {start.datatype, end.datatype} <= {XSD_NON_NEGATIVE, XSD_INTEGER}
    start, end = start.toPython(), end.toPython()
    assert isinstance(start, int) and isinstance(end, int) and 0 < start < end
    assert TEXT[start:end] == QUOTE
    assert str(g.value(exact, OA.exact)) == QUOTE
    assert str(g.value(exact, OA.prefix)) == TEXT[start - 32 : start]
    assert str(g.value(exact, OA.suffix)) == TEXT[end : end + 32]
    assert str(g.value(exact, OA.prefix)).endswith("collaborative: \u201c")


def test_a_quote_at_the_very_start_of_the_source_text_has_no_prefix(
    cli, fresh_store_path, tmp_path
):
    sheet = sourced_sheet(tmp_path / "sourced", text=QUOTE + " That was all she said.")
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    g = study_data(fresh_store_path)
    (position,) = g.subjects(RDF.type, OA.TextPositionSelector)
    assert g.value(position, OA.start).toPython() == 0
    assert g.value(position, OA.end).toPython() == len(QUOTE)
    (exact,) = g.subjects(RDF.type, OA.TextQuoteSelector)
    assert g.value(exact, OA.prefix) is None
    assert str(g.value(exact, OA.suffix)) == " That was all she said."


def test_a_quote_not_in_the_source_text_is_refused_and_nothing_is_written(
    cli, fresh_store_path, tmp_path
):
    # a typographic apostrophe where the text has a straight one: not the same characters
    sheet = sourced_sheet(
        tmp_path / "sourced",
        text=TEXT.replace("We never had the time", "We never had the time, they said,"),
    )
    before = state(fresh_store_path)
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1
    assert (
        "findings.csv row 2, column quote: the quote is not in the study's source text "
        f"(sources/{SID}.txt) character for character: copy it from there, or correct the source "
        "text" in ran.err
    )
    assert "nothing was imported: 1 violation" in ran.err
    assert state(fresh_store_path) == before


def test_a_quote_that_differs_by_one_character_is_refused(cli, fresh_store_path, tmp_path):
    row = finding(quote=QUOTE.replace("PDSA work", "PDSA  work"))
    sheet = sourced_sheet(tmp_path / "sourced", findings=[row])
    before = state(fresh_store_path)
    ran = cli("import", str(sheet), store=fresh_store_path)
    assert ran.exit_code == 1 and "character for character" in ran.err
    assert state(fresh_store_path) == before


def test_export_sheet_writes_the_source_text_and_the_sheet_round_trips(
    cli, fresh_store_path, tmp_path
):
    sheet = sourced_sheet(tmp_path / "sourced")
    assert cli("import", str(sheet), store=fresh_store_path).exit_code == 0
    stored = study_data(fresh_store_path)
    out = tmp_path / "back"
    ran = cli("export-sheet", SID, "-o", str(out), store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert (out / "sources" / f"{SID}.txt").read_text(encoding="utf-8") == TEXT
    studies = (out / "studies.csv").read_text(encoding="utf-8")
    assert URL in studies and LICENCE in studies

    before = state(fresh_store_path)
    again = cli("import", str(out), "--replace", "--dry-run", store=fresh_store_path)
    assert again.exit_code == 0, again.err
    assert f"study {SID}: no change" in again.out
    assert state(fresh_store_path) == before

    assert cli("import", str(out), "--replace", store=fresh_store_path).exit_code == 0
    assert isomorphic(study_data(fresh_store_path), stored)


def test_export_sheet_to_a_workbook_refuses_to_drop_the_source_text(
    cli, fresh_store_path, tmp_path
):
    assert cli("import", str(sourced_sheet(tmp_path / "s")), store=fresh_store_path).exit_code == 0
    out = tmp_path / "back.xlsx"
    ran = cli("export-sheet", SID, "-o", str(out), store=fresh_store_path)
    assert ran.exit_code != 0
    assert "cannot hold the study's source text" in ran.err and "folder or .zip" in ran.err
    assert not out.exists()


# --- defects found and fixed: each test says what holds ---------------------------------------


def test_a_retired_label_and_a_contrary_direction_are_never_stored_against_the_warning(
    cli, fresh_store_path, tmp_path
):
    row = finding(outcomes="improved patient outcomes", outcome_direction="worsened")
    sheet = write_sheet(tmp_path / "s", findings=[row])
    ran = cli("import", str(sheet), store=fresh_store_path)
    if ran.exit_code != 0:  # refusing the contradiction is as good
        assert "improved patient outcomes" in ran.err
        return
    stored = set(study_data(fresh_store_path).objects(F1, QIKG.outcomeDirection))
    said = [line for line in ran.err.splitlines() if "is retired" in line]
    assert said and stored, ran.err
    assert stored == {QIKG.OutcomeWorsened} and 'direction "worsened"' in said[0], said


def test_a_source_text_for_a_study_already_stored_is_kept_or_refused(
    cli, fresh_store_path, tmp_path
):
    first = write_sheet(tmp_path / "base", findings=[finding(finding_id="F0")])
    assert cli("import", str(first), store=fresh_store_path).exit_code == 0
    folder = tmp_path / "more"
    write_tables({"findings": (FINDING_COLUMNS, [finding()])}, folder, {SID: TEXT})
    ran = cli("import", str(folder), store=fresh_store_path)
    if ran.exit_code != 0:  # refusing it, with a word, is as good
        assert f"sources/{SID}.txt" in ran.err
        return
    g = study_data(fresh_store_path)
    assert set(g.objects(F1, PROV.wasDerivedFrom)) == {SOURCE}
    assert set(g.objects(SOURCE, RDF.value)) == {Literal(TEXT)}


def test_replacing_the_source_text_is_not_previewed_as_no_change(cli, fresh_store_path, tmp_path):
    assert cli("import", str(sourced_sheet(tmp_path / "a")), store=fresh_store_path).exit_code == 0
    changed = sourced_sheet(tmp_path / "b", text="A sentence the first text lacked. " + TEXT)
    ran = cli("import", str(changed), "--replace", "--dry-run", store=fresh_store_path)
    assert ran.exit_code == 0, ran.err
    assert f"study {SID}: no change" not in ran.out
