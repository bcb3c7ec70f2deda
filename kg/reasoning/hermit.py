"""HermiT through owlready2: consistency, classification, and explanations of a clash.

HermiT only says *that* the ontology and data clash. To say *where*, qikg first looks for the
clash every coded graph can make (an individual whose types, asserted or entailed through the
class hierarchy, domains and ranges, fall under two classes declared disjoint) and, when that
explains nothing, deletes and re-tests: QuickXplain over study graphs, then over the subjects in
the culprit graphs, then over their triples, keeps a minimal set that HermiT still rejects.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import owlready2
import rdflib
from rdflib.namespace import RDF

from kg.errors import BadInput, QikgError
from kg.namespaces import curie, graph_name
from kg.ontology import ONTOLOGY_IRI, standalone_graph
from kg.reasoning.asserted import Asserted, Triple
from kg.reasoning.tbox import IRI, TBox

T = TypeVar("T")


@dataclass
class Consistency:
    """What HermiT concluded about the ontology together with ``graphs`` data graphs (``triples``
    asserted triples in all), in ``seconds``."""

    consistent: bool
    clashes: list[str] = field(default_factory=list)
    unsatisfiable: list[str] = field(default_factory=list)
    graphs: int = 0
    triples: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Consistent, and every class can have members."""
        return self.consistent and not self.unsatisfiable


def load_world(graph: rdflib.Graph) -> owlready2.World:
    """An owlready2 World holding ``graph`` without its ``owl:imports`` (nothing is fetched)."""
    world = owlready2.World()
    with tempfile.TemporaryDirectory(prefix="qikg-reason-") as folder:
        path = Path(folder) / "input.nt"
        standalone_graph(graph).serialize(destination=path, format="nt", encoding="utf-8")
        with path.open("rb") as fileobj:
            world.get_ontology(str(ONTOLOGY_IRI)).load(fileobj=fileobj, format="ntriples")
    return world


def java_memory_mb() -> int:
    """HermiT's Java heap: ``QIKG_JAVA_MEMORY_MB``, else half the machine's memory (owlready2's
    2,000 MB ran out at 4,000 studies)."""
    configured = os.environ.get("QIKG_JAVA_MEMORY_MB", "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 16:
            raise BadInput(f"QIKG_JAVA_MEMORY_MB={configured} is not a number of MB (16 or more)")
        return int(configured)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return max(2000, total // 2)


def hermit_failure(output: str, memory: int) -> str:
    """One line for what HermiT's Java printed when it failed: its exception, not the trace.

    >>> hermit_failure("Exception: java.lang.OutOfMemoryError: Java heap space", 2000)[:41]
    'HermiT ran out of memory (a Java heap of '
    >>> hermit_failure("Exception in thread main: java.io.IOException: x", 2000)
    'HermiT failed: Exception in thread main: java.io.IOException: x'
    """
    if "OutOfMemoryError" in output:
        return (
            f"HermiT ran out of memory (a Java heap of {memory:,} MB): set QIKG_JAVA_MEMORY_MB "
            "higher, or skip the check with `qikg reason --skip-check`"
        )
    lines = [line.strip() for line in output.splitlines() if line.strip()] or ["no message"]
    return "HermiT failed: " + next((x for x in lines if "Exception" in x), lines[-1])


def run_hermit(world: owlready2.World) -> bool:
    """Classify and realise ``world`` with HermiT (Java); False when it is inconsistent."""
    memory, before = java_memory_mb(), owlready2.reasoning.JAVA_MEMORY
    owlready2.reasoning.JAVA_MEMORY = memory  # owlready2 reads the heap size from its module
    try:
        owlready2.sync_reasoner(world, debug=0, ignore_unsupported_datatypes=True)
    except owlready2.OwlReadyInconsistentOntologyError:
        return False
    except FileNotFoundError:
        raise QikgError(
            f"HermiT needs Java 17 or later, and `{owlready2.JAVA_EXE}` was not found; install a "
            "JDK or use `qikg reason --skip-check`"
        ) from None
    except owlready2.OwlReadyJavaError as exc:
        raise QikgError(hermit_failure(str(exc), memory)) from None
    finally:
        owlready2.reasoning.JAVA_MEMORY = before
    return True


def consistent(graph: rdflib.Graph) -> bool:
    """Whether HermiT finds ``graph`` (ontology and data) consistent."""
    return run_hermit(load_world(graph))


def check(asserted: Asserted, tbox: TBox) -> Consistency:
    """Run HermiT on the ontology and data; on a clash, explain it in plain words."""
    start = time.perf_counter()
    world = load_world(asserted.graph())
    graphs = {g for gs in asserted.data.values() for g in gs}
    result = Consistency(
        True, graphs=len(graphs), triples=len(asserted.ontology) + len(asserted.data)
    )
    if run_hermit(world):
        result.unsatisfiable = sorted(curie(c.iri) for c in world.inconsistent_classes())
    else:
        result.consistent = False
        result.clashes = disjointness_clashes(asserted, tbox) or retest(asserted)
    result.seconds = time.perf_counter() - start
    return result


def disjointness_clashes(asserted: Asserted, tbox: TBox) -> list[str]:
    """Individuals whose types fall under two disjoint classes, one sentence each.

    A type counts when asserted or entailed by a domain or range; the hierarchy lifts it. Only the
    most specific types of an individual are named.
    """
    why: dict[IRI, dict[IRI, tuple[str, set[str]]]] = defaultdict(dict)

    def add(node: rdflib.term.Node, cls: IRI, reason: str, graphs: set[str]) -> None:
        if not isinstance(node, rdflib.URIRef) or cls not in tbox.classes:
            return
        known = why[str(node)].get(cls)
        if known is None or (known[0] and not reason):  # an asserted type is the best reason
            why[str(node)][cls] = (reason, set(graphs))
        elif known[0] == reason:
            known[1].update(graphs)

    onto = {"ontology"}
    for s, o in asserted.ontology.subject_objects(RDF.type):
        add(s, str(o), "", onto)
    for (s, p, o), graphs in asserted.data.items():
        names = {graph_name(g) for g in graphs}
        if p == RDF.type:
            add(s, str(o), "", names)
            continue
        for cls in tbox.types_from_subject(str(p)):
            add(s, cls, f" (as the subject of {curie(str(p))})", names)
        for cls in tbox.types_from_object(str(p)):
            add(o, cls, f" (as the value of {curie(str(p))})", names)
    clashes = []
    for node in sorted(why):
        types = why[node]
        specific = sorted(c for c in types if not any(c in tbox.superclasses[d] for d in types))
        for i, a in enumerate(specific):
            for b in specific[i + 1 :]:
                pair = _disjoint_pair(tbox, a, b)
                if pair is None:
                    continue
                through = (
                    "" if pair == (a, b) else f" through {curie(pair[0])} and {curie(pair[1])}"
                )
                sources = sorted(types[a][1] | types[b][1])
                clashes.append(
                    f"{curie(node)} is typed both {curie(a)}{types[a][0]} and {curie(b)}"
                    f"{types[b][0]}, which the ontology declares disjoint{through} "
                    f"(from {_graph_words(sources)})"
                )
    return clashes


def _disjoint_pair(tbox: TBox, a: IRI, b: IRI) -> tuple[IRI, IRI] | None:
    """The declared disjoint classes above ``a`` and ``b`` (the most specific pair), if any."""
    above_a = [a, *sorted(tbox.superclasses[a])]
    above_b = [b, *sorted(tbox.superclasses[b])]
    for x in above_a:
        for y in above_b:
            if (x, y) in tbox.disjoint:
                return x, y
    return None


def _graph_words(names: Sequence[str]) -> str:
    """``study graph study/x``, ``the ontology``, joined in plain words."""
    words = [
        "the ontology"
        if n == "ontology"
        else f"study graph {n}"
        if n.startswith("study/")
        else f"graph {n}"
        for n in names
    ]
    return " and ".join(words)


def retest(asserted: Asserted) -> list[str]:
    """Delete and re-test with HermiT: a minimal set of data triples that clash with the
    ontology, named in one sentence."""
    if not consistent(asserted.ontology):
        return ["the ontology itself is inconsistent, without any coded data"]

    def clash(triples: list[Triple]) -> bool:
        return not consistent(asserted.graph(triples))

    by_graph: dict[str, list[Triple]] = defaultdict(list)
    for triple, graphs in asserted.data.items():
        by_graph[min(graphs)].append(triple)
    triples = _narrow(list(by_graph.values()), clash)
    by_subject: dict[rdflib.term.Node, list[Triple]] = defaultdict(list)
    for triple in triples:
        by_subject[triple[0]].append(triple)
    triples = _narrow(list(by_subject.values()), clash)
    triples = _narrow([[t] for t in triples], clash)
    where = sorted({graph_name(g) for t in triples for g in asserted.data[t]})
    said = "; ".join(
        " ".join(curie(str(term)) if isinstance(term, rdflib.URIRef) else term.n3() for term in t)
        for t in sorted(triples)
    )
    return [f"these triples cannot all hold with the ontology: {said} (from {_graph_words(where)})"]


def _narrow(groups: list[list[T]], clash: Callable[[list[T]], bool]) -> list[T]:
    """The items of a minimal set of ``groups`` that still clash (QuickXplain, Junker 2004)."""
    if len(groups) == 1:
        return groups[0]

    def explain(background: list[T], changed: bool, candidates: list[list[T]]) -> list[list[T]]:
        if changed and clash(background):
            return []
        if len(candidates) == 1:
            return candidates
        half = len(candidates) // 2
        right = explain(background + _flat(candidates[:half]), True, candidates[half:])
        left = explain(background + _flat(right), bool(right), candidates[:half])
        return left + right

    return _flat(explain([], False, groups))


def _flat(groups: list[list[T]]) -> list[T]:
    return [item for group in groups for item in group]
