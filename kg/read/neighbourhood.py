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

from kg.coding import DIMENSIONS
from kg.namespaces import curie
from kg.read.concepts import system_of
from kg.sparql import iri_term, sparql_prefixes
from kg.store import Store
from kg.text import citation

_QUOTE_TEXT = "oa:hasTarget/oa:hasSelector/oa:exact"

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
    **{d.curie: d.link for d in DIMENSIONS},
    "qikg:cerqualConfidence": "confidence",
    "qikg:supportedBy": "quote",
    "prov:wasAttributedTo": "coded by",
}
#: The links of a concept's place among concepts, read before any other.
STRUCTURE = [p for p in LINKS if p.startswith("skos:")]
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
    """The nodes within ``depth`` (1 or 2) links of ``centre``, at most ``cap`` of them.

    Links are kept in the order of LINKS (hierarchy and alignments first), so when the cap is
    reached it is findings and quotes that are left out, not the concept's place in its scheme.
    """
    start = iri_term(centre)[1:-1]
    order: dict[str, None] = {start: None}
    edges: dict[tuple[str, str, str], None] = {}
    capped = False
    frontier = [start]
    rank = {link: i for i, link in enumerate(LINKS)}
    for _ in range(max(1, min(depth, 2))):
        rows: list[dict[str, str | None]] = []
        for links in (STRUCTURE, [p for p in LINKS if p not in STRUCTURE]):
            found = _links(store, frontier, links, cap * 20, include_inferred)
            capped = capped or len(found) >= cap * 20
            rows += found
        rows.sort(key=lambda row: rank[curie(row["p"] or "")])
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
                edges[(s, o, LINKS[curie(p)])] = None
        frontier = reached
        if not frontier:
            break
    nodes = _describe(store, list(order), include_inferred)
    return Neighbourhood(start, nodes, [Edge(*e) for e in edges], capped)


def _links(
    store: Store, nodes: list[str], links: list[str], limit: int, include_inferred: bool
) -> list[dict[str, str | None]]:
    """Up to ``limit`` links of these kinds from or to the nodes.

    Each direction starts from the nodes (one index lookup per node) and tests the link after,
    which on a large graph is far faster than joining against a list of properties.
    """
    values = " ".join(iri_term(n) for n in nodes)
    allowed = ", ".join(links)
    return store.query(
        sparql_prefixes()
        + f"""SELECT ?s ?p ?o WHERE {{
            {{ VALUES ?s {{ {values} }} ?s ?p ?o FILTER(?p IN ({allowed}) && isIRI(?o)) }}
            UNION {{ VALUES ?o {{ {values} }} ?s ?p ?o FILTER(?p IN ({allowed}) && isIRI(?s)) }}
        }} LIMIT {limit}""",
        include_inferred=include_inferred,
    ).values()


def _describe(store: Store, iris: list[str], include_inferred: bool) -> list[Node]:
    """Label, kind and tooltip of each node, in the order given.

    Each part is its own branch starting from the nodes, so no part is ever evaluated for the
    whole graph (which an OPTIONAL holding a VALUES block would be). Classes are read in a
    subquery of their own: joined directly with the list of kinds, Oxigraph reads every typed
    node of the graph.
    """
    nodes = f"VALUES ?n {{ {' '.join(iri_term(i) for i in iris)} }}"
    kinds = " ".join(f"({k} {i})" for i, k in enumerate(KINDS))
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?n ?what ?v ?w WHERE {{
            {{ {{ SELECT DISTINCT ?n ?k WHERE {{ {nodes} ?n a ?k }} }}
               VALUES (?k ?v) {{ {kinds} }} BIND("kind" AS ?what) }}
            UNION {{ {nodes} ?n skos:prefLabel|rdfs:label|foaf:name ?v
                     FILTER(lang(?v) IN ("", "en")) BIND("label" AS ?what) }}
            UNION {{ {nodes} ?n qikg:statement|dcterms:title|skos:definition|{_QUOTE_TEXT} ?v
                     BIND("tip" AS ?what) }}
            UNION {{ {nodes} ?n qikg:reportedIn/dcterms:identifier ?v ; dcterms:identifier ?w
                     BIND("finding" AS ?what) }}
            UNION {{ {nodes} ?n qikg:authors ?v OPTIONAL {{ ?n qikg:publicationYear ?w }}
                     BIND("study" AS ?what) }}
        }}""",
        include_inferred=include_inferred,
    ).values()
    kind_names = list(KINDS.values())
    rank: dict[str, int] = {}
    facts: dict[str, dict[str, str]] = {i: {} for i in iris}
    for r in rows:
        n, what, v, w = r["n"] or "", r["what"] or "", r["v"] or "", r["w"]
        if what == "kind":
            rank[n] = min(rank.get(n, len(kind_names)), int(v))
        elif what == "finding":
            facts[n].setdefault("name", f"{v}/{w}")
        elif what == "study":
            facts[n].setdefault("name", citation(v, w))
        else:
            facts[n].setdefault(what, v)
    out = []
    for iri in iris:
        kind = kind_names[rank[iri]] if iri in rank else "external"
        known = facts[iri]
        label = "quote" if kind == "quote" else known.get("name") or known.get("label")
        out.append(Node(iri, label or _external(iri), kind, known.get("tip", "")))
    return out


def _external(iri: str) -> str:
    """A name for a node the graph has no label for: its vocabulary and code, else its CURIE."""
    short = curie(iri)
    system = system_of(iri)
    return f"{system} {short.split(':', 1)[1]}" if system not in ("external", "qikg") else short


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
    # No ``outputorder=edgesfirst``: d3-graphviz, which draws the explorer's picture, cannot draw
    # a new one laid out that way into the old one (the Graph page kept the old depth's picture).
    lines = [
        "digraph neighbourhood {",
        '  graph [layout=twopi, root=n0, ranksep=1.1, overlap=false, splines=true, sep="+4",'
        ' bgcolor="transparent", fontname="Helvetica"];',
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


__all__ = [
    "COLOURS",
    "KINDS",
    "LINKS",
    "STRUCTURE",
    "Edge",
    "Neighbourhood",
    "Node",
    "neighbourhood",
    "to_dot",
]
