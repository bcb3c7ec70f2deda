"""The FAIR release (issue #20): the catalog that opens the ontology offline, the module headers,
and ``qikg release`` as an ontology user meets it: every file parses, owlready2 loads the merged
OWL without a network and HermiT finds it consistent, and the VoID + DCAT description lists every
file with counts that match ``qikg stats``."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import httpx
import owlready2
import pyoxigraph as ox
import pytest
from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, SKOS, VOID, XSD

import kg.namespaces
from kg import __version__
from kg.errors import DataProblem
from kg.namespaces import QIKG
from kg.ontology import ONTOLOGY_IRI, load_merged_graph, ontology_files
from kg.read.stats import stats
from kg.release import (
    DCAT3,
    LICENCE,
    RELEASE_BASE,
    SPDX,
    catalog,
    merged_ontology,
    prior_version,
    resolve_imports,
)
from kg.resources import ontology_dir
from kg.store import open_store
from tests.conftest import need
from tests.servers import start_serve, stop_group

owlready2.JAVA_EXE = "/usr/bin/java"

ENTRY = ontology_dir() / "qikg.ttl"


def imports_of_entry() -> list[URIRef]:
    return sorted(Graph().parse(ENTRY, format="turtle").objects(ONTOLOGY_IRI, OWL.imports))


# -- the catalog ---------------------------------------------------------------------------


def test_the_catalog_maps_every_import_to_a_file_that_exists() -> None:
    mapping = catalog()
    imports = imports_of_entry()
    assert len(imports) == 9
    for iri in imports:
        assert str(iri) in mapping, f"{iri} is not in ontology/catalog-v001.xml"
        assert mapping[str(iri)].is_file(), mapping[str(iri)]
        module = Graph().parse(mapping[str(iri)], format="turtle")
        assert (iri, RDF.type, OWL.Ontology) in module, f"{mapping[str(iri)]} is not {iri}"


def test_the_catalog_maps_each_version_iri_to_the_same_file() -> None:
    mapping = catalog()
    for path in ontology_files():
        graph = Graph().parse(path, format="turtle")
        ontology = next(graph.subjects(RDF.type, OWL.Ontology))
        version = graph.value(ontology, OWL.versionIRI)
        assert mapping[str(ontology)] == path.resolve()
        assert mapping[str(version)] == path.resolve()


def test_following_the_catalog_reads_every_module_and_nothing_else() -> None:
    """rdflib following the imports through the catalog gets what the tools load from disk:
    a module file nobody imports, or an import nobody maps, would show here."""
    assert isomorphic(resolve_imports(), load_merged_graph())


def test_an_import_the_catalog_lacks_is_refused_not_fetched(monkeypatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    mapping = catalog()
    del mapping["https://w3id.org/qikg/ontology/cfir"]
    with pytest.raises(DataProblem, match="ontology/cfir is imported but the catalog maps it"):
        resolve_imports(mapping=mapping)


def _no_network(*args, **kwargs):
    raise AssertionError("the release must not use the network")


# -- module headers ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ontology_files(), ids=lambda p: p.name)
def test_every_module_header_is_fair(path: Path) -> None:
    graph = Graph().parse(path, format="turtle")
    (ontology,) = graph.subjects(RDF.type, OWL.Ontology)
    module = "" if path.stem == "qikg" else f"/{path.stem}"
    assert graph.value(ontology, OWL.versionIRI) == URIRef(f"{ONTOLOGY_IRI}/{__version__}{module}")
    assert graph.value(ontology, OWL.versionInfo) == Literal(__version__)
    assert graph.value(ontology, DCTERMS.license) == LICENCE
    for prop in (DCTERMS.title, DCTERMS.description):
        assert graph.value(ontology, prop).language == "en", prop
    creators = list(graph.objects(ontology, DCTERMS.creator))
    assert creators and all(not isinstance(c, Literal) for c in creators)
    assert all(graph.value(c, FOAF.name) for c in creators), "a creator is an agent with a name"
    created = graph.value(ontology, DCTERMS.created)
    modified = graph.value(ontology, DCTERMS.modified)
    assert created.datatype == XSD.date and modified.datatype == XSD.date
    assert created.toPython() <= modified.toPython() <= dt.date.today()


CHANGELOG = Path(__file__).resolve().parent.parent / "CHANGELOG.md"
#: A module a later release added, and that release: its first version has no prior version.
#: Every module of today was in qikg 0.2.0 (and 0.1.0).
ADDED_IN: dict[str, str] = {}


def releases() -> list[str]:
    """qikg's releases, oldest first, as CHANGELOG.md's headings name them."""
    found = re.findall(r"^## (\d+\.\d+\.\d+)\b", CHANGELOG.read_text(encoding="utf-8"), re.M)
    return sorted(set(found), key=lambda v: tuple(int(n) for n in v.split(".")))


def test_the_changelog_names_the_releases() -> None:
    assert releases()[:3] == ["0.1.0", "0.2.0", "0.3.0"]


@pytest.mark.parametrize("path", ontology_files(), ids=lambda p: p.name)
def test_every_version_but_the_first_names_the_one_before(path: Path) -> None:
    """owl:priorVersion: the module's version IRI in the release before this one (the same
    pattern as its version IRI), unless this is the first release that had the module."""
    graph = Graph().parse(path, format="turtle")
    (ontology,) = graph.subjects(RDF.type, OWL.Ontology)
    module = "" if path.stem == "qikg" else f"/{path.stem}"
    version = str(graph.value(ontology, OWL.versionInfo))
    history = releases()
    assert version in history, f"{version} has no heading in CHANGELOG.md"
    first = ADDED_IN.get(path.stem, history[0])
    earlier = history[history.index(first) : history.index(version)]
    priors = list(graph.objects(ontology, OWL.priorVersion))
    if not earlier:
        assert priors == [], f"{path.name}: {version} is its first version"
        return
    assert priors == [URIRef(f"{ONTOLOGY_IRI}/{earlier[-1]}{module}")], path.name
    assert graph.value(ontology, OWL.versionIRI) == URIRef(f"{ONTOLOGY_IRI}/{version}{module}")


def test_the_release_refuses_headers_of_another_version() -> None:
    with pytest.raises(DataProblem, match="says version 0.3.0, the release is 9.9.9"):
        merged_ontology("9.9.9")


# -- qikg release ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``qikg release -o DIR``, run once, offline."""
    from tests.conftest import run_cli

    out = tmp_path_factory.mktemp("release") / "dist"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", _no_network)
        ran = run_cli("release", "-o", str(out))
    assert ran.exit_code == 0, ran.err
    assert f"wrote qikg {__version__}" in ran.err
    return out


@pytest.fixture(scope="module")
def description(release: Path) -> Graph:
    return Graph().parse(release / f"qikg-{__version__}.void.ttl", format="turtle")


def written(release: Path) -> set[str]:
    return {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file()}


def test_every_artifact_is_named_with_the_version(release: Path) -> None:
    files = written(release)
    v = __version__
    expected = {
        f"qikg-{v}.owl",
        f"qikg-{v}.ttl",
        f"qikg-{v}.jsonld",
        f"qikg-context-{v}.jsonld",
        f"qikg-shapes-{v}.ttl",
        f"qikg-data-{v}.trig",
        f"qikg-data-{v}.nq",
        f"qikg-{v}.void.ttl",
        f"qikg-docs-{v}/index.html",
        f"qikg-docs-{v}/ontology.html",
    }
    assert expected <= files
    assert all(v in name for name in files), sorted(files)


def test_the_merged_owl_is_one_ontology_with_its_version_iri(release: Path) -> None:
    rdfxml = Graph().parse(release / f"qikg-{__version__}.owl", format="xml")
    turtle = Graph().parse(release / f"qikg-{__version__}.ttl", format="turtle")
    assert isomorphic(rdfxml, turtle)
    assert list(turtle.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    assert turtle.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef(f"{ONTOLOGY_IRI}/{__version__}")
    assert turtle.value(ONTOLOGY_IRI, DCTERMS.license) == LICENCE
    assert turtle.value(ONTOLOGY_IRI, DCTERMS.issued) is not None
    assert turtle.value(ONTOLOGY_IRI, OWL.priorVersion) == URIRef(f"{ONTOLOGY_IRI}/{previous()}")
    assert not list(turtle.triples((None, OWL.imports, None)))
    # every axiom and concept of every module is there (blank nodes aside)
    sources = load_merged_graph()
    modules = {s for s in sources.subjects(RDF.type, OWL.Ontology)}
    missing = [
        t
        for t in sources
        if t[0] not in modules and not any(isinstance(n, BNode) for n in t) and t not in turtle
    ]
    assert missing == []
    assert (QIKG.Nurse, SKOS.inScheme, QIKG.ProfessionalGroupScheme) in turtle


def test_owlready2_loads_the_merged_owl_offline_and_hermit_finds_it_consistent(
    release: Path, monkeypatch
) -> None:
    need("java", "HermiT runs on Java")

    def refuse(*args, **kwargs):
        raise AssertionError("owlready2 tried to download an import")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    world = owlready2.World()
    path = release / f"qikg-{__version__}.owl"
    with path.open("rb") as fileobj:
        onto = world.get_ontology(str(ONTOLOGY_IRI)).load(fileobj=fileobj)
    assert onto.imported_ontologies == []
    assert world[str(QIKG.Finding)] is not None
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)  # raises if not
    assert list(world.inconsistent_classes()) == []


def test_the_jsonld_ontology_is_the_ontology(release: Path) -> None:
    jsonld = Graph().parse(release / f"qikg-{__version__}.jsonld", format="json-ld")
    turtle = Graph().parse(release / f"qikg-{__version__}.ttl", format="turtle")
    assert isomorphic(jsonld, turtle)
    assert len(list(jsonld.subjects(RDF.type, SKOS.ConceptScheme))) > 10


def test_the_published_context_reads_qikg_data(release: Path) -> None:
    context = json.loads((release / f"qikg-context-{__version__}.jsonld").read_text())
    assert context["dcterms:license"] == {"@id": str(LICENCE)}
    document = {
        "@context": context["@context"],
        "@id": "qikgd:x2025/finding/F1",
        "@type": "Finding",
        "reportedIn": "qikgd:x2025",
        "concernsProfessionalGroup": "qikg:Nurse",
        "dcterms:description": "Nurses led the PDSA cycles.",
    }
    graph = Graph().parse(data=json.dumps(document), format="json-ld")
    finding = URIRef("https://w3id.org/qikg/data/x2025/finding/F1")
    assert (finding, RDF.type, QIKG.Finding) in graph
    assert (finding, QIKG.reportedIn, URIRef("https://w3id.org/qikg/data/x2025")) in graph
    assert (finding, QIKG.concernsProfessionalGroup, QIKG.Nurse) in graph


def test_shapes_and_data_parse_and_carry_their_licence(release: Path) -> None:
    shapes_file = release / f"qikg-shapes-{__version__}.ttl"
    for name in (shapes_file.name, f"qikg-data-{__version__}.trig", f"qikg-data-{__version__}.nq"):
        assert "Licence: CC BY 4.0" in (release / name).read_text().splitlines()[1], name
    shapes = Graph().parse(shapes_file, format="turtle")
    assert len(list(shapes.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape"))))
    trig = Dataset().parse(release / f"qikg-data-{__version__}.trig", format="trig")
    nquads = Dataset().parse(release / f"qikg-data-{__version__}.nq", format="nquads")
    assert len(trig) == len(nquads) > 1000
    graphs = {str(g.identifier) for g in nquads.graphs()}
    assert "https://w3id.org/qikg/graph/study/carstensen2024" in graphs


class _Pages(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.links += [v for k, v in attrs if tag == "a" and k == "href" and v]


def test_the_docs_index_links_pages_that_were_written(release: Path) -> None:
    docs = release / f"qikg-docs-{__version__}"
    parser = _Pages()
    parser.feed((docs / "index.html").read_text(encoding="utf-8"))
    local = [link for link in parser.links if link.endswith(".html")]
    assert local and all((docs / link).is_file() for link in local), local
    for page in docs.glob("*.html"):
        assert str(LICENCE) in page.read_text(encoding="utf-8"), page.name


def test_the_dcat_description_lists_every_file_written(release: Path, description: Graph) -> None:
    base = f"{RELEASE_BASE}{__version__}/"
    (dataset,) = description.subjects(RDF.type, DCAT.Dataset)
    assert (dataset, RDF.type, VOID.Dataset) in description
    assert description.value(dataset, DCTERMS.license) == LICENCE
    listed = {f"qikg-{__version__}.void.ttl"}  # the description is the catalog record itself
    assert (URIRef(base + next(iter(listed))), RDF.type, DCAT.Catalog) in description
    distributions = list(description.objects(dataset, DCAT.distribution))
    assert len(distributions) == 8
    for dist in distributions:
        assert description.value(dist, DCTERMS.license) == LICENCE
        assert description.value(dist, DCAT.mediaType) is not None
        urls = [str(u) for u in description.objects(dist, DCAT.downloadURL)]
        assert urls and all(u.startswith(base) for u in urls)
        listed |= {u[len(base) :] for u in urls}
        size = description.value(dist, DCAT.byteSize)
        if size is not None:  # a single file: its size and checksum are the file's
            data = (release / urls[0][len(base) :]).read_bytes()
            assert int(size) == len(data)
            checksum = description.value(dist, SPDX.checksum)
            assert str(description.value(checksum, SPDX.checksumValue)) == (
                hashlib.sha256(data).hexdigest()
            )
    assert listed == written(release)


def previous() -> str:
    """The release before this one, as CHANGELOG.md lists them."""
    history = releases()
    return history[history.index(__version__) - 1]


def test_the_dcat_description_names_the_previous_release(description: Graph) -> None:
    """DCAT 3's dcat:previousVersion: the release the ontology's owl:priorVersion names."""
    (dataset,) = description.subjects(RDF.type, DCAT.Dataset)
    assert list(description.objects(dataset, DCAT3.previousVersion)) == [
        URIRef(f"{RELEASE_BASE}{previous()}")
    ]
    assert prior_version(merged_ontology()) == previous()


def released_store(release: Path, folder: Path):
    """A store holding exactly the release's N-Quads, graph by graph."""
    graphs: dict[str, list[str]] = {}
    for quad in ox.parse(
        path=str(release / f"qikg-data-{__version__}.nq"), format=ox.RdfFormat.N_QUADS
    ):
        graphs.setdefault(quad.graph_name.value, []).append(str(quad.triple) + " .")
    store = open_store(str(folder / "store"))
    store.replace_graphs({g: "\n".join(lines) for g, lines in graphs.items()})
    return store


def test_the_void_counts_match_qikg_stats(release: Path, description: Graph, tmp_path) -> None:
    """The counts are what ``qikg stats --json`` says of the released data (a store loaded from
    the release's N-Quads: the bundled data may grow while the test runs)."""
    (dataset,) = description.subjects(RDF.type, DCAT.Dataset)
    with released_store(release, tmp_path) as store:
        numbers = stats(store)
    assert int(description.value(dataset, VOID.triples)) == numbers["triples"]
    lines = (release / f"qikg-data-{__version__}.nq").read_bytes().splitlines()
    assert len([line for line in lines if not line.startswith(b"#")]) == numbers["triples"]
    by_class = {
        description.value(p, VOID["class"]): int(description.value(p, VOID.entities))
        for p in description.objects(dataset, VOID.classPartition)
    }
    assert by_class == {
        QIKG.Study: numbers["studies"],
        QIKG.Finding: numbers["findings"],
        QIKG.Quote: numbers["quotes"],
        SKOS.Concept: numbers["concepts"],
    }
    assert int(description.value(dataset, VOID.entities)) > numbers["findings"]
    subsets = {
        str(description.value(s, URIRef("http://www.w3.org/ns/sparql-service-description#name"))):
        int(description.value(s, VOID.triples))
        for s in description.objects(dataset, VOID.subset)
    }  # fmt: skip
    assert sum(subsets.values()) == numbers["triples"]
    assert description.value(dataset, VOID.sparqlEndpoint) is not None


def test_release_into_an_unwritable_place_is_refused(cli, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    ran = cli("release", "-o", str(blocker / "dist"))
    assert ran.exit_code == 2 and "cannot write the release" in ran.err
    assert blocker.read_text() == "x"


# -- qikg serve: the Service Description -------------------------------------------------------

SD = "http://www.w3.org/ns/sparql-service-description#"


@pytest.fixture(scope="module")
def endpoint(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a real ``qikg serve`` on a copy of the bundled store."""
    store = tmp_path_factory.mktemp("sd") / "store"
    shutil.copytree(built_store_path, store)
    base, proc = start_serve(str(store), tmp_path_factory.mktemp("logs"))
    yield base
    stop_group(proc)


@pytest.mark.server
@pytest.mark.parametrize(
    "accept, fmt",
    [
        ("text/turtle", "turtle"),
        ("application/rdf+xml", "xml"),
        ("application/ld+json", "json-ld"),
        ("application/ld+json;q=0.5, text/turtle", "turtle"),
    ],
)
def test_a_get_on_the_endpoint_without_a_query_is_its_service_description(
    endpoint: str, accept: str, fmt: str
) -> None:
    response = httpx.get(f"{endpoint}/sparql", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(accept.split(",")[-1].strip())
    g = Graph().parse(data=response.text, format=fmt)
    sd = Namespace(SD)
    (service,) = g.subjects(RDF.type, sd.Service)
    assert g.value(service, sd.endpoint) == URIRef(f"{endpoint}/sparql")
    assert g.value(service, sd.supportedLanguage) == sd.SPARQL11Query
    formats = {str(f).rsplit("/", 1)[-1] for f in g.objects(service, sd.resultFormat)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "Turtle", "JSON-LD"} <= formats
    dataset = g.value(service, sd.defaultDataset)
    assert g.value(dataset, DCTERMS.license) == LICENCE
    assert g.value(dataset, sd.defaultGraph) is not None
    names = {str(g.value(n, sd.name)) for n in g.objects(dataset, sd.namedGraph)}
    assert "https://w3id.org/qikg/graph/study/carstensen2024" in names


@pytest.mark.server
def test_a_browser_gets_the_query_page_and_a_bare_client_hears_a_query_is_missing(
    endpoint: str,
) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = httpx.get(f"{endpoint}/sparql", headers={"Accept": browser})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<textarea" in page.text
    for accept in ("*/*", "application/sparql-results+json"):
        bare = httpx.get(f"{endpoint}/sparql", headers={"Accept": accept})
        assert bare.status_code == 400 and "give exactly one query" in bare.text
    # a query still wins over the description, whatever the Accept header says
    construct = "CONSTRUCT { ?s a qikg:Study } WHERE { ?s a qikg:Study }"
    studies = httpx.get(
        f"{endpoint}/sparql", params={"query": construct}, headers={"Accept": "text/turtle"}
    )
    g = Graph().parse(data=studies.text, format="turtle")
    assert len(g) > 10 and not list(g.subjects(RDF.type, Namespace(SD).Service))


# -- the w3id.org redirect rules -------------------------------------------------------------

HTACCESS = Path(__file__).resolve().parent.parent / "w3id" / ".htaccess"
W3ID = "https://w3id.org/qikg/"
ACCEPTS = [
    "text/html",
    "*/*",
    "application/rdf+xml",
    "text/turtle",
    "application/ld+json",
    "application/trig",
    "application/n-quads",
]


@dataclass
class Rule:
    conditions: list[tuple[str, re.Pattern, bool]]  # (variable, pattern, OR with the next)
    pattern: re.Pattern
    target: str
    flags: str


def read_rules(text: str) -> list[Rule]:
    """The RewriteCond/RewriteRule lines of an .htaccess, as mod_rewrite groups them."""
    rules: list[Rule] = []
    pending: list[tuple[str, re.Pattern, bool]] = []
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "RewriteCond":
            flags = words[3] if len(words) > 3 else ""
            pending.append((words[1], re.compile(words[2], re.I), "OR" in flags))
        elif words[0] == "RewriteRule":
            flags = words[3] if len(words) > 3 else ""
            rules.append(Rule(pending, re.compile(words[1]), words[2], flags))
            pending = []
    assert not pending, "a RewriteCond without its rule"
    return rules


def redirect(rules: list[Rule], path: str, accept: str) -> tuple[str, str]:
    """Where mod_rewrite sends a request for w3id.org/qikg/{path}: (target URL, status)."""
    env: dict[str, str] = {}
    headers = {"%{HTTP_ACCEPT}": accept}
    for rule in rules:
        match = rule.pattern.search(path)
        if match is None or not _conditions_hold(rule.conditions, headers):
            continue
        if rule.target == "-":
            name, _, value = rule.flags.strip("[]").removeprefix("E=").partition(":")
            env[name] = value
            continue
        status = re.search(r"R=(\d+)", rule.flags)
        return _substitute(rule.target, match, env), status.group(1) if status else ""
    raise AssertionError(f"no rule for {path} ({accept})")


def _conditions_hold(conditions: list[tuple[str, re.Pattern, bool]], headers: dict) -> bool:
    """mod_rewrite's logic: conditions are ANDed, except that [OR] joins one to the next."""
    chains: list[list[bool]] = [[]]
    for variable, pattern, or_next in conditions:
        chains[-1].append(bool(pattern.search(headers[variable])))
        if not or_next:
            chains.append([])
    return all(any(chain) for chain in chains if chain)


def _substitute(target: str, match: re.Match, env: dict[str, str]) -> str:
    target = re.sub(r"%\{ENV:(\w+)\}", lambda m: env[m.group(1)], target)
    return re.sub(r"\$(\d)", lambda m: match.group(int(m.group(1))) or "", target)


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return read_rules(HTACCESS.read_text(encoding="utf-8"))


def _release_file(release: Path, target: str, rules: list[Rule]) -> Path:
    base = redirect(rules, "release/0.0.0/x", "*/*")[0].removesuffix("/0.0.0/x")
    assert target.startswith(base + f"/{__version__}/"), target
    return release / target[len(base) + len(__version__) + 2 :]


def iris_to_resolve(release: Path) -> list[str]:
    """Every kind of IRI qikg publishes: the ontology, its version and module IRIs, a term of
    each namespace in kg.namespaces under w3id.org/qikg, the release and its files."""
    iris = [str(ONTOLOGY_IRI), f"{ONTOLOGY_IRI}/{__version__}", f"{W3ID}context"]
    for path in ontology_files():
        graph = Graph().parse(path, format="turtle")
        ontology = next(graph.subjects(RDF.type, OWL.Ontology))
        iris += [str(ontology), str(graph.value(ontology, OWL.versionIRI))]
    namespaces = [
        str(value) for value in vars(kg.namespaces).values() if isinstance(value, Namespace)
    ]
    ours = [ns for ns in namespaces if ns.startswith(W3ID)]
    assert len(ours) == 5, ours  # ontology#, cfir#, eric#, data/, graph/
    iris += [ns + "Example" if ns.endswith("#") else ns + "example/1" for ns in ours]
    iris.append(f"{W3ID}release/{__version__}")
    iris += [f"{W3ID}release/{__version__}/{name}" for name in written(release)]
    return iris


def test_the_redirect_rules_send_every_qikg_iri_to_a_released_file(
    release: Path, rules: list[Rule]
) -> None:
    iris = iris_to_resolve(release)
    assert len(iris) > 40
    for iri in iris:
        path = iri[len(W3ID) :].split("#", 1)[0]
        for accept in ACCEPTS:
            target, status = redirect(rules, path, accept)
            file = _release_file(release, target, rules)
            assert file.is_file(), f"{iri} ({accept}) -> {target}: not in the release"
            assert status in ("302", "303")


@pytest.mark.parametrize(
    "path, accept, name",
    [
        ("ontology", "application/rdf+xml", f"qikg-{__version__}.owl"),
        ("ontology", "text/turtle", f"qikg-{__version__}.ttl"),
        ("ontology", "application/ld+json", f"qikg-{__version__}.jsonld"),
        ("ontology", "text/html,application/xhtml+xml", f"qikg-docs-{__version__}/index.html"),
        ("ontology/outcomes", "text/turtle", f"qikg-{__version__}.ttl"),
        (f"ontology/{__version__}", "application/rdf+xml", f"qikg-{__version__}.owl"),
        (f"ontology/{__version__}/cfir", "*/*", f"qikg-docs-{__version__}/index.html"),
        ("cfir", "text/html", f"qikg-docs-{__version__}/scheme-cfir-CFIR2.html"),
        ("eric", "text/turtle", f"qikg-{__version__}.ttl"),
        ("data/carstensen2024/finding/F1", "application/n-quads", f"qikg-data-{__version__}.nq"),
        ("graph/study/carstensen2024", "application/trig", f"qikg-data-{__version__}.trig"),
        (f"release/{__version__}", "text/turtle", f"qikg-{__version__}.void.ttl"),
        ("context", "application/ld+json", f"qikg-context-{__version__}.jsonld"),
    ],
)
def test_content_negotiation_picks_the_format_asked_for(
    release: Path, rules: list[Rule], path: str, accept: str, name: str
) -> None:
    target, _ = redirect(rules, path, accept)
    assert _release_file(release, target, rules) == release / name


# -- qikg export: provenance beside the data ---------------------------------------------------


def test_export_writes_its_provenance_beside_the_data(cli, built_store_path, tmp_path) -> None:
    out = tmp_path / "qikg.trig"
    ran = cli("export", "--format", "trig", "-o", str(out), store=built_store_path)
    assert ran.exit_code == 0, ran.err
    about = tmp_path / "qikg.trig.provenance.ttl"
    assert "provenance: qikg.trig.provenance.ttl" in ran.err
    g = Graph().parse(about, format="turtle")
    export = URIRef(out.as_uri())  # the relative IRI resolves to the data file beside it
    prov = Namespace("http://www.w3.org/ns/prov#")
    assert (export, RDF.type, prov.Entity) in g
    assert g.value(export, DCTERMS.license) == LICENCE
    assert g.value(export, DCTERMS.conformsTo) == URIRef(f"{ONTOLOGY_IRI}/{__version__}")
    software = g.value(g.value(export, prov.wasGeneratedBy), prov.wasAssociatedWith)
    assert g.value(software, OWL.versionInfo) == Literal(__version__)
    with open_store(built_store_path) as store:
        history = store.history().versions
        numbers = stats(store)
    source = g.value(export, prov.wasDerivedFrom)
    assert g.value(source, OWL.versionInfo) == Literal(history[-1].number)
    studies = list(g.objects(export, DCTERMS.references))
    assert len(studies) == numbers["studies"]
    seed = URIRef("https://w3id.org/qikg/data/carstensen2024")
    assert g.value(seed, QIKG.doi) == URIRef("https://doi.org/10.1177/13558196241231169")
    assert g.value(export, DCTERMS.created).datatype == XSD.dateTime


def test_a_one_graph_export_names_its_graph_and_only_its_studies(
    cli, built_store_path, tmp_path
) -> None:
    out = tmp_path / "seed.ttl"
    ran = cli(
        "export", "--graph", "study/carstensen2024", "--format", "ttl", "-o", str(out),
        store=built_store_path,
    )  # fmt: skip
    assert ran.exit_code == 0, ran.err
    g = Graph().parse(tmp_path / "seed.ttl.provenance.ttl", format="turtle")
    export = URIRef(out.as_uri())
    graph = "https://w3id.org/qikg/graph/study/carstensen2024"
    assert g.value(export, DCTERMS.source) == URIRef(graph)
    assert list(g.objects(export, DCTERMS.references)) == [
        URIRef("https://w3id.org/qikg/data/carstensen2024")
    ]
