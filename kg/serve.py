"""A read-only SPARQL 1.1 Protocol endpoint over the store, and a query page to try it.

``create_app`` builds the FastAPI app that ``qikg serve`` runs: ``/sparql`` (alias ``/query``)
answers GET ``?query=``, POST ``application/sparql-query`` and POST form ``query=``, in the
format the client asks for (Accept header with q-values, or ``format=`` for browsers). Every
query is parsed and refused with 403 unless it only reads the store (no update, LOAD, SERVICE),
and runs with a time limit, a row cap and a cap on the answer's size; a capped answer carries
``X-Qikg-Truncated: true``. Before a request reaches a handler, ``Guard`` checks the Host it
names, the size of its body and URL, and how many queries its client already runs. The handlers
that touch the store are plain functions run in the server's thread pool, so a slow query never
blocks the others. The page completes the ontology's terms from ``/vocabulary.json``, read
from the store once. docs/deploy.md has the threat model.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kg.errors import (
    BadInput,
    QikgError,
    QueryTimeout,
    QueryTooLarge,
    ReadOnly,
    StoreUnavailable,
    TooLarge,
)
from kg.namespaces import PREFIXES
from kg.read.terms import Term, ontology_terms
from kg.sparql import MAX_QUERY_CHARS
from kg.store import Store

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 10_000
#: An answer's size cap: 10,000 rows of long statements fit; a query that would send gigabytes
#: is cut (and says so) instead of filling the server's memory.
DEFAULT_MAX_ANSWER_MB = 64
#: Query workers, and how many of them one client may hold at once: with one worker always left
#: to others, two runaway queries from one client cannot lock everyone out.
DEFAULT_WORKERS = 3
DEFAULT_PER_CLIENT = 2
#: The largest request body, and the longest query string of a GET: a form-encoded query of
#: MAX_QUERY_CHARS fits; anything larger is refused before it is read (413, 414).
MAX_BODY_BYTES = 4 * MAX_QUERY_CHARS
#: Host names a request may name besides the address the server listens on (DNS rebinding).
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
QUERY_PATHS = ("/sparql", "/query")
TRUNCATED_HEADER = "X-Qikg-Truncated"

#: Media types each kind of answer can take, the default first: (media type, qikg format name).
RESULT_TYPES = [
    ("application/sparql-results+json", "json"),
    ("application/sparql-results+xml", "xml"),
    ("text/csv", "csv"),
    ("text/tab-separated-values", "tsv"),
    ("application/json", "json"),
    ("application/xml", "xml"),
    ("text/xml", "xml"),
]
GRAPH_TYPES = [
    ("text/turtle", "ttl"),
    ("application/n-triples", "nt"),
    ("application/ld+json", "jsonld"),
    ("application/rdf+xml", "xml"),
    ("application/turtle", "ttl"),
    ("application/x-turtle", "ttl"),
    ("text/plain", "nt"),
    ("application/json", "jsonld"),
]
#: ``format=`` values (besides media types) per kind of answer; clients such as SPARQLWrapper
#: send several (``format=tsv&format=text/tab-separated-values``): the first known one counts.
RESULT_FORMATS = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}
GRAPH_FORMATS = {
    "ttl": "ttl", "turtle": "ttl", "nt": "nt", "ntriples": "nt", "n-triples": "nt",
    "jsonld": "jsonld", "json-ld": "jsonld", "json": "jsonld", "xml": "xml", "rdf+xml": "xml",
    "rdfxml": "xml",
}  # fmt: skip
READ_ONLY = "qikg serve is a read-only SPARQL endpoint"
#: The query page's own files (kg/static/, package data): the Ace editor, served by the endpoint
#: itself so the page loads nothing from other hosts. Only these names are served.
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {
    "ace/ace.js": "text/javascript",
    "ace/mode-sparql.js": "text/javascript",
    "ace/ext-language_tools.js": "text/javascript",
    "ace/theme-chrome.js": "text/javascript",
    "ace/LICENSE": "text/plain",
}
#: The vocabulary the page completes is about 400 terms on the bundled ontology; the caps only
#: keep an odd ontology from making its answer large. A failed read is tried again at most every
#: VOCABULARY_RETRY_S seconds, so a store that is down is not asked on every page load.
MAX_TERMS = 5_000
MAX_LABEL_CHARS = 200
VOCABULARY_RETRY_S = 30.0
#: The query form that stands for each kind of answer, for content negotiation.
FORM_OF = {"select": "select", "ask": "ask", "graph": "construct"}


def _text(message: str, status: int) -> PlainTextResponse:
    """An error answer: one plain-text line, as SPARQL clients show it."""
    return PlainTextResponse(message.rstrip("\n") + "\n", status)


class NotAcceptable(QikgError):
    """The client accepts no format the answer can take (HTTP 406)."""


def negotiate(form: str, formats: Sequence[str], accept: str | None) -> tuple[str, str]:
    """The (format, media type) to answer a query of ``form`` in: ``format=`` first, else the
    Accept header's most preferred type we have, else the default (JSON or Turtle).

    >>> negotiate("select", [], "text/csv;q=0.5, application/sparql-results+xml")
    ('xml', 'application/sparql-results+xml')
    >>> negotiate("construct", ["json-ld", "application/ld+json"], None)
    ('jsonld', 'application/ld+json')
    >>> negotiate("ask", [], "text/html,*/*;q=0.8")
    ('json', 'application/sparql-results+json')
    """
    graph = form in ("construct", "describe")
    types = GRAPH_TYPES if graph else RESULT_TYPES
    names = GRAPH_FORMATS if graph else RESULT_FORMATS
    media_of = {fmt: media for media, fmt in reversed(types)}
    if formats:
        for value in formats:
            value = value.strip().lower()
            fmt = names.get(value) or dict(types).get(value.split(";")[0].strip())
            if fmt:
                return fmt, media_of[fmt]
        known = ", ".join(sorted(set(names)))
        raise BadInput(f"unknown format {formats[0]!r} for a {form.upper()} query: use {known}")
    if not accept:
        return types[0][1], types[0][0]
    for media in _preferences(accept):
        if media == "*/*":
            return types[0][1], types[0][0]
        for offered, fmt in types:
            if media == offered or (media.endswith("/*") and offered.startswith(media[:-1])):
                return fmt, offered
    raise NotAcceptable(
        f"none of the types in the Accept header ({accept}) can carry a {form.upper()} answer; "
        f"use one of {', '.join(dict(types))}"
    )


def _preferences(accept: str) -> list[str]:
    """The media types of an Accept header, most preferred first, leaving out ``q=0``."""
    ranked = []
    for n, item in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in item.split(";")]
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media and q > 0:
            ranked.append((-q, n, media.lower()))
    return [media for _, _, media in sorted(ranked)]


class Guard:
    """What every request passes before a handler sees it (an ASGI middleware).

    - Its Host header names this server (``hosts``): a web page that rebinds its own domain
      name to 127.0.0.1 is refused (400) rather than reading the endpoint.
    - Its body and URL are at most MAX_BODY_BYTES: larger ones get 413 or 414 before they are
      read, from the Content-Length or as the body streams in.
    - Its client (address) runs fewer than ``per_client`` queries already, else 429: one client
      cannot hold every query worker.
    """

    def __init__(self, app: ASGIApp, hosts: Sequence[str], per_client: int) -> None:
        self.app = app
        self.hosts = {h.strip("[]").lower() for h in hosts}
        self.per_client = per_client
        self.running: Counter[str] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            return await refusal(scope, receive, send)
        client = (scope.get("client") or ("unknown",))[0]
        counted = scope["path"] in QUERY_PATHS
        if counted and self.running[client] >= self.per_client:
            answer = _text(
                f"this client already runs {self.per_client} queries on this endpoint; "
                "send the next one when one of them has answered",
                429,
            )
            answer.headers["Retry-After"] = "1"
            return await answer(scope, receive, send)
        self.running[client] += counted
        try:
            await self.app(scope, _capped(receive), send)
        except _BodyTooLarge:
            await _too_large()(scope, receive, send)
        finally:
            self.running[client] -= counted
            if self.running[client] <= 0:
                del self.running[client]

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> Response | None:
        try:
            host = urlsplit("//" + headers.get("host", "")).hostname or ""
        except ValueError:
            host = ""
        if host.lower() not in self.hosts:
            return _text(
                "this endpoint answers requests for "
                f"{', '.join(sorted(self.hosts))} only (qikg serve --allow-host NAME adds one)",
                400,
            )
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            return _too_large()
        if len(scope.get("query_string", b"")) > MAX_BODY_BYTES:
            return _text(
                f"the URL is longer than {MAX_BODY_BYTES // 1024} KB: POST a long query "
                "(Content-Type application/sparql-query)",
                414,
            )
        return None


class _BodyTooLarge(Exception):
    """A body that streamed in past MAX_BODY_BYTES without a Content-Length saying so."""


def _capped(receive: Receive) -> Receive:
    """``receive`` that stops a body at MAX_BODY_BYTES."""
    seen = 0

    async def receive_capped() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > MAX_BODY_BYTES:
            raise _BodyTooLarge
        return message

    return receive_capped


def _too_large() -> PlainTextResponse:
    return _text(
        f"the request is larger than {MAX_BODY_BYTES // 1024} KB; a query may have up to "
        f"{MAX_QUERY_CHARS:,} characters",
        413,
    )


def vocabulary_json(terms: Iterable[Term]) -> bytes:
    """What ``/vocabulary.json`` answers: the predeclared prefixes, and the ontology's terms
    with their labels (at most MAX_TERMS, labels cut at MAX_LABEL_CHARS).

    >>> json.loads(vocabulary_json([Term("qikg:Nurse", "nurse")]))["terms"]
    [{'curie': 'qikg:Nurse', 'label': 'nurse'}]
    """
    listed = [
        {"curie": t.curie, "label": t.label[:MAX_LABEL_CHARS]}
        for t in terms
        if not t.curie.endswith(":")
    ][:MAX_TERMS]
    return json.dumps({"prefixes": PREFIXES, "terms": listed}, ensure_ascii=False).encode()


class VocabularyRoute:
    """``/vocabulary.json``: read from the store on first use, then answered from memory.

    One request at a time reads the store, and no request waits for it: the others get 503 with
    Retry-After meanwhile (the page asks again), so a store that hangs holds one thread, not one
    per request. The terms are read once per server start: they change only when the ontology is
    rebuilt.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.body: bytes | None = None
        self.failed_at = -VOCABULARY_RETRY_S
        self.reading = threading.Lock()

    def __call__(self) -> Response:
        if self.body is None:
            waited = time.monotonic() - self.failed_at
            if waited < VOCABULARY_RETRY_S or not self.reading.acquire(blocking=False):
                answer = _text("the vocabulary is not read yet; ask again shortly", 503)
                answer.headers["Retry-After"] = str(max(1, round(VOCABULARY_RETRY_S - waited)))
                return answer
            try:
                if self.body is None:
                    self.body = vocabulary_json(ontology_terms(self.store))
            except QikgError as exc:
                self.failed_at = time.monotonic()
                return _text(str(exc), 503)
            finally:
                self.reading.release()
        return Response(self.body, 200, {"Cache-Control": "max-age=300"}, "application/json")


def create_app(
    store: Store,
    timeout: float = DEFAULT_TIMEOUT,
    max_rows: int = DEFAULT_MAX_ROWS,
    cors: Sequence[str] = (),
    hosts: Sequence[str] = LOOPBACK_NAMES,
    per_client: int = DEFAULT_PER_CLIENT,
    max_answer_mb: int = DEFAULT_MAX_ANSWER_MB,
) -> FastAPI:
    """The endpoint's app over ``store`` (which the caller keeps and closes), answering requests
    that name one of ``hosts``, at most ``per_client`` queries at once from one client."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # Warm up: start the store's query workers before the first request comes. A store that
        # fails here (a remote server down) is reported per request and by /health.
        try:
            await run_in_threadpool(store.query, "ASK {}", timeout=timeout)
        except QikgError:
            pass
        yield

    app = FastAPI(title="qikg SPARQL endpoint", lifespan=lifespan, docs_url=None, redoc_url=None)
    if cors:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(cors),
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "Accept"],
            expose_headers=[TRUNCATED_HEADER],
        )
    app.add_middleware(Guard, hosts=hosts, per_client=per_client)

    answer = partial(_answer, store, timeout, max_rows, max_answer_mb * 1024 * 1024)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return PAGE

    @app.get("/static/{name:path}")
    def static(name: str) -> Response:
        if name not in STATIC_FILES:
            return _text(f"no such file: {name}", 404)
        body = (STATIC / name).read_bytes()
        return Response(body, 200, {"Cache-Control": "max-age=86400"}, STATIC_FILES[name])

    # its __call__ is a plain method, so FastAPI runs it in the thread pool (the first reads)
    app.get("/vocabulary.json")(VocabularyRoute(store))

    @app.get("/health")
    def health() -> JSONResponse:
        try:
            graphs = store.graph_names()  # not counted: a count reads every triple
        except QikgError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, 503)
        status = {"status": "ok", "graphs": len(graphs)}
        memory = store.memory_status()
        if memory is not None:  # kg.store.memory: workers answer from disk until theirs load
            status["memory"] = memory
        return JSONResponse(status)

    @app.get("/sparql")
    @app.get("/query", include_in_schema=False)
    def sparql_get(request: Request) -> Response:
        params = request.query_params
        if not params:  # the endpoint itself: its Service Description, or the page for browsers
            endpoint = str(request.url).split("?", 1)[0]
            described = describe_service(store, endpoint, request.headers.get("accept"))
            if described is not None:
                return described
        return answer(
            params.getlist("query"),
            "update" in params,
            params.getlist("format"),
            request.headers.get("accept"),
            "default-graph-uri" in params or "named-graph-uri" in params,
        )

    @app.post("/sparql")
    @app.post("/query", include_in_schema=False)
    async def sparql_post(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        params = request.query_params
        queries, update, formats = [], "update" in params, params.getlist("format")
        dataset = "default-graph-uri" in params or "named-graph-uri" in params
        if content_type == "application/sparql-query":
            queries = [(await request.body()).decode("utf-8", errors="replace")]
        elif content_type == "application/sparql-update":
            update = True
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.form()
            queries = [str(v) for v in form.getlist("query")]
            update = update or "update" in form
            formats += [str(v) for v in form.getlist("format")]
            dataset = dataset or "default-graph-uri" in form or "named-graph-uri" in form
        else:
            return PlainTextResponse(
                "POST a query as application/sparql-query or as a form field query= "
                "(application/x-www-form-urlencoded)",
                415,
            )
        accept = request.headers.get("accept")
        return await run_in_threadpool(answer, queries, update, formats, accept, dataset)

    return app


def _answer(
    store: Store,
    timeout: float,
    max_rows: int,
    max_bytes: int,
    queries: list[str],
    update: bool,
    formats: list[str],
    accept: str | None,
    dataset: bool,
) -> Response:
    """Run one protocol request (in a worker thread: it blocks until the store answers)."""
    if update:
        return _text(f"{READ_ONLY}: SPARQL Update is not accepted here; use `qikg import`", 403)
    if len(queries) != 1:
        return _text("give exactly one query (parameter query=)", 400)
    if dataset:
        return _text(
            "this endpoint takes no default-graph-uri or named-graph-uri: its default graph is "
            "the union of qikg's ontology, study and inferred graphs",
            400,
        )
    try:
        # The store checks the query (in a worker, within the time limit) before it runs it
        result = store.query(queries[0], timeout=timeout, limit=max_rows, max_bytes=max_bytes)
        fmt, media = negotiate(FORM_OF[result.kind], formats, accept)
        body = result.serialize(fmt)
    except ReadOnly as exc:
        return _text(f"{READ_ONLY}: {exc}", 403)
    except NotAcceptable as exc:
        return _text(str(exc), 406)
    except TooLarge as exc:
        return _text(str(exc), 413)
    except QueryTooLarge as exc:
        return _text(str(exc), 400)
    except BadInput as exc:
        return _text(str(exc), 400)
    except QueryTimeout as exc:
        return _text(str(exc), 504)
    except StoreUnavailable as exc:
        return _text(str(exc), 503)
    headers = {TRUNCATED_HEADER: "true"} if result.truncated else {}
    return Response(body, 200, headers, media)


#: The media types of a SPARQL 1.1 Service Description, and rdflib's format for each.
DESCRIPTION_TYPES = {
    "text/turtle": "turtle",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}
#: The W3C format IRIs (http://www.w3.org/ns/formats/) of the answers this endpoint gives.
RESULT_FORMAT_IRIS = (
    "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
    "Turtle", "N-Triples", "JSON-LD", "RDF_XML",
)  # fmt: skip


def describe_service(store: Store, endpoint: str, accept: str | None) -> Response | None:
    """What a GET on the endpoint without a query answers (SPARQL 1.1 Service Description,
    section 2): the description in RDF when the client prefers an RDF type, the query page when
    it prefers HTML (a browser), else None (the caller says a query is missing)."""
    for media in _preferences(accept or ""):
        if media in ("text/html", "application/xhtml+xml"):
            return HTMLResponse(PAGE)
        if media in DESCRIPTION_TYPES:
            try:
                graphs = store.graph_names()
            except StoreUnavailable as exc:
                return _text(str(exc), 503)
            body = _service_graph(endpoint, graphs).serialize(format=DESCRIPTION_TYPES[media])
            return Response(body, 200, media_type=media)
        if media == "*/*":
            return None
    return None


def _service_graph(endpoint: str, graphs: Sequence[str]) -> Graph:
    """The Service Description: the endpoint, SPARQL 1.1 Query only (read-only), the result
    formats, and the default dataset (the union of qikg's graphs, which are also named)."""
    from kg.release import LICENCE  # only here: it loads the ontology tools

    sd = Namespace("http://www.w3.org/ns/sparql-service-description#")
    formats = Namespace("http://www.w3.org/ns/formats/")
    g = Graph()
    g.bind("sd", sd)
    g.bind("formats", formats)
    service, dataset, default = URIRef(endpoint + "#service"), BNode(), BNode()
    g.add((service, RDF.type, sd.Service))
    g.add((service, sd.endpoint, URIRef(endpoint)))
    g.add((service, sd.supportedLanguage, sd.SPARQL11Query))
    g.add((service, sd.feature, sd.UnionDefaultGraph))
    for name in RESULT_FORMAT_IRIS:
        g.add((service, sd.resultFormat, formats[name]))
    g.add((service, DCTERMS.title, Literal("qikg SPARQL endpoint (read-only)", lang="en")))
    g.add((service, sd.defaultDataset, dataset))
    g.add((dataset, RDF.type, sd.Dataset))
    g.add((dataset, DCTERMS.license, LICENCE))
    g.add((dataset, sd.defaultGraph, default))
    g.add((default, RDF.type, sd.Graph))
    for name in sorted(graphs):
        named = BNode()
        g.add((dataset, sd.namedGraph, named))
        g.add((named, RDF.type, sd.NamedGraph))
        g.add((named, sd.name, URIRef(name)))
    return g


#: The query page: HTML, the Ace editor served by the endpoint itself (``static/``) and a few
#: lines of script; nothing is fetched from elsewhere, so it works offline. It posts to
#: ``sparql`` relative to itself, so it also works behind a proxy path. Answers are shown as text
#: (``textContent``), never evaluated. Without script the plain form still posts the query.
_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>qikg SPARQL endpoint</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; }
  textarea { width: 100%; height: 14rem; font: 13px/1.4 ui-monospace, monospace; }
  #editor { height: 16rem; border: 1px solid #ccc; font: 13px/1.4 ui-monospace, monospace; }
  .ace_editor.ace_autocomplete { width: 36rem !important; }
  .qikg-error { position: absolute; border-bottom: 2px solid #c53030; background: rgba(197, 48, 48, .15); }
  table { border-collapse: collapse; margin-top: 1rem; }
  th, td { border: 1px solid #ccc; padding: .2rem .5rem; text-align: left; vertical-align: top; }
  th { background: #f3f3f3; }
  pre { background: #f7f7f7; padding: .5rem; overflow: auto; }
  #status { margin-left: 1rem; color: #555; }
  .error { color: #a00; white-space: pre-wrap; }
</style>
</head>
<body>
<h1>qikg SPARQL endpoint</h1>
<p>Read-only SPARQL 1.1 over qikg's graph: send queries to <code>sparql</code> (GET
<code>?query=</code> or POST). The prefixes <code>__PREFIX_NAMES__</code> are predeclared.
Each query has a time limit and a row cap. Ctrl+Space completes prefixes and, after a prefix,
the ontology's terms; Ctrl+Enter runs.
<a href="health">health</a></p>
<form id="form" method="post" action="sparql">
<div id="editor" hidden></div>
<textarea id="query" name="query" spellcheck="false">SELECT ?study ?year ?title WHERE {
  ?s a qikg:Study ; dcterms:identifier ?study ; dcterms:title ?title .
  OPTIONAL { ?s qikg:publicationYear ?year }
} ORDER BY ?year</textarea>
<p><button type="submit">Run</button>
<label>Download as
<select id="format">
  <option value="text/csv">CSV</option>
  <option value="text/tab-separated-values">TSV</option>
  <option value="application/sparql-results+json">JSON</option>
  <option value="application/sparql-results+xml">SPARQL XML</option>
  <option value="text/turtle">Turtle (CONSTRUCT, DESCRIBE)</option>
  <option value="application/n-triples">N-Triples (CONSTRUCT, DESCRIBE)</option>
  <option value="application/ld+json">JSON-LD (CONSTRUCT, DESCRIBE)</option>
</select></label>
<button type="button" id="download">Download</button><span id="status"></span></p>
</form>
<div id="out"></div>
<script src="static/ace/ace.js"></script>
<script src="static/ace/ext-language_tools.js"></script>
<script src="static/ace/mode-sparql.js"></script>
<script src="static/ace/theme-chrome.js"></script>
<script>
const form = document.getElementById("form");
const out = document.getElementById("out");
const status = document.getElementById("status");
const box = document.getElementById("query");
// prefix name -> IRI: the predeclared names, their IRIs once vocabulary.json has come (the page
// names no other host); the query's own PREFIX lines are added when completing (declared())
const PREDECLARED = Object.fromEntries("__PREFIX_NAMES__".split(" ").map(p => [p.slice(0, -1), ""]));
// namespace IRI -> its terms [local name, label], from vocabulary.json
const TERMS = new Map();
// a prefixed name is one word for completion, so "qikg:Nur" is replaced whole by "qikg:Nurse"
const WORD = /[\\w\\-:\\u00A2-\\uFFFF]/;
const EXTENSIONS = {"text/csv": "csv", "text/tab-separated-values": "tsv",
  "application/sparql-results+json": "json", "application/sparql-results+xml": "xml",
  "text/turtle": "ttl", "application/n-triples": "nt", "application/ld+json": "jsonld"};
let editor = null;

if (window.ace) {
  // the query in the address (#query=...) wins over the example, so a link reproduces a query
  const linked = new URLSearchParams(location.hash.slice(1)).get("query");
  if (linked) box.value = linked;
  ace.config.set("basePath", "static/ace");
  const holder = document.getElementById("editor");
  holder.hidden = false;
  box.hidden = true;
  editor = ace.edit(holder, {mode: "ace/mode/sparql", theme: "ace/theme/chrome", value: box.value,
    useWorker: false, wrap: true, tabSize: 2, enableBasicAutocompletion: true,
    enableLiveAutocompletion: true, liveAutocompletionThreshold: 2, enableSnippets: false});
  editor.clearSelection();
  editor.completers = [{identifierRegexps: [WORD], getCompletions: (ed, session, pos, prefix,
    callback) => callback(null, completions(ed.getValue(), session.getLine(pos.row), pos, prefix))}];
  loadVocabulary(5);
  // Enter always starts a new line (Tab or a click takes a completion), as in the explorer
  ace.require("ace/autocomplete").Autocomplete.for(editor).keyboardHandler.bindKey("Return", null);
  editor.session.on("change", () => { box.value = editor.getValue(); });
  editor.commands.addCommand({name: "run", bindKey: {win: "Ctrl-Enter", mac: "Command-Enter"},
    exec: () => form.requestSubmit()});
}

function declared(text) {
  const names = Object.assign({}, PREDECLARED);
  for (const m of text.matchAll(/\\bPREFIX\\s+([\\w\\-.]*):\\s*<([^<>\\s]*)>/gi)) names[m[1]] = m[2];
  return names;
}

// What Ace offers for the word before the cursor. Ace keeps the list it got when it opened (at
// the second letter) and narrows it as the user types on, so a word without a colon gets the
// prefixes it may start and all their terms: "qi" lists qikg: and qikg:'s terms, and typing on
// to "qikg:Nur" narrows them. A word with a colon gets only its prefix's terms.
function completions(text, line, pos, word) {
  const before = line.charAt(pos.column - word.length - 1);
  if (before === "?" || before === "$") return [];  // a variable's name
  const colon = word.indexOf(":");
  const typed = (colon < 0 ? word : word.slice(0, colon)).toLowerCase();
  const items = [];
  for (const [name, iri] of Object.entries(declared(text))) {
    if (colon < 0 ? !name.toLowerCase().startsWith(typed) : name.toLowerCase() !== typed) continue;
    if (colon < 0) items.push({caption: name + ":", value: name + ":", meta: "prefix", score: 200});
    for (const [local, label] of TERMS.get(iri) || []) {
      items.push({caption: name + ":" + local, value: name + ":" + local, meta: label, score: 100});
    }
  }
  return items;
}

// The terms come from this server (built from the store once); without them prefixes still complete
async function loadVocabulary(tries) {
  try {
    const response = await fetch("vocabulary.json");
    if (response.status === 503 && tries > 1) {
      const wait = Math.min(+response.headers.get("Retry-After") || 1, 30);
      setTimeout(() => loadVocabulary(tries - 1), wait * 1000);
      return;
    }
    if (!response.ok) return;
    const vocabulary = await response.json();
    Object.assign(PREDECLARED, vocabulary.prefixes);
    for (const term of vocabulary.terms) {
      const colon = term.curie.indexOf(":");
      const iri = vocabulary.prefixes[term.curie.slice(0, colon)];
      if (!TERMS.has(iri)) TERMS.set(iri, []);
      TERMS.get(iri).push([term.curie.slice(colon + 1), term.label]);
    }
  } catch (error) { /* prefixes still complete */ }
}

function queryText() { return editor ? editor.getValue() : box.value; }

function cell(term) {
  const td = document.createElement("td");
  if (term) td.textContent = term["xml:lang"] ? term.value + " @" + term["xml:lang"] : term.value;
  return td;
}

function table(json) {
  if ("boolean" in json) { const p = document.createElement("p"); p.textContent = json.boolean ? "yes" : "no"; return p; }
  const t = document.createElement("table");
  const head = t.insertRow();
  for (const v of json.head.vars) { const th = document.createElement("th"); th.textContent = v; head.appendChild(th); }
  for (const row of json.results.bindings) { const tr = t.insertRow(); for (const v of json.head.vars) tr.appendChild(cell(row[v])); }
  return t;
}

let marker = null;
function mark(message) {
  if (!editor) return;
  if (marker !== null) { editor.session.removeMarker(marker); marker = null; }
  editor.session.clearAnnotations();
  const where = /\\bline (\\d+), column (\\d+)\\b/.exec(message || "");
  if (!where) return;
  const row = Math.max(0, Math.min(+where[1] - 1, editor.session.getLength() - 1));
  const column = Math.max(0, +where[2] - 1);
  editor.session.setAnnotations([{row: row, column: column, type: "error", text: message}]);
  const Range = ace.require("ace/range").Range;
  marker = editor.session.addMarker(new Range(row, column, row, column + 1), "qikg-error", "text");
}

async function ask(accept) {
  return fetch("sparql", {
    method: "POST",
    headers: {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
    body: new URLSearchParams({query: queryText()}),
  });
}

function fail(text) {
  const p = document.createElement("p"); p.className = "error"; p.textContent = text; out.appendChild(p);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  out.textContent = "";
  status.textContent = "running…";
  const started = performance.now();
  history.replaceState(null, "", "#" + new URLSearchParams({query: queryText()}));
  try {
    const response = await ask("application/sparql-results+json, text/turtle;q=0.9");
    const text = await response.text();
    const type = response.headers.get("Content-Type") || "";
    const ms = Math.round(performance.now() - started);
    mark(response.ok ? "" : text);
    if (!response.ok) { status.textContent = "HTTP " + response.status + " (" + ms + " ms)"; fail(text); return; }
    const truncated = response.headers.get("X-Qikg-Truncated") === "true";
    if (type.startsWith("application/sparql-results+json")) {
      const json = JSON.parse(text);
      const rows = json.results ? json.results.bindings.length + " rows, " : "";
      status.textContent = rows + ms + " ms" + (truncated ? " (cut at the row cap)" : "");
      out.appendChild(table(json));
    } else {
      status.textContent = ms + " ms" + (truncated ? " (cut at the row cap)" : "");
      const pre = document.createElement("pre"); pre.textContent = text; out.appendChild(pre);
    }
  } catch (error) {
    status.textContent = "";
    fail(String(error));
  }
});

document.getElementById("download").addEventListener("click", async () => {
  const accept = document.getElementById("format").value;
  const response = await ask(accept);
  if (!response.ok) { out.textContent = ""; fail(await response.text()); return; }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = "qikg-results." + EXTENSIONS[accept];
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
});
</script>
</body>
</html>
"""
PAGE = _PAGE.replace("__PREFIX_NAMES__", " ".join(f"{p}:" for p in PREFIXES))
