"""Build the store from the bundled ontology, shapes and coded studies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from kg.errors import DataProblem
from kg.meta import stale_flag
from kg.namespaces import META_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH, SHARED_GRAPH
from kg.resources import data_dir, ontology_dir, shapes_dir
from kg.sheets.read import read_sources, read_tables
from kg.sheets.to_rdf import tables_to_batch
from kg.store import Store
from kg.store.history import change
from kg.synthesis.sheet import batch_findings
from kg.validate import validate
from kg.vocabulary import Vocabulary


@dataclass
class BuildReport:
    """What a build loaded."""

    ontology_triples: int
    studies: list[str]
    findings: int


def turtle_folder_ntriples(folder: Path) -> str:
    """Every ``*.ttl`` file of a folder, parsed and joined as N-Triples text."""
    quads: list[ox.Triple] = []
    for file in sorted(folder.glob("*.ttl")):
        try:
            quads.extend(q.triple for q in ox.parse(path=str(file), format=ox.RdfFormat.TURTLE))
        except SyntaxError as exc:
            raise DataProblem(f"{file}: Turtle syntax error: {exc}") from None
    return (ox.serialize(quads, format=ox.RdfFormat.N_TRIPLES) or b"").decode()


def bundled_studies() -> list[Path]:
    """The coding-sheet folders of the bundled studies."""
    root = data_dir() / "studies"
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.exists() else []


def bundled_reviews() -> list[Path]:
    """The folder of the bundled review findings (a ``reviews.csv``), if there is one."""
    folder = data_dir() / "reviews"
    return [folder] if (folder / "reviews.csv").exists() else []


def build(store: Store, *, fresh: bool = False) -> BuildReport:
    """Load the ontology, shapes, bundled studies and bundled reviews (which synthesise the
    studies' findings), replacing their graphs in one transaction.

    Idempotent: building twice gives the same graphs. Studies a user imported stay, unless
    ``fresh``, which first empties the store.
    """
    ontology = turtle_folder_ntriples(ontology_dir())
    shapes = turtle_folder_ntriples(shapes_dir())
    vocab = Vocabulary.from_graph(rdflib.Graph().parse(data=ontology, format="nt"))
    graphs = {str(ONTOLOGY_GRAPH): ontology, str(SHAPES_GRAPH): shapes}
    findings = 0
    shared = rdflib.Graph()
    folders = bundled_studies()
    names = {p.name for p in folders}
    primary = rdflib.Graph()  # the studies read so far: what the reviews' findings point to
    known: set[str] = set()
    for folder in [*folders, *bundled_reviews()]:
        tables = read_tables(folder)
        batch = tables_to_batch(
            tables, vocab, names.__contains__, known_findings=known, sources=read_sources(folder)
        )
        context = vocab.type_triples(batch.concepts) + primary
        report = validate(batch.data(), context, locate=batch.locate)
        report.problems[:0] = batch.problems
        if not report.conforms:
            message = f"bundled data {folder.relative_to(data_dir())} does not validate"
            raise DataProblem(f"{message}:\n{report.to_text()}")
        graphs.update(batch.named_graphs())
        findings += batch.findings
        shared += batch.shared
        primary += batch.data()
        known |= batch_findings(batch)
    graphs[str(META_GRAPH)] = stale_flag()
    drop = tuple(store.graph_names()) if fresh else ()
    with change("build"):
        store.replace_graphs(
            graphs, drop=drop, extend={str(SHARED_GRAPH): shared.serialize(format="nt")}
        )
    return BuildReport(ontology.count("\n"), sorted(names), findings)
