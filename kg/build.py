"""Build the store from the bundled ontology, shapes and coded studies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib

from kg.errors import DataProblem
from kg.importer import inferred_stale_flag
from kg.namespaces import META_GRAPH, ONTOLOGY_GRAPH, SHAPES_GRAPH, SHARED_GRAPH, study_graph
from kg.resources import data_dir, ontology_dir, shapes_dir
from kg.sheets.read import read_tables
from kg.sheets.to_rdf import tables_to_batch
from kg.store import Store
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
    quads = []
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


def build(store: Store, *, fresh: bool = False) -> BuildReport:
    """Load the ontology, shapes and bundled studies, replacing their graphs in one transaction.

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
    for folder in folders:
        batch = tables_to_batch(read_tables(folder), vocab, names.__contains__)
        report = validate(batch.data(), vocab.type_triples(batch.concepts), locate=batch.locate)
        report.problems[:0] = batch.problems
        if not report.conforms:
            raise DataProblem(f"bundled study {folder.name} does not validate:\n{report.to_text()}")
        for sid, graph in batch.graphs.items():
            graphs[study_graph(sid)] = graph.serialize(format="nt")
        findings += batch.findings
        shared += batch.shared
    graphs[str(META_GRAPH)] = inferred_stale_flag()
    drop = tuple(store.graph_sizes()) if fresh else ()
    store.replace_graphs(
        graphs, drop=drop, extend={str(SHARED_GRAPH): shared.serialize(format="nt")}
    )
    return BuildReport(ontology.count("\n"), sorted(names), findings)
