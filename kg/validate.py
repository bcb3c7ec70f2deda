"""Check coded data against the SHACL shapes in ``shapes/`` and report problems in plain words.

A violation refuses an import; warnings and infos are reported and let it pass. Each problem
names the finding (``study_id/finding_id``) or study it concerns, so a researcher can find the
row to fix; an importer adds the exact cell through ``locate``.

pyshacl is the reference engine. A faster one (pyshacl-turbo, ``pip install qikg[fast]``) runs
instead only in versions whose reports tests/test_validate_engines.py found identical to
pyshacl's on every shape and test sheet; the setting ``QIKG_SHACL_ENGINE`` (``auto``, the default,
``pyshacl`` or ``pyshacl-turbo``) chooses, and any error of the fast engine falls back to pyshacl.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path

import pyshacl
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS
from rdflib.plugins.stores.memory import SimpleMemory

from kg.errors import BadInput, DataProblem
from kg.namespaces import DATA, OA, QIKG, SH, curie
from kg.resources import shapes_dir
from kg.text import natural_key

SEVERITIES: dict[URIRef, str] = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}
_RANK = {"violation": 0, "warning": 1, "info": 2}
_PLURAL = {"violation": "violations", "warning": "warnings", "info": "infos"}
_PLACEHOLDER = re.compile(r"\{[$?](value|this|path)\}")
_FINDING_IRI = re.compile(re.escape(str(DATA)) + r"([^/]+)/finding/([^/]+)(?:/|$)")
_STUDY_IRI = re.compile(re.escape(str(DATA)) + r"([^/]+)$")
#: How a quote, its target and its selector hang below their finding (child -> parent).
_PARENT_LINKS = (QIKG.supportedBy, OA.hasTarget, OA.hasSelector)
_SHORT = 60

#: Runs the shapes over a graph and returns the sh:ValidationReport graph, as pyshacl does.
Engine = Callable[[rdflib.Graph], rdflib.Graph]
#: The setting that chooses the engine: ``auto`` (default), ``pyshacl`` or ``pyshacl-turbo``.
ENGINE_SETTING = "QIKG_SHACL_ENGINE"
REFERENCE = "pyshacl"
FAST = "pyshacl-turbo"
#: Versions of the fast engine whose reports were identical to pyshacl's on every shape and test
#: sheet (tests/test_validate_engines.py); ``auto`` uses no other. Add a version after that test
#: passes with it installed.
IDENTICAL_VERSIONS = {FAST: ("0.6.5",)}
_log = logging.getLogger(__name__)


def new_graph() -> rdflib.Graph:
    """An empty graph for data that is built, checked and written in one pass (an import's).

    rdflib's default store spends most of an import's time: each triple added fires an event
    and is filed under its contexts, and each triple read looks its contexts up again (a coding
    sheet of 10,000 findings: 31 of 62 s). This store keeps one index by subject and builds the
    others when first asked, then keeps them current: adding a triple of a real sheet took
    1.5 µs instead of 18.5 µs, copying it 3 µs instead of 57 µs (one run, the same triples).

    >>> g = new_graph()
    >>> _ = g.add((DATA["s1"], RDF.type, QIKG.Study))
    >>> _ = g.add((DATA["s1"], RDF.type, QIKG.Study))
    >>> len(g), [s.n3() for s in g.subjects(RDF.type, QIKG.Study)]
    (1, ['<https://w3id.org/qikg/data/s1>'])
    """
    return rdflib.Graph(store=_Triples())


class _Triples(SimpleMemory):
    """Triples by subject, predicate, object; the predicate and object indexes are built on the
    first question that needs them. No events, contexts or quoted graphs (a plain graph needs
    none); prefixes as SimpleMemory keeps them."""

    def __init__(self, configuration: str | None = None, identifier=None) -> None:
        super().__init__(configuration, identifier)
        self._spo: dict = {}
        self._pos: dict | None = None  # predicate -> object -> subjects, once asked
        self._osp: dict | None = None  # object -> subject -> predicates, once asked
        self._count = 0

    def add(self, triple, context=None, quoted=False) -> None:
        s, p, o = triple
        po: dict | None = self._spo.get(s)
        if po is None:
            po = self._spo[s] = {}
        objects: dict | None = po.get(p)
        if objects is None:
            objects = po[p] = {}
        if o in objects:
            return
        objects[o] = None
        self._count += 1
        if self._pos is not None:
            self._pos.setdefault(p, {}).setdefault(o, {})[s] = None
        if self._osp is not None:
            self._osp.setdefault(o, {}).setdefault(s, {})[p] = None

    def addN(self, quads) -> None:  # noqa: N802 (rdflib's name)
        add = self.add
        for s, p, o, _ in quads:
            add((s, p, o))

    def remove(self, triple_pattern, context=None) -> None:
        for (s, p, o), _ in list(self.triples(triple_pattern)):
            _discard(self._spo, s, p, o)
            if self._pos is not None:
                _discard(self._pos, p, o, s)
            if self._osp is not None:
                _discard(self._osp, o, s, p)
            self._count -= 1

    def _by_predicate(self) -> dict:
        if self._pos is None:
            pos: dict = {}
            for s, po in self._spo.items():
                for p, objects in po.items():
                    by_object = pos.setdefault(p, {})
                    for o in objects:
                        by_object.setdefault(o, {})[s] = None
            self._pos = pos
        return self._pos

    def _by_object(self) -> dict:
        if self._osp is None:
            osp: dict = {}
            for s, po in self._spo.items():
                for p, objects in po.items():
                    for o in objects:
                        osp.setdefault(o, {}).setdefault(s, {})[p] = None
            self._osp = osp
        return self._osp

    def triples(self, triple_pattern, context=None):
        """The matching triples, each with no contexts; safe to change the graph meanwhile."""
        s, p, o = triple_pattern
        none = ()
        if s is not None:
            for p2, objects in list(self._spo.get(s, {}).items()):
                if p is not None and p2 != p:
                    continue
                if o is None:
                    for o2 in list(objects):
                        yield (s, p2, o2), none
                elif o in objects:
                    yield (s, p2, o), none
        elif p is not None:
            by_object = self._by_predicate().get(p, {})
            pairs = list(by_object.items()) if o is None else [(o, by_object.get(o, {}))]
            for o2, subjects in pairs:
                for s2 in list(subjects):
                    yield (s2, p, o2), none
        elif o is not None:
            for s2, predicates in list(self._by_object().get(o, {}).items()):
                for p2 in list(predicates):
                    yield (s2, p2, o), none
        else:
            for s2, po in list(self._spo.items()):
                for p2, objects in list(po.items()):
                    for o2 in list(objects):
                        yield (s2, p2, o2), none

    def subjects(self) -> Iterable:
        """Each subject once."""
        return self._spo.keys()

    def objects(self) -> Iterator:
        """Each object, once per subject and predicate it is the object of."""
        for po in self._spo.values():
            for objects in po.values():
                yield from objects

    def take_all(self, graph: rdflib.Graph) -> None:
        """Add every triple of ``graph``, read from its indexes when it is a graph of this kind."""
        store = graph.store
        if not isinstance(store, _Triples):
            self.addN((s, p, o, None) for s, p, o in graph)
            return
        add = self.add
        for s, po in store._spo.items():
            for p, objects in po.items():
                for o in objects:
                    add((s, p, o))

    def __len__(self, context=None) -> int:
        return self._count

    def contexts(self, triple=None):
        return iter(())


def _discard(index: dict, a, b, c) -> None:
    """Take ``c`` out of ``index[a][b]``, and the keys it leaves empty."""
    inner = index[a]
    del inner[b][c]
    if not inner[b]:
        del inner[b]
        if not inner:
            del index[a]


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a look) in the data, in the researcher's words.

    >>> Problem("warning", "This study has no DOI.", "https://w3id.org/qikg/data/s1",
    ...         "https://w3id.org/qikg/ontology#doi", None, study="s1").severity
    'warning'
    """

    severity: str  # "violation" | "warning" | "info"
    message: str  # the shape's sh:message, with values filled in
    focus: str  # IRI of the node with the problem
    path: str | None  # IRI of the property, if any
    value: str | None  # the offending value, if any (lexical form or IRI)
    finding: str | None = None  # "study_id/finding_id" of the finding concerned
    study: str | None = None  # study_id concerned
    source: str | None = None  # where in the researcher's file, filled through ``locate``


@dataclass
class Report:
    """The problems found in one validation, and how many findings were checked.

    >>> r = Report([Problem("warning", "No DOI.", "x", None, None, study="s1")], 3)
    >>> r.conforms, r.summary()
    (True, '1 warning in 3 findings')
    """

    problems: list[Problem]
    findings_checked: int
    #: pyshacl's results with messages filled in, as N-Triples: far smaller than a graph.
    results: str = field(default="", repr=False, compare=False)

    @property
    def conforms(self) -> bool:
        """True when nothing refuses the import (warnings and infos may remain)."""
        return not any(p.severity == "violation" for p in self.problems)

    def counts(self) -> dict[str, int]:
        """How many problems of each severity.

        >>> Report([], 0).counts()
        {'violation': 0, 'warning': 0, 'info': 0}
        """
        counts = dict.fromkeys(_RANK, 0)
        for p in self.problems:
            counts[p.severity] = counts.get(p.severity, 0) + 1
        return counts

    def summary(self) -> str:
        """One line: what was found, in how many findings.

        >>> Report([], 14).summary()
        'no problems in 14 findings'
        >>> p = Problem("violation", "m", "x", None, None)
        >>> Report([p, p, replace(p, severity="info")], 1).summary()
        '2 violations, 1 info in 1 finding'
        """
        counts = self.counts()
        parts = [_count(n, s, _PLURAL[s]) for s, n in counts.items() if n and s in _PLURAL]
        found = ", ".join(parts) if parts else "no problems"
        return f"{found} in {_count(self.findings_checked, 'finding', 'findings')}"

    def extend(self, other: Report) -> None:
        """Add the problems, findings and SHACL results of another part of the data.

        >>> r = Report([], 2)
        >>> r.extend(Report([Problem("violation", "m", "x", None, None)], 3))
        >>> r.summary()
        '1 violation in 5 findings'
        """
        self.problems += other.problems
        self.findings_checked += other.findings_checked
        self.results += other.results

    def to_text(self, infos: bool = True) -> str:
        """Problems grouped by finding, then by study, then the rest; ends with the summary.

        With ``infos=False`` the information-only notes are counted in the summary, not listed.
        """
        groups: dict[tuple[int, str], list[Problem]] = {}
        for p in self.problems:
            if not infos and p.severity == "info":
                continue
            if p.finding is not None:
                key = (0, f"Finding {p.finding}")
            elif p.study is not None:
                key = (1, f"Study {p.study}")
            else:
                key = (2, "Other")
            groups.setdefault(key, []).append(p)
        lines: list[str] = []
        for (_, title), problems in sorted(
            groups.items(), key=lambda kv: (kv[0][0], natural_key(kv[0][1]))
        ):
            lines.append(title)
            for p in sorted(problems, key=lambda p: _RANK.get(p.severity, 3)):
                where = f" {p.source}:" if p.source else ""
                lines.append(f"  {p.severity}:{where} {p.message}")
        lines.append(self.summary())
        return "\n".join(lines)

    def to_json(self) -> dict:
        """A JSON-ready dict: conforms, summary, counts, findings_checked and the problems.

        >>> Report([], 2).to_json()["summary"]
        'no problems in 2 findings'
        """
        return {
            "conforms": self.conforms,
            "summary": self.summary(),
            "counts": self.counts(),
            "findings_checked": self.findings_checked,
            "problems": [asdict(p) for p in self.problems],
        }

    def to_turtle(self) -> str:
        """The sh:ValidationReport in Turtle: pyshacl's results with messages filled in, plus
        the problems found outside SHACL (e.g. by the importer).

        >>> "sh:conforms true" in Report([], 0).to_turtle()
        True
        """
        graph = _report_graph(self.results, self.problems, self.conforms)
        graph.bind("sh", SH)
        return graph.serialize(format="turtle")


class Violations(DataProblem):
    """Data that failed validation, so nothing was imported: ``report`` names each problem."""

    def __init__(self, message: str, report: Report) -> None:
        super().__init__(message)
        self.report = report


def load_shapes() -> rdflib.Graph:
    """All ``shapes/*.ttl`` in one graph, new on every call (pyshacl changes the graph it uses).

    >>> (None, SH.targetClass, QIKG.Finding) in load_shapes()
    True
    """
    triples, prefixes = _parsed_shapes(_shapes_version())
    graph = rdflib.Graph()
    graph.addN((s, p, o, graph) for s, p, o in triples)
    for prefix, ns in prefixes:
        graph.bind(prefix, ns)
    return graph


@functools.lru_cache(maxsize=4)
def _parsed_shapes(files: tuple[tuple[str, int], ...]) -> tuple[tuple, tuple]:
    """The triples and prefixes of the shapes files, parsed once per version of the files."""
    graph = rdflib.Graph()
    for path, _ in files:
        graph.parse(Path(path), format="turtle")
    return tuple(graph), tuple((p, str(ns)) for p, ns in graph.namespaces())


def validate(
    data: rdflib.Graph | Iterable[rdflib.Graph],
    context: rdflib.Graph | None = None,
    locate: Callable[[Problem], str | None] | None = None,
    engine: str | Engine | None = None,
) -> Report:
    """Validate ``data`` (a graph, or several graphs taken as one: a batch's study graphs, with
    no copy of them made) against the shapes; report only problems of nodes that ``data``
    describes.

    ``context`` supplies what the data points to but does not describe: the ``rdf:type`` (and
    ``skos:inScheme``) triples of vocabulary concepts, of a study already in the store, and the
    ``rdfs:subClassOf`` axioms. Only context triples about nodes the data points to (and does not
    describe itself) are used, so the cost grows with the data, not with the context; problems of
    nodes the data does not describe are left out. ``locate`` fills each problem's ``source``.
    ``engine`` overrides the ``QIKG_SHACL_ENGINE`` setting (see ``shacl_results``).

    >>> g = rdflib.Graph()
    >>> _ = g.add((DATA["s1"], RDF.type, QIKG.Study))
    >>> report = validate(g)
    >>> report.summary()
    '4 violations, 3 warnings in 0 findings'
    >>> sorted({p.study for p in report.problems})
    ['s1']
    """
    parts = [data] if isinstance(data, rdflib.Graph) else list(data)
    described, pointed = graph_nodes(parts)
    findings = len(set().union(*(_subjects(part, RDF.type, QIKG.Finding) for part in parts)))
    if not described:
        return Report([], findings)
    run = _engine(engine) if engine is None or isinstance(engine, str) else engine
    graph = _union(parts, context, pointed, plain=run is _pyshacl)
    results = shacl_results(graph, run)
    owners = _Owners(graph)
    problems: dict[tuple, Problem] = {}
    for result in list(results.objects(None, SH.result)):
        focus = results.value(result, SH.focusNode)
        if focus not in described:
            _drop(results, result)
            continue
        problem = _problem(results, result, focus, owners)
        _set_message(results, result, problem.message)
        key = (problem.severity, problem.message, problem.focus, problem.path, problem.value)
        problems.setdefault(key, problem)
    found = sorted(problems.values(), key=_order)
    if locate is not None:
        found = [replace(p, source=locate(p)) for p in found]
    return Report(found, findings, results.serialize(format="nt"))


def shacl_results(graph: rdflib.Graph, engine: str | Engine | None = None) -> rdflib.Graph:
    """The SHACL report graph of ``graph``: pyshacl's, or the fast engine's where it is the same.

    ``engine`` is an engine name, a function (to compare a candidate), or None for the setting;
    an error of any engine but pyshacl is logged and pyshacl's report returned instead.

    >>> g = rdflib.Graph()
    >>> _ = g.add((DATA["s1"], RDF.type, QIKG.Study))
    >>> [c.toPython() for c in shacl_results(g, "pyshacl").objects(None, SH.conforms)]
    [False]
    """
    run = _engine(engine) if engine is None or isinstance(engine, str) else engine
    if run is _pyshacl:
        return _pyshacl(graph)
    try:
        return run(graph)
    except Exception as exc:  # the fast engine is an optimisation: pyshacl decides on any error
        name = getattr(run, "__name__", repr(run)).strip("_").replace("_", "-")
        _log.warning("SHACL engine %s failed (%r); validating with pyshacl", name, exc)
        return _pyshacl(graph)


def engine_name(engine: str | None = None) -> str:
    """The engine a validation uses: ``engine`` or the ``QIKG_SHACL_ENGINE`` setting, with
    ``auto`` (the default) meaning the fast engine when it is installed in a version known to
    give pyshacl's reports, else pyshacl.

    >>> engine_name("pyshacl")
    'pyshacl'
    """
    wanted = (engine or os.environ.get(ENGINE_SETTING) or "auto").strip().lower()
    if wanted == REFERENCE:
        return REFERENCE
    if wanted == FAST:
        return FAST if _installed(FAST) else REFERENCE
    if wanted != "auto":
        raise BadInput(f"{ENGINE_SETTING}={wanted!r}: use auto, {REFERENCE} or {FAST}")
    return FAST if _installed(FAST) in IDENTICAL_VERSIONS[FAST] else REFERENCE


def _installed(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _engine(engine: str | None) -> Engine:
    return ENGINES[engine_name(engine)]


def _pyshacl(graph: rdflib.Graph) -> rdflib.Graph:
    # No ``focus_nodes=``: pyshacl 0.40.1 then also drops the value nodes that sh:or/sh:node
    # check when they are not in the list, so an enabler that is an outcome would pass. The
    # graph holds only the data and what it points to, so its targets scale with the data.
    if not graph.store.context_aware:  # pyshacl sees the data graph's store as a Dataset
        graph = _plain(graph)
    _, results, _ = pyshacl.validate(
        graph, shacl_graph=load_shapes(), inference="none", allow_warnings=True, allow_infos=True
    )
    return results


def _plain(graph: rdflib.Graph) -> rdflib.Graph:
    """The triples of ``graph`` in a graph of rdflib's default store."""
    plain = rdflib.Graph()
    plain.addN((s, p, o, plain) for s, p, o in graph)
    return plain


def _pyshacl_turbo(graph: rdflib.Graph) -> rdflib.Graph:
    """pyshacl-turbo (Rust) with pyshacl's arguments; the same report graph, about 10x faster."""
    _, results, _ = _turbo_shapes(_shapes_version()).validate(
        graph, inference="none", allow_warnings=True, allow_infos=True
    )
    return results


@functools.lru_cache(maxsize=2)
def _turbo_shapes(version: tuple[tuple[str, int], ...]):
    """The shapes compiled by pyshacl-turbo once per version of the files (it leaves them as
    they are, unlike pyshacl)."""
    import pyshacl_turbo  # optional: only when chosen

    return pyshacl_turbo.compile_shapes(load_shapes())


#: The engines qikg can run, by name; a candidate is compared by passing its function as ``engine``.
ENGINES: dict[str, Engine] = {REFERENCE: _pyshacl, FAST: _pyshacl_turbo}


def _shapes_version() -> tuple[tuple[str, int], ...]:
    return tuple((str(p), p.stat().st_mtime_ns) for p in sorted(shapes_dir().glob("*.ttl")))


def graph_nodes(graphs: Iterable[rdflib.Graph]) -> tuple[set, set[URIRef]]:
    """The nodes the graphs describe (their subjects), and the IRIs they point to but do not
    describe: the nodes whose types and kinds validation takes from the context.

    >>> g = new_graph()
    >>> _ = g.add((DATA["s1"], QIKG.evaluatesProgramme, DATA["programme/p"]))
    >>> [[curie(n) for n in nodes] for nodes in graph_nodes([g])]
    [['qikgd:s1'], ['qikgd:programme/p']]
    """
    described: set = set()
    pointed: set[URIRef] = set()
    for graph in graphs:
        store = graph.store
        if isinstance(store, _Triples):
            described.update(store.subjects())
            objects: Iterable = store.objects()
        else:
            described.update(graph.subjects())
            objects = graph.objects()
        pointed.update(o for o in objects if type(o) is URIRef or isinstance(o, URIRef))
    return described, pointed - described


def _subjects(graph: rdflib.Graph, p: URIRef, o: URIRef) -> Iterable:
    """The subjects of ``p o`` in ``graph``; from a ``new_graph``, without the index by
    predicate (made to answer one question, it costs more than reading every subject's)."""
    store = graph.store
    if isinstance(store, _Triples):
        return (s for s, po in store._spo.items() if o in po.get(p, ()))
    return graph.subjects(p, o)


def _union(
    parts: list[rdflib.Graph],
    context: rdflib.Graph | None,
    pointed: set[URIRef],
    plain: bool = False,
) -> rdflib.Graph:
    """The data plus the context triples about the nodes it points to but does not describe,
    in a graph of rdflib's default store if ``plain`` (as pyshacl needs), else of ``new_graph``'s.

    Context triples about nodes the data describes are left out: the data is their new version.
    """
    union = _Triples()
    for part in parts:
        union.take_all(part)
    if context is not None:
        for node in pointed:
            union.addN((s, p, o, None) for s, p, o in context.triples((node, None, None)))
        union.addN((s, p, o, None) for s, p, o in context.triples((None, RDFS.subClassOf, None)))
    graph = rdflib.Graph(store=union)
    return _plain(graph) if plain else graph


def _problem(results: rdflib.Graph, result, focus, owners: _Owners) -> Problem:
    severity = SEVERITIES.get(results.value(result, SH.resultSeverity), "violation")
    path = results.value(result, SH.resultPath)
    value = results.value(result, SH.value)
    messages = sorted(str(m) for m in results.objects(result, SH.resultMessage))
    message = _fill(
        " ".join(messages) or "This value does not fit the data model.", focus, path, value
    )
    finding, study = owners.of(focus)
    return Problem(
        severity=severity,
        message=message,
        focus=str(focus),
        path=str(path) if isinstance(path, URIRef) else None,
        value=None if value is None else str(value),
        finding=finding,
        study=study,
    )


def _fill(message: str, focus, path, value) -> str:
    """Fill ``{$value}``, ``{$this}`` and ``{$path}``, which pyshacl leaves in core results.

    >>> _fill("{$value} is not a role.", None, None, URIRef("https://w3id.org/qikg/ontology#Nurse"))
    'qikg:Nurse is not a role.'
    >>> _fill("{$value} is not a role.", None, None, Literal("nurse"))
    '"nurse" is not a role.'
    """
    terms = {"value": value, "this": focus, "path": path}

    def fill(match: re.Match) -> str:
        term = terms[match.group(1)]
        quoted = match.start() > 0 and message[match.start() - 1] == '"'
        text = _readable(term)
        return f'"{text}"' if isinstance(term, Literal) and not quoted else text

    return _PLACEHOLDER.sub(fill, message)


def _readable(term) -> str:
    """A term as a researcher reads it: a CURIE for an IRI, the text of a literal, shortened."""
    if term is None:
        return ""
    if isinstance(term, BNode):
        return "(an unnamed node)"
    text = curie(str(term)) if isinstance(term, URIRef) else str(term)
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


def _set_message(results: rdflib.Graph, result, message: str) -> None:
    results.remove((result, SH.resultMessage, None))
    results.add((result, SH.resultMessage, Literal(message)))


def _drop(results: rdflib.Graph, result) -> None:
    results.remove((None, SH.result, result))
    results.remove((result, None, None))


class _Owners:
    """Which finding (``study_id/finding_id``) and study a node belongs to."""

    def __init__(self, graph: rdflib.Graph) -> None:
        self.graph = graph

    def of(self, node) -> tuple[str | None, str | None]:
        g = self.graph
        for _ in range(len(_PARENT_LINKS) + 1):
            if (node, RDF.type, QIKG.Finding) in g:
                return self.finding(node)
            if (node, RDF.type, QIKG.Study) in g:
                return None, self.study(node)
            parent = next((s for link in _PARENT_LINKS for s in g.subjects(link, node)), None)
            if parent is None:
                break
            node = parent
        match = _FINDING_IRI.match(str(node))
        if match:
            return f"{match[1]}/{match[2]}", match[1]
        match = _STUDY_IRI.match(str(node))
        return None, (match[1] if match else None)

    def finding(self, node) -> tuple[str, str | None]:
        match = _FINDING_IRI.match(str(node))
        studies = sorted(self.graph.objects(node, QIKG.reportedIn), key=str)
        study = self.study(studies[0]) if studies else (match[1] if match else None)
        fid = _single_text(self.graph.objects(node, DCTERMS.identifier))
        fid = fid or (match[2] if match else str(node))
        return f"{study or '?'}/{fid}", study

    def study(self, node) -> str:
        sid = _single_text(self.graph.objects(node, DCTERMS.identifier))
        match = _STUDY_IRI.match(str(node))
        return sid or (match[1] if match else str(node))


def _single_text(values: Iterable) -> str | None:
    texts = {str(v) for v in values if isinstance(v, Literal)}
    return texts.pop() if len(texts) == 1 else None


def _order(p: Problem) -> tuple:
    group = 0 if p.finding is not None else 1 if p.study is not None else 2
    return (
        group,
        natural_key(p.finding or p.study or p.focus),
        _RANK.get(p.severity, 3),
        p.path or "",
        p.message,
        p.value or "",
    )


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _report_graph(results: str, problems: list[Problem], conforms: bool) -> rdflib.Graph:
    """One sh:ValidationReport with the results (N-Triples of one or more pyshacl reports, one
    per part of the data checked) and every problem in it."""
    graph = rdflib.Graph().parse(data=results, format="nt")
    for prefix, ns in load_shapes().namespaces():
        graph.bind(prefix, ns)
    report, *others = [*graph.subjects(RDF.type, SH.ValidationReport)] or [BNode()]
    graph.add((report, RDF.type, SH.ValidationReport))
    for other in others:
        for result in list(graph.objects(other, SH.result)):
            graph.add((report, SH.result, result))
        graph.remove((other, None, None))
    graph.set((report, SH.conforms, Literal(conforms)))
    known = {
        (str(graph.value(r, SH.focusNode)), str(m))
        for r in graph.objects(report, SH.result)
        for m in graph.objects(r, SH.resultMessage)
    }
    severity = {v: k for k, v in SEVERITIES.items()}
    for p in problems:
        if (p.focus, p.message) in known:
            continue
        result = BNode()
        graph.add((report, SH.result, result))
        graph.add((result, RDF.type, SH.ValidationResult))
        graph.add((result, SH.resultSeverity, severity.get(p.severity, SH.Violation)))
        graph.add((result, SH.resultMessage, Literal(p.message)))
        if p.focus:
            graph.add((result, SH.focusNode, URIRef(p.focus)))
        if p.path:
            graph.add((result, SH.resultPath, URIRef(p.path)))
        if p.value is not None:
            graph.add((result, SH.value, Literal(p.value)))
    return graph


__all__ = [
    "ENGINES",
    "Engine",
    "Problem",
    "Report",
    "Violations",
    "engine_name",
    "graph_nodes",
    "load_shapes",
    "new_graph",
    "shacl_results",
    "validate",
]
