"""Turn a REFI-QDA project (and its mapping table) into a study's RDF, following docs/model.md.

- The codebook becomes a SKOS concept scheme of the study's own: one ``skos:Concept`` per code
  (``qikgd:{study}/code/{guid}``), nested codes as ``skos:broader``, code sets as
  ``skos:Collection``, and the mapping table's rows as ``skos:exactMatch``/``closeMatch``/...
- Each coded text selection becomes a ``qikg:Quote`` (a Web Annotation whose ``oa:hasBody`` is
  each code it is coded with), anchored in its source by a ``TextQuoteSelector`` and a
  ``TextPositionSelector``; each coding is also an ``oa:Annotation`` of its own, so who applied
  which code when is kept.
- A finding code (``finding: yes`` in the table, or a member of a set named "Findings" or
  "Themes") becomes a ``qikg:Finding`` coded with the mapped concepts of the codes on its
  selections and on selections overlapping them.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import rdflib
from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, RDF, SKOS, XSD

from kg.coding import BY_COLUMN, DIMENSIONS, QUALIFIERS
from kg.namespaces import DATA, OA, QIKG, finding_iri, study_iri
from kg.qda.anchor import Anchor, SourceText, Unanchorable
from kg.qda.mapping import CODING_MATCHES, FINDING_SETS, Mapping
from kg.qda.read import Project, Selection, Source
from kg.text import slug
from kg.validate import Problem
from kg.vocabulary import Vocabulary


def code_iri(study_id: str, key: str) -> URIRef:
    """The IRI of one of a study's codes.

    >>> code_iri("s1", "6f2e0b1a-aaaa-4bbb-8ccc-0123456789ab")
    rdflib.term.URIRef('https://w3id.org/qikg/data/s1/code/6f2e0b1a-aaaa-4bbb-8ccc-0123456789ab')
    """
    return DATA[f"{study_id}/code/{key}"]


def scheme_iri(study_id: str) -> URIRef:
    """The IRI of a study's codebook (its concept scheme)."""
    return DATA[f"{study_id}/codebook"]


@dataclass
class Moved:
    """A selection whose positions were wrong, and where its words were found."""

    source: str
    selection: str
    given: tuple[int | None, int | None]
    found: tuple[int, int]
    how: str


@dataclass
class Anchoring:
    """How the coded selections were anchored in their sources."""

    as_given: int = 0
    unchecked: int = 0
    moved: list[Moved] = field(default_factory=list)
    #: (source name, selection GUID, why): skipped, not stored.
    failed: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """How many coded selections there were."""
        return self.as_given + self.unchecked + len(self.moved) + len(self.failed)

    def summary(self) -> str:
        """One line: how many selections were anchored as given, re-anchored, or skipped."""
        parts = [f"{self.as_given} at their given positions"]
        if self.unchecked:
            parts.append(f"{self.unchecked} unchecked (no selected words to compare)")
        parts.append(f"{len(self.moved)} re-anchored")
        parts.append(f"{len(self.failed)} could not be anchored and were skipped")
        return f"{self.total} coded selections: " + ", ".join(parts)

    def to_text(self) -> str:
        """The summary, then one line per re-anchored or skipped selection."""
        lines = [self.summary()]
        for m in self.moved:
            lines.append(
                f"  re-anchored ({m.how}): {m.source}, selection {m.selection}: "
                f"{m.given[0]}-{m.given[1]} -> {m.found[0]}-{m.found[1]}"
            )
        for source, selection, why in self.failed:
            lines.append(f"  skipped: {source}, selection {selection}: {why}")
        return "\n".join(lines)


@dataclass
class Built:
    """A project's triples for the study graph and the shared graph, and what was made."""

    graph: rdflib.Graph = field(default_factory=rdflib.Graph)
    shared: rdflib.Graph = field(default_factory=rdflib.Graph)
    problems: list[Problem] = field(default_factory=list)
    origins: dict[tuple[str, str | None], str] = field(default_factory=dict)
    quotes: int = 0
    findings: int = 0
    anchoring: Anchoring = field(default_factory=Anchoring)


@dataclass
class _Placed:
    """An anchored selection: where it is and which codes it carries."""

    source: Source
    selection: Selection
    anchor: Anchor
    quote: URIRef
    codes: set[str]


def build(
    project: Project,
    study_id: str,
    mapping: Mapping,
    vocab: Vocabulary,
    derived_from: URIRef | None = None,
) -> Built:
    """The RDF of a project for one study; ``derived_from`` is the study's DOI IRI, if any."""
    return _Builder(project, study_id, mapping, vocab, derived_from).run()


class _Builder:
    def __init__(
        self,
        project: Project,
        sid: str,
        mapping: Mapping,
        vocab: Vocabulary,
        derived_from: URIRef | None,
    ) -> None:
        self.p, self.sid, self.mapping, self.vocab = project, sid, mapping, vocab
        self.derived_from = derived_from
        self.out = Built()
        self.g = self.out.graph
        self.placed: list[_Placed] = []
        self.noted: set[str] = set()
        self.unknown_users: set[str] = set()

    def run(self) -> Built:
        self._codebook()
        for source in self.p.sources:
            self._source(source)
        if not self.p.is_codebook:
            self._index()
            for key in self._finding_codes():
                self._finding(key)
        for note in self.p.notes.values():
            if note.key not in self.noted and note.text:
                self.g.add((scheme_iri(self.sid), SKOS.note, Literal(note.text)))
        for what, count in self.p.ignored.items():
            self._problem(
                "warning",
                f"{count} × {what} not imported: only codings of text "
                "selections (PlainTextSelection in a TextSource) are",
                self.p.file,
            )
        return self.out

    def _problem(self, severity: str, message: str, where: str) -> None:
        self.out.problems.append(
            Problem(severity, message, "", None, None, study=self.sid, source=where)
        )

    def _codebook(self) -> None:
        g, scheme = self.g, scheme_iri(self.sid)
        g.add((scheme, RDF.type, SKOS.ConceptScheme))
        g.add((scheme, SKOS.prefLabel, Literal(f"Codebook of {self.sid}: {self.p.name}")))
        g.add((scheme, DCTERMS.source, Literal(self.p.file)))
        g.add((scheme, DCTERMS.isPartOf, study_iri(self.sid)))
        self._note(scheme, self.p.project_note_refs)
        for code in self.p.codes.values():
            c = code_iri(self.sid, code.key)
            g.add((c, RDF.type, SKOS.Concept))
            g.add((c, SKOS.inScheme, scheme))
            g.add((c, SKOS.prefLabel, Literal(code.name)))
            g.add((c, DCTERMS.identifier, Literal(code.guid)))
            if code.description:
                g.add((c, SKOS.definition, Literal(code.description)))
            if code.parent is None:
                g.add((c, SKOS.topConceptOf, scheme))
                g.add((scheme, SKOS.hasTopConcept, c))
            else:
                g.add((c, SKOS.broader, code_iri(self.sid, code.parent)))
            self._note(c, code.note_refs)
            for row in self.mapping.for_code(code.key):
                g.add((c, URIRef(row.predicate), URIRef(row.concept)))  # type: ignore[arg-type]
        for code_set in self.p.sets:
            s = DATA[f"{self.sid}/set/{code_set.key}"]
            g.add((s, RDF.type, SKOS.Collection))
            g.add((s, SKOS.prefLabel, Literal(code_set.name)))
            for member in code_set.members:
                g.add((s, SKOS.member, code_iri(self.sid, member)))

    def _note(self, node: URIRef, refs: list[str]) -> None:
        """Keep the notes ``refs`` names as ``skos:note`` texts of ``node``."""
        for ref in refs:
            note = self.p.notes.get(ref)
            if note is not None and note.text:
                self.g.add((node, SKOS.note, Literal(note.text)))
                self.noted.add(ref)

    def _agent(self, user: str | None) -> URIRef | None:
        """The prov:Agent of a REFI user GUID, described in the shared graph."""
        if user is None:
            return None
        name = self.p.users.get(user)
        if name is None:
            if user not in self.unknown_users:
                self.unknown_users.add(user)
                self._problem(
                    "warning",
                    f"the user {user} is not in the project's Users: the "
                    "selections and codings they made are not attributed",
                    self.p.file,
                )
            return None
        agent = DATA[f"agent/{slug(name)}"]
        self.out.shared.add((agent, RDF.type, PROV.Agent))
        self.out.shared.add((agent, FOAF.name, Literal(name)))
        return agent

    def _provenance(self, node: URIRef, user: str | None, created: str | None) -> None:
        """Who made ``node`` (prov:wasAttributedTo) and when (dcterms:created)."""
        agent = self._agent(user)
        if agent is not None:
            self.g.add((node, PROV.wasAttributedTo, agent))
        if created and _datetime(created):
            self.g.add((node, DCTERMS.created, Literal(created, datatype=XSD.dateTime)))
        elif created:
            self._problem(
                "warning",
                f'creationDateTime "{created}" is not a date and time; it is left out',
                self.p.file,
            )

    def _source(self, source: Source) -> None:
        g = self.g
        src = DATA[f"{self.sid}/source/{source.key}"]
        g.add((src, RDF.type, PROV.Entity))
        g.add((src, DCTERMS.title, Literal(source.name)))
        g.add((src, DCTERMS.identifier, Literal(source.guid)))
        g.add((src, DCTERMS.isPartOf, study_iri(self.sid)))
        if source.description:
            g.add((src, DCTERMS.description, Literal(source.description)))
        self._note(src, source.note_refs)
        text = SourceText(source.text) if source.text is not None else None
        anchoring = self.out.anchoring
        for sel in source.selections:
            if not sel.codings:
                continue
            try:
                if text is None:
                    raise Unanchorable(f"the source cannot be read: {source.problem}")
                anchor = text.anchor(sel.start, sel.end, sel.name)
            except Unanchorable as exc:
                anchoring.failed.append((source.name, sel.guid, str(exc)))
                continue
            if anchor.moved:
                anchoring.moved.append(
                    Moved(
                        source.name,
                        sel.guid,
                        (sel.start, sel.end),
                        (anchor.start, anchor.end),
                        anchor.how,
                    )
                )
            elif anchor.how == "unchecked":
                anchoring.unchecked += 1
            else:
                anchoring.as_given += 1
            self._quote(source, text, sel, anchor)

    def _quote(self, source: Source, text: SourceText, sel: Selection, anchor: Anchor) -> None:
        g = self.g
        q = DATA[f"{self.sid}/quote/{sel.key}"]
        target, selector, position = (
            URIRef(f"{q}/{part}") for part in ("target", "selector", "position")
        )
        prefix, exact, suffix = text.context(anchor)
        g.add((q, RDF.type, QIKG.Quote))
        g.add((q, RDF.type, OA.Annotation))
        g.add((q, OA.motivatedBy, OA.classifying))
        g.add((q, OA.hasTarget, target))
        g.add((target, RDF.type, OA.SpecificResource))
        g.add((target, OA.hasSource, DATA[f"{self.sid}/source/{source.key}"]))
        g.add((target, OA.hasSelector, selector))
        g.add((target, OA.hasSelector, position))
        g.add((selector, RDF.type, OA.TextQuoteSelector))
        g.add((selector, OA.exact, Literal(exact)))
        if prefix:
            g.add((selector, OA.prefix, Literal(prefix)))
        if suffix:
            g.add((selector, OA.suffix, Literal(suffix)))
        g.add((position, RDF.type, OA.TextPositionSelector))
        g.add((position, OA.start, Literal(anchor.start, datatype=XSD.nonNegativeInteger)))
        g.add((position, OA.end, Literal(anchor.end, datatype=XSD.nonNegativeInteger)))
        self._provenance(q, sel.user, sel.created)
        self._comments(target, sel.note_refs)
        for coding in sel.codings:
            code = code_iri(self.sid, coding.code)
            g.add((q, OA.hasBody, code))
            c = DATA[f"{self.sid}/coding/{coding.key}"]
            g.add((c, RDF.type, OA.Annotation))
            g.add((c, OA.motivatedBy, OA.classifying))
            g.add((c, OA.hasBody, code))
            g.add((c, OA.hasTarget, target))
            self._provenance(c, coding.user, coding.created)
            self._comments(target, coding.note_refs)
        self.out.quotes += 1
        self.placed.append(_Placed(source, sel, anchor, q, {c.code for c in sel.codings}))

    def _comments(self, target: URIRef, refs: list[str]) -> None:
        """Notes on a selection or coding: ``oa:commenting`` annotations of the same passage."""
        for ref in refs:
            note = self.p.notes.get(ref)
            if note is None or not note.text:
                continue
            n = DATA[f"{self.sid}/note/{note.key}"]
            self.g.add((n, RDF.type, OA.Annotation))
            self.g.add((n, OA.motivatedBy, OA.commenting))
            self.g.add((n, OA.bodyValue, Literal(note.text)))
            self.g.add((n, OA.hasTarget, target))
            if note.name:
                self.g.add((n, DCTERMS.title, Literal(note.name)))
            self._provenance(n, note.user, note.created)
            self.noted.add(ref)

    def _index(self) -> None:
        """What _finding looks up, made once: a code's children, the placed selections of each
        code (and their order), and each source's placed selections by start (with the longest
        one's length), so that finding the selections that overlap is not all against all."""
        self.children: dict[str, list[str]] = defaultdict(list)
        for code in self.p.codes.values():
            if code.parent is not None:
                self.children[code.parent].append(code.key)
        self.by_code: dict[str, list[_Placed]] = defaultdict(list)
        self.order = {id(placed): n for n, placed in enumerate(self.placed)}
        by_source: dict[int, list[_Placed]] = defaultdict(list)
        for placed in self.placed:
            for code_key in placed.codes:
                self.by_code[code_key].append(placed)
            by_source[id(placed.source)].append(placed)
        self.by_source: dict[int, tuple[list[int], list[_Placed], int]] = {}
        for key, group in by_source.items():
            group.sort(key=lambda p: p.anchor.start)
            longest = max(p.anchor.end - p.anchor.start for p in group)
            self.by_source[key] = ([p.anchor.start for p in group], group, longest)

    def _overlapping(self, support: list[_Placed]) -> set[str]:
        """The codes of every placed selection that overlaps one of ``support``."""
        spans: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for s in support:
            spans[id(s.source)].append((s.anchor.start, s.anchor.end))
        codes: set[str] = set()
        for source, found in spans.items():
            starts, group, longest = self.by_source[source]
            for start, end in _merged(found):
                # only a selection that starts less than `longest` before `start` reaches it
                low = bisect.bisect_left(starts, start - longest)
                for other in group[low : bisect.bisect_left(starts, end)]:
                    if other.anchor.end > start:
                        codes |= other.codes
        return codes

    def _finding_codes(self) -> list[str]:
        marked = self.mapping.finding_codes()
        marked |= {m for s in self.p.sets if s.name.casefold() in FINDING_SETS for m in s.members}
        return [key for key in self.p.codes if key in marked]

    def _family(self, key: str) -> set[str]:
        """A code and every code below it."""
        family, todo = {key}, [key]
        while todo:
            for child in self.children.get(todo.pop(), ()):
                if child not in family:
                    family.add(child)
                    todo.append(child)
        return family

    def _finding(self, key: str) -> None:
        code = self.p.codes[key]
        where = f'{self.p.file}: code "{code.name}"'
        if not code.description:
            self._problem(
                "violation",
                f'the finding code "{code.name}" has no description: write '
                "the finding's statement in the code's description in your QDA software",
                where,
            )
            return
        family = self._family(key)
        supporting = {id(p): p for c in family for p in self.by_code.get(c, ())}
        support = sorted(supporting.values(), key=lambda p: self.order[id(p)])
        codes = family | self._overlapping(support)
        coded = {
            (self._property(row.concept, row.role), URIRef(row.concept))  # type: ignore[arg-type]
            for c in codes
            for row in self.mapping.for_code(c)
            if row.predicate in CODING_MATCHES
        }
        if not coded:
            table = self.mapping.file or "a mapping table (--mapping)"
            self._problem(
                "violation",
                f'the finding code "{code.name}" is not mapped: map it, or '
                f"the codes on its selections, to the vocabulary in {table}",
                where,
            )
            return
        g, f = self.g, finding_iri(self.sid, key)
        g.add((f, RDF.type, QIKG.Finding))
        g.add((f, DCTERMS.identifier, Literal(key)))
        g.add((f, QIKG.reportedIn, study_iri(self.sid)))
        g.add((f, QIKG.statement, Literal(code.description)))
        g.add((f, QIKG.theme, Literal(code.name)))
        g.add((f, PROV.wasDerivedFrom, code_iri(self.sid, key)))
        if self.derived_from is not None:
            g.add((f, PROV.wasDerivedFrom, self.derived_from))
        for prop, concept in coded:
            g.add((f, prop, concept))
        direction = URIRef(BY_COLUMN["outcome_direction"].iri)
        outcomes = {c for p, c in coded if p == URIRef(BY_COLUMN["outcomes"].iri)}
        if outcomes and not g.value(f, direction):
            g.add((f, direction, QIKG.OutcomeDirectionNotStated))
            self._problem(
                "warning",
                f'the finding code "{code.name}" is coded with an outcome but nothing says what '
                'happened to it: stored with the outcome direction "not stated"; map a code of '
                "its selections to a direction (improved, worsened, no change, mixed, intended, "
                "not measured) to say it",
                where,
            )
        spans = set()
        dates = []
        for s in support:
            span = (s.source.key, s.anchor.start, s.anchor.end)
            if span not in spans:
                spans.add(span)
                g.add((f, QIKG.supportedBy, s.quote))
            for coding in s.selection.codings:
                if coding.code in family:
                    agent = self._agent(coding.user)
                    if agent is not None:
                        g.add((f, PROV.wasAttributedTo, agent))
                    if coding.created and _datetime(coding.created):
                        # the date as xsd:date writes it, whatever ISO form the tool wrote
                        dates.append(dt.datetime.fromisoformat(coding.created).date().isoformat())
        if dates:
            g.add((f, DCTERMS.created, Literal(max(dates), datatype=XSD.date)))
        self.out.findings += 1
        self.out.origins[str(f), None] = where

    def _property(self, concept: str, role: str | None) -> URIRef:
        """The coding property for a concept, from its kind (and the row's role)."""
        kinds = self.vocab.kinds(concept)
        for qualifier in QUALIFIERS:  # a code mapped to a finding kind or an outcome direction
            if kinds & set(qualifier.kind_iris):
                return URIRef(qualifier.iri)
        other = "enablers" if role == "barrier" else "barriers"  # a determinant's role decides
        for dimension in DIMENSIONS:  # in the sheet's order; "concepts" takes any concept: last
            if dimension.column not in (other, "concepts") and kinds & set(dimension.kind_iris):
                return URIRef(dimension.iri)
        return URIRef(BY_COLUMN["concepts"].iri)


def _datetime(value: str) -> bool:
    """True when ``value`` is an xsd:dateTime that Python can read."""
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return "T" in value


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans (start, end) joined where they overlap or touch, in order: a non-empty span overlaps
    one of ``spans`` exactly when it overlaps one of these.

    >>> _merged([(5, 9), (0, 3), (3, 4), (8, 12)])
    [(0, 4), (5, 12)]
    """
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out
