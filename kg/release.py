"""A FAIR release of qikg: the files others load, resolve, cite and reuse (``qikg release``).

``write_release(out)`` writes, each named with the version: the merged ontology (RDF/XML and
Turtle, imports resolved into one ``owl:Ontology`` with the version IRI), the ontology with its
SKOS schemes as JSON-LD and the ``@context`` for qikg's data, the SHACL shapes, the bundled data
as TriG and N-Quads (from a store built from the bundled data), the HTML documentation, and a
VoID + DCAT description that lists every file with its size, checksum and licence. docs/release.md
says what each file is for and how to cite it.

The imports are followed through ``ontology/catalog-v001.xml`` (the OBO/Protégé convention), as
Protégé and ROBOT follow them: nothing is fetched over the network.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import defusedxml.ElementTree as SafeET
import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, VOID, XSD

from kg import __version__
from kg.build import build
from kg.docs import write_docs
from kg.errors import BadInput, DataProblem
from kg.namespaces import PREFIXES, QIKG, graph_iri
from kg.ontology import ONTOLOGY_IRI
from kg.read.stats import stats
from kg.resources import ontology_dir, shapes_dir
from kg.sparql import iri_term
from kg.store import Store, open_store

#: Code is MIT (LICENSE); the ontology, shapes and data are CC BY 4.0 (LICENSE-DATA).
LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")
CREATOR_NAME = "qikg contributors"
#: Where the w3id.org rules (w3id/.htaccess) send ``/qikg/release/{version}/{file}``.
RELEASE_BASE = "https://w3id.org/qikg/release/"
#: The default address of ``qikg serve``: a placeholder in the VoID description until a public
#: endpoint exists (docs/release.md); a deployment rewrites it with ``--endpoint``.
DEFAULT_ENDPOINT = "http://127.0.0.1:7878/sparql"
CATALOG_NS = "{urn:oasis:names:tc:entity:xmlns:xml:catalog}"
SPDX = Namespace("http://spdx.org/rdf/terms#")
#: DCAT 3 terms that rdflib's DCAT (version 2) lacks.
DCAT3 = Namespace("http://www.w3.org/ns/dcat#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
IANA = "https://www.iana.org/assignments/media-types/"
#: The IRIs qikg mints: its entities in VoID's sense.
QIKG_SPACE = "https://w3id.org/qikg/"

#: Each artifact's suffix (after ``qikg-{kind}-{version}``) and media type.
MEDIA = {
    ".owl": "application/rdf+xml",
    ".ttl": "text/turtle",
    ".jsonld": "application/ld+json",
    ".trig": "application/trig",
    ".nq": "application/n-quads",
    ".html": "text/html",
}


# ---------------------------------------------------------------------------------------------
# The catalog and the merged ontology
# ---------------------------------------------------------------------------------------------


def catalog(path: Path | None = None) -> dict[str, Path]:
    """Each IRI that ``ontology/catalog-v001.xml`` maps, and the file it maps to.

    >>> catalog()["https://w3id.org/qikg/ontology/model"].name
    'model.ttl'
    """
    path = path or ontology_dir() / "catalog-v001.xml"
    try:
        root = SafeET.parse(path).getroot()
    except (OSError, SafeET.ParseError) as exc:
        raise DataProblem(f"cannot read the ontology catalog {path}: {exc}") from None
    return {
        uri.attrib["name"]: (path.parent / uri.attrib["uri"]).resolve()
        for uri in root.iter(f"{CATALOG_NS}uri")
    }


def resolve_imports(entry: Path | None = None, mapping: dict[str, Path] | None = None) -> Graph:
    """The entry ontology and everything it imports, transitively, read from the files the
    catalog names (an import the catalog does not map is an error, never a download)."""
    entry = entry or ontology_dir() / "qikg.ttl"
    mapping = catalog() if mapping is None else mapping
    graph = Graph().parse(entry, format="turtle")
    done = {entry.resolve()}
    todo = list(graph.objects(None, OWL.imports))
    while todo:
        iri = str(todo.pop())
        file = mapping.get(iri)
        if file is None or not file.exists():
            raise DataProblem(f"{iri} is imported but the catalog maps it to no file")
        if file in done:
            continue
        done.add(file)
        module = Graph().parse(file, format="turtle")
        todo.extend(module.objects(None, OWL.imports))
        graph += module
    return graph


def merged_ontology(version: str = __version__, issued: dt.date | None = None) -> Graph:
    """The ontology with its imports resolved into one ``owl:Ontology``: the entry file's header
    (version IRI, licence, creator), every module's axioms and concepts; the modules' own headers
    and the imports go.

    >>> g = merged_ontology()
    >>> list(g.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    True
    """
    graph = resolve_imports()
    modules = {s for s in graph.subjects(RDF.type, OWL.Ontology) if s != ONTOLOGY_IRI}
    dropped = set(modules)
    for module in modules:  # a module header's blank nodes (its creator) go with it
        dropped |= {o for o in graph.objects(module, None) if isinstance(o, BNode)}
    merged = Graph()
    for prefix, ns in graph.namespaces():
        merged.bind(prefix, ns)
    for prefix, iri in PREFIXES.items():
        merged.bind(prefix, iri, replace=True)
    for s, p, o in graph:
        if s not in dropped and p != OWL.imports:
            merged.add((s, p, o))
    stated = merged.value(ONTOLOGY_IRI, OWL.versionInfo)
    if str(stated) != version:
        raise DataProblem(
            f"ontology/qikg.ttl says version {stated}, the release is {version}: "
            "update the owl:Ontology headers (docs/release.md)"
        )
    merged.add((DCTERMS.issued, RDF.type, OWL.AnnotationProperty))
    merged.add((DCTERMS.issued, RDFS.label, Literal("issued", lang="en")))
    merged.add((ONTOLOGY_IRI, DCTERMS.issued, Literal(issued or release_date(), datatype=XSD.date)))
    return merged


def prior_version(ontology: Graph) -> str | None:
    """The version of the ontology's ``owl:priorVersion`` (``ontology/qikg.ttl`` states it), or
    None for a first release: the release that came before this one.

    >>> prior_version(merged_ontology())
    '0.2.0'
    """
    prior = ontology.value(ONTOLOGY_IRI, OWL.priorVersion)
    if prior is None:
        return None
    version = str(prior).removeprefix(f"{ONTOLOGY_IRI}/")
    if version == str(prior) or "/" in version:
        raise DataProblem(
            f"ontology/qikg.ttl's owl:priorVersion {prior} is not a version IRI "
            f"{ONTOLOGY_IRI}/VERSION (docs/release.md)"
        )
    return version


def release_date() -> dt.date:
    """Today, or the date ``SOURCE_DATE_EPOCH`` names (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


# ---------------------------------------------------------------------------------------------
# The JSON-LD context
# ---------------------------------------------------------------------------------------------


def jsonld_context(ontology: Graph) -> dict:
    """The ``@context`` for qikg's data: the prefixes, and every qikg class and property by its
    local name (object properties take IRIs, datatype properties their range's datatype).

    >>> ctx = jsonld_context(merged_ontology())["@context"]
    >>> ctx["Finding"], ctx["reportedIn"]
    ('qikg:Finding', {'@id': 'qikg:reportedIn', '@type': '@id'})
    """
    context: dict = {prefix: ns for prefix, ns in PREFIXES.items()}
    ns = str(QIKG)
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty):
        for term in sorted(ontology.subjects(RDF.type, kind), key=str):
            if not isinstance(term, URIRef) or not str(term).startswith(ns):
                continue
            name = str(term)[len(ns) :]
            if kind == OWL.Class:
                context[name] = f"qikg:{name}"
            elif kind == OWL.ObjectProperty:
                context[name] = {"@id": f"qikg:{name}", "@type": "@id"}
            else:
                ranges = [
                    r for r in ontology.objects(term, RDFS.range) if str(r).startswith(str(XSD))
                ]
                entry = {"@id": f"qikg:{name}"}
                if len(ranges) == 1 and ranges[0] != XSD.string:  # a plain string needs none
                    entry["@type"] = f"xsd:{str(ranges[0])[len(str(XSD)) :]}"
                context[name] = entry
    return {"@context": context}


# ---------------------------------------------------------------------------------------------
# The release
# ---------------------------------------------------------------------------------------------


@dataclass
class Artifact:
    """One released file (or, for the documentation, folder of pages)."""

    path: Path
    title: str
    kind: str
    pages: list[Path] = field(default_factory=list)


@dataclass
class Release:
    """What ``write_release`` wrote."""

    folder: Path
    version: str
    artifacts: list[Artifact]
    description: Path
    counts: dict

    def files(self) -> list[Path]:
        """Every file written, the description included."""
        found = [self.description]
        for artifact in self.artifacts:
            found.extend(artifact.pages or [artifact.path])
        return found


def write_release(
    out: Path, version: str = __version__, endpoint: str = DEFAULT_ENDPOINT
) -> Release:
    """Write every release artifact of ``version`` into ``out`` (created if needed), and their
    VoID + DCAT description, ``qikg-{version}.void.ttl``."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot write the release to {out}: {exc.strerror}") from None
    issued = release_date()
    ontology = merged_ontology(version, issued)
    artifacts: list[Artifact] = []

    def add(name: str, data: bytes | str, title: str, kind: str) -> None:
        path = out / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        artifacts.append(Artifact(path, title, kind))

    add(f"qikg-{version}.owl", ontology.serialize(format="xml"), "ontology (OWL, RDF/XML)", "owl")
    add(f"qikg-{version}.ttl", ontology.serialize(format="turtle"), "ontology (Turtle)", "owl")
    context = jsonld_context(ontology)
    add(
        f"qikg-{version}.jsonld",
        ontology.serialize(format="json-ld", context=context["@context"], auto_compact=True),
        "ontology and SKOS concept schemes (JSON-LD)",
        "ontology",
    )
    published = {
        **context,
        "@id": f"{RELEASE_BASE}{version}/qikg-context-{version}.jsonld",
        "dcterms:license": {"@id": str(LICENCE)},
        "dcterms:description": f"The JSON-LD @context for qikg {version} data.",
    }
    add(
        f"qikg-context-{version}.jsonld",
        json.dumps(published, indent=2, ensure_ascii=False) + "\n",
        "JSON-LD @context for qikg data",
        "context",
    )
    add(f"qikg-shapes-{version}.ttl", _shapes(version), "SHACL shapes (Turtle)", "shapes")
    with tempfile.TemporaryDirectory(prefix="qikg-release-") as tmp:
        with open_store(str(Path(tmp) / "store")) as store:
            build(store)
            counts = stats(store)
            trig, nquads = store.dump("trig"), store.dump("nq")
    notice = _notice(version, "the bundled data")
    data_title = "bundled data, named graphs kept"
    add(f"qikg-data-{version}.trig", notice + trig, f"{data_title} (TriG)", "data")
    add(f"qikg-data-{version}.nq", notice + nquads, f"{data_title} (N-Quads)", "data")
    docs = out / f"qikg-docs-{version}"
    pages = write_docs(docs)
    for page in pages:
        _add_footer(page, version)
    artifacts.append(
        Artifact(docs / "index.html", "ontology documentation (HTML)", "docs", sorted(pages))
    )
    counts.update(_entity_counts(nquads))
    description = out / f"qikg-{version}.void.ttl"
    graph = describe(artifacts, out, version, issued, counts, endpoint, prior_version(ontology))
    description.write_text(graph.serialize(format="turtle"), encoding="utf-8")
    return Release(out, version, artifacts, description, counts)


def _notice(version: str, what: str) -> bytes:
    """Comment lines (Turtle, TriG and N-Quads all allow them) naming a file's licence."""
    return (
        f"# qikg {version}: {what}.\n"
        f"# Licence: CC BY 4.0 ({LICENCE}); quoted source text keeps its publisher's terms\n"
        "# (each study's source_licence). Cite qikg as its CITATION.cff says.\n"
    ).encode()


def _shapes(version: str) -> bytes:
    """The SHACL shapes as one Turtle file, with a header that names its licence."""
    graph = Graph()
    for file in sorted(shapes_dir().glob("*.ttl")):
        graph.parse(file, format="turtle")
    notice = _notice(version, "SHACL shapes, what valid coded data looks like")
    return notice + graph.serialize(format="turtle", encoding="utf-8")


def _add_footer(page: Path, version: str) -> None:
    """A licence line at the end of a documentation page (pyLODE writes it on one page only)."""
    text = page.read_text(encoding="utf-8")
    end = text.rfind("</body>")
    footer = (
        f'<footer><p>qikg ontology {version}, <a href="{LICENCE}">CC BY 4.0</a>; '
        "cite it as qikg's CITATION.cff says.</p></footer>"
    )
    page.write_text(text[:end] + footer + text[end:] if end >= 0 else text + footer, "utf-8")


def _entity_counts(nquads: bytes) -> dict:
    """VoID's counts over the data: distinct subjects, properties and classes, and entities
    (IRIs in qikg's namespaces described as subjects)."""
    subjects: set[str] = set()
    properties: set[str] = set()
    classes: set[str] = set()
    entities: set[str] = set()
    for quad in ox.parse(nquads, format=ox.RdfFormat.N_QUADS):
        subjects.add(str(quad.subject))
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(QIKG_SPACE):
            entities.add(quad.subject.value)
        properties.add(quad.predicate.value)
        if quad.predicate.value == str(RDF.type) and isinstance(quad.object, ox.NamedNode):
            classes.add(quad.object.value)
    return {
        "entities": len(entities),
        "distinct_subjects": len(subjects),
        "properties": len(properties),
        "classes": len(classes),
    }


def describe(
    artifacts: Iterable[Artifact],
    out: Path,
    version: str,
    issued: dt.date,
    counts: dict,
    endpoint: str = DEFAULT_ENDPOINT,
    previous: str | None = None,
) -> Graph:
    """The VoID + DCAT description of a release: a ``dcat:Catalog`` (the description file) with
    one ``dcat:Dataset`` and a ``dcat:Distribution`` per artifact (download URL, media type,
    size, SHA-256, licence), the counts of ``qikg stats`` and VoID's own counts; the release of
    version ``previous`` as its ``dcat:previousVersion`` (DCAT 3)."""
    base = f"{RELEASE_BASE}{version}/"
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("void", VOID), ("spdx", SPDX), ("sd", SD)):
        g.bind(prefix, ns)
    g.bind("qikg", QIKG)
    dataset = URIRef(f"{RELEASE_BASE}{version}")
    record = URIRef(f"{base}qikg-{version}.void.ttl")
    creator = BNode()
    g.add((creator, RDF.type, FOAF.Organization))
    g.add((creator, FOAF.name, Literal(CREATOR_NAME)))
    date = Literal(issued, datatype=XSD.date)
    g.add((record, RDF.type, DCAT.Catalog))
    g.add((record, DCTERMS.title, Literal(f"qikg {version} release", lang="en")))
    g.add((record, DCAT.dataset, dataset))
    g.add((record, DCTERMS.license, LICENCE))
    g.add((record, DCTERMS.issued, date))
    for t in (DCAT.Dataset, VOID.Dataset):
        g.add((dataset, RDF.type, t))
    title = "qikg: a knowledge graph of health-care professions and quality improvement"
    g.add((dataset, DCTERMS.title, Literal(f"{title}, version {version}", lang="en")))
    g.add(
        (
            dataset,
            DCTERMS.description,
            Literal(
                "Findings coded from qualitative studies of health-care quality improvement "
                "collaboratives, each tied to its study's DOI with verbatim quotes, with the qikg "
                "ontology (OWL 2 + SKOS), its SHACL shapes and its HTML documentation.",
                lang="en",
            ),
        )
    )
    g.add((dataset, DCTERMS.license, LICENCE))
    g.add((dataset, DCTERMS.creator, creator))
    g.add((dataset, DCTERMS.publisher, creator))
    g.add((dataset, DCTERMS.issued, date))
    g.add((dataset, DCTERMS.modified, date))
    g.add((dataset, DCAT3.version, Literal(version)))
    if previous is not None:  # the ontology's owl:priorVersion, as DCAT 3 says it of a dataset
        g.add((dataset, DCAT3.previousVersion, URIRef(f"{RELEASE_BASE}{previous}")))
    g.add((dataset, OWL.versionInfo, Literal(version)))
    g.add((dataset, DCTERMS.conformsTo, URIRef(f"{ONTOLOGY_IRI}/{version}")))
    g.add((dataset, DCAT.landingPage, URIRef(f"{base}qikg-docs-{version}/index.html")))
    for keyword in ("quality improvement collaboratives", "health professions", "CFIR"):
        g.add((dataset, DCAT.keyword, Literal(keyword, lang="en")))
    g.add((dataset, DCAT.keyword, Literal("GRADE-CERQual", lang="en")))
    g.add((dataset, DCAT.keyword, Literal("qualitative evidence synthesis", lang="en")))
    # VoID: counts over the data (they match `qikg stats --json`) and where to query it
    g.add((dataset, VOID.triples, Literal(counts["triples"])))
    g.add((dataset, VOID.entities, Literal(counts["entities"])))
    g.add((dataset, VOID.distinctSubjects, Literal(counts["distinct_subjects"])))
    g.add((dataset, VOID.properties, Literal(counts["properties"])))
    g.add((dataset, VOID.classes, Literal(counts["classes"])))
    g.add((dataset, VOID.uriSpace, Literal(QIKG_SPACE)))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(endpoint)))
    for vocabulary in (QIKG, SKOS, DCTERMS, FOAF, Namespace("http://www.w3.org/ns/prov#")):
        g.add((dataset, VOID.vocabulary, URIRef(str(vocabulary))))
    for cls, key in (
        (QIKG.Study, "studies"),
        (QIKG.Finding, "findings"),
        (QIKG.Quote, "quotes"),
        (SKOS.Concept, "concepts"),
    ):
        partition = BNode()
        g.add((dataset, VOID.classPartition, partition))
        g.add((partition, VOID["class"], cls))
        g.add((partition, VOID.entities, Literal(counts[key])))
    for name, size in sorted(counts["graphs"].items()):
        subset = BNode()
        g.add((dataset, VOID.subset, subset))
        g.add((subset, RDF.type, VOID.Dataset))
        g.add((subset, SD.name, URIRef(graph_iri(name))))
        g.add((subset, VOID.triples, Literal(size)))
    for artifact in artifacts:
        dist = URIRef(f"{base}{artifact.path.relative_to(out).as_posix()}#distribution")
        g.add((dataset, DCAT.distribution, dist))
        g.add((dist, RDF.type, DCAT.Distribution))
        g.add((dist, DCTERMS.title, Literal(artifact.title, lang="en")))
        g.add((dist, DCTERMS.license, LICENCE))
        g.add((dist, DCTERMS.issued, date))
        media = MEDIA[artifact.path.suffix]
        g.add((dist, DCAT.mediaType, URIRef(IANA + media)))
        g.add((dist, DCTERMS.format, Literal(media)))
        if artifact.kind == "owl":
            g.add((dist, DCTERMS.conformsTo, URIRef("http://www.w3.org/TR/owl2-overview/")))
        access = URIRef(f"{base}{artifact.path.relative_to(out).as_posix()}")
        g.add((dist, DCAT.accessURL, access))
        for file in artifact.pages or [artifact.path]:
            url = URIRef(f"{base}{file.relative_to(out).as_posix()}")
            g.add((dist, DCAT.downloadURL, url))
            if not artifact.pages:
                data = file.read_bytes()
                g.add((dist, DCAT.byteSize, Literal(len(data), datatype=XSD.nonNegativeInteger)))
                checksum = BNode()
                g.add((dist, SPDX.checksum, checksum))
                g.add((checksum, RDF.type, SPDX.Checksum))
                g.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
                g.add((checksum, SPDX.checksumValue, Literal(hashlib.sha256(data).hexdigest())))
    return g


# ---------------------------------------------------------------------------------------------
# Provenance of an export
# ---------------------------------------------------------------------------------------------


def export_provenance(store: Store, data_file: str, graph: str | None = None) -> str:
    """Turtle that says where an export came from, to keep beside it (``qikg export -o``): the
    versions of qikg, of the ontology and of the store's history, the date, the licence, and
    the studies it holds with their DOIs, so that "qikg graph version N" can be cited and
    reproduced (``qikg restore N`` returns a store to it). ``data_file`` is the export's file
    name, a relative IRI that resolves beside this description."""
    prov = Namespace("http://www.w3.org/ns/prov#")
    g = Graph()
    g.bind("prov", prov)
    g.bind("qikg", QIKG)
    ontology = store.query(
        f"SELECT ?v WHERE {{ {iri_term(str(ONTOLOGY_IRI))} owl:versionInfo ?v }}",
        include_inferred=False,
    ).column("v")
    scope = f"GRAPH {iri_term(graph)}" if graph else "GRAPH ?g"
    studies = store.query(
        f"""SELECT DISTINCT ?s ?id ?doi WHERE {{ {scope} {{
            ?s a qikg:Study ; dcterms:identifier ?id . OPTIONAL {{ ?s qikg:doi ?doi }} }}
        }} ORDER BY ?id""",
        include_inferred=False,
    ).values()
    export, activity, software, source = URIRef(data_file), BNode(), BNode(), BNode()
    g.add((export, RDF.type, prov.Entity))
    g.add((export, DCTERMS.license, LICENCE))
    g.add((export, DCTERMS.created, Literal(dt.datetime.now(dt.UTC), datatype=XSD.dateTime)))
    if ontology and ontology[0]:
        g.add((export, DCTERMS.conformsTo, URIRef(f"{ONTOLOGY_IRI}/{ontology[0]}")))
    g.add((export, prov.wasGeneratedBy, activity))
    g.add((activity, RDF.type, prov.Activity))
    g.add((activity, prov.wasAssociatedWith, software))
    g.add((software, RDF.type, prov.SoftwareAgent))
    g.add((software, FOAF.name, Literal("qikg")))
    g.add((software, OWL.versionInfo, Literal(__version__)))
    g.add((export, prov.wasDerivedFrom, source))
    g.add((source, RDF.type, prov.Entity))
    g.add((source, RDFS.label, Literal("the qikg store", lang="en")))
    version = history_version(store)
    if version is not None:  # the version `qikg history` lists and `qikg restore` takes
        g.add((source, OWL.versionInfo, Literal(version)))
    if graph:
        g.add((export, DCTERMS.source, URIRef(graph)))
    for row in studies:
        study = URIRef(str(row["s"]))
        g.add((export, DCTERMS.references, study))
        g.add((study, DCTERMS.identifier, Literal(row["id"])))
        if row.get("doi"):
            g.add((study, QIKG.doi, URIRef(str(row["doi"]))))
    header = (
        f"# Provenance of {data_file}: written by qikg {__version__}.\n"
        f"# Licence of the data: CC BY 4.0 ({LICENCE}); quoted text keeps its publisher's terms.\n"
        "# Cite the store version (qikg history) and the studies, each by its DOI.\n"
    )
    return header + g.serialize(format="turtle")


def history_version(store: Store) -> int | None:
    """The store's latest history version (``qikg history``), or None where none is kept."""
    if not store.keeps_history:
        return None
    versions = store.history().versions
    return versions[-1].number if versions else None
