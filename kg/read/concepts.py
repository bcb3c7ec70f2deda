"""Read the vocabulary: concept schemes as trees with finding counts, one concept's record, and a
typo-tolerant search over labels.

A finding coded with a concept counts for that concept and for every concept above it along
``skos:broader`` and ``skos:broadMatch`` (SKOS makes broadMatch a kind of broader): a finding about
nurses counts for "health professional", and one about lack of time for CFIR's "available
resources".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from kg.coding import CODED, QUALIFIERS
from kg.namespaces import CFIR, ERIC, ISCO, QIKG, curie
from kg.read.hierarchy import above, climb
from kg.read.labels import labels
from kg.sparql import any_of, iri_term, iri_terms, sparql_prefixes
from kg.store import Store

#: Every property that codes a finding with a concept (the seven of qikg:codedWith, and the
#: finding's kind and outcome direction).
CODING = f"{CODED}|{'|'.join(d.curie for d in QUALIFIERS)}"
#: One step up from a concept to a concept it counts for.
UP = "skos:broader|skos:broadMatch"
#: The order schemes are shown in; schemes not listed follow, by label.
SCHEME_ORDER = [
    str(QIKG.ProfessionalGroupScheme),
    str(QIKG.RoleScheme),
    str(QIKG.QICComponentScheme),
    str(QIKG.DeterminantScheme),
    str(QIKG.OutcomeScheme),
    str(QIKG.TheoryScheme),
    str(CFIR.CFIR2),
    str(QIKG.CERQualConfidenceScheme),
    str(QIKG.CERQualComponentScheme),
    str(QIKG.CERQualConcernScheme),
    str(ERIC.ERIC),
]
_LABEL_LANGS = 'FILTER(lang(?l) IN ("", "en"))'
_MATCHES = {
    "http://www.w3.org/2004/02/skos/core#exactMatch": ("exact match", "exact match"),
    "http://www.w3.org/2004/02/skos/core#closeMatch": ("close match", "close match"),
    "http://www.w3.org/2004/02/skos/core#broadMatch": ("broader match", "narrower match"),
    "http://www.w3.org/2004/02/skos/core#narrowMatch": ("narrower match", "broader match"),
    "http://www.w3.org/2004/02/skos/core#relatedMatch": ("related match", "related match"),
}
_SKOS = "http://www.w3.org/2004/02/skos/core#"
#: Links read backwards on a concept's page (X broader Y makes Y's narrower X); not coding links,
#: which a common concept has tens of thousands of on a large graph.
_INVERSE = (
    "broader",
    "narrower",
    "related",
    "exactMatch",
    "closeMatch",
    "broadMatch",
    "narrowMatch",
    "relatedMatch",
)


def system_of(iri: str) -> str:
    """The vocabulary an IRI belongs to, as researchers name it.

    >>> system_of("http://data.europa.eu/esco/isco/C2221"), system_of("https://w3id.org/qikg/cfir#Funding")
    ('ISCO-08', 'CFIR 2.0')
    """
    for prefix, name in (
        (str(ISCO), "ISCO-08"),
        (str(CFIR), "CFIR 2.0"),
        (str(ERIC), "ERIC"),
        (str(QIKG), "qikg"),
    ):
        if iri.startswith(prefix):
            return name
    return "external"


@dataclass(frozen=True)
class Scheme:
    """A concept scheme: professional groups, roles, CFIR 2.0, ..."""

    iri: str
    label: str
    concepts: int


@dataclass
class TreeNode:
    """A concept in its scheme's hierarchy; ``findings`` counts those coded with it or below it."""

    iri: str
    label: str
    findings: int
    children: list[TreeNode] = field(default_factory=list)


@dataclass(frozen=True)
class Link:
    """A concept pointed to: ``relation`` in words, and the target's label if it is in the graph."""

    relation: str
    iri: str
    label: str | None
    system: str

    @property
    def internal(self) -> bool:
        """True when the target is a concept in the graph (so it has a page of its own)."""
        return self.label is not None


@dataclass(frozen=True)
class Label:
    """One label of a concept: ``kind`` is preferred, alternative or hidden."""

    text: str
    lang: str
    kind: str


@dataclass
class ConceptDetail:
    """Everything the ontology says about one concept."""

    iri: str
    label: str
    kinds: list[str]
    schemes: list[Link]
    labels: list[Label]
    definitions: list[Label]
    notes: list[str]
    sources: list[str]
    broader: list[Link]
    narrower: list[Link]
    related: list[Link]
    alignments: list[Link]

    @property
    def curie(self) -> str:
        """The concept's short name, e.g. ``qikg:Nurse``."""
        return curie(self.iri)


@dataclass(frozen=True)
class LabelEntry:
    """One searchable label: a preferred or alternative label of a concept, in any language."""

    iri: str
    text: str
    preferred: bool
    lang: str
    kind: str


@dataclass(frozen=True)
class Hit:
    """A concept found by a label search; ``matched`` is the label that matched."""

    iri: str
    label: str
    matched: str
    kind: str
    score: float


def schemes(store: Store) -> list[Scheme]:
    """The concept schemes in the graph, in the order researchers expect them."""
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?s (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?c) AS ?n) WHERE {{
            ?s a skos:ConceptScheme .
            OPTIONAL {{ ?s skos:prefLabel|rdfs:label|dcterms:title ?l {_LABEL_LANGS} }}
            OPTIONAL {{ ?c skos:inScheme ?s }}
        }} GROUP BY ?s""",
        include_inferred=False,
    ).values()
    found = [
        Scheme(s, r["label"] or curie(s), int(r["n"] or 0))
        for r in rows
        if (s := r["s"]) is not None
    ]
    rank = {iri: i for i, iri in enumerate(SCHEME_ORDER)}
    return sorted(found, key=lambda s: (rank.get(s.iri, len(rank)), s.label.casefold()))


def scheme_trees(store: Store, include_inferred: bool = False) -> dict[str, list[TreeNode]]:
    """Each scheme's top concepts, with narrower concepts nested below and finding counts."""
    members = store.query(
        sparql_prefixes()
        + f"""SELECT ?c ?scheme (SAMPLE(?l) AS ?label) WHERE {{
            ?c skos:inScheme ?scheme . OPTIONAL {{ ?c skos:prefLabel ?l {_LABEL_LANGS} }}
        }} GROUP BY ?c ?scheme""",
        include_inferred=include_inferred,
    ).values()
    links = store.query(
        sparql_prefixes()
        + "SELECT ?c ?up WHERE { { ?c skos:broader ?up } UNION { ?up skos:narrower ?c } }",
        include_inferred=include_inferred,
    ).values()
    under = climb("?c skos:inScheme ?scheme .", above(store, UP, include_inferred))
    counts = store.query(
        sparql_prefixes()
        + f"""SELECT ?c (COUNT(DISTINCT ?f) AS ?n) WHERE {{
            {{ SELECT DISTINCT ?c ?x WHERE {{ {under} }} }} {any_of("?f", CODING, "?x")}
        }} GROUP BY ?c""",
        include_inferred=include_inferred,
    ).values()
    found = {r["c"] or "": int(r["n"] or 0) for r in counts}
    names = {r["c"] or "": r["label"] or curie(r["c"] or "") for r in members}
    schemes_of: dict[str, set[str]] = {}
    for r in members:
        schemes_of.setdefault(r["c"] or "", set()).add(r["scheme"] or "")
    ups: dict[str, set[str]] = {}
    for r in links:
        c, up = r["c"] or "", r["up"] or ""
        if c != up and schemes_of.get(c, set()) & schemes_of.get(up, set()):
            ups.setdefault(c, set()).add(up)
    return {
        scheme: _tree(
            {c for c, ss in schemes_of.items() if scheme in ss},
            scheme,
            schemes_of,
            ups,
            names,
            found,
        )
        for scheme in {s for ss in schemes_of.values() for s in ss}
    }


def _tree(
    members: set[str],
    scheme: str,
    schemes_of: dict[str, set[str]],
    ups: dict[str, set[str]],
    names: dict[str, str],
    counts: dict[str, int],
) -> list[TreeNode]:
    """One scheme's concepts as trees: a concept hangs below its broader concepts in the scheme."""
    parents = {
        c: {up for up in ups.get(c, ()) if scheme in schemes_of.get(up, ())} for c in members
    }
    children: dict[str, list[str]] = {c: [] for c in members}
    for c, highs in parents.items():
        for up in highs:
            children[up].append(c)

    def node(c: str, seen: frozenset[str]) -> TreeNode:
        below = sorted((k for k in children[c] if k not in seen), key=lambda k: names[k].casefold())
        return TreeNode(c, names[c], counts.get(c, 0), [node(k, seen | {k}) for k in below])

    roots = sorted(
        (c for c, above in parents.items() if not above), key=lambda k: names[k].casefold()
    )
    return [node(c, frozenset({c})) for c in roots]


def concept(store: Store, iri: str) -> ConceptDetail | None:
    """One concept's labels, definitions, sources, hierarchy and alignments; None if unknown."""
    target = iri_term(iri)
    iri = target[1:-1]
    out_rows = store.query(
        f"SELECT ?p ?o WHERE {{ {target} ?p ?o }}", include_inferred=False
    ).bindings
    if not any(
        r["p"]["value"] == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
        and r["o"]["value"] == _SKOS + "Concept"
        for r in out_rows
    ):
        return None
    inverse = iri_terms(_SKOS + p for p in _INVERSE)
    in_rows = store.query(
        f"SELECT ?s ?p WHERE {{ VALUES ?p {{ {inverse} }} ?s ?p {target} }}",
        include_inferred=False,
    ).values()
    # ?p and ?s are bound in every row of in_rows
    incoming = [(r["p"], s) for r in in_rows if (s := r["s"]) is not None]
    pointed: set[str] = {r["o"]["value"] for r in out_rows if r["o"]["type"] == "uri"}
    pointed |= {s for _, s in incoming}
    names = labels(store, pointed | {iri})
    concepts = _concepts_among(store, pointed)

    def link(relation: str, other: str) -> Link:
        return Link(
            relation, other, names.get(other) if other in concepts else None, system_of(other)
        )

    detail = ConceptDetail(iri, names.get(iri, curie(iri)), [], [], [], [], [], [], [], [], [], [])
    for r in out_rows:
        p, o = r["p"]["value"], r["o"]
        value, lang = o["value"], o.get("xml:lang", "")
        if p == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" and value != _SKOS + "Concept":
            detail.kinds.append(names.get(value, curie(value)))
        elif p == _SKOS + "inScheme":
            detail.schemes.append(Link("in scheme", value, names.get(value, curie(value)), "qikg"))
        elif p in (_SKOS + "prefLabel", _SKOS + "altLabel", _SKOS + "hiddenLabel"):
            kind = {"pref": "preferred", "alt": "alternative"}.get(p[len(_SKOS) : -5], "hidden")
            detail.labels.append(Label(value, lang, kind))
        elif p == _SKOS + "definition":
            detail.definitions.append(Label(value, lang, "definition"))
        elif p in (_SKOS + "scopeNote", _SKOS + "note", _SKOS + "example"):
            detail.notes.append(value)
        elif p == "http://purl.org/dc/terms/source":
            detail.sources.append(value)
        elif p == _SKOS + "broader":
            detail.broader.append(link("broader", value))
        elif p == _SKOS + "narrower":
            detail.narrower.append(link("narrower", value))
        elif p == _SKOS + "related":
            detail.related.append(link("related", value))
        elif p in _MATCHES:
            detail.alignments.append(link(_MATCHES[p][0], value))
    for relation, subject in incoming:
        if relation == _SKOS + "broader":
            detail.narrower.append(link("narrower", subject))
        elif relation == _SKOS + "narrower":
            detail.broader.append(link("broader", subject))
        elif relation == _SKOS + "related":
            detail.related.append(link("related", subject))
        elif relation in _MATCHES:
            detail.alignments.append(link(_MATCHES[relation][1], subject))
    order = {"preferred": 0, "alternative": 1, "hidden": 2}
    detail.labels.sort(
        key=lambda lb: (order[lb.kind], lb.lang != "en", lb.lang, lb.text.casefold())
    )
    detail.definitions.sort(key=lambda d: (d.lang not in ("", "en"), d.lang))
    for links in (detail.broader, detail.narrower, detail.related, detail.alignments):
        unique = {(lk.relation, lk.iri): lk for lk in links}
        links[:] = sorted(
            unique.values(), key=lambda lk: (lk.relation, (lk.label or lk.iri).casefold())
        )
    detail.kinds.sort()
    detail.sources.sort()
    return detail


def _concepts_among(store: Store, iris: set[str]) -> set[str]:
    """Which of these IRIs are concepts described in the graph."""
    if not iris:
        return set()
    values = " ".join(iri_term(i) for i in sorted(iris))
    rows = store.query(
        sparql_prefixes() + f"SELECT ?c WHERE {{ VALUES ?c {{ {values} }} ?c a skos:Concept }}",
        include_inferred=False,
    )
    return {c for c in rows.column("c") if c is not None}


def label_index(store: Store) -> list[LabelEntry]:
    """Every preferred and alternative label of every concept, with the concept's kind."""
    rows = store.query(
        sparql_prefixes()
        + """SELECT ?c ?text ?pref (SAMPLE(?k) AS ?kind) WHERE {
            ?c a skos:Concept .
            { ?c skos:prefLabel ?text BIND(1 AS ?pref) }
            UNION { ?c skos:altLabel ?text BIND(0 AS ?pref) }
            OPTIONAL { ?c a ?type FILTER(?type != skos:Concept) ?type rdfs:label ?k
                       FILTER(lang(?k) IN ("", "en")) }
        } GROUP BY ?c ?text ?pref""",
        include_inferred=False,
    )
    return [
        LabelEntry(
            iri=b["c"]["value"],
            text=b["text"]["value"],
            preferred=b["pref"]["value"] == "1",  # not a boolean: Virtuoso writes true as 1
            lang=b["text"].get("xml:lang", ""),
            kind=b["kind"]["value"] if "kind" in b else "concept",
        )
        for b in rows.bindings
    ]


def search_labels(
    index: list[LabelEntry], text: str, limit: int = 10, cutoff: float = 70
) -> list[Hit]:
    """The concepts whose labels best match ``text``, forgiving typos; best first.

    >>> index = [LabelEntry("urn:n", "nurse", True, "en", "professional group"),
    ...          LabelEntry("urn:n", "sygeplejerske", True, "da", "professional group"),
    ...          LabelEntry("urn:p", "physician", True, "en", "professional group")]
    >>> [(h.label, h.matched) for h in search_labels(index, "nurce")]
    [('nurse', 'nurse')]
    >>> [h.label for h in search_labels(index, "sygeplej")]
    ['nurse']
    """
    query = " ".join(text.split()).casefold()
    if not query:
        return []
    preferred = {e.iri: e.text for e in index if e.preferred and e.lang in ("", "en")}
    preferred.update({e.iri: e.text for e in index if e.preferred and e.iri not in preferred})
    choices = [e.text.casefold() for e in index]
    scored = process.extract(query, choices, scorer=_score, limit=limit * 4, score_cutoff=cutoff)
    best: dict[str, Hit] = {}
    for _, score, position in scored:
        entry = index[position]
        label = preferred.get(entry.iri, entry.text)
        hit = Hit(entry.iri, label, entry.text, entry.kind, score)
        if entry.iri not in best or score > best[entry.iri].score:
            best[entry.iri] = hit
    ranked = sorted(best.values(), key=lambda h: (-h.score, len(h.label), h.label.casefold()))
    return ranked[:limit]


def _score(query: str, choice: str, **_: object) -> float:
    """Whole-label similarity, with a bonus for a label that starts with or contains the query."""
    if choice == query:
        return 100.0
    if choice.startswith(query) or f" {query}" in choice:
        return 95.0
    partial = fuzz.partial_ratio(query, choice) * 0.9 if len(query) > 3 else 0.0
    return max(fuzz.ratio(query, choice), partial)


__all__ = [
    "CODING",
    "UP",
    "ConceptDetail",
    "Hit",
    "Label",
    "LabelEntry",
    "Link",
    "Scheme",
    "TreeNode",
    "concept",
    "label_index",
    "scheme_trees",
    "schemes",
    "search_labels",
    "system_of",
]
