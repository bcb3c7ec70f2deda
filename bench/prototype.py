"""What the store would cost with the fix bench/run.py suggests (a prototype, not product code).

``UnionStore`` is kg's EmbeddedStore with one change: when a query reads every named graph (all
but the inferred one when there is none, or ``include_inferred=True``), it asks Oxigraph for its
union default graph (``use_default_graph_as_union=True``) instead of passing the list of graph
IRIs as the default graph. Oxigraph evaluates a list default graph one graph at a time for every
triple pattern it matches, so a query over 4,000 study graphs does 4,000 index lookups where the
union does one; the answers are the same (checked by bench/run.py's result fingerprints).

Known difference, to settle before the product adopts it: the union also holds the shapes and
meta graphs, which the product hides from queries. The product fix is to keep those two out of
the quad store (shapes are read from ``shapes/*.ttl`` for validation anyway; the meta flag can be
a file in the store folder), so that the union is exactly the graphs a query may read.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from kg.namespaces import INFERRED_GRAPH, PREFIXES  # noqa: E402
from kg.sparql import QueryResult, check_read_only, syntax_error, term_json  # noqa: E402
from kg.store.embedded import EmbeddedStore  # noqa: E402


def run_union_query(
    store: ox.Store, sparql: str, graphs: list[str] | None, limit: int | None
) -> dict:
    """kg.store.worker.run_query, but the default graph is Oxigraph's union when ``graphs`` is
    None."""
    start = time.perf_counter()
    kwargs: dict = {"prefixes": PREFIXES}
    if graphs is None:
        kwargs["use_default_graph_as_union"] = True
    else:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in graphs] or [ox.DefaultGraph()]
    answer = store.query(sparql, **kwargs)
    if isinstance(answer, ox.QueryBoolean):
        out: dict = {"kind": "ask", "boolean": bool(answer)}
    elif isinstance(answer, ox.QuerySolutions):
        names = [v.value for v in answer.variables]
        rows = []
        truncated = False
        for solution in answer:
            if limit is not None and len(rows) >= limit:
                truncated = True
                break
            rows.append({n: term_json(solution[n]) for n in names if solution[n] is not None})
        out = {"kind": "select", "variables": names, "bindings": rows, "truncated": truncated}
    else:
        triples = list(answer)
        text = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
        out = {"kind": "graph", "ntriples": text.decode(), "truncated": False}
    out["elapsed"] = time.perf_counter() - start
    return out


class UnionStore(EmbeddedStore):
    """EmbeddedStore whose queries read the union default graph when they read every graph."""

    def query(
        self,
        sparql: str,
        *,
        timeout: float | None = None,
        limit: int | None = None,
        include_inferred: bool = True,
    ) -> QueryResult:
        check_read_only(sparql)
        names = self.graph_names()
        union = include_inferred or str(INFERRED_GRAPH) not in names
        graphs = None if union else self.default_graphs(include_inferred)
        view = self._view
        read = view.read if hasattr(view, "read") else (lambda f: f(view.get()))
        try:
            answer = read(lambda store: run_union_query(store, sparql, graphs, limit))
        except SyntaxError as exc:
            raise syntax_error(exc) from None
        return QueryResult(**answer)


# --- patches: the suggested fixes, applied to a running process (for before/after numbers) ---------

PATCHES = ("union", "vocabulary-graph", "names-not-sizes")


def _vocabulary_from_ontology_graph(cls, store):
    """Vocabulary.from_store reading only the ontology graph (where the concepts are), so its cost
    does not grow with the number of study graphs."""
    from kg.namespaces import ONTOLOGY_GRAPH, sparql_prefixes

    result = store.query(
        sparql_prefixes()
        + f"""SELECT ?c ?kind ?label ?pref WHERE {{ GRAPH <{ONTOLOGY_GRAPH}> {{
            ?c a skos:Concept ; a ?kind .
            {{ ?c skos:prefLabel ?label BIND(lang(?label) IN ("", "en") AS ?pref) }}
            UNION {{ ?c skos:altLabel ?label BIND(false AS ?pref) }} }} }}""",
        include_inferred=False,
    )
    return cls([(r["c"], r["kind"], r["label"], r["pref"] == "true") for r in result.values()])


def apply(patches: list[str] | tuple[str, ...]) -> None:
    """Patch this process's kg with the named fixes:

    - ``union``: EmbeddedStore.query reads Oxigraph's union default graph (see UnionStore);
    - ``vocabulary-graph``: Vocabulary.from_store reads the ontology graph only;
    - ``names-not-sizes``: EmbeddedStore.graph_sizes answers from the graph names (no scan of
      every quad) -- a stand-in for callers that only need names (study_ids, inferred_state,
      review_clashes, is_empty) using ``graph_names()``; the sizes it returns are 0, so use it
      only to time those paths.
    """
    import kg.vocabulary

    for patch in patches:
        if patch == "union":
            EmbeddedStore.query = UnionStore.query
        elif patch == "vocabulary-graph":
            kg.vocabulary.Vocabulary.from_store = classmethod(_vocabulary_from_ontology_graph)
        elif patch == "names-not-sizes":
            EmbeddedStore.graph_sizes = lambda self: dict.fromkeys(self.graph_names(), 0)
        else:
            raise ValueError(f"unknown patch {patch!r}: use {', '.join(PATCHES)}")
