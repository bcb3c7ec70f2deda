"""Read-only SPARQL: parse a query to refuse writes and remote calls, and carry results in one
standard form.

Results travel as the SPARQL 1.1 JSON results format (SELECT/ASK) or N-Triples (CONSTRUCT,
DESCRIBE), the forms every SPARQL server speaks, so the embedded and remote stores answer alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import pyoxigraph as ox
from pyparsing import ParseException, ParseResults
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from kg.errors import BadInput, ReadOnly, TooLarge
from kg.namespaces import PREFIXES, expand

T = TypeVar("T")

#: The longest query text any surface reads (the endpoint answers 413 past it). Hand-written
#: and generated queries are a few KB. Parsing this much can take a minute for pathological text
#: (pyparsing: 76 s for this many characters of FILTERs), which is why untrusted queries are
#: parsed in the query worker, under the query's time limit (kg.store.worker).
MAX_QUERY_CHARS = 256 * 1024
#: Function IRIs a query may call besides SPARQL's built-ins: the XSD casts. Any other IRI names
#: an engine extension (Virtuoso's ``bif:`` and ``sql:`` read files, fetch URLs and run SQL).
ALLOWED_FUNCTIONS = "http://www.w3.org/2001/XMLSchema#"
#: Update operations as rdflib's parser names them, in the words of the SPARQL keyword.
_UPDATES = {
    "InsertData": "INSERT", "DeleteData": "DELETE", "DeleteWhere": "DELETE", "Modify": "DELETE/INSERT",
    "Load": "LOAD", "Clear": "CLEAR", "Drop": "DROP", "Create": "CREATE", "Add": "ADD",
    "Move": "MOVE", "Copy": "COPY",
}  # fmt: skip
_PARSER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qikg-sparql-parser")
_FORMS = {
    "SelectQuery": "select", "AskQuery": "ask", "ConstructQuery": "construct",
    "DescribeQuery": "describe",
}  # fmt: skip


def check_read_only(text: str) -> str:
    """Parse a query and refuse what is not a read of this store; return its form in lower case.

    The text is parsed with a SPARQL 1.1 parser and the parse tree is walked: an update, LOAD,
    SERVICE or a call of a function outside SPARQL's own and the XSD casts is refused, and
    what does not parse is a syntax error. Nothing is decided from the text itself.

    >>> check_read_only("SELECT * WHERE { ?s ?p ?o }")
    'select'
    >>> check_read_only("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    Traceback (most recent call last):
    ...
    kg.errors.ReadOnly: the store is read-only here: SPARQL Update (INSERT) is not allowed; use `qikg import` to add data
    >>> check_read_only("SELECT * WHERE { SERVICE <http://127.0.0.1/> { ?s ?p ?o } }")
    Traceback (most recent call last):
    ...
    kg.errors.ReadOnly: SERVICE (federated query to another endpoint) is not allowed here
    """
    if len(text) > MAX_QUERY_CHARS:
        raise TooLarge(
            f"the query is {len(text):,} characters long; qikg reads queries of up to "
            f"{MAX_QUERY_CHARS:,} characters"
        )
    if not text.strip():
        raise BadInput("the query is empty")
    return _checked(text)[0]


def declared_prefixes(text: str) -> tuple[str, ...]:
    """The prefixes a query declares itself, read from its parse (after check_read_only).

    >>> declared_prefixes("PREFIX qikg: <urn:x#> PREFIX : <urn:y#> ASK { ?s ?p ?o }")
    ('', 'qikg')
    """
    check_read_only(text)
    return _checked(text)[1]


def names_graphs(text: str) -> bool:
    """Whether a query reads named graphs: its parse holds a ``GRAPH`` pattern or a ``FROM
    NAMED`` clause at any depth (a sub-query, EXISTS, OPTIONAL, MINUS, UNION), however the
    keyword is written (``\\u0047RAPH`` too: the parser reads escapes first). Read from the
    same parse as check_read_only; a ``graph`` in a literal, an IRI or a name is no pattern.

    >>> names_graphs("SELECT * WHERE { FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }")
    True
    >>> names_graphs("SELECT ?graph WHERE { ?graph <urn:graph> 'GRAPH ?g {}' }")
    False
    """
    check_read_only(text)
    return _checked(text)[2]


def declares_dataset(text: str) -> bool:
    """Whether a query names its own dataset (``FROM`` or ``FROM NAMED``), read from the same
    parse as check_read_only. A SPARQL server adds such graphs to the ones qikg gives it, so a
    remote store refuses these queries (they could read graphs on the server that are not
    qikg's).

    >>> declares_dataset("SELECT * FROM <urn:g> WHERE { ?s ?p ?o }")
    True
    >>> declares_dataset("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }")
    False
    """
    check_read_only(text)
    return _checked(text)[3]


def graph_patterns(text: str) -> tuple[str | None, ...]:
    """For each ``GRAPH`` pattern of a query, at any depth, in no set order: the IRI it names,
    or None where it names a variable; "" for a prefixed name qikg does not expand (one with
    escapes). Read from the same parse as check_read_only.

    >>> sorted(graph_patterns("SELECT * WHERE { GRAPH ?g { } GRAPH qikg:x { } }"), key=str)
    [None, 'https://w3id.org/qikg/ontology#x']
    """
    check_read_only(text)
    return _checked(text)[4]


@lru_cache(maxsize=64)  # the endpoint checks a query, then its store again; the explorer repeats
def _checked(text: str) -> tuple[str, tuple[str, ...], bool, bool, tuple[str | None, ...]]:
    """The query's form, the prefixes it declares, whether it reads named graphs, whether it
    names its own dataset and its GRAPH patterns' terms, once it is known to only read."""
    try:
        tree = _parse(parseQuery, text)
    except ParseException as exc:
        _refuse_update(text)
        raise _parse_error(exc) from None
    prologue, query = tree[0], tree[1]
    own = {d.prefix or "": str(d.iri) for d in _nodes(prologue) if d.name == "PrefixDecl"}
    declared = {**PREFIXES, **own}
    graphs = dataset = False
    terms: list[str | None] = []
    for node in _nodes(query):
        if node.name == "GraphGraphPattern":
            terms.append(_graph_term(node["term"], declared))
        if node.name == "GraphGraphPattern" or (node.name == "DatasetClause" and "named" in node):
            graphs = True
        if node.name == "DatasetClause":
            dataset = True
        if node.name == "ServiceGraphPattern":
            raise ReadOnly("SERVICE (federated query to another endpoint) is not allowed here")
        if node.name == "Function":
            iri = _function_iri(node["iri"], declared)
            if not iri.startswith(ALLOWED_FUNCTIONS):
                raise ReadOnly(
                    f"the function <{iri}> is not allowed here: queries may call SPARQL's "
                    "built-in functions and the XSD casts (xsd:integer(...)) only"
                )
    return _FORMS[query.name], tuple(sorted(own)), graphs, dataset, tuple(terms)


def _graph_term(term: object, declared: dict[str, str]) -> str | None:
    if isinstance(term, Variable):
        return None
    if isinstance(term, CompValue):  # a prefixed name
        local = term.localname or ""
        if "\\" in local or (term.prefix or "") not in declared:
            return ""
        return declared[term.prefix or ""] + local
    return str(term)


def _parse(parser: Callable[[str], Any], text: str) -> Any:
    """Run the parser on qikg's one parser thread: pyparsing is not thread-safe (two parses at
    once broke each other), and a thread of its own makes how deeply a query may nest
    independent of the caller's stack. A query nested past that gets one clear line."""
    try:
        return _PARSER.submit(parser, text).result()
    except RecursionError:
        raise BadInput(
            "the query nests groups, OPTIONALs or brackets more deeply than qikg reads, or holds "
            "too many patterns in one group: split it"
        ) from None


def _refuse_update(text: str) -> None:
    """Refuse the text if it parses as a SPARQL Update (an empty one is an empty query)."""
    try:
        update = _parse(parseUpdate, text)
    except ParseException:
        return
    words = list(dict.fromkeys(_UPDATES[op.name] for op in update.request if op.name in _UPDATES))
    if not words:
        raise BadInput("the query is empty (comments only)")
    raise ReadOnly(
        f"the store is read-only here: SPARQL Update ({', '.join(words)}) is not allowed; "
        "use `qikg import` to add data"
    )


def _function_iri(iri: object, declared: dict[str, str]) -> str:
    if isinstance(iri, CompValue):  # a prefixed name; an undeclared prefix names nothing we run
        prefix = iri.prefix or ""
        if prefix not in declared:
            raise BadInput(f"the prefix {prefix}: is not declared (add PREFIX {prefix}: <...>)")
        return declared[prefix] + (iri.localname or "")
    return str(iri)


def _nodes(tree: object) -> Iterator[CompValue]:
    """Every node of a parse tree, without recursion (the tree may be deep)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            yield node
            stack.extend(node.values())
        elif isinstance(node, (list, tuple, ParseResults)):
            stack.extend(node)


def _parse_error(exc: ParseException) -> BadInput:
    """One line naming where the parser stopped, and the text from there on."""
    near = " ".join(exc.pstr[exc.loc : exc.loc + 40].split())
    what = "unexpected text after the query" if "end of text" in exc.msg else "cannot read"
    return BadInput(
        f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {what} from `{near}`"
    )


def sparql_prefixes() -> str:
    """The PREFIX lines every qikg query may rely on.

    >>> "PREFIX qikg: <https://w3id.org/qikg/ontology#>" in sparql_prefixes()
    True
    """
    return "".join(f"PREFIX {p}: {iri_term(iri)}\n" for p, iri in PREFIXES.items())


def iri_term(value: str) -> str:
    """An IRI written as a query term, from an IRI or a qikg CURIE; BadInput if it is neither.
    The one way values enter query text: Oxigraph's IRI parser decides, so nothing that could
    end the term (``>``, spaces, quotes) gets through.

    >>> iri_term("qikg:Nurse")
    '<https://w3id.org/qikg/ontology#Nurse>'
    >>> iri_term("x> } DROP ALL {")
    Traceback (most recent call last):
    ...
    kg.errors.BadInput: "x> } DROP ALL {" is not an IRI
    """
    try:
        return str(ox.NamedNode(expand(value) or value))
    except ValueError:
        raise BadInput(f'"{value}" is not an IRI') from None


def iri_terms(values: Iterable[str]) -> str:
    """IRIs as query terms, space-separated (the inside of a ``VALUES`` block).

    >>> iri_terms(["urn:a", "urn:b"])
    '<urn:a> <urn:b>'
    """
    return " ".join(iri_term(v) for v in values)


def literal_term(text: str, language: str | None = None) -> str:
    """A string literal written as a query term, every quote and line break escaped.

    >>> print(literal_term('say "hi"'), literal_term("hej", "da"))
    "say \\"hi\\"" "hej"@da
    """
    return str(ox.Literal(text, language=language) if language else ox.Literal(text))


def any_of(subject: str, path: str, obj: str) -> str:
    """``subject path obj`` for a path of alternative properties (``a|b``), as a UNION of one
    pattern per property: Oxigraph looks a fixed property up by its object far faster (tens of
    times on a large graph) than it walks an alternative path.

    >>> any_of("?f", "qikg:a|qikg:b", "?x")
    '{ ?f qikg:a ?x } UNION { ?f qikg:b ?x }'
    """
    return " UNION ".join(f"{{ {subject} {p} {obj} }}" for p in path.split("|"))


def syntax_error(exc: SyntaxError) -> BadInput:
    """Turn a parser error into one line that names the line and column.

    >>> str(syntax_error(SyntaxError("error at 1:25: expected one of LATERAL")))
    'SPARQL syntax error at line 1, column 25: expected one of LATERAL'
    """
    text = str(exc)
    match = re.match(r"error at (\d+):(\d+): (.*)", text, re.S)
    if match:
        line, col, rest = match.groups()
        return BadInput(f"SPARQL syntax error at line {line}, column {col}: {rest.strip()}")
    return BadInput(f"SPARQL syntax error: {text}")


@dataclass
class QueryResult:
    """A query's answer: ``kind`` is ``select``, ``ask`` or ``graph``.

    SELECT rows (``bindings``) are SPARQL-JSON term objects (``{"type": "uri", "value": ...}``);
    a graph result is N-Triples text. ``truncated`` says the row cap cut the answer. A SELECT
    answer from a query worker comes as its SPARQL JSON text (``document``), which is served as
    it is and read into rows only when they are asked for.
    """

    kind: str
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, dict]] | None = None
    boolean: bool | None = None
    ntriples: str = ""
    truncated: bool = False
    elapsed: float = 0.0
    document: str = ""

    @property
    def bindings(self) -> list[dict[str, dict]]:
        """The SELECT rows."""
        if self.rows is None:
            self.rows = json.loads(self.document)["results"]["bindings"] if self.document else []
        return self.rows

    def to_json(self) -> dict:
        """The SPARQL 1.1 JSON results document (SELECT/ASK)."""
        if self.kind == "ask":
            return {"head": {}, "boolean": bool(self.boolean)}
        return {"head": {"vars": self.variables}, "results": {"bindings": self.bindings}}

    def values(self) -> list[dict[str, str | None]]:
        """Each row as ``{variable: lexical value or None}``."""
        return [
            {v: (row[v]["value"] if v in row else None) for v in self.variables}
            for row in self.bindings
        ]

    def column(self, name: str) -> list[str | None]:
        """One variable's values, in row order."""
        return [row[name]["value"] if name in row else None for row in self.bindings]

    def __len__(self) -> int:
        if self.kind == "graph":
            return sum(1 for line in self.ntriples.splitlines() if line.strip())
        return len(self.bindings) if self.kind == "select" else 1

    def serialize(self, fmt: str) -> bytes:
        """Serialize to a results format (json, xml, csv, tsv) or an RDF format (ttl, nt, jsonld)."""
        if self.kind == "graph":
            return _serialize_graph(self.ntriples, fmt)
        if fmt == "json":
            return (self.document or json.dumps(self.to_json(), ensure_ascii=False)).encode()
        formats = {
            "xml": ox.QueryResultsFormat.XML,
            "csv": ox.QueryResultsFormat.CSV,
            "tsv": ox.QueryResultsFormat.TSV,
        }
        if fmt not in formats:
            raise BadInput(f"unknown results format {fmt!r}: use json, xml, csv or tsv")
        parsed = ox.parse_query_results(
            (self.document or json.dumps(self.to_json())).encode(),
            format=ox.QueryResultsFormat.JSON,
        )
        return parsed.serialize(format=formats[fmt]) or b""


RDF_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "xml": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
    "nq": ox.RdfFormat.N_QUADS,
}


def _serialize_graph(ntriples: str, fmt: str) -> bytes:
    if fmt not in RDF_FORMATS:
        raise BadInput(f"unknown RDF format {fmt!r}: use ttl, nt, jsonld or xml")
    triples = ox.parse(ntriples.encode(), format=ox.RdfFormat.N_TRIPLES)

    prefixes = PREFIXES if fmt in ("ttl", "trig") else None
    return ox.serialize(triples, format=RDF_FORMATS[fmt], prefixes=prefixes) or b""


class AnswerCap:
    """Lets through at most ``limit`` items and about ``max_bytes`` of their text; ``truncated``
    then says whether it cut.

    >>> cap = AnswerCap(limit=None, max_bytes=10)
    >>> list(cap.take(["abcd", "efgh", "ijkl"], len)), cap.truncated
    (['abcd', 'efgh'], True)
    """

    def __init__(self, limit: int | None, max_bytes: int | None) -> None:
        self.limit = limit
        self.max_bytes = max_bytes
        self.truncated = False

    def take(self, items: Iterable[T], size: Callable[[T], int]) -> Iterator[T]:
        count = total = 0
        for item in items:
            total += size(item)
            if (self.limit is not None and count >= self.limit) or (
                self.max_bytes is not None and total > self.max_bytes
            ):
                self.truncated = True
                return
            count += 1
            yield item


def row_size(row: dict[str, dict]) -> int:
    """About the size of a row in the SPARQL JSON results format."""
    return sum(len(term["value"]) + 40 for term in row.values()) + 4
