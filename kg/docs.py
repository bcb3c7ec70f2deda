"""HTML documentation of the ontology: pyLODE pages for the OWL model and each SKOS scheme,
and an index with the class and concept hierarchies as nested lists."""

from __future__ import annotations

import html
import logging
from pathlib import Path

import rdflib
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS

from kg.errors import BadInput
from kg.namespaces import curie
from kg.ontology import standalone_graph


def write_docs(out: Path) -> list[Path]:
    """Write ``index.html``, ``ontology.html`` and one ``scheme-*.html`` per concept scheme."""
    from pylode import OntPub
    from pylode.profiles.vocpub import VocPub

    logging.getLogger().setLevel(logging.WARNING)  # pyLODE logs every step at INFO
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInput(f"cannot write documentation to {out}: {exc.strerror}") from None
    graph = standalone_graph()
    model = _without_concepts(graph)
    written = [_write(out / "ontology.html", OntPub(ontology=model).make_html())]
    schemes = sorted(graph.subjects(RDF.type, SKOS.ConceptScheme), key=lambda s: _label(graph, s))
    for scheme in schemes:
        page = out / f"scheme-{_slug(scheme)}.html"
        written.append(_write(page, VocPub(ontology=_scheme_graph(graph, scheme)).make_html()))
    written.insert(0, _write(out / "index.html", _index(graph, schemes)))
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _slug(node: rdflib.term.Node) -> str:
    return curie(str(node)).replace(":", "-")


def _label(graph: rdflib.Graph, node: rdflib.term.Node) -> str:
    for prop in (SKOS.prefLabel, RDFS.label, DCTERMS.title):
        for value in graph.objects(node, prop):
            if getattr(value, "language", None) in (None, "en"):
                return str(value)
    return curie(str(node))


def _without_concepts(graph: rdflib.Graph) -> rdflib.Graph:
    """The classes, properties and ontology header, without the concept schemes' members."""
    concepts = set(graph.subjects(RDF.type, SKOS.Concept)) | set(
        graph.subjects(RDF.type, SKOS.ConceptScheme)
    )
    model = rdflib.Graph()
    for prefix, ns in graph.namespaces():
        model.bind(prefix, ns)
    for triple in graph:
        if triple[0] not in concepts:
            model.add(triple)
    return model


def _scheme_graph(graph: rdflib.Graph, scheme: rdflib.term.Node) -> rdflib.Graph:
    """The scheme, its concepts and the ontology header: what VocPub documents."""
    part = rdflib.Graph()
    for prefix, ns in graph.namespaces():
        part.bind(prefix, ns)
    members = {scheme, *graph.subjects(SKOS.inScheme, scheme)}
    for node in members:
        for triple in graph.triples((node, None, None)):
            part.add(triple)
    return part


def _tree(graph: rdflib.Graph, roots: list, children: dict) -> str:
    def item(node: rdflib.term.Node) -> str:
        below = sorted(children.get(node, ()), key=lambda n: _label(graph, n).casefold())
        inner = f"<ul>{''.join(item(n) for n in below)}</ul>" if below else ""
        name = html.escape(_label(graph, node))
        return f"<li><b>{name}</b> <code>{html.escape(curie(str(node)))}</code>{inner}</li>"

    return (
        "<ul>"
        + "".join(item(r) for r in sorted(roots, key=lambda n: _label(graph, n).casefold()))
        + "</ul>"
    )


def _index(graph: rdflib.Graph, schemes: list) -> str:
    classes = {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, rdflib.URIRef)}
    sub: dict = {}
    for c in classes:
        for parent in graph.objects(c, RDFS.subClassOf):
            if parent in classes:
                sub.setdefault(parent, set()).add(c)
    class_roots = [
        c for c in classes if not any(p in classes for p in graph.objects(c, RDFS.subClassOf))
    ]
    sections = [f"<h2>Classes</h2>{_tree(graph, class_roots, sub)}"]
    for scheme in schemes:
        members = set(graph.subjects(SKOS.inScheme, scheme))
        narrower: dict = {}
        for concept in members:
            for broader in graph.objects(concept, SKOS.broader):
                if broader in members:
                    narrower.setdefault(broader, set()).add(concept)
        roots = [
            c for c in members if not any(b in members for b in graph.objects(c, SKOS.broader))
        ]
        title = html.escape(_label(graph, scheme))
        link = f"scheme-{_slug(scheme)}.html"
        sections.append(
            f'<h2 id="{_slug(scheme)}">{title} <small><a href="{link}">details</a></small></h2>'
            + _tree(graph, roots, narrower)
        )
    ontology = next(graph.subjects(RDF.type, OWL.Ontology), None)
    title = html.escape(_label(graph, ontology)) if ontology is not None else "qikg ontology"
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}code{color:#666}"
        "ul{list-style:none;border-left:1px solid #ddd;padding-left:1.2em}</style></head><body>"
        f"<h1>{title}</h1><p><a href='ontology.html'>Classes and properties (full reference)</a></p>"
        + "".join(sections)
        + "</body></html>"
    )
