"""A read-only SPARQL 1.1 Protocol endpoint over the store, and a query page to try it.

``create_app`` builds the FastAPI app that ``qikg serve`` runs: ``/sparql`` (alias ``/query``)
answers GET ``?query=``, POST ``application/sparql-query`` and POST form ``query=``, in the
format the client asks for (Accept header with q-values, or ``format=`` for browsers). Every
query runs with a time limit and a row cap; a capped answer carries ``X-Qikg-Truncated: true``.
Updates, LOAD and SERVICE are refused with 403. The handlers that touch the store are plain
functions run in the server's thread pool, so a slow query never blocks the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from kg.errors import BadInput, QikgError, QueryTimeout, ReadOnly, StoreUnavailable
from kg.sparql import check_read_only
from kg.store import Store

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 10_000
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


def create_app(
    store: Store,
    timeout: float = DEFAULT_TIMEOUT,
    max_rows: int = DEFAULT_MAX_ROWS,
    cors: Sequence[str] = (),
) -> FastAPI:
    """The endpoint's app over ``store`` (which the caller keeps and closes)."""

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

    answer = partial(_answer, store, timeout, max_rows)

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        return PAGE

    @app.get("/health")
    def health() -> JSONResponse:
        try:
            graphs = store.graph_names()  # not counted: a count reads every triple
        except QikgError as exc:
            return JSONResponse({"status": "unavailable", "error": str(exc)}, 503)
        return JSONResponse({"status": "ok", "graphs": len(graphs)})

    @app.get("/sparql")
    @app.get("/query", include_in_schema=False)
    def sparql_get(request: Request) -> Response:
        params = request.query_params
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
        form = check_read_only(queries[0])
        fmt, media = negotiate(form, formats, accept)
        result = store.query(queries[0], timeout=timeout, limit=max_rows)
        body = result.serialize(fmt)
    except ReadOnly as exc:
        return _text(f"{READ_ONLY}: {exc}", 403)
    except NotAcceptable as exc:
        return _text(str(exc), 406)
    except BadInput as exc:
        return _text(str(exc), 400)
    except QueryTimeout as exc:
        return _text(str(exc), 504)
    except StoreUnavailable as exc:
        return _text(str(exc), 503)
    headers = {TRUNCATED_HEADER: "true"} if result.truncated else {}
    return Response(body, 200, headers, media)


#: The query page: plain HTML and a few lines of script, nothing fetched from elsewhere, so it
#: works offline. It posts to ``sparql`` relative to itself, so it also works behind a proxy path.
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>qikg SPARQL endpoint</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 1.5rem auto; max-width: 70rem; padding: 0 1rem; }
  textarea { width: 100%; height: 14rem; font: 13px/1.4 ui-monospace, monospace; }
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
<code>?query=</code> or POST). The prefixes <code>qikg: cfir: eric: qikgd: isco: skos: prov: oa:
dcterms: foaf: owl: rdf: rdfs: xsd: sh:</code> are predeclared.
Each query has a time limit and a row cap. <a href="health">health</a></p>
<form id="form">
<textarea id="query" name="query" spellcheck="false">SELECT ?study ?year ?title WHERE {
  ?s a qikg:Study ; dcterms:identifier ?study ; dcterms:title ?title .
  OPTIONAL { ?s qikg:publicationYear ?year }
} ORDER BY ?year</textarea>
<p><label>Answer as
<select id="accept">
  <option value="application/sparql-results+json">table (SELECT, ASK)</option>
  <option value="text/csv">CSV</option>
  <option value="text/tab-separated-values">TSV</option>
  <option value="application/sparql-results+xml">SPARQL XML</option>
  <option value="text/turtle">Turtle (CONSTRUCT, DESCRIBE)</option>
  <option value="application/n-triples">N-Triples</option>
  <option value="application/ld+json">JSON-LD</option>
</select></label>
<button type="submit">Run</button><span id="status"></span></p>
</form>
<div id="out"></div>
<script>
const form = document.getElementById("form");
const out = document.getElementById("out");
const status = document.getElementById("status");

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

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  out.textContent = "";
  status.textContent = "running…";
  const started = performance.now();
  try {
    let accept = document.getElementById("accept").value;
    const response = await fetch("sparql", {
      method: "POST",
      headers: {"Content-Type": "application/x-www-form-urlencoded", "Accept": accept},
      body: new URLSearchParams({query: document.getElementById("query").value}),
    });
    const text = await response.text();
    const type = response.headers.get("Content-Type") || "";
    const ms = Math.round(performance.now() - started);
    if (!response.ok) {
      status.textContent = "HTTP " + response.status + " (" + ms + " ms)";
      const p = document.createElement("p"); p.className = "error"; p.textContent = text; out.appendChild(p);
      return;
    }
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
    const p = document.createElement("p"); p.className = "error"; p.textContent = String(error); out.appendChild(p);
  }
});
</script>
</body>
</html>
"""
