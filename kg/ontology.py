"""Load the qikg ontology from its local module files, never fetching ``owl:imports`` online.

The entry file ``ontology/qikg.ttl`` imports one module per file; every tool reads all
``ontology/*.ttl`` files from disk instead of following the imports (there may be no network).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import owlready2
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF

from kg.resources import ontology_dir

ONTOLOGY_IRI = URIRef("https://w3id.org/qikg/ontology")
VERSION_IRI = URIRef("https://w3id.org/qikg/ontology/0.3.0")


def ontology_files() -> list[Path]:
    """The ontology module files (``ontology/*.ttl``), sorted by name.

    >>> [p.name for p in ontology_files()][:2]
    ['cerqual.ttl', 'cfir.ttl']
    """
    return sorted(ontology_dir().glob("*.ttl"))


def load_merged_graph() -> Graph:
    """All ontology modules parsed into one rdflib graph (imports included, none fetched).

    >>> g = load_merged_graph()
    >>> (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in g
    True
    """
    graph = Graph()
    for path in ontology_files():
        graph.parse(path, format="turtle")
    return graph


def standalone_graph(graph: Graph | None = None) -> Graph:
    """The merged ontology as one self-contained ontology, for OWL tools that follow imports.

    Drops ``owl:imports`` and the module ontology headers, so only ``ONTOLOGY_IRI`` remains.

    >>> g = standalone_graph()
    >>> list(g.subjects(RDF.type, OWL.Ontology)) == [ONTOLOGY_IRI]
    True
    """
    graph = load_merged_graph() if graph is None else graph
    out = Graph()
    modules = {s for s in graph.subjects(RDF.type, OWL.Ontology) if s != ONTOLOGY_IRI}
    for s, p, o in graph:
        if p == OWL.imports or s in modules:
            continue
        out.add((s, p, o))
    return out


def owlready_world(extra: Graph | None = None) -> owlready2.World:
    """A fresh owlready2 World holding the merged ontology (for HermiT via ``sync_reasoner``).

    ``extra`` triples (e.g. coded data to check against the ontology) are loaded with it.

    >>> world = owlready_world()
    >>> world["https://w3id.org/qikg/ontology#Finding"].name
    'Finding'
    """
    merged = load_merged_graph()
    if extra is not None:
        merged += extra
    standalone = standalone_graph(merged)
    world = owlready2.World()
    with tempfile.NamedTemporaryFile(suffix=".nt", delete=False) as tmp:
        path = Path(tmp.name)
    try:
        standalone.serialize(destination=path, format="nt", encoding="utf-8")
        with path.open("rb") as fileobj:
            world.get_ontology(str(ONTOLOGY_IRI)).load(fileobj=fileobj, format="ntriples")
    finally:
        path.unlink(missing_ok=True)
    return world
