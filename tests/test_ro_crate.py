"""The RO-Crate of a review's export (`qikg export-reviews --ro-crate`, issue #20): RO-Crate 1.1's
rules as roc-validator checks them (offline), every key a term of RO-Crate 1.1's context, every
file with its checksum, every cited study's DOI, the versions it is based on, and the refusals
that leave nothing behind."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg.store import open_store

SCHEMA = Namespace("http://schema.org/")
RO_CRATE = "https://w3id.org/ro/crate/1.1"
#: RO-Crate 1.1's JSON-LD context (https://w3id.org/ro/crate/1.1/context, CC0), byte for byte as
#: PyPI's ``rocrate`` 0.9.0 to 0.14.0 ship it (rocrate/data/ro-crate.jsonld, the SHA-256 below):
#: tests run offline. Named .json so that codespell skips schema.org's term names.
CONTEXT_FILE = Path(__file__).parent / "fixtures" / "ro-crate-1.1-context.json"
CONTEXT_SHA256 = "bb5dd0a79ebd5a3b074e2faf96f437503234f8a4b8e84c7149de91eae0d2222a"
RO_CRATE_CONTEXT: dict[str, str | dict] = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))[
    "@context"
]


@pytest.fixture(scope="module")
def crate(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.conftest import run_cli

    out = tmp_path_factory.mktemp("crate") / "bundled-crate"
    ran = run_cli(
        "export-reviews",
        "--review",
        "bundled",
        "-o",
        str(out),
        "--ro-crate",
        store=built_store_path,
    )
    assert ran.exit_code == 0, ran.err
    assert "6 cited studies" in ran.err
    return out


@pytest.fixture(scope="module")
def metadata(crate: Path) -> dict:
    return json.loads((crate / "ro-crate-metadata.json").read_text(encoding="utf-8"))


def _entities(metadata: dict) -> dict[str, dict]:
    return {e["@id"]: e for e in metadata["@graph"]}


def _many(value: dict | list) -> list:
    return value if isinstance(value, list) else [value]


def _ids(value: dict | list) -> set[str]:
    return {v["@id"] for v in _many(value)}


def _offline(metadata: dict) -> dict:
    """The document with RO-Crate's context URL replaced by that context (no network in tests)."""
    context = metadata["@context"]
    assert context[0] == f"{RO_CRATE}/context"
    return {**metadata, "@context": [RO_CRATE_CONTEXT, *context[1:]]}


def test_the_metadata_parses_as_json_ld(metadata: dict) -> None:
    g = Graph().parse(data=json.dumps(_offline(metadata)), format="json-ld")
    described = list(g.subjects(DCTERMS.conformsTo, URIRef(RO_CRATE)))
    assert len(described) == 1 and str(described[0]).endswith("ro-crate-metadata.json")
    roots = list(g.objects(described[0], SCHEMA.about))
    assert len(roots) == 1 and (roots[0], RDF.type, SCHEMA.Dataset) in g
    assert (roots[0], SCHEMA.license, URIRef("https://creativecommons.org/licenses/by/4.0/")) in g
    files = list(g.subjects(RDF.type, SCHEMA.MediaObject))
    assert len(files) == 11
    assert all(g.value(f, SCHEMA.sha256) is not None for f in files)


def test_every_key_is_a_term_of_the_ro_crate_context_or_its_extension(metadata: dict) -> None:
    """A key neither defines would be dropped silently by JSON-LD processing. The extension
    defines only schema.org terms newer than the context (schema.org 10.0), none of its own."""
    assert hashlib.sha256(CONTEXT_FILE.read_bytes()).hexdigest() == CONTEXT_SHA256
    extension = metadata["@context"][1]
    assert extension == {
        name: str(SCHEMA[name]) for name in ("copyrightNotice", "creditText", "sha256")
    }
    assert not set(extension) & set(RO_CRATE_CONTEXT)
    known = set(RO_CRATE_CONTEXT) | set(extension) | {"@id", "@type"}
    used = {key for entity in metadata["@graph"] for key in entity}
    assert used and used <= known, used - known
    types = {t for entity in metadata["@graph"] for t in _many(entity["@type"])}
    assert types <= set(RO_CRATE_CONTEXT), types - set(RO_CRATE_CONTEXT)
    assert RO_CRATE_CONTEXT["File"] == str(SCHEMA.MediaObject)


# ---------------------------------------------------------------------------------------------
# roc-validator (PyPI roc-validator, the RO-Crate community's validator): RO-Crate 1.1's rules
# ---------------------------------------------------------------------------------------------

#: What its ro-crate-1.1 profile recommends and a qikg crate cannot say, as (entity, property):
#: the root's publisher (an Organization: the repository a user deposits the crate in, not known
#: when qikg writes it) and the assessor's affiliation (qikg keeps an agent's name and ORCID, no
#: affiliation). Anything else it recommends fails the test below.
NOT_KNOWN_TO_QIKG = {
    ("./", str(SCHEMA.publisher)),
    ("https://w3id.org/qikg/data/agent/qikg-bundled-data-reviewer", str(SCHEMA.affiliation)),
}


@pytest.fixture(scope="module")
def validator_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """roc-validator's HTTP cache (requests-cache, SQLite) holding RO-Crate 1.1's context, so it
    runs with ``--offline``: that context is the one document it fetches (its profiles and
    SHACL shapes ship inside the wheel; run online, it would fetch the context from w3id.org)."""
    import io

    from requests import PreparedRequest, Response
    from requests.adapters import HTTPAdapter
    from requests_cache import CachedSession
    from urllib3 import HTTPResponse

    data = CONTEXT_FILE.read_bytes()

    class Fixture(HTTPAdapter):
        """Answers every request with the context file, as w3id.org would (JSON-LD)."""

        def send(self, request: PreparedRequest, *args: object, **kwargs: object) -> Response:
            raw = HTTPResponse(
                body=io.BytesIO(data),
                headers={"Content-Type": "application/ld+json"},
                status=200,
                preload_content=False,
                request_url=request.url,
            )
            return self.build_response(request, raw)

    cache = tmp_path_factory.mktemp("roc-validator") / "http_cache"
    # the settings roc-validator opens its cache with, so that its requests find this entry
    with CachedSession(str(cache), backend="sqlite", expire_after=-1) as session:
        session.mount("https://w3id.org/", Fixture())
        assert session.get(f"{RO_CRATE}/context").status_code == 200
    return cache


def _roc_validator(crate: Path, cache: Path, severity: str) -> dict:
    """roc-validator's JSON report on ``crate`` against the ro-crate-1.1 profile, offline, with
    the requirements of ``severity`` and above."""
    report = cache.parent / f"report-{severity}.json"
    command = Path(sys.executable).with_name("rocrate-validator")
    ran = subprocess.run(
        [
            str(command),
            "--no-interactive",
            "--disable-color",
            "validate",
            "--profile-identifier",
            "ro-crate-1.1",
            "--requirement-severity",
            severity,
            "--offline",
            "--cache-path",
            str(cache),
            "--no-paging",
            "--output-format",
            "json",
            "--output-file",
            str(report),
            str(crate),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert report.exists(), ran.stdout + ran.stderr
    result = json.loads(report.read_text(encoding="utf-8"))
    assert result["statistics"]["profiles"] == ["ro-crate-1.1"]
    assert result["statistics"]["total_skipped_checks"] == 0, result["skipped_check_details"]
    assert ran.returncode == (0 if result["passed"] else 1), ran.stderr
    return result


def test_roc_validator_finds_every_required_rule_of_ro_crate_1_1_met(
    crate: Path, validator_cache: Path
) -> None:
    result = _roc_validator(crate, validator_cache, "required")
    issues = [(i["check"]["identifier"], i["message"]) for i in result["issues"]]
    assert result["passed"] and not issues, issues
    assert result["statistics"]["total_checks_by_severity"]["REQUIRED"] > 30


def test_roc_validator_recommends_only_what_qikg_does_not_know(
    crate: Path, validator_cache: Path
) -> None:
    result = _roc_validator(crate, validator_cache, "recommended")
    assert {i["severity"] for i in result["issues"]} <= {"RECOMMENDED"}
    found = {(i["violatingEntity"], i["violatingProperty"]) for i in result["issues"]}
    assert found == NOT_KNOWN_TO_QIKG, [i["message"] for i in result["issues"]]


def test_the_descriptor_and_root_have_ro_crate_1_1s_required_properties(metadata: dict) -> None:
    entities = _entities(metadata)
    assert len(entities) == len(metadata["@graph"]), "an @id is used twice"
    descriptor = entities["ro-crate-metadata.json"]
    assert descriptor["@type"] == "CreativeWork"
    assert descriptor["conformsTo"] == {"@id": RO_CRATE}
    assert descriptor["about"] == {"@id": "./"}
    root = entities["./"]
    assert root["@type"] == "Dataset"
    assert root["name"] and root["description"]
    assert dt.date.fromisoformat(root["datePublished"])
    assert root["license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}
    assert root["license"]["@id"] in entities  # the licence is described, not only named
    assert "publishers' terms" in root["copyrightNotice"]
    # a flat graph: every nested value is a reference to an entity of the graph
    for entity in metadata["@graph"]:
        for key, value in entity.items():
            for v in _many(value) if isinstance(value, dict | list) else []:
                if isinstance(v, dict):
                    assert set(v) == {"@id"}, (entity["@id"], key)
                    if not v["@id"].startswith("http"):
                        assert v["@id"] in entities, (entity["@id"], key, v)


def test_every_file_is_listed_with_its_size_checksum_format_and_licence(
    crate: Path, metadata: dict
) -> None:
    entities = _entities(metadata)
    on_disk = {p.name for p in crate.iterdir()} - {"ro-crate-metadata.json"}
    assert {"reviews.csv", "review-bundled.trig", "soqf.html", "soqf.csv", "soqf.docx"} <= on_disk
    assert _ids(entities["./"]["hasPart"]) == on_disk
    files = {i: e for i, e in entities.items() if e["@type"] == "File"}
    assert set(files) == on_disk
    for name, entity in files.items():
        data = (crate / name).read_bytes()
        assert entity["sha256"] == hashlib.sha256(data).hexdigest(), name
        assert entity["contentSize"] == str(len(data)), name
        assert entity["encodingFormat"] in (
            "text/csv",
            "text/html",
            "application/trig",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        )
        assert entity["license"] == {"@id": "https://creativecommons.org/licenses/by/4.0/"}


def test_a_changed_file_no_longer_matches_its_checksum(crate: Path, metadata: dict) -> None:
    entity = _entities(metadata)["soqf.csv"]
    data = (crate / "soqf.csv").read_bytes()
    assert hashlib.sha256(data + b" ").hexdigest() != entity["sha256"]


def _cited_dois(store_path: str) -> set[str]:
    """The DOIs of the studies whose findings the bundled review's findings cite, read from the
    store (not from the crate's code)."""
    with open_store(store_path) as store:
        rows = store.query(
            """SELECT DISTINCT ?doi WHERE {
                GRAPH <https://w3id.org/qikg/graph/review/bundled> { ?rf qikg:synthesises ?f }
                ?f qikg:reportedIn/qikg:doi ?doi }""",
            include_inferred=False,
        ).column("doi")
    return {str(d) for d in rows}


def test_every_cited_studys_doi_is_cited(metadata: dict, built_store_path: str) -> None:
    dois = _cited_dois(built_store_path)
    assert len(dois) == 6
    entities = _entities(metadata)
    assert _ids(entities["./"]["citation"]) == dois
    for doi in dois:
        article = entities[doi]
        assert article["@type"] == "ScholarlyArticle" and article["identifier"] == doi
        assert article["name"] and article["datePublished"]


def test_each_study_file_names_its_study_and_its_source_texts_terms(
    crate: Path, metadata: dict
) -> None:
    entities = _entities(metadata)
    studies = {i: e for i, e in entities.items() if i.startswith("study-")}
    assert len(studies) == 6
    for name, entity in studies.items():
        article = entities[entity["about"]["@id"]]
        text = entities[article["hasPart"]["@id"]]
        assert text["isPartOf"] == {"@id": article["@id"]}
        assert text["copyrightNotice"] in entity["copyrightNotice"]
        sid = name.removeprefix("study-").removesuffix(".trig")
        graph = f"https://w3id.org/qikg/graph/study/{sid}"
        quads = list(ox.parse((crate / name).read_bytes(), format=ox.RdfFormat.TRIG))
        assert {q.graph_name.value for q in quads} <= {graph, "https://w3id.org/qikg/graph/shared"}
        rights = [
            q.object.value
            for q in quads
            if q.predicate.value == str(DCTERMS.rights) and q.graph_name.value == graph
        ]
        assert rights == [text["copyrightNotice"]]
        doi = [q.object.value for q in quads if q.predicate.value.endswith("ontology#doi")]
        assert doi == [article["@id"]]


def test_the_review_graph_and_sheet_hold_the_review(crate: Path) -> None:
    quads = list(ox.parse((crate / "review-bundled.trig").read_bytes(), format=ox.RdfFormat.TRIG))
    review = "https://w3id.org/qikg/graph/review/bundled"
    findings = {
        q.subject.value
        for q in quads
        if q.graph_name.value == review and q.object.value.endswith("ontology#ReviewFinding")
    }
    assert findings == {f"https://w3id.org/qikg/data/review/RF{n}" for n in (1, 2, 3)}
    with (crate / "reviews.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["review_finding_id"] for r in rows] == ["RF1", "RF2", "RF3"]
    assert all(r["review"] == "bundled" and r["supporting_findings"] for r in rows)
    assert "Summary of Qualitative Findings" in (crate / "soqf.html").read_text(encoding="utf-8")


def test_it_is_based_on_the_graph_version_and_the_ontology(
    metadata: dict, built_store_path: str
) -> None:
    with open_store(built_store_path) as store:
        version = store.history().versions[-1].number
    entities = _entities(metadata)
    assert _ids(entities["./"]["isBasedOn"]) == {
        "#qikg-graph",
        "https://w3id.org/qikg/ontology/0.3.0",
    }
    assert entities["#qikg-graph"]["version"] == str(version)
    assert entities["https://w3id.org/qikg/ontology/0.3.0"]["version"] == "0.3.0"
    action = entities["#export"]
    assert action["instrument"] == {"@id": "#qikg"} and entities["#qikg"]["version"] == "0.3.0"
    g = Graph().parse(data=json.dumps(_offline(metadata)), format="json-ld")
    assert Literal(str(version)) in set(g.objects(None, SCHEMA.version))


def test_the_assessor_is_an_author(metadata: dict) -> None:
    entities = _entities(metadata)
    authors = _ids(entities["./"]["author"])
    assert authors == {"https://w3id.org/qikg/data/agent/qikg-bundled-data-reviewer"}
    person = entities[authors.pop()]
    assert person["@type"] == "Person" and person["name"] == "qikg bundled-data reviewer"


def test_a_folder_that_is_not_empty_is_refused_and_left_as_it_was(
    cli, built_store_path: str, tmp_path: Path
) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    ran = cli(
        "export-reviews",
        "--review",
        "bundled",
        "-o",
        str(out),
        "--ro-crate",
        store=built_store_path,
    )
    assert ran.exit_code != 0 and "not an empty folder" in ran.err
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".mine")]


def test_an_unknown_review_or_no_review_writes_nothing(
    cli, built_store_path: str, tmp_path: Path
) -> None:
    out = tmp_path / "crate"
    ran = cli(
        "export-reviews", "--review", "nosuch", "-o", str(out), "--ro-crate", store=built_store_path
    )
    assert ran.exit_code != 0 and 'no review "nosuch"' in ran.err
    ran = cli("export-reviews", "-o", str(out), "--ro-crate", store=built_store_path)
    assert ran.exit_code != 0 and "--review" in ran.err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".crate")]


def test_an_empty_folder_receives_the_crate(cli, built_store_path: str, tmp_path: Path) -> None:
    out = tmp_path / "empty"
    out.mkdir()
    ran = cli(
        "export-reviews",
        "--review",
        "bundled",
        "-o",
        str(out),
        "--ro-crate",
        store=built_store_path,
    )
    assert ran.exit_code == 0, ran.err
    assert (out / "ro-crate-metadata.json").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".empty")]
