"""Read coded findings and studies: the studies table, faceted search, and one finding's record.

Facets are hierarchy-aware: choosing "health professional" also finds findings coded "nurse", and
a CFIR construct finds findings coded with it directly or with a determinant aligned to it
(``skos:broadMatch``). Choices within one facet widen the search (any of them); facets narrow it
(all of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from kg.concepts import CODING, UP, sparql_iri, sparql_string
from kg.linking import CODED, finding_ref
from kg.namespaces import QIKG, sparql_prefixes
from kg.store import Store

_LANG = 'FILTER(lang(?l) IN ("", "en"))'
_QUOTE_TEXT = "qikg:supportedBy/oa:hasTarget/oa:hasSelector/oa:exact"


def citation(authors: str, year: object) -> str:
    """A short citation from ``"Surname A; Surname B"`` and a year.

    >>> citation("Carstensen K; Goldman J", 2024)
    'Carstensen et al. 2024'
    """
    first = authors.split(";")[0].strip().split(" ")[0]
    many = " et al." if ";" in authors else ""
    return f"{first}{many} {year or ''}".strip() if first else ""


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
    "professional_groups": Facet(
        "Professional group",
        "qikg:concernsProfessionalGroup",
        "skos:broader",
        ("qikg:ProfessionalGroup",),
    ),
    "roles": Facet("Role", "qikg:concernsRole", "skos:broader", ("qikg:Role",)),
    "qic_components": Facet(
        "QIC component", "qikg:involvesQICComponent", "skos:broader", ("qikg:QICComponent",)
    ),
    "enablers": Facet(
        "Enabler", "qikg:hasEnabler", "skos:broader", ("qikg:Determinant", "qikg:CFIRConstruct")
    ),
    "barriers": Facet(
        "Barrier", "qikg:hasBarrier", "skos:broader", ("qikg:Determinant", "qikg:CFIRConstruct")
    ),
    "outcomes": Facet("Outcome", "qikg:relatesToOutcome", "skos:broader", ("qikg:Outcome",)),
    "concepts": Facet("Theory concept", "qikg:relatesToConcept", "skos:broader", ("skos:Concept",)),
    "cfir": Facet("CFIR 2.0 construct", CODED, UP, ("qikg:CFIRConstruct",)),
    "confidence": Facet(
        "GRADE-CERQual confidence", "qikg:cerqualConfidence", "", ("qikg:CERQualConfidenceLevel",)
    ),
}
#: What each coding property is called on a finding's page, keyed by the property's local name.
CODE_NAMES = {
    "concernsProfessionalGroup": "Professional groups",
    "concernsRole": "Roles",
    "involvesQICComponent": "QIC components",
    "hasEnabler": "Enablers",
    "hasBarrier": "Barriers",
    "relatesToOutcome": "Outcomes",
    "relatesToConcept": "Concepts",
    "cerqualConfidence": "GRADE-CERQual confidence",
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
    confidence: tuple[str, ...] = ()
    coded_with: tuple[str, ...] = ()
    text: str = ""

    def is_empty(self) -> bool:
        """True when nothing narrows the findings."""
        return not any(getattr(self, f.name) for f in fields(self))


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


def studies(store: Store, only: str | None = None, include_inferred: bool = False) -> list[Study]:
    """Every study in the graph (or ``only`` the one with this IRI) with its bibliographic
    details and number of findings."""
    pick = f"VALUES ?s {{ {sparql_iri(only)} }}" if only else ""
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?s (SAMPLE(?id) AS ?sid) (SAMPLE(?t) AS ?title) (SAMPLE(?a) AS ?authors)
                (SAMPLE(?y) AS ?year) (SAMPLE(?d) AS ?doi) (SAMPLE(?j) AS ?journal)
                (SAMPLE(?c) AS ?country) (SAMPLE(?de) AS ?design) (SAMPLE(?pl) AS ?programme)
                (COUNT(DISTINCT ?f) AS ?n) WHERE {{
            {pick}
            ?s a qikg:Study ; dcterms:identifier ?id .
            OPTIONAL {{ ?s dcterms:title ?t }} OPTIONAL {{ ?s qikg:authors ?a }}
            OPTIONAL {{ ?s qikg:publicationYear ?y }} OPTIONAL {{ ?s qikg:doi ?d }}
            OPTIONAL {{ ?s qikg:journal ?j }} OPTIONAL {{ ?s qikg:country ?c }}
            OPTIONAL {{ ?s qikg:studyDesign ?de }}
            OPTIONAL {{ ?s qikg:evaluatesProgramme/rdfs:label ?pl }}
            OPTIONAL {{ ?f qikg:reportedIn ?s ; a qikg:Finding }}
        }} GROUP BY ?s ORDER BY ?sid""",
        include_inferred=include_inferred,
    ).values()
    return [_study(r) for r in rows]


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


def facet_options(store: Store, include_inferred: bool = False) -> dict[str, list[Option]]:
    """The choices of every facet that select at least one finding, most findings first."""
    out: dict[str, list[Option]] = {}
    for key, facet in FACETS.items():
        climb = f"/({facet.up})*" if facet.up else ""
        rows = store.query(
            sparql_prefixes()
            + f"""SELECT ?c (SAMPLE(?l) AS ?label) (COUNT(DISTINCT ?f) AS ?n) WHERE {{
                ?f ({facet.path}){climb} ?c .
                VALUES ?kind {{ {" ".join(facet.kinds)} }} ?c a ?kind .
                OPTIONAL {{ ?c {facet.label} ?l {_LANG} }}
            }} GROUP BY ?c""",
            include_inferred=include_inferred,
        ).values()
        options = [Option(r["c"] or "", r["label"] or r["c"] or "", int(r["n"] or 0)) for r in rows]
        if key == "studies":
            options.sort(key=lambda o: o.label)
        else:
            options.sort(key=lambda o: (-o.findings, o.label.casefold()))
        out[key] = options
    return out


def _where(filters: FindingFilters) -> str:
    """The graph pattern of the findings that pass the filters (binds ?f)."""
    parts = ["?f a qikg:Finding ."]
    for key, facet in FACETS.items():
        chosen = getattr(filters, key)
        if chosen:
            parts.append(_semi_join(chosen, facet.path, facet.up))
    if filters.coded_with:
        parts.append(_semi_join(filters.coded_with, CODING, UP))
    for word in filters.text.casefold().split():
        parts.append(
            f"FILTER EXISTS {{ ?f qikg:statement|qikg:theme|{_QUOTE_TEXT} ?text "
            f"FILTER(CONTAINS(LCASE(STR(?text)), {sparql_string(word)})) }}"
        )
    return "\n".join(parts)


def _semi_join(chosen: tuple[str, ...], path: str, up: str) -> str:
    """The findings coded (through ``path``) with a chosen concept or one below it."""
    values = " ".join(sparql_iri(c) for c in chosen)
    climb = f"?x ({up})* ?c ." if up else "BIND(?c AS ?x)"
    return f"{{ SELECT DISTINCT ?f WHERE {{ VALUES ?c {{ {values} }} {climb} ?f ({path}) ?x }} }}"


def search_findings(
    store: Store,
    filters: FindingFilters,
    *,
    limit: int = 25,
    offset: int = 0,
    include_inferred: bool = False,
) -> FindingPage:
    """One page of the findings that pass the filters, ordered by study then finding id."""
    where = _where(filters)
    total = store.query(
        sparql_prefixes() + f"SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ {where} }}",
        include_inferred=include_inferred,
    ).values()
    rows = store.query(
        sparql_prefixes()
        + f"""SELECT ?f ?sid ?fid (SAMPLE(?st) AS ?statement) (SAMPLE(?th) AS ?theme) WHERE {{
            {{ SELECT DISTINCT ?f WHERE {{ {where} }} }}
            ?f qikg:reportedIn/dcterms:identifier ?sid ; dcterms:identifier ?fid .
            OPTIONAL {{ ?f qikg:statement ?st }} OPTIONAL {{ ?f qikg:theme ?th }}
        }} GROUP BY ?f ?sid ?fid ORDER BY ?sid STRLEN(?fid) ?fid
        LIMIT {int(limit)} OFFSET {int(offset)}""",
        include_inferred=include_inferred,
    ).values()
    found = [
        FindingRow(
            r["f"] or "", r["sid"] or "", r["fid"] or "", r["statement"] or "", r["theme"] or ""
        )
        for r in rows
    ]
    return FindingPage(found, int(total[0]["n"] or 0) if total else 0)


def finding(store: Store, ref: str, include_inferred: bool = False) -> FindingDetail | None:
    """One finding (``study_id/finding_id``, CURIE or IRI) with quotes, codes and provenance."""
    target = sparql_iri(finding_ref(ref))
    head = store.query(
        sparql_prefixes()
        + f"""SELECT ?fid ?s ?statement ?theme ?coder ?created ?derived WHERE {{
            {target} a qikg:Finding ; dcterms:identifier ?fid .
            OPTIONAL {{ {target} qikg:reportedIn ?s }}
            OPTIONAL {{ {target} qikg:statement ?statement }}
            OPTIONAL {{ {target} qikg:theme ?theme }}
            OPTIONAL {{ {target} prov:wasAttributedTo/foaf:name ?coder }}
            OPTIONAL {{ {target} dcterms:created ?created }}
            OPTIONAL {{ {target} prov:wasDerivedFrom ?derived }}
        }} LIMIT 1""",
        include_inferred=include_inferred,
    ).values()
    if not head:
        return None
    h = head[0]
    found = studies(store, only=h["s"], include_inferred=include_inferred) if h["s"] else []
    study = found[0] if found else None
    quotes = store.query(
        sparql_prefixes()
        + f"""SELECT ?q (SAMPLE(?e) AS ?text) (SAMPLE(?loc) AS ?location) (SAMPLE(?src) AS ?source)
                (SAMPLE(?who) AS ?participant) WHERE {{
            {target} qikg:supportedBy ?q .
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
            {target} ?p ?c . VALUES ?p {{ {" ".join(CODING.split("|"))} }}
            OPTIONAL {{ ?c skos:prefLabel ?l {_LANG} }}
        }} GROUP BY ?p ?c""",
        include_inferred=include_inferred,
    ).values()
    notes = store.query(
        sparql_prefixes() + f"SELECT ?n WHERE {{ {target} skos:note ?n }} ORDER BY ?n",
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
        iri=target[1:-1],
        finding_id=h["fid"] or "",
        study=study,
        statement=h["statement"] or "",
        theme=h["theme"] or "",
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
        coder=h["coder"] or "",
        coded_on=h["created"] or "",
        derived_from=h["derived"] or (study.doi if study and study.doi else ""),
        notes=[n for n in notes if n],
    )


__all__ = [
    "CODE_NAMES",
    "FACETS",
    "Code",
    "citation",
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
