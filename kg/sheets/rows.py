"""What the rows of every sheet (studies, findings, reviews) become: the batch they fill, the
problems noted against their cells, checked ids and typed values."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import rdflib
from rdflib import Literal, URIRef

from kg.namespaces import QIKG, study_graph
from kg.sheets.read import Table
from kg.synthesis.model import review_graph
from kg.validate import Problem, new_graph

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
CONFIDENCE = {
    "high": QIKG.HighConfidence,
    "moderate": QIKG.ModerateConfidence,
    "low": QIKG.LowConfidence,
    "very low": QIKG.VeryLowConfidence,
}


@dataclass
class Batch:
    """What a coding sheet (or RDF file) holds, ready to validate and commit."""

    graphs: dict[str, rdflib.Graph] = field(default_factory=dict)
    shared: rdflib.Graph = field(default_factory=new_graph)
    problems: list[Problem] = field(default_factory=list)
    origins: dict[tuple[str, str | None], str] = field(default_factory=dict)
    findings: int = 0
    concepts: set[str] = field(default_factory=set)
    reviews: dict[str, rdflib.Graph] = field(default_factory=dict)
    #: (node, property) of cells already reported as unreadable: the shapes' "missing" message
    #: about the same cell would contradict the report (an invalid DOI is not "no DOI").
    reported: set[tuple[str, str]] = field(default_factory=set)
    #: What validation needs to know of nodes outside the batch (findings of the same sheet that
    #: its review findings cite, read in an earlier batch); never written.
    context: rdflib.Graph = field(default_factory=new_graph)
    #: The text each study was coded from, by study id (kg.sheets.read.read_sources).
    sources: dict[str, str] = field(default_factory=dict)

    def data(self) -> rdflib.Graph:
        """Everything the batch would write: the study and review graphs and the shared
        descriptions."""
        union = new_graph()
        for graph in self.parts():
            union += graph
        return union

    def parts(self) -> list[rdflib.Graph]:
        """The graphs ``data`` unites, as they are (``kg.validate.validate`` takes them so)."""
        return [*self.graphs.values(), *self.reviews.values(), self.shared]

    def named_graphs(self) -> dict[str, str]:
        """The N-Triples of each study and review graph, by graph IRI (the shared graph apart)."""
        named = {study_graph(sid): g for sid, g in self.graphs.items()}
        named.update({review_graph(review): g for review, g in self.reviews.items()})
        return {iri: g.serialize(format="nt") for iri, g in named.items()}

    def locate(self, problem: Problem) -> str | None:
        """Where in the researcher's file a SHACL problem comes from, if known."""
        return self.origins.get((problem.focus, problem.path)) or self.origins.get(
            (problem.focus, None)
        )


def add_problem(
    batch: Batch,
    message: str,
    where: str,
    finding: str | None = None,
    *,
    study: str | None = None,
    about: tuple[object, object] | None = None,
    severity: str = "violation",
) -> None:
    """Note a problem of the sheet at ``where`` (sheet, row, column), under its finding or
    study; ``about`` names the (node, property) the cell would have given. A ``"warning"`` is
    reported but does not stop the import."""
    study = study or (finding.split("/")[0] if finding else None)
    if about is not None:
        batch.reported.add((str(about[0]), str(about[1])))
    batch.problems.append(
        Problem(severity, message, "", None, None, finding=finding, study=study, source=where)
    )


def check_id(batch: Batch, table: Table, number: int, column: str, value: str) -> bool:
    """Whether ``value`` is a usable id for ``column``; else a problem is noted."""
    if not value:
        add_problem(batch, f"{column} is required", table.where(number, column))
        return False
    if not ID.match(value):
        add_problem(
            batch,
            f'"{value}" is not a usable {column}: use letters, digits, "-", "_" or "." '
            "and start with a letter or digit",
            table.where(number, column),
        )
        return False
    return True


class Terms:
    """A vocabulary whose IRIs are made once each. ``QIKG.statement`` makes a new URIRef at every
    use: about 25 times a finding row, a sixth of the time a sheet takes to become RDF.

    >>> from kg.namespaces import QIKG
    >>> terms = Terms(QIKG)
    >>> terms.Finding == QIKG.Finding, terms.Finding is terms.Finding
    (True, True)
    """

    def __init__(self, namespace: object) -> None:
        self._namespace = namespace

    def __getattr__(self, name: str) -> URIRef:
        if name.startswith("_"):  # asked by tools (doctest, mock), never a term of ours
            raise AttributeError(name)
        term = URIRef(getattr(self._namespace, name))
        setattr(self, name, term)  # found as an attribute from now on
        return term


def typed(value: str, datatype: URIRef, parse: Callable[[str], object]) -> Literal:
    """A typed literal when the text parses, else the plain text (the shapes then report it)."""
    try:
        parse(value)
    except ValueError:
        return Literal(value)
    return Literal(value, datatype=datatype)
