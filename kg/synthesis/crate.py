"""A review's export as an RO-Crate 1.1 (``qikg export-reviews --review R -o DIR --ro-crate``):
the files a reader needs to check and reuse a synthesis, and ``ro-crate-metadata.json``
describing them, ready to deposit in a repository such as Zenodo (docs/release.md).

The crate holds the review's reviews sheet and its graph as TriG, one TriG file per study its
review findings cite (the study's graph, with its findings, quotes, DOI and source text's
licence, and the shared descriptions of its programme and coders), and the Summary of
Qualitative Findings in three formats. The metadata names each file with its format, size,
SHA-256 and licence; the root dataset cites every study by its DOI and says what it is based on:
the store's history version (``qikg history``; ``qikg restore`` takes it), the ontology version
and the qikg version that wrote it. The JSON is written with the standard library: the crate is
small and flat; tests/test_ro_crate.py checks it with roc-validator's RO-Crate 1.1 profile.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg import __version__
from kg.errors import BadInput
from kg.namespaces import DATA, PREFIXES, SHARED_GRAPH, study_graph
from kg.ontology import ONTOLOGY_IRI
from kg.release import LICENCE, history_version, release_date
from kg.sheets.cells import csv_text
from kg.sheets.to_rdf import source_iri
from kg.sparql import iri_term
from kg.store import Store
from kg.synthesis.model import REVIEW_COLUMNS, review_graph
from kg.synthesis.reviews import ReviewFinding, review_findings
from kg.synthesis.soqf import csv_table, docx_document, html_page
from kg.text import slug

METADATA = "ro-crate-metadata.json"
RO_CRATE = "https://w3id.org/ro/crate/1.1"
#: RO-Crate 1.1's context, then the terms this crate uses that schema.org added after that
#: context was made (it is schema.org 10.0): RO-Crate's way to extend it is a local definition
#: after the context. Without it a JSON-LD processor drops the key silently (roc-validator's
#: ro-crate-1.1 profile refuses the crate; tests/test_ro_crate.py runs it).
CONTEXT = [
    f"{RO_CRATE}/context",
    {
        "copyrightNotice": "http://schema.org/copyrightNotice",
        "creditText": "http://schema.org/creditText",
        "sha256": "http://schema.org/sha256",
    },
]
LICENCE_NOTE = (
    "Coded data, review findings and their assessments: CC BY 4.0. Verbatim quotes and source "
    "texts are not relicensed: they keep their publishers' terms, which each study's source "
    "text states (copyrightNotice)."
)
#: Source-text licences stated as these words are CC BY 4.0 (others are named as stated).
CC_BY_WORDS = ("cc by 4.0", "cc-by-4.0", "cc by")
MEDIA = {
    ".csv": "text/csv",
    ".trig": "application/trig",
    ".html": "text/html",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class CitedStudy:
    """A study a review finding cites, as the crate describes it."""

    study_id: str
    iri: str
    title: str
    authors: str
    year: int | None
    doi: str | None  # the DOI IRI
    source_url: str
    source_licence: str

    @property
    def entity(self) -> str:
        """The study's ``@id`` in the crate: its DOI where it has one (RO-Crate's advice for a
        citation), else its qikg IRI."""
        return self.doi or self.iri


@dataclass(frozen=True)
class Crate:
    """What ``write_crate`` wrote."""

    folder: Path
    files: list[str]
    studies: list[CitedStudy]
    graph_version: int | None


def write_crate(store: Store, review: str, out: Path) -> Crate:
    """Write review ``review``'s RO-Crate into the folder ``out`` (new or empty): all of it, or
    nothing (it is made in a temporary folder beside ``out``, then moved there)."""
    findings = review_findings(store, review)
    if not findings:
        raise BadInput(f'no review "{review}" in the graph (its review findings: `qikg soqf`)')
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"{out} is not an empty folder: write a crate into a new or empty folder")
    studies = cited_studies(store, findings)
    version = history_version(store)
    files: dict[str, bytes] = {"reviews.csv": _reviews_sheet(findings)}
    files[f"review-{slug(review)}.trig"] = _trig(store, review_graph(review))
    for study in studies:
        files[f"study-{study.study_id}.trig"] = _trig(store, study_graph(study.study_id))
    files["soqf.html"] = html_page(findings)
    files["soqf.csv"] = csv_table(findings)
    files["soqf.docx"] = docx_document(findings)
    authors = _assessors(store, review)
    metadata = crate_metadata(review, findings, studies, files, authors, version)
    files[METADATA] = (json.dumps(metadata, indent=2, ensure_ascii=False) + "\n").encode()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        tmp.chmod(0o755)  # mkdtemp's is 0o700: the crate is for sharing
    except OSError as exc:
        raise BadInput(f"cannot write the crate to {out}: {exc.strerror}") from None
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        if out.exists():
            out.rmdir()
        tmp.replace(out)
    except OSError as exc:
        raise BadInput(f"cannot write the crate to {out}: {exc.strerror}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return Crate(out, sorted(files), studies, version)


def crate_metadata(
    review: str,
    findings: list[ReviewFinding],
    studies: list[CitedStudy],
    files: dict[str, bytes],
    authors: list[tuple[str, str]],
    graph_version: int | None,
) -> dict:
    """The ``ro-crate-metadata.json`` document: the metadata descriptor, the root dataset, a
    ``File`` per file, and the contextual entities they point to (licence, studies, source
    texts, authors, the qikg graph, ontology and software, and the action that made the crate)."""
    ontology = f"{ONTOLOGY_IRI}/{__version__}"
    graph_name = (
        f"the qikg graph, version {graph_version}"
        if graph_version is not None
        else "the qikg graph (a store that keeps no history: no version)"
    )
    by_study = {s.study_id: s for s in studies}
    ids = ", ".join(f.review_finding_id for f in findings)
    root: dict = {
        "@id": "./",
        "@type": "Dataset",
        "name": f"qikg review {review}: review findings with their GRADE-CERQual assessments",
        "description": (
            f"The {len(findings)} review finding(s) ({ids}) of the qikg review {review}, "
            f"synthesised from {len(studies)} coded qualitative studies: the reviews sheet and "
            "the review's graph (TriG), the graph of every study the review findings cite with "
            "its findings and verbatim quotes (TriG), and the Summary of Qualitative Findings "
            "with its GRADE-CERQual Evidence Profile (HTML, CSV, Word). " + LICENCE_NOTE
        ),
        "datePublished": release_date().isoformat(),
        "license": {"@id": str(LICENCE)},
        "copyrightNotice": LICENCE_NOTE,
        "keywords": [
            "qualitative evidence synthesis",
            "GRADE-CERQual",
            "quality improvement collaboratives",
            "health professions",
        ],
        "identifier": str(review_graph(review)),
        "citation": _values([{"@id": s.doi} for s in studies if s.doi]),
        "isBasedOn": [{"@id": "#qikg-graph"}, {"@id": ontology}],
        "hasPart": _values([{"@id": name} for name in files]),
    }
    if authors:
        root["author"] = _values([{"@id": iri} for iri, _ in authors])
    graph: list[dict] = [
        {
            "@id": METADATA,
            "@type": "CreativeWork",
            "conformsTo": {"@id": RO_CRATE},
            "about": {"@id": "./"},
        },
        root,
        {
            "@id": str(LICENCE),
            "@type": "CreativeWork",
            "name": "Creative Commons Attribution 4.0 International",
            "identifier": "CC-BY-4.0",
        },
    ]
    for name, data in files.items():
        graph.append(_file(name, data, review, by_study))
    for iri, name in authors:
        graph.append({"@id": iri, "@type": "Person", "name": name})
    for study in studies:
        graph.extend(_study(study))
    graph.append(
        {
            "@id": "#qikg-graph",
            "@type": "Dataset",
            "name": graph_name,
            "description": (
                "The store this crate was exported from. `qikg restore VERSION` returns a qikg "
                "store to the version named here, with the ontology and qikg versions below."
            ),
            **({"version": str(graph_version)} if graph_version is not None else {}),
            "conformsTo": {"@id": ontology},
        }
    )
    graph.append(
        {
            "@id": ontology,
            "@type": "CreativeWork",
            "name": f"qikg ontology {__version__}",
            "version": __version__,
            "url": str(ONTOLOGY_IRI),
            "license": {"@id": str(LICENCE)},
        }
    )
    graph.append(
        {
            "@id": "#qikg",
            "@type": "SoftwareApplication",
            "name": "qikg",
            "version": __version__,
            "softwareVersion": __version__,
        }
    )
    graph.append(
        {
            "@id": "#export",
            "@type": "CreateAction",
            "name": f"qikg export-reviews --review {review} --ro-crate",
            "instrument": {"@id": "#qikg"},
            "object": {"@id": "#qikg-graph"},
            "result": _values([{"@id": name} for name in files]),
            "endTime": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        }
    )
    return {"@context": CONTEXT, "@graph": graph}


def _values(values: list[dict]) -> dict | list[dict]:
    """One value as itself, several as a list (RO-Crate 1.1 asks for no singleton arrays)."""
    return values[0] if len(values) == 1 else values


def _file(name: str, data: bytes, review: str, by_study: dict[str, CitedStudy]) -> dict:
    """The ``File`` entity of one file of the crate."""
    entity: dict = {
        "@id": name,
        "@type": "File",
        "encodingFormat": MEDIA[Path(name).suffix],
        "contentSize": str(len(data)),
        "sha256": hashlib.sha256(data).hexdigest(),
        "license": {"@id": str(LICENCE)},
    }
    sid = name.removeprefix("study-").removesuffix(".trig")
    if name.startswith("study-") and sid in by_study:
        study = by_study[sid]
        entity["name"] = f"Study {sid}: its coded findings, quotes and source text (TriG)"
        entity["about"] = {"@id": study.entity}
        entity["copyrightNotice"] = (
            "Coded data CC BY 4.0; the verbatim quotes and source text keep their publisher's "
            f"terms: {study.source_licence or 'not stated'}"
        )
    elif name == "reviews.csv":
        entity["name"] = f"The reviews sheet of review {review} (qikg import reads it back)"
    elif name.startswith("review-"):
        entity["name"] = f"The graph of review {review}: review findings and assessments (TriG)"
    else:
        entity["name"] = "Summary of Qualitative Findings and GRADE-CERQual Evidence Profile"
    return entity


def _study(study: CitedStudy) -> list[dict]:
    """The contextual entities of a cited study: the article, and its source text."""
    article: dict = {
        "@id": study.entity,
        "@type": "ScholarlyArticle",
        "name": study.title,
        "identifier": study.doi or study.iri,
        "url": study.iri,
    }
    if study.authors:
        article["creditText"] = study.authors
    if study.year is not None:
        article["datePublished"] = str(study.year)
    entities = [article]
    if study.source_licence or study.source_url:
        text: dict = {
            "@id": str(source_iri(study.study_id)),
            "@type": "CreativeWork",
            "name": f"The source text study {study.study_id} was coded from",
            "isPartOf": {"@id": study.entity},
            "copyrightNotice": study.source_licence or "not stated",
        }
        if study.source_url:
            text["url"] = study.source_url
        if study.source_licence.casefold().startswith(CC_BY_WORDS):
            text["license"] = {"@id": str(LICENCE)}
        article["hasPart"] = {"@id": text["@id"]}
        entities.append(text)
    return entities


def cited_studies(store: Store, findings: list[ReviewFinding]) -> list[CitedStudy]:
    """The studies whose findings the review findings cite, with their DOIs and the licence of
    their source texts, in study-id order."""
    ids = sorted({ref.split("/", 1)[0] for f in findings for ref in f.supporting if "/" in ref})
    found = []
    for sid in ids:
        s = iri_term(str(DATA[sid]))
        rows = store.query(
            f"""SELECT ?title ?authors ?year ?doi ?url ?licence WHERE {{
                GRAPH {iri_term(study_graph(sid))} {{ {s} a qikg:Study
                OPTIONAL {{ {s} dcterms:title ?title }}
                OPTIONAL {{ {s} qikg:authors ?authors }}
                OPTIONAL {{ {s} qikg:publicationYear ?year }}
                OPTIONAL {{ {s} qikg:doi ?doi }}
                OPTIONAL {{ {iri_term(str(source_iri(sid)))} dcterms:source ?url }}
                OPTIONAL {{ {iri_term(str(source_iri(sid)))} dcterms:rights ?licence }} }}
            }} LIMIT 1""",
            include_inferred=False,
        ).values()
        if not rows:
            raise BadInput(f"the review cites findings of study {sid}, which is not in the graph")
        r = rows[0]
        year = r.get("year") or ""
        found.append(
            CitedStudy(
                study_id=sid,
                iri=str(DATA[sid]),
                title=r.get("title") or sid,
                authors=r.get("authors") or "",
                year=int(year) if year.isdigit() else None,
                doi=r.get("doi") or None,
                source_url=r.get("url") or "",
                source_licence=r.get("licence") or "",
            )
        )
    return found


def _assessors(store: Store, review: str) -> list[tuple[str, str]]:
    """The review's assessors, each as (IRI, name): the authors of its assessments."""
    rows = store.query(
        f"""SELECT DISTINCT ?agent ?name WHERE {{
            GRAPH {iri_term(review_graph(review))} {{ ?a a qikg:CERQualAssessment ;
                prov:wasAttributedTo ?agent }}
            ?agent foaf:name ?name
        }} ORDER BY ?name""",
        include_inferred=False,
    ).values()
    return [(r["agent"] or "", r["name"] or "") for r in rows if r["agent"]]


def _trig(store: Store, graph: str) -> bytes:
    """One named graph as TriG, with the shared descriptions (programmes, coders, assessors)
    it points to in the shared graph: a file that stands on its own."""
    parts = [(graph, f"GRAPH {iri_term(graph)} {{ ?s ?p ?o }}")]
    shared = iri_term(str(SHARED_GRAPH))
    parts.append(
        (
            str(SHARED_GRAPH),
            f"GRAPH {iri_term(graph)} {{ ?x ?q ?s }} GRAPH {shared} {{ ?s ?p ?o }}",
        )
    )
    quads: list[ox.Quad] = []
    for name, pattern in parts:
        triples = store.query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}", include_inferred=False
        ).ntriples
        quads.extend(
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(name))
            for t in ox.parse(triples.encode(), format=ox.RdfFormat.N_TRIPLES)
        )
    first = ox.NamedNode(graph)
    quads.sort(key=lambda q: (q.graph_name != first, str(q)))  # the graph, then what it points to
    notice = (
        f"# qikg {__version__}: the graph {graph}.\n# Licence: CC BY 4.0 ({LICENCE}); quoted "
        "source text keeps its publisher's terms\n# (each study's source_licence).\n"
    ).encode()
    return notice + (ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=PREFIXES) or b"")


def _reviews_sheet(findings: list[ReviewFinding]) -> bytes:
    """The review's reviews sheet as CSV: ``qikg import`` reads it back."""
    rows = [f.row() for f in findings]
    columns = REVIEW_COLUMNS + sorted({c for r in rows for c in r} - set(REVIEW_COLUMNS))
    return csv_text(columns, ([r.get(c, "") for c in columns] for r in rows)).encode("utf-8")


__all__ = ["METADATA", "CitedStudy", "Crate", "crate_metadata", "cited_studies", "write_crate"]
