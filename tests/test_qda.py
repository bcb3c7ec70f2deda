"""REFI-QDA import: codebooks, projects, re-anchoring, SSSOM mappings, findings, and every refusal.

The fixtures are built here in Python (XML + zip), valid against the published REFI-QDA schemas
in tests/fixtures/qda/, with nested codes, two sources (one in Sources/ with a BOM and CRLF line
endings, one inline), two users, drifted offsets and Danish, emoji and combining characters.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
import uuid
import zipfile
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml.builder import ElementMaker

from kg.errors import BadInput, DataProblem
from kg.qda import import_qda, read_qda
from kg.qda.anchor import SourceText, Unanchorable, fold
from kg.store import open_store
from tests.conftest import FIXTURES
from tests.sheets import STUDY, finding, write_sheet

PROJECT_NS = "urn:QDA-XML:project:1.0"
CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
SID = STUDY["study_id"]
STATEMENT = (
    "Nurses and physicians said that lack of time between learning sessions limited their "
    "improvement work."
)


def guid(name: str) -> str:
    """A fixed GUID per name, upper-case as ATLAS.ti and NVivo write them."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"qikg-test/{name}")).upper()


def key(name: str) -> str:
    return guid(name).lower()


#: (key, name, parent, description, codable)
CODES = [
    ("time", "Tid", None, "Alt om tid og travlhed.", True),
    ("prof", "Professioner", None, "", False),
    ("nurse", "Sygeplejersker", "prof", "", True),
    ("doctor", "Læger", "prof", "", True),
    ("ls", "Læringsseminarer", None, "", True),
    ("eng", "Engagement 🙂", None, "", True),
    ("theme", "Tidspres begrænser forbedringsarbejdet", None, STATEMENT, True),
    ("misc", "Andet", None, "", True),
]
USERS = {"anne": "Anne Hansen", "bjorn": "Bjørn Jensen"}

# Interview 1: a file in Sources/ with a BOM and CRLF line endings, and a decomposed "Å".
S1_LINES = [
    "Interviewer: Hvordan går det med forbedringsarbejdet?",
    "Åse: Vi har simpelthen ikke tid til PDSA-arbejdet 😩 på afdelingen.",
    "A\u030ase: Efter sidste møde føler vi os mere engagerede i teamet.",
]
S1_RAW = "\r\n".join(S1_LINES) + "\r\n"
S1_LF = "\n".join(S1_LINES) + "\n"
# Interview 2: inline PlainTextContent, with an emoji sequence before the coded words.
S2_TEXT = (
    "Bjørn: Lægerne 👩‍⚕️ kom til læringsseminaret, men bagefter var der ingen tid.\n"
    "Bjørn: Vi mangler tid til at måle.\n"
    "Bjørn: Det var godt at møde andre teams."
)


def at(text: str, words: str) -> tuple[int, int]:
    """Code-point positions of ``words`` in ``text`` (the REFI-QDA reading)."""
    start = text.index(words)
    return start, start + len(words)


def utf16(text: str, words: str) -> tuple[int, int]:
    """Positions counted in UTF-16 code units, as some tools count them."""
    start, end = at(text, words)
    units = [len(text[:i].encode("utf-16-le")) // 2 for i in (start, end)]
    return units[0], units[1]


#: (key, source, words, (start, end), [(code, user)], [note keys])
SELECTIONS = [
    (
        "sel1",
        "s1",
        "Vi har simpelthen ikke tid til PDSA-arbejdet",
        at(S1_RAW, "Vi har simpelthen ikke tid til PDSA-arbejdet"),
        [("theme", "anne"), ("time", "anne"), ("nurse", "anne")],
        [],
    ),
    # counted on the LF text although the file has CRLF: re-anchored ("line endings")
    (
        "sel2",
        "s1",
        "føler vi os mere engagerede i teamet",
        at(S1_LF, "føler vi os mere engagerede i teamet"),
        [("eng", "anne")],
        [],
    ),
    # counted in UTF-16 units after an emoji: re-anchored
    (
        "sel3",
        "s2",
        "kom til læringsseminaret, men bagefter var der ingen tid",
        utf16(S2_TEXT, "kom til læringsseminaret, men bagefter var der ingen tid"),
        [("theme", "bjorn"), ("ls", "bjorn"), ("doctor", "bjorn")],
        ["memo"],
    ),
    # a separate selection overlapping sel3: its code co-occurs with the finding
    (
        "sel4",
        "s2",
        "Lægerne 👩‍⚕️ kom til",
        at(S2_TEXT, "Lægerne 👩‍⚕️ kom til"),
        [("eng", "bjorn")],
        [],
    ),
    # drifted by 7: found nearby
    (
        "sel5",
        "s2",
        "Vi mangler tid til at måle.",
        tuple(p + 7 for p in at(S2_TEXT, "Vi mangler tid til at måle.")),
        [("time", "bjorn"), ("theme", "bjorn")],
        [],
    ),
    # words that are nowhere in the source: reported and skipped
    ("sel6", "s2", "Dette står slet ikke i teksten", (0, 10), [("misc", "bjorn")], []),
    # coded, but with no finding code
    (
        "sel7",
        "s2",
        "Det var godt at møde andre teams.",
        at(S2_TEXT, "Det var godt at møde andre teams."),
        [("misc", "anne")],
        [],
    ),
]
NOTES = {
    "memo": ("Memo", "Bjørn var træt under interviewet."),
    "codenote": ("Om koden", "Kode for alle udsagn om tid."),
    "projectnote": ("Projektnotat", "Analysen fulgte Braun og Clarke."),
}
MAPPING = (
    "\n".join(
        [
            "#curie_map:",
            "#  code: urn:uuid:",
            "#  qikg: https://w3id.org/qikg/ontology#",
            "#  skos: http://www.w3.org/2004/02/skos/core#",
            "#  semapv: https://w3id.org/semapv/vocab/",
            "#mapping_set_id: https://w3id.org/qikg/data/mapping/test",
            "#license: https://w3id.org/sssom/license/unspecified",
            *(
                "\t".join(row)
                for row in [
                    [
                        "subject_id",
                        "subject_label",
                        "predicate_id",
                        "object_id",
                        "object_label",
                        "mapping_justification",
                        "author_id",
                        "finding",
                        "role",
                    ],
                    [
                        "code:{time}",
                        "Tid",
                        "skos:exactMatch",
                        "qikg:LackOfTime",
                        "lack of time",
                        "semapv:ManualMappingCuration",
                        "",
                        "no",
                        "barrier",
                    ],
                    [
                        "code:Sygeplejersker",
                        "Sygeplejersker",
                        "skos:exactMatch",
                        "qikg:Nurse",
                        "nurse",
                        "semapv:ManualMappingCuration",
                    ],
                    [
                        "{{{doctor}}}",
                        "Læger",
                        "skos:closeMatch",
                        "https://w3id.org/qikg/ontology#Physician",
                        "physician",
                        "semapv:ManualMappingCuration",
                    ],
                    [
                        "https://w3id.org/qikg/data/{sid}/code/{ls}",
                        "Læringsseminarer",
                        "skos:exactMatch",
                        "qikg:LearningSession",
                        "learning session",
                        "semapv:ManualMappingCuration",
                    ],
                    [
                        "code:{eng}",
                        "Engagement",
                        "skos:closeMatch",
                        "qikg:Engagement",
                        "engagement",
                        "semapv:ManualMappingCuration",
                    ],
                    [
                        "code:{misc}",
                        "Andet",
                        "skos:closeMatch",
                        "sssom:NoTermFound",
                        "",
                        "semapv:ManualMappingCuration",
                    ],
                ]
            ),
        ]
    )
    + "\n"
)


def project_tree(ns: str = PROJECT_NS) -> etree._Element:
    """A REFI-QDA project.qde (valid against Project.xsd) for the fixtures above."""
    E = ElementMaker(namespace=ns, nsmap={None: ns})

    def codes(parent: str | None) -> list:
        out = []
        for k, name, up, description, codable in CODES:
            if up == parent:
                children = [E.Description(description)] if description else []
                if k == "time":
                    children.append(E.NoteRef(targetGUID=guid("codenote")))
                out.append(
                    E.Code(
                        *children,
                        *codes(k),
                        guid=guid(k),
                        name=name,
                        isCodable="true" if codable else "false",
                    )
                )
        return out

    def selection(k: str, words: str, span: tuple[int, int], codings: list, notes: list):
        user = codings[0][1]
        return E.PlainTextSelection(
            *[
                E.Coding(
                    E.CodeRef(targetGUID=guid(c)),
                    guid=guid(f"{k}-{c}"),
                    creatingUser=guid(u),
                    creationDateTime=f"2025-03-0{i + 1}T10:00:00Z",
                )
                for i, (c, u) in enumerate(codings)
            ],
            *[E.NoteRef(targetGUID=guid(n)) for n in notes],
            guid=guid(k),
            name=words,
            startPosition=str(span[0]),
            endPosition=str(span[1]),
            creatingUser=guid(user),
            creationDateTime="2025-03-01T09:30:00Z",
        )

    def source(k: str, name: str, content: list, **attrs: str):
        sels = [selection(s, w, span, c, n) for s, src, w, span, c, n in SELECTIONS if src == k]
        return E.TextSource(*content, *sels, guid=guid(k), name=name, **attrs)

    return E.Project(
        E.Users(*[E.User(guid=guid(k), name=name) for k, name in USERS.items()]),
        E.CodeBook(E.Codes(*codes(None))),
        E.Sources(
            source("s1", "Interview 1 – Åse", [], plainTextPath="internal://s1.txt"),
            source("s2", "Interview 2 – Bjørn", [E.PlainTextContent(S2_TEXT)]),
            E.PDFSource(
                E.Coding(E.CodeRef(targetGUID=guid("misc")), guid=guid("pdf-coding")),
                guid=guid("pdf"),
                name="Referat.pdf",
                path="internal://referat.pdf",
            ),
        ),
        E.Notes(
            *[
                E.Note(E.PlainTextContent(text), guid=guid(k), name=name, creatingUser=guid("anne"))
                for k, (name, text) in NOTES.items()
            ]
        ),
        E.Sets(
            E.Set(E.MemberCode(targetGUID=guid("theme")), guid=guid("findings"), name="Findings")
        ),
        name="Tid og forbedring",
        origin="qikg tests",
    )


def codebook_tree(ns: str = CODEBOOK_NS) -> etree._Element:
    """A REFI-QDA .qdc codebook (valid against Codebook.xsd) with the same codes."""
    E = ElementMaker(namespace=ns, nsmap={None: ns})

    def codes(parent: str | None) -> list:
        return [
            E.Code(
                *([E.Description(d)] if d else []),
                *codes(k),
                guid=guid(k),
                name=name,
                isCodable="true" if codable else "false",
            )
            for k, name, up, d, codable in CODES
            if up == parent
        ]

    return E.CodeBook(
        E.Codes(*codes(None)),
        E.Sets(E.Set(E.MemberCode(guid=guid("theme")), guid=guid("findings"), name="Findings")),
        origin="qikg tests",
    )


def xml(tree: etree._Element) -> bytes:
    return etree.tostring(tree, xml_declaration=True, encoding="utf-8")


def write_qdpx(path: Path, qde: bytes | None = None, files: dict[str, bytes] | None = None) -> Path:
    """A .qdpx: project.qde plus Sources/ (interview 1 as UTF-8 with a BOM and CRLF)."""
    files = {"Sources/s1.txt": ("\ufeff" + S1_RAW).encode("utf-8")} if files is None else files
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        if qde is not False:
            archive.writestr("project.qde", qde if qde is not None else xml(project_tree()))
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def write_mapping(path: Path, text: str = MAPPING) -> Path:
    keys = {k: guid(k) for k, *_ in CODES}
    path.write_text(text.format(sid=SID, **keys), encoding="utf-8")
    return path


def state(path: str) -> tuple[int, str]:
    """Triple count and a checksum of the whole store: equal means nothing changed."""
    with open_store(path) as store:
        lines = sorted(line for line in store.dump("nq").decode().splitlines() if line.strip())
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture
def study_store(fresh_store_path: str, tmp_path: Path, cli) -> str:
    """A store with the test study (its studies-sheet row only), ready for a QDA import."""
    ran = cli(
        "import", str(write_sheet(tmp_path / "study.xlsx", findings=[])), store=fresh_store_path
    )
    assert ran.exit_code == 0, ran.err
    return fresh_store_path


def select(path: str, query: str) -> list[dict]:
    with open_store(path) as store:
        return store.query(query).values()


# --- the fixtures follow the published schema ---------------------------------------------------


@pytest.mark.parametrize(
    "tree,schema", [(project_tree, "Project.xsd"), (codebook_tree, "Codebook.xsd")]
)
def test_fixtures_are_valid_refi_qda(tree, schema):
    xsd = etree.XMLSchema(etree.parse(str(FIXTURES / "qda" / schema)))
    assert xsd.validate(tree()), xsd.error_log


# --- a whole project ----------------------------------------------------------------------------


def test_a_project_imports_codes_quotes_and_findings(study_store, tmp_path, cli):
    qdpx = write_qdpx(tmp_path / "p.qdpx")
    ran = cli(
        "import-qda",
        str(qdpx),
        "--study",
        SID,
        "--mapping",
        str(write_mapping(tmp_path / "m.sssom.tsv")),
        store=study_store,
    )
    assert ran.exit_code == 0, ran.err
    assert f"imported p.qdpx into study {SID}: 8 codes (5 mapped), 6 quotes, 1 findings" in ran.out
    assert (
        "7 coded selections: 3 at their given positions, 3 re-anchored, 1 could not be anchored"
        in ran.err
    )
    assert "re-anchored (line endings)" in ran.err and "re-anchored (UTF-16 positions)" in ran.err
    assert "re-anchored (nearby)" in ran.err
    assert f"skipped: Interview 2 – Bjørn, selection {guid('sel6')}" in ran.err
    assert "3 quote(s) support no finding" in ran.err

    finding = f"https://w3id.org/qikg/data/{SID}/finding/{key('theme')}"
    coded = select(
        study_store,
        f"""SELECT ?p ?c WHERE {{ <{finding}> ?p ?c . ?c a skos:Concept
        FILTER(STRSTARTS(STR(?p), STR(qikg:))) }}""",
    )
    got = {(r["p"].rsplit("#")[1], r["c"].rsplit("#")[1]) for r in coded}
    assert got == {
        ("hasBarrier", "LackOfTime"),
        ("concernsProfessionalGroup", "Nurse"),
        ("concernsProfessionalGroup", "Physician"),
        ("involvesQICComponent", "LearningSession"),
        ("relatesToOutcome", "Engagement"),
        # the project says nothing of what happened to it (a warning says so)
        ("outcomeDirection", "OutcomeDirectionNotStated"),
    }
    rows = select(
        study_store,
        f"""SELECT ?statement ?theme ?exact ?start ?end ?source ?date WHERE {{
        <{finding}> qikg:statement ?statement ; qikg:theme ?theme ; dcterms:created ?date ;
            qikg:supportedBy ?q .
        ?q oa:hasTarget ?t . ?t oa:hasSource/dcterms:title ?source ;
            oa:hasSelector [ oa:exact ?exact ], [ oa:start ?start ; oa:end ?end ] }}""",
    )
    assert {r["statement"] for r in rows} == {STATEMENT}
    assert {r["theme"] for r in rows} == {"Tidspres begrænser forbedringsarbejdet"}
    assert {r["date"] for r in rows} == {"2025-03-02"}
    quotes = {(r["source"], r["exact"], int(r["start"]), int(r["end"])) for r in rows}
    assert quotes == {
        (
            "Interview 1 – Åse",
            "Vi har simpelthen ikke tid til PDSA-arbejdet",
            *at(S1_LF, "Vi har simpelthen ikke tid til PDSA-arbejdet"),
        ),
        (
            "Interview 2 – Bjørn",
            "kom til læringsseminaret, men bagefter var der ingen tid",
            *at(S2_TEXT, "kom til læringsseminaret, men bagefter var der ingen tid"),
        ),
        (
            "Interview 2 – Bjørn",
            "Vi mangler tid til at måle.",
            *at(S2_TEXT, "Vi mangler tid til at måle."),
        ),
    }


def test_quotes_are_web_annotations_with_provenance(study_store, tmp_path):
    with open_store(study_store) as store:
        import_qda(store, write_qdpx(tmp_path / "p.qdpx"), SID, write_mapping(tmp_path / "m.tsv"))
    quote = f"https://w3id.org/qikg/data/{SID}/quote/{key('sel3')}"
    rows = select(
        study_store,
        f"""SELECT ?prefix ?suffix ?body ?who ?when ?coder ?coded ?note WHERE {{
        <{quote}> a qikg:Quote, oa:Annotation ; oa:hasBody ?body ;
            prov:wasAttributedTo/foaf:name ?who ; dcterms:created ?when ; oa:hasTarget ?t .
        ?t oa:hasSelector [ oa:prefix ?prefix ; oa:suffix ?suffix ] .
        ?c a oa:Annotation ; oa:motivatedBy oa:classifying ; oa:hasTarget ?t ; oa:hasBody ?body ;
            prov:wasAttributedTo/foaf:name ?coder ; dcterms:created ?coded . FILTER(?c != <{quote}>)
        ?n oa:motivatedBy oa:commenting ; oa:hasTarget ?t ; oa:bodyValue ?note }}""",
    )
    assert {r["body"].rsplit("/", 1)[1] for r in rows} == {key("theme"), key("ls"), key("doctor")}
    assert {(r["who"], r["when"], r["coder"], r["note"]) for r in rows} >= {
        (
            "Bjørn Jensen",
            "2025-03-01T09:30:00Z",
            "Bjørn Jensen",
            "Bjørn var træt under interviewet.",
        )
    }
    assert {r["coded"] for r in rows} == {
        "2025-03-01T10:00:00Z",
        "2025-03-02T10:00:00Z",
        "2025-03-03T10:00:00Z",
    }
    start, end = at(S2_TEXT, "kom til læringsseminaret, men bagefter var der ingen tid")
    assert {(r["prefix"], r["suffix"]) for r in rows} == {
        (S2_TEXT[max(0, start - 32) : start], S2_TEXT[end : end + 32])
    }


def test_the_codebook_keeps_hierarchy_descriptions_guids_notes_and_mappings(study_store, tmp_path):
    with open_store(study_store) as store:
        import_qda(store, write_qdpx(tmp_path / "p.qdpx"), SID, write_mapping(tmp_path / "m.tsv"))
    base = f"https://w3id.org/qikg/data/{SID}"
    rows = select(
        study_store,
        f"""SELECT ?label ?id ?up ?def ?match ?note WHERE {{
        ?c skos:inScheme <{base}/codebook> ; skos:prefLabel ?label ; dcterms:identifier ?id .
        OPTIONAL {{ ?c skos:broader/skos:prefLabel ?up }} OPTIONAL {{ ?c skos:definition ?def }}
        OPTIONAL {{ ?c skos:exactMatch|skos:closeMatch ?match }}
        OPTIONAL {{ ?c skos:note ?note }} }}""",
    )
    by_label = {r["label"]: r for r in rows}
    assert len(by_label) == len(CODES)
    assert by_label["Sygeplejersker"]["up"] == "Professioner"
    assert by_label["Sygeplejersker"]["id"] == guid("nurse")
    assert by_label["Sygeplejersker"]["match"] == "https://w3id.org/qikg/ontology#Nurse"
    assert by_label["Tid"]["def"] == "Alt om tid og travlhed."
    assert by_label["Tid"]["note"] == "Kode for alle udsagn om tid."
    assert by_label["Andet"]["match"] is None
    notes = select(study_store, f"SELECT ?n WHERE {{ <{base}/codebook> skos:note ?n }}")
    assert [r["n"] for r in notes] == ["Analysen fulgte Braun og Clarke."]
    members = select(
        study_store,
        """SELECT ?label WHERE { ?s a skos:Collection ; skos:prefLabel "Findings" ;
        skos:member/skos:prefLabel ?label }""",
    )
    assert [r["label"] for r in members] == ["Tidspres begrænser forbedringsarbejdet"]


def test_mapped_findings_answer_related_and_compare(study_store, tmp_path, cli):
    with open_store(study_store) as store:
        import_qda(store, write_qdpx(tmp_path / "p.qdpx"), SID, write_mapping(tmp_path / "m.tsv"))
    ran = cli("related", f"{SID}/{key('theme')}", "--json", store=study_store)
    assert ran.exit_code == 0, ran.err
    related = json.loads(ran.out)
    assert any("learning session" in r["shared"] and r["score"] >= 1 for r in related)
    ran = cli("compare", "--cols", "barriers", "--format", "csv", store=study_store)
    assert ran.exit_code == 0, ran.err
    header, *rows = ran.out.splitlines()
    column = header.split(",").index("lack of time")
    assert next(r for r in rows if r.startswith(SID + ",")).split(",")[column] == "1"


def test_dry_run_writes_nothing(study_store, tmp_path, cli):
    before = state(study_store)
    ran = cli(
        "import-qda",
        str(write_qdpx(tmp_path / "p.qdpx")),
        "--study",
        SID,
        "--dry-run",
        "--mapping",
        str(write_mapping(tmp_path / "m.tsv")),
        store=study_store,
    )
    assert ran.exit_code == 0, ran.err
    assert ran.out.startswith("would import p.qdpx")
    assert state(study_store) == before


def test_a_second_import_needs_replace_and_then_replaces(study_store, tmp_path, cli):
    args = [
        "import-qda",
        str(write_qdpx(tmp_path / "p.qdpx")),
        "--study",
        SID,
        "--mapping",
        str(write_mapping(tmp_path / "m.tsv")),
    ]
    assert cli(*args, store=study_store).exit_code == 0
    after_first = state(study_store)
    ran = cli(*args, store=study_store)
    assert ran.exit_code == 1
    assert "already holds an imported QDA project or codebook; to replace it" in ran.err
    assert "--replace" in ran.err
    assert state(study_store) == after_first
    ran = cli(*args, "--replace", store=study_store)
    assert ran.exit_code == 0, ran.err
    assert "replacing the QDA data it held" in ran.out
    assert state(study_store) == after_first


def test_both_namespace_spellings_are_read(tmp_path):
    for ns in ("urn:QDA-XML:project:1.0", "urn:QDA-XML:project:1:0"):
        project = read_qda(write_qdpx(tmp_path / "p.qdpx", xml(project_tree(ns))))
        assert len(project.codes) == len(CODES) and len(project.sources) == 2
        assert project.ignored == {"coded PDFSource": 1}
    for ns in ("urn:QDA-XML:codebook:1.0", "urn:QDA-XML:codebook:1:0"):
        (tmp_path / "c.qdc").write_bytes(xml(codebook_tree(ns)))
        assert len(read_qda(tmp_path / "c.qdc").codes) == len(CODES)


# --- a codebook alone -----------------------------------------------------------------------------


def test_a_codebook_becomes_the_studys_concept_scheme(study_store, tmp_path, cli):
    (tmp_path / "c.qdc").write_bytes(xml(codebook_tree()))
    ran = cli(
        "import-qda",
        str(tmp_path / "c.qdc"),
        "--study",
        SID,
        "--mapping",
        str(write_mapping(tmp_path / "m.tsv")),
        store=study_store,
    )
    assert ran.exit_code == 0, ran.err
    assert "8 codes (5 mapped), 0 quotes, 0 findings" in ran.out
    rows = select(
        study_store,
        f"""SELECT ?c ?top WHERE {{
        ?c skos:inScheme <https://w3id.org/qikg/data/{SID}/codebook> ; skos:prefLabel "Læger" ;
           skos:closeMatch qikg:Physician ; skos:broader ?top . ?top skos:topConceptOf ?s }}""",
    )
    assert rows == [
        {
            "c": f"https://w3id.org/qikg/data/{SID}/code/{key('doctor')}",
            "top": f"https://w3id.org/qikg/data/{SID}/code/{key('prof')}",
        }
    ]


def test_study_codes_do_not_enter_the_vocabulary(study_store, tmp_path):
    from kg.vocabulary import Vocabulary

    (tmp_path / "c.qdc").write_bytes(xml(codebook_tree()))
    with open_store(study_store) as store:
        import_qda(store, tmp_path / "c.qdc", SID)
        vocab = Vocabulary.from_store(store)
    assert vocab.resolve("engagement", "concepts") == "https://w3id.org/qikg/ontology#Engagement"
    assert vocab.concepts, "the vocabulary should hold the ontology's concepts"
    assert not any(i.startswith(f"https://w3id.org/qikg/data/{SID}/") for i in vocab.concepts)


# --- the mapping template -----------------------------------------------------------------------


def test_mapping_template_suggests_a_match_for_every_code(built_store_path, tmp_path, cli):
    out = tmp_path / "m.sssom.tsv"
    ran = cli(
        "mapping-template",
        str(write_qdpx(tmp_path / "p.qdpx")),
        "-o",
        str(out),
        store=built_store_path,
    )
    assert ran.exit_code == 0, ran.err
    lines = out.read_text(encoding="utf-8").splitlines()
    assert (
        lines[0] == "#curie_map:"
        and "#license: https://w3id.org/sssom/license/unspecified" in lines
    )
    header, *rows = [line.split("\t") for line in lines if not line.startswith("#")]
    assert header[:4] == ["subject_id", "subject_label", "predicate_id", "object_id"]
    rows_by_label = {r[1]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(rows_by_label) == {name for _, name, *_ in CODES}
    nurse = rows_by_label["Sygeplejersker"]
    assert (nurse["predicate_id"], nurse["object_id"], nurse["mapping_justification"]) == (
        "skos:closeMatch",
        "qikg:Nurse",
        "semapv:LexicalMatching",
    )
    assert 0.7 <= float(nurse["confidence"]) <= 1
    assert nurse["comment"] == "Professioner > Sygeplejersker"
    assert rows_by_label["Tidspres begrænser forbedringsarbejdet"]["finding"] == "yes"


def test_a_filled_in_template_imports(study_store, tmp_path, cli):
    qdpx, table = write_qdpx(tmp_path / "p.qdpx"), tmp_path / "m.sssom.tsv"
    assert cli("mapping-template", str(qdpx), "-o", str(table), store=study_store).exit_code == 0
    ran = cli(
        "import-qda",
        str(qdpx),
        "--study",
        SID,
        "--mapping",
        str(table),
        "--dry-run",
        store=study_store,
    )
    assert ran.exit_code == 0, ran.err


# --- re-anchoring -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,start,end,words,expected",
    [
        ("abc def", 4, 7, "def", (4, 7, "as given")),
        ("abc def", 4, 7, None, (4, 7, "unchecked")),
        ("x\r\ny def", 3, 7, "y de", (2, 6, "as given")),
        ("😩 ab", 3, 5, "ab", (2, 4, "UTF-16 positions")),
        ("0123456789 hello", 0, 5, "hello", (11, 16, "nearby")),
        ("hello " + "z" * 500 + " target", 0, 5, "target", (507, 513, "elsewhere")),
        ("et langt citat om tid", 3, 14, "langt cit…", (3, 14, "as given")),
        ("xx et langt citat om tid", 3, 14, "langt cit…", (6, 17, "nearby")),
        ("e\u0301t citat", 0, 3, "ét", (0, 3, "as given")),
        ("a  b\u00a0c", 0, 6, "a b c", (0, 6, "as given")),
    ],
)
def test_anchoring(text, start, end, words, expected):
    anchor = SourceText(text).anchor(start, end, words)
    assert (anchor.start, anchor.end, anchor.how) == expected


@pytest.mark.parametrize(
    "start,end,words,message",
    [
        (0, 3, "nowhere", 'its words "nowhere" are not in the source text'),
        (5, 90, None, "outside the source text"),
        (None, None, None, "not whole numbers"),
    ],
)
def test_unanchorable(start, end, words, message):
    with pytest.raises(Unanchorable, match=message):
        SourceText("some text").anchor(start, end, words)


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet="ab æøå\r\n\u030a😩👩\u200d⚕\ufe0f.", min_size=1, max_size=120),
    st.data(),
)
def test_reanchoring_finds_the_selected_words_wherever_the_positions_point(raw, data):
    text = SourceText(raw).text
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    words = text[start:end]
    assume(words.strip() and not unicodedata.combining(words[0]))
    assume(end == len(text) or not unicodedata.combining(text[end]))
    drift = data.draw(st.integers(-30, 30))
    anchor = SourceText(raw).anchor(max(0, start + drift), max(0, end + drift), words)
    found = fold(text[anchor.start : anchor.end])[0].strip()
    assert found.startswith(fold(words)[0].strip())


# --- everything a user can get wrong: one clear message, the store unchanged -------------------


def billion_laughs() -> bytes:
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    return (
        f'<?xml version="1.0"?><!DOCTYPE Project [{entities}]>'
        f'<Project xmlns="{PROJECT_NS}" name="&lol9;"/>'
    ).encode()


def external_entity() -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE Project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f'<Project xmlns="{PROJECT_NS}" name="x"><Description>&x;</Description></Project>'
    ).encode()


def unknown_code() -> bytes:
    tree = project_tree()
    tree.find(f".//{{{PROJECT_NS}}}CodeRef").set("targetGUID", guid("no-such-code"))
    return xml(tree)


def zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml(project_tree()))
        archive.writestr("Sources/big.txt", b"\0" * (16 << 20))
    return path


def traversal(path: Path, name: str) -> Path:
    return write_qdpx(path, files={"Sources/s1.txt": S1_RAW.encode(), name: b"x"})


REFUSALS = [
    (
        "bad zip",
        lambda p: (p.write_bytes(b"PK\3\4 not really a zip"), p)[1],
        "p.qdpx: not a readable .qdpx file: a .qdpx is a zip archive",
        2,
    ),
    ("no project.qde", lambda p: write_qdpx(p, qde=False), "p.qdpx: holds no project.qde", 2),
    (
        "billion laughs",
        lambda p: write_qdpx(p, billion_laughs()),
        "p.qdpx: project.qde: refused: the XML declares a DTD",
        2,
    ),
    (
        "external entity",
        lambda p: write_qdpx(p, external_entity()),
        "p.qdpx: project.qde: refused: the XML declares a DTD",
        2,
    ),
    (
        "not XML",
        lambda p: write_qdpx(p, b"<Project"),
        "p.qdpx: project.qde: not well-formed XML (line 1",
        2,
    ),
    (
        "wrong root",
        lambda p: write_qdpx(p, xml(codebook_tree())),
        "expected a REFI-QDA Project element in namespace urn:QDA-XML:project:1.0, found a "
        "CodeBook element",
        2,
    ),
    (
        "path traversal",
        lambda p: traversal(p, "../../evil.txt"),
        "p.qdpx: refused: the archive holds an unsafe path '../../evil.txt'",
        2,
    ),
    (
        "absolute path",
        lambda p: traversal(p, "/etc/evil.txt"),
        "p.qdpx: refused: the archive holds an unsafe path '/etc/evil.txt'",
        2,
    ),
    (
        "zip bomb",
        zip_bomb,
        "p.qdpx: refused: Sources/big.txt unpacks to more than 200 times its packed size",
        2,
    ),
    (
        "unknown code GUID",
        lambda p: write_qdpx(p, unknown_code()),
        f"a coding refers to the code {guid('no-such-code')}, which is not in the codebook",
        1,
    ),
]


@pytest.mark.parametrize("what,make,message,code", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_leave_the_store_unchanged(study_store, tmp_path, cli, what, make, message, code):
    path = make(tmp_path / "p.qdpx")
    before = state(study_store)
    ran = cli("import-qda", str(path), "--study", SID, store=study_store)
    assert ran.exit_code == code, ran.err
    assert message in ran.err
    assert "Traceback" not in ran.err
    assert state(study_store) == before


def test_a_total_size_cap_refuses_huge_archives(tmp_path, monkeypatch):
    import kg.qda.read

    monkeypatch.setattr(kg.qda.read, "MAX_UNPACKED", 1000)
    with pytest.raises(BadInput, match="refused: the archive unpacks to more than"):
        read_qda(write_qdpx(tmp_path / "p.qdpx"))


def test_a_study_not_in_the_graph_is_refused(built_store_path, tmp_path, cli):
    before = state(built_store_path)
    ran = cli(
        "import-qda",
        str(write_qdpx(tmp_path / "p.qdpx")),
        "--study",
        "nosuchstudy",
        store=built_store_path,
    )
    assert ran.exit_code == 2
    assert (
        'study "nosuchstudy" is not in the graph: import its row of the studies sheet first'
        in ran.err
    )
    assert state(built_store_path) == before


@pytest.mark.parametrize(
    "row,message",
    [
        (
            "code:{time}\tTid\tskos:exactMatch\tqikg:LackOfTim\tlack of time",
            'm.tsv, row 15: object_id "qikg:LackOfTim" is not a concept in the vocabulary; '
            'did you mean qikg:LackOfTime ("lack of time")?',
        ),
        (
            "code:{time}\tTid\tskos:sameAs\tqikg:LackOfTime\t",
            'predicate_id "skos:sameAs" is not a SKOS mapping',
        ),
        (
            "code:Ingen\tIngen\tskos:exactMatch\tqikg:Nurse\t",
            'subject_id "code:Ingen" is not a code of p.qdpx',
        ),
    ],
)
def test_mapping_errors_name_the_row(study_store, tmp_path, cli, row, message):
    table = write_mapping(tmp_path / "m.tsv", MAPPING + row + "\n")
    before = state(study_store)
    ran = cli(
        "import-qda",
        str(write_qdpx(tmp_path / "p.qdpx")),
        "--study",
        SID,
        "--mapping",
        str(table),
        store=study_store,
    )
    assert ran.exit_code == 1, ran.err
    assert message in ran.err
    assert state(study_store) == before


def test_a_finding_code_without_mapped_concepts_is_refused(study_store, tmp_path):
    before = state(study_store)
    with open_store(study_store) as store, pytest.raises(DataProblem) as caught:
        import_qda(store, write_qdpx(tmp_path / "p.qdpx"), SID)
    messages = [p.message for p in caught.value.report.problems]  # type: ignore[attr-defined]
    assert any(
        'the finding code "Tidspres begrænser forbedringsarbejdet" is not mapped' in m
        for m in messages
    )
    assert caught.value.result.anchoring.total == 7  # type: ignore[attr-defined]
    assert state(study_store) == before


def test_a_source_missing_from_the_archive_is_reported_and_its_selections_skipped(
    study_store, tmp_path
):
    with open_store(study_store) as store:
        result = import_qda(
            store, write_qdpx(tmp_path / "p.qdpx", files={}), SID, write_mapping(tmp_path / "m.tsv")
        )
    skipped = {(source, why) for source, _, why in result.anchoring.failed}
    assert (
        "Interview 1 – Åse",
        "the source cannot be read: its text 'internal://s1.txt' is not in the archive's "
        "Sources folder",
    ) in skipped
    assert result.committed and result.findings == 1 and result.quotes == 4


def test_export_sheet_shows_a_qda_finding_with_its_quote(study_store, tmp_path, cli):
    with open_store(study_store) as store:
        import_qda(store, write_qdpx(tmp_path / "p.qdpx"), SID, write_mapping(tmp_path / "m.tsv"))
    ran = cli("export-sheet", SID, "-o", str(tmp_path / "out"), store=study_store)
    assert ran.exit_code == 0, ran.err
    findings = (tmp_path / "out" / "findings.csv").read_text(encoding="utf-8-sig")
    assert key("theme") in findings and STATEMENT in findings
    row = next(line for line in findings.splitlines() if key("theme") in line)
    assert any(
        words in row
        for words in (
            "Vi har simpelthen ikke tid til PDSA-arbejdet",
            "Vi mangler tid til at måle.",
            "kom til læringsseminaret, men bagefter var der ingen tid",
        )
    )


def test_the_explorer_checks_then_imports_a_qdpx(study_store, tmp_path, monkeypatch):
    from kg.explorer import ui
    from kg.explorer.pages.validate import qda_import

    monkeypatch.setenv("QIKG_STORE", study_store)
    ui._open.clear()
    data = write_qdpx(tmp_path / "p.qdpx").read_bytes()
    mapping = write_mapping(tmp_path / "m.tsv").read_bytes()
    before = state(study_store)
    checked = qda_import("p.qdpx", data, SID, mapping, dry_run=True, replace=False)
    assert not checked.committed and checked.anchoring.total > 0
    assert "coded selections" in checked.anchoring.to_text()
    ui.store().close()
    ui._open.clear()
    assert state(study_store) == before
    done = qda_import("p.qdpx", data, SID, mapping, dry_run=False, replace=False)
    assert done.committed and done.quotes > 0
    ui.store().close()
    ui._open.clear()
    assert state(study_store) != before


def test_replacing_a_study_from_its_sheet_keeps_its_qda_project(study_store, tmp_path, cli):
    """Each source replaces only what it gave: re-importing the study's sheet with --replace
    leaves every quote, code and coding of its QDA project in place."""
    ran = cli(
        "import-qda",
        str(write_qdpx(tmp_path / "p.qdpx")),
        "--study",
        SID,
        "--mapping",
        str(write_mapping(tmp_path / "m.sssom.tsv")),
        store=study_store,
    )
    assert ran.exit_code == 0, ran.err
    qda = f"""SELECT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
        FILTER(STRSTARTS(STR(?s), "https://w3id.org/qikg/data/{SID}/quote/")
            || STRSTARTS(STR(?s), "https://w3id.org/qikg/data/{SID}/code/")
            || STRSTARTS(STR(?s), "https://w3id.org/qikg/data/{SID}/coding/")) }}"""
    before = {tuple(r.values()) for r in select(study_store, qda)}
    assert len(before) > 20
    sheet = write_sheet(tmp_path / "again.xlsx", findings=[finding(study_id=SID)])
    ran = cli("import", str(sheet), "--replace", store=study_store)
    assert ran.exit_code == 0, ran.err
    assert {tuple(r.values()) for r in select(study_store, qda)} == before
    exact = select(study_store, "SELECT ?q WHERE { ?s oa:exact ?q }")
    assert len(exact) >= 7  # the project's quotes and the sheet's one


def test_an_outcome_finding_without_a_direction_is_stored_not_stated_with_a_warning(
    study_store, tmp_path, cli
):
    """A QDA project cannot say what happened to an outcome unless a code is mapped to a
    direction: the import says so, and stores the direction "not stated"."""
    ran = cli(
        "import-qda",
        str(write_qdpx(tmp_path / "p.qdpx")),
        "--study",
        SID,
        "--mapping",
        str(write_mapping(tmp_path / "m.sssom.tsv")),
        store=study_store,
    )
    assert ran.exit_code == 0, ran.err
    assert "is coded with an outcome but nothing says what happened to it" in ran.err
    assert 'stored with the outcome direction "not stated"' in ran.err
