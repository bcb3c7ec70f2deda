"""The IRIs qikg mints and the standard vocabularies it reuses (see docs/model.md)."""

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SKOS, XSD

QIKG = Namespace("https://w3id.org/qikg/ontology#")
CFIR = Namespace("https://w3id.org/qikg/cfir#")
ERIC = Namespace("https://w3id.org/qikg/eric#")
DATA = Namespace("https://w3id.org/qikg/data/")
GRAPH = Namespace("https://w3id.org/qikg/graph/")
ISCO = Namespace("http://data.europa.eu/esco/isco/")
OA = Namespace("http://www.w3.org/ns/oa#")
SH = Namespace("http://www.w3.org/ns/shacl#")
DOI = "https://doi.org/"

ONTOLOGY_GRAPH = GRAPH["ontology"]
SHAPES_GRAPH = GRAPH["shapes"]
INFERRED_GRAPH = GRAPH["inferred"]
SHARED_GRAPH = GRAPH["shared"]
META_GRAPH = GRAPH["meta"]
STUDY_GRAPH_PREFIX = str(GRAPH) + "study/"

PREFIXES: dict[str, str] = {
    "qikg": str(QIKG),
    "cfir": str(CFIR),
    "eric": str(ERIC),
    "qikgd": str(DATA),
    "isco": str(ISCO),
    "skos": str(SKOS),
    "prov": str(PROV),
    "oa": str(OA),
    "dcterms": str(DCTERMS),
    "foaf": str(FOAF),
    "owl": str(OWL),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "xsd": str(XSD),
    "sh": str(SH),
}


def study_graph(study_id: str) -> str:
    """The named graph that holds one coded study.

    >>> study_graph("carstensen2024")
    'https://w3id.org/qikg/graph/study/carstensen2024'
    """
    return STUDY_GRAPH_PREFIX + study_id


def graph_name(iri: str) -> str:
    """A short name for a qikg graph IRI (``ontology``, ``study/x``), else the IRI itself.

    >>> graph_name("https://w3id.org/qikg/graph/study/x")
    'study/x'
    """
    return iri[len(str(GRAPH)) :] if iri.startswith(str(GRAPH)) else iri


def graph_iri(name: str) -> str:
    """The IRI of a graph given its short name or IRI.

    >>> graph_iri("ontology")
    'https://w3id.org/qikg/graph/ontology'
    """
    return name if "://" in name or name.startswith("urn:") else str(GRAPH) + name


def curie(iri: str) -> str:
    """Shorten an IRI with the qikg prefixes, or return it unchanged.

    >>> curie("https://w3id.org/qikg/ontology#Nurse")
    'qikg:Nurse'
    """
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns) :]}"
    return iri


def expand(text: str) -> str | None:
    """Expand a CURIE with a known prefix, or None.

    >>> expand("cfir:AvailableResources")
    'https://w3id.org/qikg/cfir#AvailableResources'
    """
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return PREFIXES[prefix] + local
    return None


def study_iri(study_id: str) -> URIRef:
    """The IRI of a study.

    >>> study_iri("carstensen2024")
    rdflib.term.URIRef('https://w3id.org/qikg/data/carstensen2024')
    """
    return DATA[study_id]


def finding_iri(study_id: str, finding_id: str) -> URIRef:
    """The IRI of a finding within its study."""
    return DATA[f"{study_id}/finding/{finding_id}"]
