"""The remote store: qikg's graphs on an external SPARQL 1.1 server, spoken to over HTTP.

The descriptor is the server's SPARQL **query endpoint** URL (see docs/deploy.md):

======================  ==========================================  ===========================
server                  descriptor                                  updates go to
======================  ==========================================  ===========================
Oxigraph server         ``http://host:7878/query``                  ``http://host:7878/update``
Virtuoso                ``http://host:8890/sparql``                 the same URL
Fuseki                  ``http://host:3030/DATASET/query``          ``.../DATASET/update``
GraphDB, RDF4J          ``http://host:7200/repositories/REPO``      ``.../REPO/statements``
======================  ==========================================  ===========================

``QIKG_UPDATE_URL`` overrides the derived update URL; ``user:password@`` in the URL is sent as
HTTP Basic authentication. Only graphs whose IRI starts with ``https://w3id.org/qikg/graph/``
are qikg's: the store lists, queries, replaces and exports those and leaves any other graph on
the server alone.

Every write is SPARQL Update in one request, except on Virtuoso (found from its ``Server``
header), whose SPARQL compiler cannot take more than a few thousand triples per INSERT DATA and
refuses blank nodes there: each graph is uploaded to a staging graph with Virtuoso's Graph Store
endpoint (``/sparql-graph-crud``), then one update request moves the staged graphs into place.
A write of more than ``UPDATE_BYTES`` of N-Triples on another server is staged too (Oxigraph
server refuses a request body over 128 MiB): INSERT DATA requests of at most about that size
fill the staging graphs, then one request swaps them in, so the write stays all or nothing.

A query names qikg's graphs through one graph that stands for all of them but the inferred
graph (``_dataset``), never one IRI per study graph: a graph holding the union of qikg's graphs
(``urn:qikg:union``), kept equal to them by every write (in the write's own request; on Virtuoso,
which commits operation by operation, in requests of their own around the swap). A marker in
``urn:qikg:layout`` says the union graph is complete: a write to a server holding no other qikg
graph (a new server's build) sets it; without it (a server written before, or by something other
than qikg) the first query makes it, under the write lock. Only a server that lets qikg write no
such graph (a read-only account) gets every graph named in every query. On Virtuoso the dataset
is sent in the query text, which it does not echo in its answer's headers (``RemoteStore.query``).
One graph, not Virtuoso's graph groups: with 4,000 study graphs in a group Virtuoso took 10 s to
list the studies and 52 s to count findings per study (0.2 s each from the union graph), and
followed ``skos:broader*`` one level down only.

Every write takes a lock on the server first and is recorded in a history kept there, with a
snapshot of each graph it changes, so ``qikg history``, ``undo``, ``restore`` and ``remove`` work
as on the embedded store, and ``replace_graphs(expect=...)`` refuses a write that another writer
overtook (kg.store.remote_history, docs/history.md).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyoxigraph as ox

import kg.store.history as hist
import kg.store.remote_history as rh
from kg.errors import BadInput, QueryTimeout, StoreUnavailable
from kg.namespaces import GRAPH, INFERRED_GRAPH, PREFIXES
from kg.sparql import (
    RDF_FORMATS,
    AnswerCap,
    QueryResult,
    check_read_only,
    declared_prefixes,
    declares_dataset,
    graph_patterns,
    iri_term,
    iri_terms,
    literal_term,
    names_graphs,
    row_size,
    syntax_error,
)
from kg.store.base import Store, visible_graphs
from kg.store.pool import QueryPool

UPDATE_URL_ENV = "QIKG_UPDATE_URL"
#: Seconds to wait for a connection, and for any answer when the caller sets no time limit.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 300.0
#: Virtuoso answers a query past its ``timeout`` parameter itself, a little late: wait that long.
VIRTUOSO_GRACE = 3.0
#: Triples per Graph Store upload: Virtuoso takes a 30 MB body, but smaller ones fail earlier.
UPLOAD_CHUNK = 50_000
#: Other servers: a write with more N-Triples than this (UTF-8 bytes) is staged in INSERT DATA
#: requests of at most about this size. Oxigraph server refuses any request body over 128 MiB
#: ("SPARQL body payloads are limited to 134217728 bytes"; no option raises it).
UPDATE_BYTES = 32 * 2**20
#: Seconds to wait for the answer to a staged write's swap, one transaction that copies every
#: staged triple: Oxigraph server took 245 s for 1M triples in 4,000 graphs (past READ_TIMEOUT
#: at 1.3M; 2.6M would take ~11 min).
SWAP_TIMEOUT = 3_600.0
#: Used as the dataset when the store holds no qikg graph, so a query sees nothing rather than
#: whatever the server's own default graph is (Virtuoso's is every graph it holds).
NO_GRAPH = "urn:qikg:no-graph"
#: The graph holding the union of qikg's graphs but the inferred one (a query's default graph).
UNION = "urn:qikg:union"
#: Where the marker saying that the union graph is complete is kept.
LAYOUT_GRAPH = "urn:qikg:layout"
COMPLETE = "urn:qikg:layout#complete"
#: Graphs per operation on the union graph. Virtuoso gets one operation per request, each timed
#: as one transaction: copying 200 study graphs (130,000 triples) into it took 7 s.
UNION_BATCH = 200
#: The most IRIs in one ``NOT IN`` (Virtuoso compiles at most 4,094 arguments of a function).
NOT_IN_MAX = 1_000
#: Virtuoso: the most named graphs qikg lists in a query. Virtuoso compiles at most 4,094
#: ("SP030: Too many arguments for standard built-in function"); past this a query that says
#: GRAPH gets its named graphs another way (RemoteStore._virtuoso_named).
VIRTUOSO_NAMED_MAX = 4_000
log = logging.getLogger("qikg")
XSD = "http://www.w3.org/2001/XMLSchema#"
T = TypeVar("T")


def update_url_for(query_url: str) -> str:
    """The update endpoint that goes with a query endpoint, by each server's convention.

    >>> update_url_for("http://localhost:7878/query")
    'http://localhost:7878/update'
    >>> update_url_for("http://localhost:8890/sparql")
    'http://localhost:8890/sparql'
    >>> update_url_for("http://localhost:7200/repositories/qikg")
    'http://localhost:7200/repositories/qikg/statements'
    """
    parts = urlsplit(query_url)
    path = parts.path.rstrip("/")
    head, _, last = path.rpartition("/")
    if last == "query":
        path = f"{head}/update"
    elif head.endswith("/repositories"):
        path = f"{path}/statements"
    return urlunsplit(parts._replace(path=path))


def redact(url: str) -> str:
    """The URL with any password hidden, fit for messages.

    >>> redact("http://qikg:secret@db.example.org:8890/sparql")
    'http://qikg:***@db.example.org:8890/sparql'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class RemoteStore(Store):
    """qikg's named graphs on a SPARQL 1.1 server; same semantics as the embedded store.

    >>> RemoteStore("http://127.0.0.1:7878/query").update_url
    'http://127.0.0.1:7878/update'
    """

    def __init__(self, url: str, update_url: str | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadInput(f"not a SPARQL endpoint URL: {redact(url)}")
        self.url = url
        self.update_url = update_url or os.environ.get(UPDATE_URL_ENV) or update_url_for(url)
        self.descriptor = url  # reopens the same store (the explorer gets it), so unredacted
        self._client = httpx.Client(headers={"User-Agent": "qikg"})
        self._virtuoso: bool | None = None
        self._checker: QueryPool | None = None
        self._lock = threading.Lock()
        #: The graph standing for qikg's asserted graphs in queries ("" where the server lets
        #: qikg make none: then every graph is named), found on first use.
        self._stand_in: str | None = None
        self._stand_in_lock = threading.Lock()

    # -- HTTP ------------------------------------------------------------------------------

    def _send(
        self, method: str, url: str, read_timeout: float | None = None, **kwargs
    ) -> httpx.Response:
        """One request; a server that cannot be reached becomes StoreUnavailable naming it."""
        timeout = httpx.Timeout(read_timeout or READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        try:
            response = self._client.request(method, url, timeout=timeout, **kwargs)
        except httpx.ConnectTimeout:
            raise StoreUnavailable(
                f"the SPARQL server at {redact(url)} did not accept a connection "
                f"within {CONNECT_TIMEOUT:g} s"
            ) from None
        except httpx.TimeoutException:
            raise QueryTimeout(
                f"the SPARQL server at {redact(url)} did not answer within {timeout.read:g} s"
            ) from None
        except httpx.TransportError as exc:
            raise StoreUnavailable(
                f"cannot reach the SPARQL server at {redact(url)} "
                f"({type(exc).__name__}: {str(exc) or 'no answer'})"
            ) from None
        if self._virtuoso is None:
            self._virtuoso = response.headers.get("server", "").startswith("Virtuoso")
        return response

    def _fail(self, response: httpx.Response, what: str) -> StoreUnavailable:
        """An error from the server, in one line that names it and what was asked."""
        detail = _server_message(response)
        hint = ""
        if response.status_code in (401, 403) or "permission" in detail.lower():
            hint = " (see docs/deploy.md for the permissions qikg needs)"
        elif response.status_code == 404:
            hint = " (is the URL the server's SPARQL query endpoint? see docs/deploy.md)"
        elif "estimated execution time" in detail:  # Virtuoso's refusal on its cost estimate
            hint = (
                " (Virtuoso refused on its own estimate, before running the query: set "
                "MaxQueryCostEstimationTime = 0 in virtuoso.ini's [SPARQL] so that the time "
                "limit decides; see docs/deploy.md)"
            )
        return StoreUnavailable(
            f"the SPARQL server at {redact(str(response.url).split('?')[0])} refused "
            f"{what} (HTTP {response.status_code}): {detail}{hint}"
        )

    def _is_virtuoso(self) -> bool:
        if self._virtuoso is None:
            self._send("GET", self.url, params={"query": "ASK {}"})
        return bool(self._virtuoso)

    def _select(self, sparql: str) -> list[dict[str, dict]]:
        """Rows of a SELECT over the whole server (no dataset restriction): for bookkeeping."""
        response = self._send(
            "POST",
            self.url,
            data={"query": sparql},
            headers={"Accept": "application/sparql-results+json"},
        )
        if response.status_code != 200:
            raise self._fail(response, "a query")
        return [
            {k: _term(v) for k, v in row.items()} for row in response.json()["results"]["bindings"]
        ]

    def _construct(self, sparql: str) -> str:
        response = self._send(
            "POST", self.url, data={"query": sparql}, headers={"Accept": "application/n-triples"}
        )
        if response.status_code != 200:
            raise self._fail(response, "a query")
        return response.text

    def _update(
        self, sparql: str, commit: rh.Commit | None = None, read_timeout: float | None = None
    ) -> None:
        """One SPARQL Update request. With ``commit``, the commit is marked as possibly applied
        before it is sent; an error answer from a server whose requests are atomic (all but
        Virtuoso) clears the mark, as nothing of it was applied."""
        if commit is not None:
            commit.maybe_changed = True
        response = self._send(
            "POST",
            self.update_url,
            read_timeout,
            content=sparql.encode(),
            headers={"Content-Type": "application/sparql-update; charset=utf-8"},
        )
        if response.status_code not in (200, 201, 204):
            if commit is not None and not self._is_virtuoso():
                commit.maybe_changed = False
            raise self._fail(response, "an update")

    def _requests(self, ops: list[str]) -> list[str]:
        """Update operations grouped into requests: all in one (atomic on Oxigraph and servers
        like it), or one per request on Virtuoso, which commits a request's operations one by
        one anyway and times a request out as one transaction (SR171 "Transaction timed out"
        when moving 10 graphs of 10,000 triples: about 5 s per MOVE of 10,000)."""
        if not ops:
            return []
        return list(ops) if self._is_virtuoso() else [" ;\n".join(ops)]

    @property
    def descriptor_shown(self) -> str:
        """The store's URL fit for messages (no password)."""
        return redact(self.url)

    def _all_sizes(self) -> dict[str, int]:
        """Triples per graph, every graph on the server (qikg's bookkeeping graphs included)."""
        rows = self._select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        return {r["g"]["value"]: int(r["n"]["value"]) for r in rows}

    # -- the Store interface ----------------------------------------------------------------

    def query(
        self,
        sparql: str,
        *,
        timeout: float | None = None,
        limit: int | None = None,
        include_inferred: bool = True,
        max_bytes: int | None = None,
    ) -> QueryResult:
        form, declared, reads_named, terms = self._check(sparql, timeout)
        sent = _with_prefixes(sparql, declared)
        default, named = self._dataset(terms if reads_named else None, include_inferred)
        data: dict[str, str | list[str]]
        if self._is_virtuoso():
            # In the query text, not as request parameters: Virtuoso echoes parameters in its
            # answer's headers, past httpx's 100 KB at about 2,000 graphs ("Receive buffer too
            # long"). The same line, so the server's line numbers still match the query.
            excluded: list[str] = []
            if reads_named and len(named) > VIRTUOSO_NAMED_MAX:
                named, excluded = self._virtuoso_named(terms, named)
            pragmas = [
                *(f"define input:default-graph-uri {iri_term(g)}" for g in default),
                *(f"define input:named-graph-uri {iri_term(g)}" for g in named),
                *(f"define input:named-graph-exclude {iri_term(g)}" for g in excluded),
            ]
            data = {"query": " ".join([*pragmas, sent])}
        else:
            data = {"query": sent, "default-graph-uri": default, "named-graph-uri": named}
        read_timeout = timeout
        if timeout is not None and self._is_virtuoso():
            data["timeout"] = str(max(1, round(timeout * 1000)))
            read_timeout = timeout + VIRTUOSO_GRACE
        graph_form = form in ("construct", "describe")
        accept = "application/n-triples" if graph_form else "application/sparql-results+json"
        start = time.perf_counter()
        response = self._send("POST", self.url, read_timeout, data=data, headers={"Accept": accept})
        elapsed = time.perf_counter() - start
        if response.status_code == 400:
            raise _bad_query(sparql, response)
        if response.status_code != 200:
            raise self._fail(response, "the query")
        if response.headers.get("x-sql-state") == "S1TAT":  # Virtuoso's "anytime" partial answer
            raise QueryTimeout(
                f"the query was stopped after {_limit(timeout)} (the server had "
                "only part of the answer)"
            )
        capped = "x-sparql-maxrows" in response.headers  # Virtuoso's ResultSetMaxRows cut it
        cap = AnswerCap(limit, max_bytes)
        if graph_form:
            triples = list(cap.take(self._answer(response, _parse_nt, timeout), _triple_size))
            text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
            return QueryResult(
                "graph",
                ntriples=(text or b"").decode(),
                truncated=cap.truncated or capped,
                elapsed=elapsed,
            )
        answer = self._answer(response, json.loads, timeout)
        if "boolean" in answer:
            return QueryResult("ask", boolean=bool(answer["boolean"]), elapsed=elapsed)
        rows = cap.take(
            ({k: _term(v) for k, v in row.items()} for row in answer["results"]["bindings"]),
            row_size,
        )
        return QueryResult(
            "select",
            variables=answer["head"]["vars"],
            rows=list(rows),
            truncated=cap.truncated or capped,
            elapsed=elapsed,
        )

    def _dataset(
        self, terms: tuple[str | None, ...] | None, include_inferred: bool
    ) -> tuple[list[str], list[str]]:
        """A query's default and named graphs. The default graph is the stand-in for qikg's
        asserted graphs (the union graph), plus the inferred graph when asked: two IRIs however
        many studies. Named graphs go only to a query that reads them (``terms``: what its
        GRAPH patterns name, None for a query without one), and everywhere where the server
        lets qikg make no stand-in."""
        stand_in = self._ready_stand_in()
        if not stand_in:
            graphs = self.graph_names()
            return visible_graphs(graphs, include_inferred) or [NO_GRAPH], graphs or [NO_GRAPH]
        default = [stand_in, *([str(INFERRED_GRAPH)] if include_inferred else [])]
        # Named graphs matter only to a query with a GRAPH pattern (or a FROM NAMED clause,
        # which the named graphs sent here replace). Which queries have one is read from the
        # query's parse (kg.sparql.names_graphs, the same parse that found it read-only), so a
        # GRAPH in a sub-query, an EXISTS or spelt with \u escapes counts, and "graph" in a
        # literal, an IRI or a variable's name does not. A query whose every GRAPH names an IRI
        # gets those of qikg's graphs (it can read no other: listing 4,000 graphs took 0.5 s on
        # Oxigraph server); any other that reads named graphs gets every qikg graph named; a
        # query without GRAPH gets none, so it can see no graph that is not qikg's.
        if terms is None:
            return default, [NO_GRAPH]
        if terms and all(terms):
            return default, sorted({t for t in terms if t and t.startswith(str(GRAPH))}) or [
                NO_GRAPH
            ]
        return default, self.graph_names() or [NO_GRAPH]

    def _virtuoso_named(
        self, terms: tuple[str | None, ...] | None, graphs: list[str]
    ) -> tuple[list[str], list[str]]:
        """Virtuoso, more qikg graphs than it can take as named graphs: named graphs to list and
        graphs to exclude for a query that says GRAPH, from what its GRAPH patterns name
        (kg.sparql.graph_patterns):

        - every GRAPH is followed by a variable: nothing is listed and every graph on the
          server that is not qikg's is excluded (Virtuoso's ``named-graph-exclude``), so
          ``GRAPH ?g`` ranges over qikg's graphs. Not for a GRAPH with an IRI: with an
          exclusion Virtuoso matches a constant graph to nothing (a query whose every GRAPH
          names an IRI lists only those, ``_dataset``);
        - else every graph is listed, as before, and Virtuoso refuses the query.
        """
        if terms and all(t is None for t in terms):  # every GRAPH names a variable
            others = sorted(g for g in self._all_sizes() if not g.startswith(str(GRAPH)))
            if len(others) <= VIRTUOSO_NAMED_MAX:
                return [], others
        return graphs, []

    def _ready_stand_in(self) -> str:
        """The stand-in graph, made complete on first use ("" where the server refuses)."""
        if self._stand_in is not None:
            return self._stand_in
        with self._stand_in_lock:
            if self._stand_in is None:
                self._stand_in = self._make_stand_in()
        return self._stand_in

    def _make_stand_in(self) -> str:
        if self._union_complete():
            return UNION
        try:
            lock = rh.ServerLock(self, "indexing qikg's graphs")
            lock.take()
        except StoreUnavailable as exc:
            return self._no_stand_in(exc)
        try:
            if not self._union_complete():
                self._fill()
            return UNION
        except StoreUnavailable as exc:
            return self._no_stand_in(exc)
        finally:
            lock.release()

    def _fill(self) -> None:
        """Make the union graph hold every qikg graph but the inferred one, then mark it
        complete (in batches of graphs: one request on most servers, one each on Virtuoso)."""
        ops = [
            f"DROP SILENT GRAPH {iri_term(UNION)}",
            *_union_inserts([g for g in self.graph_names() if g != str(INFERRED_GRAPH)]),
            _mark_complete(),
        ]
        for request in self._requests(ops):
            self._update(request, read_timeout=SWAP_TIMEOUT)

    def _no_stand_in(self, exc: StoreUnavailable) -> str:
        """The server lets qikg make no union graph (a read-only account): name every graph in
        every query, which is slow or fails past a few thousand studies on Virtuoso."""
        log.warning(
            "qikg: warning: the SPARQL server at %s does not let qikg keep its union graph (%s); "
            "every query names each of qikg's graphs, which is slow or fails past a few "
            "thousand studies (docs/deploy.md)",
            self.descriptor_shown,
            exc,
        )
        return ""

    def _union_complete(self) -> bool:
        rows = self._select(
            f"SELECT ?x WHERE {{ GRAPH {iri_term(LAYOUT_GRAPH)} {{ {iri_term(UNION)} "
            f"{iri_term(COMPLETE)} ?x }} }}"
        )
        return bool(rows)

    def _union_ops(
        self, graphs: list[str], sizes: dict[str, int], filled: bool = False
    ) -> tuple[list[str], list[str]]:
        """The operations that keep the union graph equal to qikg's graphs (but the inferred
        one) across a write of ``graphs``: before, remove what only these graphs held; after,
        add what they hold then (``filled``: the write adds that itself). Sent in the write's own
        request, so atomic with it, on every server but Virtuoso, which gets them in requests
        of their own around the swap. ``sizes`` is every graph on the server before the write
        (read under the write lock). Where the server holds no qikg graph but these, the union
        is made whole and marked complete by the write (so a new store's first query does not
        copy every graph again: 40 s at 250 studies on Oxigraph server); a union already
        complete stays so; one never marked is left for the first query."""
        mine = [g for g in dict.fromkeys(graphs) if g != str(INFERRED_GRAPH)]
        if not mine:
            return [], []
        after = [] if filled else _union_inserts(mine)
        if not _others(sizes, mine) and not self._union_complete():
            return [f"DROP SILENT GRAPH {iri_term(UNION)}"], [*after, _mark_complete()]
        kept = [*mine, str(INFERRED_GRAPH)]
        not_in = " && ".join(
            f"?h NOT IN ({', '.join(iri_term(g) for g in kept[i : i + NOT_IN_MAX])})"
            for i in range(0, len(kept), NOT_IN_MAX)
        )
        before = [
            f"DELETE {{ GRAPH {iri_term(UNION)} {{ ?s ?p ?o }} }} WHERE {{ VALUES ?t {{ {values} }} "
            f"GRAPH ?t {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} "
            f"FILTER(STRSTARTS(STR(?h), {literal_term(str(GRAPH))}) && {not_in}) }} }}"
            for values in _iri_batches(mine)
        ]
        return before, after

    def _answer(
        self, response: httpx.Response, parse: Callable[[str], T], timeout: float | None
    ) -> T:
        """Parse an answer; one cut off mid-stream is the server stopping the query (Oxigraph
        server started with ``--timeout-s`` ends a streamed answer with "...has been cancelled")."""
        try:
            return parse(response.text)
        except (ValueError, SyntaxError):
            if "cancelled" in response.text[-200:]:
                raise QueryTimeout(f"the query was stopped after {_limit(timeout)}") from None
            raise StoreUnavailable(
                f"the SPARQL server at {redact(self.url)} sent an answer that cannot be read"
            ) from None

    def replace_graphs(
        self,
        graphs: Mapping[str, str],
        drop: tuple[str, ...] = (),
        extend: Mapping[str, str] | None = None,
        expect: str | None = None,
    ) -> None:
        extend = {g: nt for g, nt in (extend or {}).items() if nt.strip()}
        if not graphs and not drop and not extend:
            return
        for text in [*graphs.values(), *extend.values()]:
            try:
                _parse_nt(text)  # bad data must fail here, before the server has any of it
            except SyntaxError as exc:
                raise BadInput(f"nothing was written: the data is not valid RDF ({exc})") from None
        with rh.writing(self, expect, hist.current()["verb"]) as commit:
            sizes = self._all_sizes()
            touched = list(dict.fromkeys([*drop, *graphs, *extend]))
            commit.diff = self._diff(sizes, touched, graphs, drop, extend)
            commit.touch(touched, sizes)
            loads = [*graphs.items(), *extend.items()]
            if self._is_virtuoso():
                union = self._union_ops(touched, sizes)
                self._replace_staged(graphs, drop, extend, commit, union)
                return
            if sum(len(nt.encode()) for _, nt in loads) > UPDATE_BYTES:
                # the swap adds the staged triples to the union graph itself: enough, unless a
                # graph is only extended (its other triples are not staged)
                filled = set(extend) <= {*drop, *graphs}
                union = self._union_ops(touched, sizes, filled)
                self._replace_staged(graphs, drop, extend, commit, union)
                return
            before, after = self._union_ops(touched, sizes)
            parts = [*before, *(f"DROP SILENT GRAPH {iri_term(g)}" for g in (*drop, *graphs))]
            parts += [
                f"INSERT DATA {{ GRAPH {iri_term(g)} {{\n{nt}\n}} }}"
                for g, nt in loads
                if nt.strip()
            ]
            self._update(" ;\n".join([*parts, *after]), commit)

    def _diff(
        self,
        sizes: dict[str, int],
        touched: list[str],
        graphs: Mapping[str, str],
        drop: tuple[str, ...],
        extend: Mapping[str, str],
    ) -> tuple[int, int, bool]:
        """Triples a write adds and removes: exact (a set difference of the touched graphs, read
        from the server) when they are small, else from sizes (``exact`` False), as the embedded
        store counts."""
        dropped = {*drop, *graphs}
        before = {g: sizes.get(g, 0) for g in touched}
        loads = [*graphs.items(), *extend.items()]
        if sum(before.values()) > rh.EXACT_DIFF_TRIPLES:
            new_sizes = {g: 0 if g in dropped else before[g] for g in touched}
            for g, nt in loads:
                new_sizes[g] += sum(1 for line in nt.splitlines() if line.strip())
            added = sum(max(0, new_sizes[g] - (0 if g in dropped else before[g])) for g in touched)
            return added, sum(before[g] for g in touched if g in dropped), False
        old = {
            g: {str(t) for t in _parse_nt(self._graph_ntriples(g, n))} if n else set()
            for g, n in before.items()
        }
        new = {g: set() if g in dropped else set(old[g]) for g in touched}
        for g, nt in loads:
            new[g].update(str(t) for t in _parse_nt(nt))
        added = sum(len(new[g] - old[g]) for g in touched)
        removed = sum(len(old[g] - new[g]) for g in touched)
        return added, removed, True

    def _replace_staged(
        self,
        graphs: Mapping[str, str],
        drop: tuple[str, ...],
        extend: Mapping[str, str],
        commit: rh.Commit,
        union: tuple[list[str], list[str]],
    ) -> None:
        """Load each graph into a staging graph, then swap them in, with the union graph's
        operations (``union``: before, after): on Virtuoso (with its Graph Store endpoint), and
        on other servers for a write too large for one request.

        Nothing visible changes, and nothing is recorded, until every graph is staged: a failure
        before drops the staging graphs and says nothing was written. On servers but Virtuoso
        the swap is one request (so all or nothing) that copies the staging graphs into place in
        one INSERT (reading graphs changed earlier in the same request was 3x slower on
        Oxigraph server); the staging graphs are dropped after it. Virtuoso commits a request's
        operations one by one (a request whose third operation fails keeps the first two) and
        gets one per request, so its swap is atomic per graph, not across graphs (a reader can
        see the graphs and the union graph change one after the other): a failed swap is
        recorded as an ``interrupted`` version, which can be undone.
        """
        token = uuid.uuid4().hex
        replace = {
            g: self._staging(token, n) for n, (g, nt) in enumerate(graphs.items()) if nt.strip()
        }
        add = {g: self._staging(token, len(graphs) + n) for n, g in enumerate(extend)}
        staged = [*replace.values(), *add.values()]
        try:
            loads = [(tmp, graphs[g], g) for g, tmp in replace.items()]
            loads += [(tmp, extend[g], g) for g, tmp in add.items()]
            try:
                self._stage(loads)
            except (StoreUnavailable, QueryTimeout) as exc:
                raise type(exc)(f"{exc}; nothing was written") from None
            before, after = union
            if not self._is_virtuoso():
                drops = [
                    f"DROP SILENT GRAPH {iri_term(g)}" for g in dict.fromkeys((*drop, *graphs))
                ]
                copy = _copy([*replace.items(), *add.items()])
                self._update(
                    " ;\n".join([*before, *drops, copy, *after]), commit, read_timeout=SWAP_TIMEOUT
                )
            else:
                ops = [*before]
                ops += [
                    f"DROP SILENT GRAPH {iri_term(g)}"
                    for g in dict.fromkeys((*drop, *graphs))
                    if g not in replace
                ]
                ops += [
                    f"MOVE SILENT GRAPH {iri_term(tmp)} TO GRAPH {iri_term(g)}"
                    for g, tmp in replace.items()
                ]
                ops += [
                    f"ADD SILENT GRAPH {iri_term(tmp)} TO GRAPH {iri_term(g)} ;\n"
                    f"DROP SILENT GRAPH {iri_term(tmp)}"
                    for g, tmp in add.items()
                ]
                for request in self._requests([*ops, *after]):
                    self._update(request, commit, read_timeout=SWAP_TIMEOUT)
        except BaseException:
            self._drop_staging(staged)
            raise
        if not self._is_virtuoso():  # copied, not moved
            self._drop_staging(staged)

    def _stage(self, loads: list[tuple[str, str, str]]) -> None:
        """Each (staging graph, N-Triples, graph) loaded: uploaded on Virtuoso, else in INSERT
        DATA requests of about ``UPDATE_BYTES`` at most, each blank node's triples in one."""
        if self._is_virtuoso():
            for tmp, ntriples, graph in loads:
                self._upload(tmp, ntriples, graph)
            return
        pieces = (
            (tmp, chunk)
            for tmp, ntriples, _ in loads
            for chunk in _chunks(ntriples, None, UPDATE_BYTES)
        )
        for request in _inserts(pieces, UPDATE_BYTES):
            self._update(request)

    def _drop_staging(self, staged: list[str]) -> None:
        """Drop staging graphs, best effort (one left behind is outside qikg's namespace)."""
        for request in self._requests([f"DROP SILENT GRAPH {iri_term(tmp)}" for tmp in staged]):
            try:
                self._update(request)
            except Exception:  # the original error, if any, is the one to report
                pass

    # -- history, undo, restore (kg.store.remote_history) ------------------------------------

    keeps_history = True

    def version(self) -> str:
        """The number of the last commit recorded on the server ("0" before any)."""
        return str(rh.counter(self))

    def history(self) -> rh.RemoteHistory:
        return rh.load(self)

    def undo(self) -> hist.Restored:
        with hist.change("undo"):
            return self._return_to(None)

    def restore(self, version: int) -> hist.Restored:
        with hist.change("restore"):
            return self._return_to(version)

    def _return_to(self, version: int | None) -> hist.Restored:
        """Put back, under the write lock, each graph changed since the version returned to,
        from the snapshot taken before the first later version that changed it (a graph absent
        then is dropped). Recorded as a version with snapshots of its own: undo twice redoes."""
        with rh.writing(self, None, hist.current()["verb"]) as commit:
            target, back = rh.plan(commit.lines, version)
            before = rh.fold(commit.lines).versions[-1].state
            sizes = self._all_sizes()
            commit.touch(list(back), sizes)
            commit.restored = target.number
            changes = [
                (sizes.get(s.iri, 0) if s.existed else 0) - sizes.get(g, 0) for g, s in back.items()
            ]
            commit.diff = (
                sum(n for n in changes if n > 0),
                -sum(n for n in changes if n < 0),
                False,
            )
            self._put_back(back, commit, sizes)
        after = rh.fold(commit.lines).versions[-1]
        return hist.Restored(target, before, after.state, after.number)

    def _put_back(
        self, back: Mapping[str, rh.Snapshot], commit: rh.Commit, sizes: dict[str, int]
    ) -> None:
        """Each graph from its snapshot: in one request (Oxigraph), or on Virtuoso copied to
        staging graphs first and then moved into place in one request, as a write is."""
        before, after = self._union_ops(list(back), sizes)
        if not self._is_virtuoso():
            ops = [
                f"COPY SILENT GRAPH {iri_term(s.iri)} TO GRAPH {iri_term(g)}"
                if s.existed
                else f"DROP SILENT GRAPH {iri_term(g)}"
                for g, s in back.items()
            ]
            if ops:
                self._update(" ;\n".join([*before, *ops, *after]), commit)
            return
        token = uuid.uuid4().hex
        staged = {g: self._staging(token, n) for n, g in enumerate(back) if back[g].existed}
        try:
            copies = [
                f"COPY SILENT GRAPH {iri_term(back[g].iri)} TO GRAPH {iri_term(tmp)}"
                for g, tmp in staged.items()
            ]
            for request in self._requests(copies):
                self._update(request)
            ops = [*before, *(f"DROP SILENT GRAPH {iri_term(g)}" for g in back if g not in staged)]
            ops += [
                f"MOVE SILENT GRAPH {iri_term(tmp)} TO GRAPH {iri_term(g)}"
                for g, tmp in staged.items()
            ]
            for request in self._requests([*ops, *after]):
                self._update(request, commit, read_timeout=SWAP_TIMEOUT)
        except BaseException:
            self._drop_staging(list(staged.values()))
            raise

    @staticmethod
    def _staging(token: str, n: int) -> str:
        """A graph outside qikg's namespace, so a staging graph left by a crash stays unseen."""
        return f"urn:qikg:staging:{token}:{n}"

    def _upload(self, tmp: str, ntriples: str, graph: str) -> None:
        """Load N-Triples into a staging graph with Virtuoso's Graph Store endpoint, in chunks."""
        crud = _graph_crud_url(self.update_url)
        for i, chunk in enumerate(_chunks(ntriples, UPLOAD_CHUNK)):
            response = self._send(
                "PUT" if i == 0 else "POST",
                crud,
                params={"graph-uri": tmp},
                content=chunk.encode(),
                headers={"Content-Type": "application/n-triples"},
            )
            if response.status_code not in (200, 201, 204):
                raise self._fail(response, f"the upload of {graph}")

    def graph_sizes(self) -> dict[str, int]:
        # Counting every graph and filtering here is faster on Virtuoso than a FILTER in SPARQL.
        rows = self._select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
        )
        sizes = {r["g"]["value"]: int(r["n"]["value"]) for r in rows}
        return {g: sizes[g] for g in sorted(sizes) if g.startswith(str(GRAPH))}

    def is_empty(self) -> bool:
        """True when the server holds no qikg graph: a query that stops at the first one
        (listing 4,000 graphs took 0.46 s on Oxigraph server, stopping at one 1 ms). Virtuoso
        answers ``GRAPH ?g {}`` with one unbound row, so there the graphs are listed."""
        if self._is_virtuoso():
            return super().is_empty()
        return not self._select(
            f"SELECT ?g WHERE {{ GRAPH ?g {{}} FILTER(STRSTARTS(STR(?g), "
            f"{literal_term(str(GRAPH))})) }} LIMIT 1"
        )

    def graph_names(self) -> list[str]:
        """qikg's graphs, without counting their triples where the server allows."""
        if self._is_virtuoso():  # Virtuoso answers GRAPH ?g {} with one unbound row
            return list(self.graph_sizes())
        rows = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g {} }")
        return sorted(g for r in rows if "g" in r and (g := r["g"]["value"]).startswith(str(GRAPH)))

    def dump(self, fmt: str, graph: str | None = None) -> bytes:
        if fmt not in RDF_FORMATS:
            raise BadInput(f"unknown export format {fmt!r}: use ttl, trig, nq, nt or jsonld")
        rdf_format = RDF_FORMATS[fmt]
        prefixes = PREFIXES if fmt in ("ttl", "trig") else None
        sizes = self.graph_sizes()
        if graph is not None:
            if graph not in sizes:
                raise BadInput(f"the store has no graph {graph}")
            triples = _parse_nt(self._graph_ntriples(graph, sizes[graph]))
            return ox.serialize(triples, format=rdf_format, prefixes=prefixes) or b""
        quads = [
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
            for g, size in sizes.items()
            for t in _parse_nt(self._graph_ntriples(g, size))
        ]
        if rdf_format.supports_datasets:
            return ox.serialize(quads, format=rdf_format, prefixes=prefixes) or b""
        return ox.serialize({q.triple for q in quads}, format=rdf_format, prefixes=prefixes) or b""

    def _graph_ntriples(self, graph: str, size: int) -> str:
        """One graph as N-Triples; in pages when the server caps an answer's length (Virtuoso's
        ResultSetMaxRows, 10,000 by default, cuts a CONSTRUCT short without saying so)."""
        text = self._construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri_term(graph)} {{ ?s ?p ?o }} }}"
        )
        page = sum(1 for line in text.splitlines() if line.strip())
        if page >= size or page == 0:
            return text
        parts = []
        for offset in range(0, size, page):
            # Virtuoso sorts at most ResultSetMaxRows rows at the top level; a sorted subquery
            # paged from outside has no such limit.
            parts.append(
                self._construct(
                    f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {{ SELECT ?s ?p ?o WHERE {{ GRAPH {iri_term(graph)} "
                    f"{{ ?s ?p ?o }} }} ORDER BY ?s ?p ?o }} }} OFFSET {offset} LIMIT {page}"
                )
            )
        return "\n".join(parts)

    def _check(
        self, sparql: str, timeout: float | None
    ) -> tuple[str, tuple[str, ...], bool, tuple[str | None, ...]]:
        """The query's form, the prefixes it declares, whether it reads named graphs and what
        its GRAPH patterns name, once checked read-only and refused if it names its own dataset
        (kg.sparql.declares_dataset): in this process for qikg's own reads (no time limit),
        else in a checking worker, where the time limit stops a slow parse."""
        if timeout is None:
            form, declared = check_read_only(sparql), declared_prefixes(sparql)
            reads_named, dataset = names_graphs(sparql), declares_dataset(sparql)
            terms = graph_patterns(sparql)
        else:
            with self._lock:
                if self._checker is None:
                    self._checker = QueryPool(None, size=2)
            answer = self._checker.run({"query": sparql, "check_only": True}, timeout)
            form, declared = answer["form"], tuple(answer["prefixes"])
            reads_named, dataset = bool(answer["graphs"]), bool(answer["dataset"])
            terms = tuple(answer["graph_terms"])
        if dataset:
            raise BadInput(
                "FROM and FROM NAMED are not allowed on a SPARQL server store: the server would "
                "add those graphs to qikg's; qikg chooses the graphs (use GRAPH <...> instead)"
            )
        return form, declared, reads_named, terms

    def close(self) -> None:
        self._client.close()
        if self._checker is not None:
            self._checker.close()


def _mark_complete() -> str:
    """The update that marks the union graph complete."""
    return (
        f"INSERT DATA {{ GRAPH {iri_term(LAYOUT_GRAPH)} {{ {iri_term(UNION)} "
        f"{iri_term(COMPLETE)} true }} }}"
    )


def _iri_batches(graphs: list[str]) -> list[str]:
    """The graphs as ``VALUES`` terms, ``UNION_BATCH`` to a batch."""
    return [iri_terms(graphs[i : i + UNION_BATCH]) for i in range(0, len(graphs), UNION_BATCH)]


def _union_inserts(graphs: list[str]) -> list[str]:
    """Operations copying these graphs' triples into the union graph, a batch of graphs each.

    >>> _union_inserts(["urn:g"])[0].endswith("VALUES ?t { <urn:g> } GRAPH ?t { ?s ?p ?o } }")
    True
    """
    return [
        f"INSERT {{ GRAPH {iri_term(UNION)} {{ ?s ?p ?o }} }} WHERE {{ VALUES ?t {{ {values} }} "
        f"GRAPH ?t {{ ?s ?p ?o }} }}"
        for values in _iri_batches(graphs)
    ]


def _others(sizes: Mapping[str, int], graphs: list[str]) -> list[str]:
    """qikg's graphs in ``sizes`` (but the inferred one) other than ``graphs``.

    >>> _others({str(GRAPH) + "a": 1, str(GRAPH) + "b": 2, "urn:x": 3}, [str(GRAPH) + "a"])
    ['https://w3id.org/qikg/graph/b']
    """
    skip = {*graphs, str(INFERRED_GRAPH)}
    return [g for g in sizes if g.startswith(str(GRAPH)) and g not in skip]


def _limit(timeout: float | None) -> str:
    return f"its time limit of {timeout:g} s" if timeout else "the server's own time limit"


def _graph_crud_url(sparql_url: str) -> str:
    """Virtuoso's Graph Store endpoint beside its SPARQL endpoint (``/sparql-auth`` has
    ``/sparql-graph-crud-auth``).

    >>> _graph_crud_url("http://localhost:8890/sparql")
    'http://localhost:8890/sparql-graph-crud'
    """
    parts = urlsplit(sparql_url)
    head, _, last = parts.path.rstrip("/").rpartition("/")
    name = "sparql-graph-crud-auth" if last.endswith("-auth") else "sparql-graph-crud"
    return urlunsplit(parts._replace(path=f"{head}/{name}", query=""))


def _term(term: dict) -> dict:
    """A SPARQL-JSON term in the form the embedded store gives, whatever the server wrote.

    Virtuoso writes ``typed-literal`` (an old draft's name), xsd:string as an explicit datatype
    and xsd:boolean as ``1``/``0``.

    >>> _term({"type": "typed-literal", "datatype": XSD + "boolean", "value": "1"})
    {'type': 'literal', 'value': 'true', 'datatype': 'http://www.w3.org/2001/XMLSchema#boolean'}
    >>> _term({"type": "typed-literal", "datatype": XSD + "string", "value": "a"})
    {'type': 'literal', 'value': 'a'}
    """
    if term.get("type") != "typed-literal" and "datatype" not in term:
        return term
    out = {"type": "literal", "value": term["value"]}
    datatype = term.get("datatype")
    if datatype == XSD + "boolean":
        out["value"] = {"1": "true", "0": "false"}.get(term["value"], term["value"])
    if datatype and datatype != XSD + "string":
        out["datatype"] = datatype
    return out


def _bad_query(sparql: str, response: httpx.Response) -> BadInput:
    """A 400 answer: our own parser's line-and-column message if it also finds the query
    malformed, else the server's first line (a query valid SPARQL but beyond this server)."""
    try:
        ox.Store().query(sparql, prefixes=PREFIXES)
    except SyntaxError as exc:
        return syntax_error(exc)
    except Exception:  # evaluation errors on an empty store say nothing about the syntax
        pass
    return BadInput(f"the SPARQL server refused the query: {_server_message(response)}")


def _server_message(response: httpx.Response) -> str:
    """The telling line of an error answer: the first line of a plain-text one (Virtuoso puts
    the echoed query after it), the last line of an HTML page (its title and heading come first).
    """
    if "html" in response.headers.get("content-type", ""):
        lines = [re.sub(r"<[^>]*>", "", line).strip() for line in response.text.splitlines()]
        lines = [line for line in lines if line][-1:]
    else:
        lines = [line.strip() for line in response.text.splitlines() if line.strip()][:1]
    return lines[0][:300] if lines else response.reason_phrase


def _with_prefixes(sparql: str, declared: tuple[str, ...]) -> str:
    """The query with the qikg prefixes it does not declare itself, on its first line (so the
    server's line numbers still match the query as written).

    >>> _with_prefixes("PREFIX qikg: <urn:x#> ASK {}", ("qikg",)).count("PREFIX qikg:")
    1
    """
    missing = [f"PREFIX {p}: {iri_term(iri)}" for p, iri in PREFIXES.items() if p not in declared]
    return " ".join([*missing, sparql])


def _parse_nt(text: str) -> list[ox.Triple]:
    return [q.triple for q in ox.parse(text.encode(), format=ox.RdfFormat.N_TRIPLES)]


def _chunks(ntriples: str, size: int | None, max_bytes: int | None = None) -> Iterator[str]:
    """N-Triples text in pieces of at most ``size`` triples and about ``max_bytes`` UTF-8 bytes
    (None: no bound), each blank node's triples together (every upload or request is a document
    of its own, so a blank node split across two would become two); a blank node's triples may
    pass the bounds.

    >>> [c.count("\\n") for c in _chunks("<a:1> <a:p> _:x .\\n_:x <a:p> <a:2> .\\n<a:3> <a:p> <a:4> .\\n", 2)]
    [2, 1]
    >>> [c.count("\\n") for c in _chunks("<a:1> <a:p> _:x .\\n_:x <a:p> <a:2> .\\n<a:3> <a:p> <a:4> .\\n", None, 30)]
    [2, 1]
    """
    fits = max_bytes is None or len(ntriples.encode()) <= max_bytes
    if fits and size is None:
        yield ntriples
        return
    triples = _parse_nt(ntriples)
    if fits and (size is None or len(triples) <= size):
        yield ntriples
        return
    parent: dict[str, str] = {}

    def root(label: str) -> str:
        while parent.setdefault(label, label) != label:
            parent[label] = parent[parent[label]]
            label = parent[label]
        return label

    for t in triples:
        labels = [n.value for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        for other in labels[1:]:
            parent[root(other)] = root(labels[0])
    groups: dict[str | int, list[ox.Triple]] = {}
    for n, t in enumerate(triples):
        node = next((x.value for x in (t.subject, t.object) if isinstance(x, ox.BlankNode)), None)
        groups.setdefault(root(node) if node is not None else n, []).append(t)
    chunk: list[ox.Triple] = []
    used = 0
    for group in groups.values():
        weight = sum(len(str(t).encode()) + 3 for t in group) if max_bytes else 0  # + " .\n"
        if chunk and (
            (size is not None and len(chunk) + len(group) > size)
            or (max_bytes is not None and used + weight > max_bytes)
        ):
            yield (ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES) or b"").decode()
            chunk, used = [], 0
        chunk.extend(group)
        used += weight
    if chunk:
        yield (ox.serialize(chunk, format=ox.RdfFormat.N_TRIPLES) or b"").decode()


def _copy(pairs: list[tuple[str, str]]) -> str:
    """One INSERT copying each (graph, staging graph)'s triples into the graph and, but for the
    inferred graph, into the union graph (an unbound ?u inserts nothing).

    >>> "(<urn:t> <urn:g> <urn:qikg:union>)" in _copy([("urn:g", "urn:t")])
    True
    """
    rows = " ".join(
        f"({iri_term(tmp)} {iri_term(g)} "
        f"{'UNDEF' if g == str(INFERRED_GRAPH) else iri_term(UNION)})"
        for g, tmp in pairs
    )
    return (
        "INSERT { GRAPH ?g { ?s ?p ?o } GRAPH ?u { ?s ?p ?o } } WHERE { "
        f"VALUES (?t ?g ?u) {{ {rows} }} GRAPH ?t {{ ?s ?p ?o }} }}"
    )


def _inserts(pieces: Iterable[tuple[str, str]], max_bytes: int) -> Iterator[str]:
    """Update requests of INSERT DATA operations, one per (graph, N-Triples) piece (as in a
    one-request write), each request holding pieces of about ``max_bytes`` at most in all.

    >>> [r.count("INSERT") for r in _inserts([("urn:a", "x" * 10)] * 3, 25)]
    [2, 1]
    """
    ops: list[str] = []
    used = 0
    for graph, ntriples in pieces:
        size = len(ntriples.encode())
        if ops and used + size > max_bytes:
            yield " ;\n".join(ops)
            ops, used = [], 0
        ops.append(f"INSERT DATA {{ GRAPH {iri_term(graph)} {{\n{ntriples}\n}} }}")
        used += size
    if ops:
        yield " ;\n".join(ops)


def _triple_size(triple: ox.Triple) -> int:
    return len(str(triple))
