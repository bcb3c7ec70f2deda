"""Generate a synthetic qikg corpus: coding sheets and the RDF the product makes of them.

    .venv/bin/python bench/generate.py --studies 400 --findings-per-study 25 --seed 1 --out /tmp/c

writes, under ``--out``:

- ``sheets/synthNNNNN/{studies,findings}.csv``: one coding-sheet folder per study, in the format of
  docs/coding-sheet.md, written with ``kg.sheets.write.write_tables``;
- ``corpus.nq``: every study as N-Quads, one named graph per study
  (``https://w3id.org/qikg/graph/study/{study_id}``) plus the shared graph of coders and QIC
  programmes (``https://w3id.org/qikg/graph/shared``), made by reading each sheet back with
  ``kg.sheets.read.read_tables`` and turning it into RDF with ``kg.sheets.to_rdf.tables_to_batch``
  (the importer's own path), so it follows docs/model.md exactly;
- ``manifest.json``: sizes, seed and the generator version.

Everything is synthetic and says so: titles read "Synthetic study N: ...", DOIs use the test
prefix ``10.5555/qikg.synthetic.N``, and the text is stitched from word lists. Concepts come from
the real ontology (kg.vocabulary over ``ontology/*.ttl``) with Zipf-like frequencies, so a few
concepts are common and most are rare, as in real coding. The output depends only on the seed:
study ``i`` is the same whatever ``--studies`` is, so a small corpus is a prefix of a larger one.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402
import rdflib  # noqa: E402

from kg.build import turtle_folder_ntriples  # noqa: E402
from kg.namespaces import GRAPH, curie, study_graph  # noqa: E402
from kg.resources import ontology_dir  # noqa: E402
from kg.sheets import FINDING_COLUMNS, STUDY_COLUMNS  # noqa: E402
from kg.sheets.read import read_tables  # noqa: E402
from kg.sheets.to_rdf import tables_to_batch  # noqa: E402
from kg.sheets.write import write_tables  # noqa: E402
from kg.vocabulary import COLUMN_KINDS, Vocabulary  # noqa: E402

GENERATOR_VERSION = 3  # 3: coding-sheet contract 0.3 (design vocabulary, kind, direction)
#: Where coders and QIC programmes are described once for all studies (docs/model.md).
SHARED = str(GRAPH["shared"])
ZIPF_EXPONENT = 1.1
#: The word the full-text competency question looks for; it is in about 1 statement in 25.
RARE_WORD = "workload"

# --- word lists ----------------------------------------------------------------------------------

SURNAMES = (
    "Andersen Berg Carvalho Dahl Eriksen Fischer Garcia Hansen Ito Jensen Kowalski Larsen Moreau "
    "Nielsen Okafor Petersen Quinn Rossi Schmidt Tanaka Ueda Virtanen Wagner Xu Yilmaz Zhang "
    "Lund Holm Brandt Costa Duarte Ekström Fontaine Gallo Hughes Iversen Janssen Keller Lindqvist"
).split()
INITIALS = "A B C D E F G H J K L M N P R S T".split()
JOURNALS = [
    "Synthetic J Qual Improv",
    "Synthetic BMJ Qual Saf",
    "Synthetic Implement Sci",
    "Synthetic BMC Health Serv Res",
    "Synthetic J Health Organ Manag",
    "Synthetic Int J Qual Health Care",
]
COUNTRIES = [
    "Denmark",
    "United Kingdom",
    "United States",
    "Netherlands",
    "Canada",
    "Australia",
    "Norway",
    "Sweden",
    "Germany",
    "Ireland",
    "New Zealand",
    "Switzerland",
]
#: (design, the design in the authors' words)
DESIGNS = [
    ("primary qualitative", "Qualitative interview study"),
    ("primary qualitative", "Focus group study"),
    ("primary qualitative", "Ethnographic study"),
    ("mixed methods", "Mixed-methods process evaluation"),
    ("primary qualitative", "Qualitative case study"),
]
FINDING_KINDS = ["empirical result", "participants' account", "authors' interpretation"]
DIRECTIONS = ["improved", "improved", "mixed", "no change", "worsened", "intended", "not measured"]
CLINICAL_AREAS = [
    "mental health",
    "primary care",
    "emergency care",
    "maternity care",
    "intensive care",
    "geriatrics",
    "paediatrics",
    "oncology",
    "surgery",
    "palliative care",
]
PROGRAMME_WORDS = [
    "Breakthrough",
    "Learning",
    "Safety",
    "Quality",
    "Improvement",
    "Regional",
    "National",
]
THEMES = [
    "Time and workload",
    "Leadership support",
    "Professional identity",
    "Team dynamics",
    "Data and measurement",
    "Learning from peers",
    "Ownership of change",
    "Sustaining improvement",
    "Resources",
    "Engagement of physicians",
    "Role of the improvement coach",
    "Patient involvement",
    "Organisational culture",
    "Training and skills",
    "Communication across professions",
    "Tension between projects",
    "Recognition",
    "Local adaptation",
    "External pressure",
    "Spread of practices",
]
ACTORS = [
    "nurses",
    "physicians",
    "team members",
    "managers",
    "pharmacists",
    "coaches",
    "participants",
    "ward staff",
    "QI leads",
    "clinicians",
    "frontline staff",
    "head nurses",
    "doctors",
]
VERBS = [
    "described",
    "valued",
    "struggled with",
    "questioned",
    "welcomed",
    "resisted",
    "adapted",
    "reflected on",
    "took ownership of",
    "negotiated",
    "relied on",
    "emphasised",
]
OBJECTS = [
    "the learning sessions",
    "the PDSA cycles",
    "the measurement work",
    "feedback on data",
    "support from leaders",
    "protected time",
    "shared goals",
    "the collaborative's aims",
    "peer exchange",
    "new routines",
    "the change package",
    "the improvement coach",
    "documentation demands",
    "interprofessional meetings",
    "local ownership",
]
CONTEXTS = [
    "during the first months",
    "once results became visible",
    "when staffing was short",
    "after the national seminars",
    "in daily practice",
    "across the participating units",
    "when managers were involved",
    "as the collaborative ended",
    "in small teams",
    "despite competing priorities",
]
OPENERS = [
    "I think",
    "To be honest,",
    "You know,",
    "For me,",
    "In our unit,",
    "At first",
    "Honestly,",
    "I would say",
    "What happened was that",
    "We felt that",
]
CLAUSES = [
    "we did not have the time to do it properly",
    "it was good to meet the other teams",
    "the data made it real for us",
    "the doctors came on board late",
    "we made it our own project",
    "nobody told us why we had to measure it",
    "our manager backed us all the way",
    "the coach helped us keep going",
    "it became part of how we work",
    "it felt like extra paperwork",
    "we learned a lot from the other wards",
    "the patients noticed the difference",
    "it was hard to keep momentum after the seminars",
    "we could see our own numbers improve",
    "there was a real sense of pride",
    "it took a while before people trusted the data",
]
CLOSERS = [
    "",
    "",
    "",
    " That made a difference.",
    " It is still like that.",
    " I don't know why.",
    " Everybody could see it.",
    " That was the hard part.",
]


def zipf_weights(n: int) -> list[float]:
    """Weights of ranks 1..n falling as 1/rank^s: a few items common, most rare."""
    return [1.0 / (rank**ZIPF_EXPONENT) for rank in range(1, n + 1)]


@dataclass
class Pool:
    """Words of one concept column, in a seed-shuffled rank order with Zipf weights."""

    words: list[str]
    cum: list[float]

    def draw(self, rng: random.Random, k: int) -> list[str]:
        picked: list[str] = []
        for _ in range(k * 3):
            if len(picked) == k:
                break
            word = rng.choices(self.words, cum_weights=self.cum)[0]
            if word not in picked:
                picked.append(word)
        return picked


def ontology_vocabulary() -> Vocabulary:
    """The vocabulary of the bundled ontology, read as ``kg.build`` reads it."""
    ontology = turtle_folder_ntriples(ontology_dir())
    return Vocabulary.from_graph(rdflib.Graph().parse(data=ontology, format="nt"))


def concept_pools(vocab: Vocabulary, seed: int) -> dict[str, Pool]:
    """One pool per concept column. Each concept is written the way a researcher would (its label)
    unless the label does not resolve back to it alone, then as a CURIE."""
    kinds_for = {column: set(kinds) for column, (kinds, _) in COLUMN_KINDS.items()}
    # The free "concepts" column draws from theory concepts and CFIR, as the bundled data does.
    kinds_for["concepts"] = {
        "https://w3id.org/qikg/ontology#TheoryConcept",
        "https://w3id.org/qikg/ontology#CFIRConstruct",
    }
    pools = {}
    for column, kinds in kinds_for.items():
        # retired concepts, and barrier-named ones as enablers, would only earn warnings
        left_out = vocab.retired.keys() | (vocab.barriers if column == "enablers" else set())
        iris = sorted(
            c.iri for c in vocab.concepts.values() if c.kinds & kinds and c.iri not in left_out
        )
        random.Random(f"{seed}:pool:{column}").shuffle(iris)
        words = []
        for iri in iris:
            label = vocab.label(iri)
            try:
                ok = ";" not in label and vocab.resolve(label, column) == iri
            except ValueError:
                ok = False
            words.append(label if ok else curie(iri))
        pools[column] = Pool(words, list(itertools.accumulate(zipf_weights(len(words)))))
    return pools


# --- one study -----------------------------------------------------------------------------------

#: How many words each concept column gets: (probabilities of 0, 1, 2, 3 words).
CODES_PER_FINDING = {
    "professional_groups": (0.1, 0.65, 0.2, 0.05),
    "roles": (0.6, 0.35, 0.05, 0.0),
    "qic_components": (0.35, 0.45, 0.2, 0.0),
    "enablers": (0.45, 0.4, 0.15, 0.0),
    "barriers": (0.5, 0.4, 0.1, 0.0),
    "outcomes": (0.4, 0.45, 0.15, 0.0),
    "concepts": (0.75, 0.2, 0.05, 0.0),
}


def study_id(i: int) -> str:
    return f"synth{i:05d}"


def _sentence(rng: random.Random) -> str:
    actor = rng.choice(ACTORS)
    return (
        f"{actor[0].upper()}{actor[1:]} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"{rng.choice(CONTEXTS)}."
    )


def _statement(rng: random.Random) -> str:
    text = " ".join(_sentence(rng) for _ in range(rng.choice((1, 1, 2))))
    if rng.random() < 0.04:
        text += f" The {RARE_WORD} of staff shaped how this was experienced."
    return text


def _quote(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.choice((1, 2, 2, 3))):
        sentences.append(f"{rng.choice(OPENERS)} {rng.choice(CLAUSES)}.{rng.choice(CLOSERS)}")
    return " ".join(sentences)


def study_tables(i: int, findings: int, seed: int, pools: dict[str, Pool], programmes: int):
    """The ``studies`` and ``findings`` rows of synthetic study ``i`` (1-based)."""
    rng = random.Random(f"{seed}:study:{i}")
    sid = study_id(i)
    authors = "; ".join(
        f"{rng.choice(SURNAMES)} {rng.choice(INITIALS)}" for _ in range(rng.randint(1, 6))
    )
    # Programmes are shared between studies, a few by many (Zipf again).
    programme = 1 + min(int(rng.paretovariate(1.2)) - 1, programmes - 1)
    area = rng.choice(CLINICAL_AREAS)
    study = {
        "study_id": sid,
        "title": f"Synthetic study {i}: {rng.choice(ACTORS)} and quality improvement in {area}",
        "authors": authors,
        "year": str(rng.randint(2000, 2025)),
        "doi": f"10.5555/qikg.synthetic.{i}",
        "journal": f"{rng.choice(JOURNALS)} {rng.randint(1, 40)}({rng.randint(1, 12)})",
        "country": rng.choice(COUNTRIES),
        "design": (design := rng.choice(DESIGNS))[0],
        "design_note": design[1],
        "qic": f"Synthetic {PROGRAMME_WORDS[programme % len(PROGRAMME_WORDS)]} Collaborative {programme}",
        "clinical_area": area,
        "participants": f"{rng.randint(6, 60)} health professionals (synthetic)",
        "sample_size": str(rng.randint(6, 60)),
    }
    coders = [f"Synthetic Coder {k}" for k in range(1, 21)]
    coder = coders[(i * 7 + seed) % len(coders)]
    rows = []
    for n in range(1, findings + 1):
        row = {
            "finding_id": f"F{n}",
            "study_id": sid,
            "statement": _statement(rng),
            "finding_kind": rng.choice(FINDING_KINDS),
            "theme": rng.choice(THEMES),
            "quote": _quote(rng),
            "quote_source": f"Results, p. {rng.randint(3, 14)}",
            "coder": coder if rng.random() < 0.9 else rng.choice(coders),
            "coded_on": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        }
        coded = 0
        for column, probabilities in CODES_PER_FINDING.items():
            k = rng.choices(range(len(probabilities)), weights=probabilities)[0]
            words = pools[column].draw(rng, k)
            coded += len(words)
            if words:
                row[column] = "; ".join(words)
        if not coded:  # the shapes require one code; researchers always give one
            row["professional_groups"] = pools["professional_groups"].draw(rng, 1)[0]
        if row.get("outcomes"):  # an outcome is coded with what happened to it
            row["outcome_direction"] = rng.choice(DIRECTIONS)
        rows.append(row)
    return {"studies": (STUDY_COLUMNS, [study]), "findings": (FINDING_COLUMNS, rows)}


# --- sheets and RDF ------------------------------------------------------------------------------

_WORKER: dict = {}


def _init_worker(seed: int) -> None:
    vocab = ontology_vocabulary()
    _WORKER.update(vocab=vocab, pools=concept_pools(vocab, seed))


def _quads(nt: bytes | str, graph: str) -> list:
    """N-Triples as quads of one graph, sorted so the file is byte-identical for a seed whatever
    the hash seed of the run."""
    data = nt.encode() if isinstance(nt, str) else nt
    g = ox.NamedNode(graph)
    triples = ox.parse(data, format=ox.RdfFormat.N_TRIPLES)
    return sorted((ox.Quad(t.subject, t.predicate, t.object, g) for t in triples), key=str)


def _named_graphs(batch) -> dict[str, str]:
    """The batch's graphs by graph IRI, as the importer writes them."""
    if hasattr(batch, "named_graphs"):
        return batch.named_graphs()
    return {study_graph(sid): g.serialize(format="nt") for sid, g in batch.graphs.items()}


def _make_chunk(args: tuple) -> tuple[bytes, set[str], int, int]:
    """Write the sheets of studies ``first..last``; return their N-Quads, the lines of the
    shared graph (coders, programmes: described once for all studies), findings and quads."""
    first, last, findings, seed, programmes, sheets_dir = args
    vocab, pools = _WORKER["vocab"], _WORKER["pools"]
    out: list[bytes] = []
    shared: set[str] = set()
    total_findings = 0
    total_quads = 0
    for i in range(first, last + 1):
        folder = Path(sheets_dir) / study_id(i)
        write_tables(study_tables(i, findings, seed, pools, programmes), folder)
        batch = tables_to_batch(read_tables(folder), vocab, lambda _sid: False)
        if batch.problems:
            problems = "; ".join(p.message for p in batch.problems[:5])
            raise RuntimeError(f"generated study {study_id(i)} does not read back: {problems}")
        for graph, nt in _named_graphs(batch).items():
            quads = _quads(nt, graph)
            total_quads += len(quads)
            out.append(ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b"")
        if hasattr(batch, "shared"):
            shared.update(
                ox.serialize(
                    _quads(batch.shared.serialize(format="nt"), SHARED), format=ox.RdfFormat.N_QUADS
                )
                .decode()
                .splitlines()
            )
        total_findings += batch.findings
    return b"".join(out), shared, total_findings, total_quads


def generate(
    studies: int, findings_per_study: int, seed: int, out: Path, jobs: int | None = None
) -> dict:
    """Write the corpus under ``out`` (sheets/, corpus.nq, manifest.json) and return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    sheets_dir = out / "sheets"
    sheets_dir.mkdir(exist_ok=True)
    programmes = max(1, studies // 8)
    chunk = 50
    tasks = [
        (
            first,
            min(first + chunk - 1, studies),
            findings_per_study,
            seed,
            programmes,
            str(sheets_dir),
        )
        for first in range(1, studies + 1, chunk)
    ]
    jobs = jobs or min(os.cpu_count() or 1, 4)
    start = time.perf_counter()
    tmp = out / "corpus.nq.part"
    total_findings = total_quads = 0
    shared: set[str] = set()
    with open(tmp, "wb") as nq:
        if jobs == 1 or len(tasks) <= 1:
            _init_worker(seed)
            results = map(_make_chunk, tasks)
        else:
            pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(seed,))
            results = pool.map(_make_chunk, tasks)
        for data, chunk_shared, n_findings, n_quads in results:
            nq.write(data)
            shared |= chunk_shared
            total_findings += n_findings
            total_quads += n_quads
        if jobs != 1 and len(tasks) > 1:
            pool.shutdown()
        nq.write("".join(line + "\n" for line in sorted(shared)).encode())
        total_quads += len(shared)
    tmp.replace(out / "corpus.nq")
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "studies": studies,
        "findings_per_study": findings_per_study,
        "findings": total_findings,
        "quads": total_quads,
        "seed": seed,
        "rare_word": RARE_WORD,
        "seconds": round(time.perf_counter() - start, 2),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def new_study_sheet(out: Path, number: int, findings: int = 25, seed: int = 1) -> Path:
    """A fresh coding-sheet folder for one more synthetic study (id ``synthnew{number}``), not part
    of any generated corpus: what a researcher imports into a store that already holds one."""
    vocab = ontology_vocabulary()
    tables = study_tables(90_000 + number, findings, seed, concept_pools(vocab, seed), 10)
    new_id = f"synthnew{number}"
    for row in tables["studies"][1] + tables["findings"][1]:
        row["study_id"] = new_id
    tables["studies"][1][0]["doi"] = f"10.5555/qikg.synthetic.new.{number}"
    write_tables(tables, out)
    return out


def cached(studies: int, findings_per_study: int, seed: int, out: Path) -> dict:
    """The manifest of a corpus already generated under ``out`` with these parameters, else generate."""
    manifest = out / "manifest.json"
    if manifest.exists() and (out / "corpus.nq").exists():
        found = json.loads(manifest.read_text())
        if (
            found.get("generator_version"),
            found.get("studies"),
            found.get("findings_per_study"),
            found.get("seed"),
        ) == (GENERATOR_VERSION, studies, findings_per_study, seed):
            return found
    return generate(studies, findings_per_study, seed, out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--studies", type=int, required=True)
    parser.add_argument("--findings-per-study", type=int, default=25)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default: bench/corpus-S{studies}-F{per study}-seed{seed})",
    )
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: cores)")
    args = parser.parse_args(argv)
    out = args.out or Path(
        f"bench/corpus-S{args.studies}-F{args.findings_per_study}-seed{args.seed}"
    )
    manifest = generate(args.studies, args.findings_per_study, args.seed, out, args.jobs)
    print(json.dumps(manifest))


if __name__ == "__main__":
    main()
