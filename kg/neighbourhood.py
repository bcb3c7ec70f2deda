"""The neighbourhood of a concept, finding or study: the nodes within one or two links of it,
as a small labelled graph (and as Graphviz DOT text to draw it).

Only links a researcher reads are followed (coding, reported in, quotes, hierarchy, alignments),
never bookkeeping such as ``rdf:type`` or annotation targets. A node cap keeps the picture
readable and the queries bounded on a large graph.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field

from kg.concepts import sparql_iri, system_of
from kg.findings import citation
from kg.namespaces import curie, sparql_prefixes
from kg.store import Store

#: The links followed, in the order they are kept when the node cap is reached, with their names.
LINKS: dict[str, str] = {
    "skos:broader": "broader",
    "skos:broadMatch": "broader match",
    "skos:exactMatch": "exact match",
    "skos:closeMatch": "close match",
    "skos:relatedMatch": "related match",
    "skos:related": "related",
    "qikg:reportedIn": "reported in",
    "qikg:evaluatesProgramme": "evaluates",
    "qikg:concernsProfessionalGroup": "professional group",
    "qikg:concernsRole": "role",
    "qikg:involvesQICComponent": "QIC component",
    "qikg:hasEnabler": "enabler",
    "qikg:hasBarrier": "barrier",
    "qikg:relatesToOutcome": "outcome",
    "qikg:relatesToConcept": "concept",
    "qikg:cerqualConfidence": "confidence",
    "qikg:supportedBy": "quote",
    "prov:wasAttributedTo": "coded by",
}
#: The kind of a node, from its class; the first class a node has wins.
KINDS: dict[str, str] = {
    "qikg:Study": "study",
    "qikg:Finding": "finding",
    "qikg:Quote": "quote",
    "qikg:QICProgramme": "QIC programme",
    "prov:Agent": "coder",
    "qikg:ProfessionalGroup": "professional group",
    "qikg:Role": "role",
    "qikg:QICComponent": "QIC component",
    "qikg:Determinant": "determinant",
    "qikg:Outcome": "outcome",
    "qikg:TheoryConcept": "theory concept",
    "qikg:CFIRConstruct": "CFIR construct",
    "qikg:CERQualConfidenceLevel": "CERQual confidence",
    "qikg:ImplementationStrategy": "ERIC strategy",
    "skos:Concept": "other concept",
}
#: Fill colours by kind (light, so black labels stay readable); "external" is anything untyped.
COLOURS: dict[str, str] = {
    "study": "#f4c28f",
    "finding": "#9ecae9",
    "quote": "#dadaeb",
    "QIC programme": "#fdd0a2",
    "coder": "#e0e0e0",
    "professional group": "#a1d99b",
    "role": "#c7e9c0",
    "QIC component": "#fcbba1",
    "determinant": "#fdae6b",
    "outcome": "#bcbddc",
    "theory concept": "#fde0ef",
    "CFIR construct": "#f7f39a",
    "CERQual confidence": "#d9d9d9",
    "ERIC strategy": "#c6dbef",
    "other concept": "#eeeeee",
    "external": "#ffffff",
}


@dataclass(frozen=True)
class Node:
    """A node of the picture: its label, kind and a longer text shown on hover."""

    iri: str
    label: str
    kind: str
    tooltip: str = ""


@dataclass(frozen=True)
class Edge:
    """A link between two nodes, named in words."""

    source: str
    target: str
    label: str


@dataclass
class Neighbourhood:
    """The nodes around ``centre``; ``capped`` says the node cap left some out."""

    centre: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    capped: bool = False

    def kinds(self) -> list[str]:
        """The kinds of node present, in legend order."""
        present = {n.kind for n in self.nodes}
        return [k for k in COLOURS if k in present]


def neighbourhood(
    store: Store, centre: str, depth: int = 1, cap: int = 60, include_inferred: bool = False
) -> Neighbourhood:
    """The nodes within ``depth`` (1 or 2) links of ``centre``, at most ``cap`` of them."""
    start = sparql_iri(centre)[1:-1]
    depth = max(1, min(depth, 2))
    order: dict[str, None] = {start: None}
    edges: dict[tuple[str, str, str], None] = {}
    capped = False
    frontier = [start]
    ranks = " ".join(f"({p} {i})" for i, p in enumerate(LINKS))
    for _ in range(depth):
        if not frontier:
            break
        values = " ".join(sparql_iri(n) for n in frontier)
        rows = store.query(
            sparql_prefixes()
            + f"""SELECT ?s ?p ?o WHERE {{
                {{ VALUES (?p ?rank) {{ {ranks} }} VALUES ?s {{ {values} }} ?s ?p ?o }}
                UNION {{ VALUES (?p ?rank) {{ {ranks} }} VALUES ?o {{ {values} }} ?s ?p ?o }}
                FILTER(isIRI(?s) && isIRI(?o))
            }} ORDER BY ?rank ?s ?o LIMIT {cap * 20}""",
            include_inferred=include_inferred,
        ).values()
        capped = capped or len(rows) >= cap * 20
        reached = []
        for row in rows:
            s, p, o = row["s"] or "", row["p"] or "", row["o"] or ""
            for n in (s, o):
                if n in order:
                    continue
                if len(order) >= cap:
                    capped = True
                    continue
                order[n] = None
                reached.append(n)
            if s in order and o in order and s != o:
                edges[(s, o, LINKS.get(curie(p), curie(p)))] = None
        frontier = reached
    nodes = _describe(store, list(order), include_inferred)
    return Neighbourhood(start, nodes, [Edge(*e) for e in edges], capped)


def _describe(store: Store, iris: list[str], include_inferred: bool) -> list[Node]:
    """Label, kind and tooltip of each node, in the order given."""
    values = " ".join(sparql_iri(i) for i in iris)
    kinds = " ".join(f"({k} {i})" for i, k in enumerate(KINDS))
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?n (MIN(?rank) AS ?r) (SAMPLE(?l) AS ?label) (SAMPLE(?t) AS ?tip)
                (SAMPLE(?sid) AS ?study) (SAMPLE(?fid) AS ?id) (SAMPLE(?a) AS ?authors)
                (SAMPLE(?y) AS ?year) WHERE {{
            VALUES ?n {{ {values} }}
            OPTIONAL {{ VALUES (?k ?rank) {{ {kinds} }} ?n a ?k }}
            OPTIONAL {{ ?n skos:prefLabel|rdfs:label|foaf:name ?l FILTER(lang(?l) IN ("", "en")) }}
            OPTIONAL {{ ?n qikg:statement|dcterms:title|skos:definition ?t }}
            OPTIONAL {{ ?n oa:hasTarget/oa:hasSelector/oa:exact ?t }}
            OPTIONAL {{ ?n qikg:reportedIn/dcterms:identifier ?sid ; dcterms:identifier ?fid }}
            OPTIONAL {{ ?n qikg:authors ?a }} OPTIONAL {{ ?n qikg:publicationYear ?y }}
        }} GROUP BY ?n""",
        include_inferred=include_inferred,
    ).values()
    kind_names = list(KINDS.values())
    found = {}
    for r in rows:
        iri = r["n"] or ""
        kind = kind_names[int(r["r"])] if r["r"] else "external"
        found[iri] = Node(iri, _label(kind, r) or _external(iri), kind, r["tip"] or "")
    return [found.get(i, Node(i, _external(i), "external")) for i in iris]


def _external(iri: str) -> str:
    """A name for a node the graph has no label for: its vocabulary and code, else its CURIE."""
    short = curie(iri)
    system = system_of(iri)
    return f"{system} {short.split(':', 1)[1]}" if system not in ("external", "qikg") else short


def _label(kind: str, row: dict[str, str | None]) -> str | None:
    if kind == "finding" and row["study"]:
        return f"{row['study']}/{row['id']}"
    if kind == "study" and row["authors"]:
        return citation(row["authors"], row["year"])
    if kind == "quote":
        return "quote"
    return row["label"]


def to_dot(
    hood: Neighbourhood, href: Callable[[Node], str] | None = None, edge_labels: bool = True
) -> str:
    """Graphviz DOT text for a neighbourhood: nodes filled by kind, the centre outlined, each
    node linking to ``href(node)`` when given; links are named on hover, and on the picture too
    with ``edge_labels``.

    >>> hood = Neighbourhood("urn:a", [Node("urn:a", 'say "hi"', "finding")], [])
    >>> 'label="say \\\\"hi\\\\""' in to_dot(hood)
    True
    """
    lines = [
        "digraph neighbourhood {",
        '  graph [layout=twopi, root=n0, ranksep=1.1, overlap=false, splines=true, sep="+4",'
        ' outputorder=edgesfirst, bgcolor="transparent", fontname="Helvetica"];',
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=9,'
        ' color="#555555", penwidth=1, margin="0.08,0.04", height=0.3];',
        '  edge [fontname="Helvetica", fontsize=7, color="#999999", fontcolor="#666666",'
        " arrowsize=0.5];",
    ]
    ids = {n.iri: f"n{i}" for i, n in enumerate(hood.nodes)}
    for n in hood.nodes:
        attrs = {
            "label": "\n".join(textwrap.wrap(n.label, 28)[:3]) or n.label,
            "fillcolor": COLOURS.get(n.kind, "#ffffff"),
            "tooltip": f"{n.kind}: {n.label}" + (f"\n\n{n.tooltip}" if n.tooltip else ""),
        }
        if n.iri == hood.centre:
            attrs.update(penwidth="2.5", color="#222222")
        if href is not None:
            attrs.update(URL=href(n), target="_self")
        lines.append(f"  {ids[n.iri]} [{_attrs(attrs)}];")
    for e in hood.edges:
        attrs = {"tooltip": e.label, **({"label": e.label} if edge_labels else {})}
        lines.append(f"  {ids[e.source]} -> {ids[e.target]} [{_attrs(attrs)}];")
    lines.append("}")
    return "\n".join(lines)


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={_quoted(v)}" for k, v in attrs.items())


def _quoted(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, line breaks as ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


__all__ = ["COLOURS", "KINDS", "LINKS", "Edge", "Neighbourhood", "Node", "neighbourhood", "to_dot"]
