"""Read-only SPARQL: refuse writes and remote calls, and carry results in one standard form.

Results travel as the SPARQL 1.1 JSON results format (SELECT/ASK) or N-Triples (CONSTRUCT,
DESCRIBE), the forms every SPARQL server speaks, so the embedded and remote stores answer alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from kg.errors import BadInput, ReadOnly

_UPDATE_WORDS = r"INSERT|DELETE|LOAD|CLEAR|DROP|CREATE|ADD|MOVE|COPY|WITH"
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*",
)
_FORMS = re.compile(r"(?<![?$:\w])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", re.I)
_UPDATE = re.compile(rf"(?<![?$:\w])({_UPDATE_WORDS})(?![\w:])", re.I)
_SERVICE = re.compile(r"(?<![?$:\w])SERVICE(?![\w:])", re.I)


def _code_only(text: str) -> str:
    """The query with strings, IRIs and comments blanked out, so keywords inside them don't count."""
    return _TOKENS.sub(lambda m: " " * len(m.group(0)), text)


def check_read_only(text: str) -> str:
    """Refuse SPARQL Update, LOAD and SERVICE; return the query form in lower case.

    >>> check_read_only("SELECT * WHERE { ?s ?p ?o }")
    'select'
    >>> check_read_only("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    Traceback (most recent call last):
    ...
    kg.errors.ReadOnly: the store is read-only here: SPARQL Update (INSERT) is not allowed; use `qikg import` to add data
    """
    code = _code_only(text)
    if not text.strip():
        raise BadInput("the query is empty")
    if _SERVICE.search(code):
        raise ReadOnly("SERVICE (federated query to another endpoint) is not allowed here")
    form = _FORMS.search(code)
    update = _UPDATE.search(code)
    if update and (form is None or update.start() < form.start()):
        word = update.group(1).upper()
        raise ReadOnly(
            f"the store is read-only here: SPARQL Update ({word}) is not allowed; "
            "use `qikg import` to add data"
        )
    if form is None:
        raise BadInput("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return form.group(1).lower()


def any_of(subject: str, path: str, obj: str) -> str:
    """``subject path obj`` for a path of alternative properties (``a|b``), as a UNION of one
    pattern per property: Oxigraph looks a fixed property up by its object far faster (tens of
    times on a large graph) than it walks an alternative path.

    >>> any_of("?f", "qikg:a|qikg:b", "?x")
    '{ ?f qikg:a ?x } UNION { ?f qikg:b ?x }'
    """
    return " UNION ".join(f"{{ {subject} {p} {obj} }}" for p in path.split("|"))


def path_to(subject: str, path: str, ends: Iterable[str], bind: str = "") -> str:
    """``subject path end`` for each fixed ``end`` (an IRI as written in a query), as a UNION,
    binding ``bind`` to the end reached when given. Virtuoso needs a transitive path's end
    written in the query: given by VALUES it refuses the query or, joined with other patterns,
    loses rows.

    >>> path_to("?x", "skos:broader*", ["<urn:a>"], bind="?c")
    '{ ?x skos:broader* <urn:a> BIND(<urn:a> AS ?c) }'
    """
    return " UNION ".join(
        f"{{ {subject} {path} {end}{f' BIND({end} AS {bind})' if bind else ''} }}" for end in ends
    )


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

    SELECT rows are SPARQL-JSON term objects (``{"type": "uri", "value": ...}``); a graph
    result is N-Triples text. ``truncated`` says the row cap cut the answer.
    """

    kind: str
    variables: list[str] = field(default_factory=list)
    bindings: list[dict[str, dict]] = field(default_factory=list)
    boolean: bool | None = None
    ntriples: str = ""
    truncated: bool = False
    elapsed: float = 0.0

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
            return json.dumps(self.to_json(), ensure_ascii=False).encode()
        formats = {
            "xml": ox.QueryResultsFormat.XML,
            "csv": ox.QueryResultsFormat.CSV,
            "tsv": ox.QueryResultsFormat.TSV,
        }
        if fmt not in formats:
            raise BadInput(f"unknown results format {fmt!r}: use json, xml, csv or tsv")
        parsed = ox.parse_query_results(
            json.dumps(self.to_json()).encode(), format=ox.QueryResultsFormat.JSON
        )
        return parsed.serialize(format=formats[fmt])


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
    from kg.namespaces import PREFIXES

    kwargs = {"prefixes": PREFIXES} if fmt in ("ttl", "trig") else {}
    return ox.serialize(triples, format=RDF_FORMATS[fmt], **kwargs) or b""


def term_json(term: object) -> dict:
    """A pyoxigraph term as a SPARQL-JSON term object."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": str(term)}
