"""The RO-Crate of a review's export (`qikg export-reviews --ro-crate`, issue #20): RO-Crate 1.1's
required properties, every file with its checksum, every cited study's DOI, the versions it is
based on, and the refusals that leave nothing behind."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg.store import open_store

SCHEMA = Namespace("http://schema.org/")
RO_CRATE = "https://w3id.org/ro/crate/1.1"
#: The terms of RO-Crate 1.1's context (https://w3id.org/ro/crate/1.1/context) a qikg crate may
#: use, as that context defines them: schema.org's names, ``File`` for ``MediaObject`` and
#: Dublin Core's ``conformsTo``. A key the crate uses outside this list fails a test below: it
#: would be dropped silently by JSON-LD processing if the context did not define it.
RO_CRATE_TERMS = {
    **{
        term: str(SCHEMA[term])
        for term in (
            "CreativeWork Dataset Person ScholarlyArticle SoftwareApplication CreateAction "
            "name description datePublished license copyrightNotice keywords identifier "
            "citation isBasedOn hasPart isPartOf author about encodingFormat contentSize url "
            "version softwareVersion creditText instrument object result endTime"
        ).split()
    },
    "File": str(SCHEMA.MediaObject),
    "conformsTo": str(DCTERMS.conformsTo),
}


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
    """The document with RO-Crate's context URL replaced by its terms (no network in tests)."""
    context = metadata["@context"]
    assert context[0] == f"{RO_CRATE}/context"
    return {**metadata, "@context": [RO_CRATE_TERMS, *context[1:]]}


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


def test_every_key_is_a_term_of_the_ro_crate_context(metadata: dict) -> None:
    extension = metadata["@context"][1]
    assert extension == {"sha256": "http://schema.org/sha256"}
    known = set(RO_CRATE_TERMS) | set(extension) | {"@id", "@type"}
    used = {key for entity in metadata["@graph"] for key in entity}
    assert used and used <= known, used - known
    types = {t for entity in metadata["@graph"] for t in _many(entity["@type"])}
    assert types <= set(RO_CRATE_TERMS), types - set(RO_CRATE_TERMS)


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
