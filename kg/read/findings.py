"""Read coded findings and studies: the studies table, faceted search, and one finding's record.

Facets are hierarchy-aware: choosing "health professional" also finds findings coded "nurse", and
a CFIR construct finds findings coded with it directly or with a determinant aligned to it
(``skos:broadMatch``). Choices within one facet widen the search (any of them); facets narrow it
(all of them).
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kg.coding import CODED, DIMENSIONS, QUALIFIERS
from kg.namespaces import QIKG, expand
from kg.read.concepts import CODING, UP
from kg.read.hierarchy import Above, above, below, climb
from kg.read.related import finding_ref
from kg.sparql import any_of, iri_term, literal_term, sparql_prefixes
from kg.store import Store
from kg.text import citation, natural_key

_LANG = 'FILTER(lang(?l) IN ("", "en"))'
#: Facet queries asked at once by :func:`facet_options`.
FACET_THREADS = 4
_QUOTE_PATH = "qikg:supportedBy/oa:hasTarget/oa:hasSelector"
#: The fields of a finding's record and the property each one reads.
_FINDING_FIELDS = {
    "type": "rdf:type",
    "fid": "dcterms:identifier",
    "s": "qikg:reportedIn",
    "statement": "qikg:statement",
    "theme": "qikg:theme",
    "coder": "prov:wasAttributedTo",
    "created": "dcterms:created",
    "derived": "prov:wasDerivedFrom",
}


@dataclass(frozen=True)
class Facet:
    """One way to narrow the findings: what codes a finding (``path``), how a code reaches a
    broader choice (``up``), and which kinds of thing are offered as choices."""

    title: str
    path: str
    up: str
    kinds: tuple[str, ...]
    label: str = "skos:prefLabel"


#: The facets of the Findings page, in display order.
FACETS: dict[str, Facet] = {
    "studies": Facet("Study", "qikg:reportedIn", "", ("qikg:Study",), "dcterms:identifier"),
    **{d.column: Facet(d.facet, d.curie, d.hierarchy, d.kinds) for d in DIMENSIONS},
    "cfir": Facet("CFIR 2.0 construct", CODED, UP, ("qikg:CFIRConstruct",)),
    **{d.column: Facet(d.facet, d.curie, d.hierarchy, d.kinds) for d in QUALIFIERS},
}
#: What each coding property is called on a finding's page, keyed by the property's local name.
CODE_NAMES = {
    **{d.predicate: d.facet for d in QUALIFIERS},
    **{d.predicate: d.title for d in DIMENSIONS},
}


@dataclass(frozen=True)
class FindingFilters:
    """The choices made on the Findings page; every field but ``text`` and ``coded_with`` is a
    facet of FACETS holding the IRIs chosen in it."""

    studies: tuple[str, ...] = ()
    professional_groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    qic_components: tuple[str, ...] = ()
    enablers: tuple[str, ...] = ()
    barriers: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    concepts: tuple[str, ...] = ()
    cfir: tuple[str, ...] = ()
    finding_kind: tuple[str, ...] = ()
    outcome_direction: tuple[str, ...] = ()
    coded_with: tuple[str, ...] = ()
    text: str = ""


@dataclass(frozen=True)
class Option:
    """A choice in a facet, with the number of findings it selects on its own."""

    iri: str
    label: str
    findings: int


@dataclass(frozen=True)
class FindingRow:
    """A finding as listed in search results."""

    iri: str
    study_id: str
    finding_id: str
    statement: str
    theme: str

    @property
    def ref(self) -> str:
        """``study_id/finding_id``, the way researchers name a finding."""
        return f"{self.study_id}/{self.finding_id}"


@dataclass(frozen=True)
class FindingPage:
    """One page of search results and how many findings match in all."""

    rows: list[FindingRow]
    total: int


@dataclass(frozen=True)
class Study:
    """A coded study, as the studies table shows it."""

    iri: str
    study_id: str
    title: str
    authors: str
    year: int | None
    doi: str | None
    journal: str
    country: str
    design: str
    programme: str
    findings: int

    @property
    def citation(self) -> str:
        """A short citation: ``Carstensen et al. 2024``."""
        return citation(self.authors, self.year) or self.study_id


@dataclass(frozen=True)
class Quote:
    """A verbatim quote supporting a finding, and where in the source it is."""

    iri: str
    text: str
    location: str
    source: str
    participant: str


@dataclass(frozen=True)
class Code:
    """A concept a finding is coded with, under the coding property's name."""

    property: str
    iri: str
    label: str


@dataclass
class FindingDetail:
    """Everything the graph says about one finding."""

    iri: str
    finding_id: str
    study: Study | None
    statement: str
    theme: str
    quotes: list[Quote] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    coder: str = ""
    coded_on: str = ""
    derived_from: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ref(self) -> str:
        """``study_id/finding_id``."""
        return f"{self.study.study_id if self.study else '?'}/{self.finding_id}"


#: What the studies table shows of a study: result name -> property.
_STUDY_DETAILS = {
    "title": "dcterms:title",
    "authors": "qikg:authors",
    "year": "qikg:publicationYear",
    "doi": "qikg:doi",
    "journal": "qikg:journal",
    "country": "qikg:country",
    "design": "qikg:hasStudyDesign",
}


#: Details shown by the name of what they link to: the study design's label.
_NAMED = {"design": "qikg:hasStudyDesign/skos:prefLabel"}


def studies(store: Store, include_inferred: bool = False) -> list[Study]:
    """Every study in the graph with its bibliographic details and number of findings."""
    # Each detail is read in a subquery, which Oxigraph hash-joins (one scan per property)
    # instead of looking it up study by study. A programme's label is repeated in the graph of
    # every study of the programme, so labels are made distinct before they are joined.
    samples = " ".join(f"(SAMPLE(?{v}_) AS ?{v})" for v in [*_STUDY_DETAILS, "programme"])
    details = " ".join(
        f"OPTIONAL {{ SELECT ?s ?{v}_ WHERE {{ ?s {_NAMED.get(v, prop)} ?{v}_ }} }}"
        for v, prop in _STUDY_DETAILS.items()
    )
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?s (SAMPLE(?id) AS ?sid) {samples} WHERE {{
            ?s a qikg:Study ; dcterms:identifier ?id .
            {details}
            OPTIONAL {{ SELECT ?s ?programme_ WHERE {{ ?s qikg:evaluatesProgramme ?p .
                {{ SELECT DISTINCT ?p ?programme_ WHERE {{
                    {{ SELECT DISTINCT ?p WHERE {{ [] qikg:evaluatesProgramme ?p }} }}
                    ?p rdfs:label ?programme_ }} }} }} }}
        }} GROUP BY ?s""",
        include_inferred=include_inferred,
    ).values()
    counts = store.query(
        sparql_prefixes()
        + "SELECT ?s (COUNT(?f) AS ?n) WHERE { ?f qikg:reportedIn ?s } GROUP BY ?s",
        include_inferred=include_inferred,
    ).values()
    found = {r["s"]: r["n"] for r in counts}
    return sorted((_study({**r, "n": found.get(r["s"])}) for r in rows), key=lambda s: s.study_id)


def _study(r: dict[str, str | None]) -> Study:
    year = r.get("year")
    return Study(
        iri=r["s"] or "",
        study_id=r["sid"] or "",
        title=r.get("title") or "",
        authors=r.get("authors") or "",
        year=int(year) if year and year.lstrip("-").isdigit() else None,
        doi=r.get("doi"),
        journal=r.get("journal") or "",
        country=r.get("country") or "",
        design=r.get("design") or "",
        programme=r.get("programme") or "",
        findings=int(r.get("n") or 0),
    )


def _one_study(store: Store, iri: str, include_inferred: bool) -> Study | None:
    """The study with this IRI, as ``studies`` gives it, or None."""
    fields = {
        "type": "rdf:type",
        "sid": "dcterms:identifier",
        **_STUDY_DETAILS,
        "programme": "qikg:evaluatesProgramme",
    }
    found = _record(
        store, iri, fields, named={"programme", *_NAMED}, include_inferred=include_inferred
    )
    if str(QIKG.Study) not in found.get("type", []):
        return None
    n = store.query(
        sparql_prefixes()
        + f"SELECT (COUNT(?f) AS ?n) WHERE {{ ?f qikg:reportedIn {iri_term(iri)} }}",
        include_inferred=include_inferred,
    ).column("n")
    return _study({"s": iri, "n": n[0], **{name: v[0] for name, v in found.items()}})


def _record(
    store: Store,
    iri: str,
    fields: dict[str, str],
    named: Collection[str] = (),
    include_inferred: bool = False,
) -> dict[str, list[str]]:
    """The values of each field (name -> property CURIE) of one resource, sorted; a field in
    ``named`` gives the name or label of the resource it links to.

    One triple pattern reads them all: Virtuoso refuses a join or OPTIONAL per field as too
    costly to run.
    """
    by_property = {expand(curie): name for name, curie in fields.items()}
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?p ?o ?name WHERE {{
            VALUES ?p {{ {" ".join(fields.values())} }} {iri_term(iri)} ?p ?o .
            OPTIONAL {{ {{ ?o foaf:name ?name }} UNION {{ ?o rdfs:label ?name }}
                UNION {{ ?o skos:prefLabel ?name FILTER(lang(?name) IN ("", "en")) }} }}
        }}""",
        include_inferred=include_inferred,
    ).values()
    out: dict[str, set[str]] = {}
    for r in rows:
        name = by_property[r["p"]]
        value = r["name"] if name in named else r["o"]
        if value:
            out.setdefault(name, set()).add(value)
    return {name: sorted(values) for name, values in out.items()}


def facet_options(
    store: Store, include_inferred: bool = False, facets: tuple[str, ...] = tuple(FACETS)
) -> dict[str, list[Option]]:
    """The choices of each facet (all, or those named) that select at least one finding, most
    findings first. The facets are asked side by side (``FACET_THREADS``): the engine and the
    servers answer each on a thread of its own, which took the Findings page's eleven from 1.6 s
    to 0.9 s on Virtuoso at 4,000 studies and from 1.1 s to 0.6 s on the store on disk."""
    hierarchies = _hierarchies(store, {FACETS[key].up for key in facets}, include_inferred)

    def options(key: str) -> list[Option]:
        facet = FACETS[key]
        kind = f"VALUES ?kind {{ {' '.join(facet.kinds)} }} ?c a ?kind ."
        up = hierarchies.get(facet.up, {})
        rows = store.query(
            sparql_prefixes()
            + f"""SELECT ?c ?n (SAMPLE(?l) AS ?label) WHERE {{
                {{ SELECT ?c (COUNT(DISTINCT ?f) AS ?n) WHERE {{
                    {{ SELECT DISTINCT ?c ?x WHERE {{ {climb(kind, up)} }} }}
                    {any_of("?f", facet.path, "?x")}
                }} GROUP BY ?c }}
                OPTIONAL {{ ?c {facet.label} ?l {_LANG} }}
            }} GROUP BY ?c ?n""",
            include_inferred=include_inferred,
        ).values()
        found = [Option(r["c"] or "", r["label"] or r["c"] or "", int(r["n"] or 0)) for r in rows]
        if key == "studies":
            return sorted(found, key=lambda o: o.label)
        return sorted(found, key=lambda o: (-o.findings, o.label.casefold()))

    with ThreadPoolExecutor(min(FACET_THREADS, len(facets) or 1)) as pool:
        return dict(zip(facets, pool.map(options, facets), strict=True))


def _where(
    filters: FindingFilters, below: dict[str, tuple[str, list[str]]], scope: str = ""
) -> str:
    """The graph pattern of the findings that pass the filters (binds ?f and its study ?s);
    ``below`` holds each facet filter's coding path and chosen concepts (``_below``).

    ``scope``, a pattern on ?f, is repeated inside each filter so that a filter reads only the
    findings in scope (e.g. those of the studies on one page) instead of the whole graph.
    """
    # Out of scope, each part is a subquery, which Oxigraph hash-joins (a scan per property)
    # instead of looking each finding up in the next part.
    parts = [
        "?f qikg:reportedIn ?s ." if scope else "{ SELECT ?f ?s WHERE { ?f qikg:reportedIn ?s } }"
    ]
    for path, concepts in below.values():
        parts.append(
            f"{{ SELECT DISTINCT ?f WHERE {{ {scope} VALUES ?x {{ {' '.join(concepts)} }} "
            f"{any_of('?f', path, '?x')} }} }}"
        )
    for word in filters.text.casefold().split():
        match = f"FILTER(CONTAINS(LCASE(STR(?text)), {literal_term(word)}))"
        # Out of scope, quotes are matched first and followed back to their findings: walking
        # from every finding to its quotes' text is ten times slower.
        quote = (
            f"?f {_QUOTE_PATH}/oa:exact ?text"
            if scope
            else f"SELECT ?f ?text WHERE {{ ?sel oa:exact ?text {match} ?f {_QUOTE_PATH} ?sel }}"
        )
        parts.append(
            f"""{{ SELECT DISTINCT ?f WHERE {{ {scope}
                {{ ?f qikg:statement|qikg:theme ?text }} UNION {{ {quote} }} {match} }} }}"""
        )
    return "\n".join(parts)


def _below(
    store: Store, filters: FindingFilters, include_inferred: bool
) -> dict[str, tuple[str, list[str]]]:
    """Each facet filter with choices: the path that codes a finding, and the choices with the
    concepts below them as written in a query (choosing "health professional" also finds
    findings coded "nurse")."""
    facets = {key: (f.path, f.up) for key, f in FACETS.items() if getattr(filters, key)}
    if filters.coded_with:
        facets["coded_with"] = (CODING, UP)
    hierarchies = _hierarchies(store, {up for _, up in facets.values()}, include_inferred)
    out = {}
    for key, (path, up) in facets.items():
        chosen = set(getattr(filters, key))
        if up:
            chosen = below(hierarchies[up], chosen)
        out[key] = (path, sorted(iri_term(c) for c in chosen))
    return out


def _hierarchies(store: Store, ups: set[str], include_inferred: bool) -> dict[str, Above]:
    """The concepts above each concept by each of these links (``""``: none), read once per
    kind of link (most facets climb by skos:broader)."""
    return {up: above(store, up, include_inferred) for up in ups if up}


def search_findings(
    store: Store,
    filters: FindingFilters,
    *,
    limit: int = 25,
    offset: int = 0,
    include_inferred: bool = False,
) -> FindingPage:
    """One page of the findings that pass the filters, ordered by study then finding id.

    Findings are counted per study first and only the studies on the page are read in full,
    so a page costs the same on a large graph as on a small one (no sort of every finding).
    """
    below = _below(store, filters, include_inferred)
    where = _where(filters, below)
    per_study = store.query(
        sparql_prefixes() + f"SELECT ?s (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {where} }} GROUP BY ?s",
        include_inferred=include_inferred,
    ).values()
    counts = sorted((r["s"] or "", int(r["n"] or 0)) for r in per_study)
    total = sum(n for _, n in counts)
    wanted: list[str] = []
    skip = start = 0
    for study, n in counts:
        if start + n > offset and start < offset + limit:
            skip = skip if wanted else offset - start
            wanted.append(study)
        start += n
    if not wanted:
        return FindingPage([], total)
    studies_on_page = f"VALUES ?s {{ {' '.join(iri_term(w) for w in wanted)} }}"
    scope = f"{studies_on_page} ?f qikg:reportedIn ?s ."
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?f ?s ?sid ?fid (SAMPLE(?st) AS ?statement) (SAMPLE(?th) AS ?theme) WHERE {{
            {studies_on_page} {_where(filters, below, scope)}
            ?s dcterms:identifier ?sid . ?f dcterms:identifier ?fid .
            OPTIONAL {{ ?f qikg:statement ?st }} OPTIONAL {{ ?f qikg:theme ?th }}
        }} GROUP BY ?f ?s ?sid ?fid""",
        include_inferred=include_inferred,
    ).values()
    rows.sort(key=lambda r: (r["s"] or "", natural_key(r["fid"] or "")))
    found = [
        FindingRow(
            r["f"] or "", r["sid"] or "", r["fid"] or "", r["statement"] or "", r["theme"] or ""
        )
        for r in rows[skip : skip + limit]
    ]
    return FindingPage(found, total)


def finding(store: Store, ref: str, include_inferred: bool = False) -> FindingDetail | None:
    """One finding (``study_id/finding_id``, CURIE or IRI) with quotes, codes and provenance."""
    target = finding_ref(ref)
    head = _record(
        store, target, _FINDING_FIELDS, named={"coder"}, include_inferred=include_inferred
    )
    if str(QIKG.Finding) not in head.get("type", []):
        return None
    h = {name: values[0] for name, values in head.items()}
    study = _one_study(store, h["s"], include_inferred) if "s" in h else None
    quotes = store.query(
        sparql_prefixes()
        + f"""SELECT ?q (SAMPLE(?e) AS ?text) (SAMPLE(?loc) AS ?location) (SAMPLE(?src) AS ?source)
                (SAMPLE(?who) AS ?participant) WHERE {{
            {iri_term(target)} qikg:supportedBy ?q .
            OPTIONAL {{ ?q oa:hasTarget/oa:hasSelector/oa:exact ?e }}
            OPTIONAL {{ ?q qikg:quoteLocation ?loc }}
            OPTIONAL {{ ?q oa:hasTarget/oa:hasSource ?src }}
            OPTIONAL {{ ?q qikg:participant ?who }}
        }} GROUP BY ?q ORDER BY STRLEN(STR(?q)) ?q""",
        include_inferred=include_inferred,
    ).values()
    codes = store.query(
        sparql_prefixes()
        + f"""SELECT DISTINCT ?p ?c (SAMPLE(?l) AS ?label) WHERE {{
            {iri_term(target)} ?p ?c . VALUES ?p {{ {" ".join(CODING.split("|"))} }}
            OPTIONAL {{ ?c skos:prefLabel ?l {_LANG} }}
        }} GROUP BY ?p ?c""",
        include_inferred=include_inferred,
    ).values()
    notes = store.query(
        sparql_prefixes() + f"SELECT ?n WHERE {{ {iri_term(target)} skos:note ?n }} ORDER BY ?n",
        include_inferred=include_inferred,
    ).column("n")
    titles = list(CODE_NAMES.values())
    found_codes = [
        Code(CODE_NAMES[local], r["c"] or "", r["label"] or r["c"] or "")
        for r in codes
        if (local := (r["p"] or "").removeprefix(str(QIKG))) in CODE_NAMES
    ]
    found_codes.sort(key=lambda c: (titles.index(c.property), c.label.casefold()))
    return FindingDetail(
        iri=target,
        finding_id=h.get("fid", ""),
        study=study,
        statement=h.get("statement", ""),
        theme=h.get("theme", ""),
        quotes=[
            Quote(
                r["q"] or "",
                r["text"] or "",
                r["location"] or "",
                r["source"] or "",
                r["participant"] or "",
            )
            for r in quotes
        ],
        codes=found_codes,
        coder=h.get("coder", ""),
        coded_on=h.get("created", ""),
        derived_from=h.get("derived") or (study.doi if study and study.doi else ""),
        notes=[n for n in notes if n],
    )


__all__ = [
    "CODE_NAMES",
    "FACETS",
    "Code",
    "Facet",
    "FindingDetail",
    "FindingFilters",
    "FindingPage",
    "FindingRow",
    "Option",
    "Quote",
    "Study",
    "facet_options",
    "finding",
    "search_findings",
    "studies",
]
