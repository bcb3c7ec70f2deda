"""SHACL engines side by side: time per finding and ratio to pyshacl, and whether reports match.

    .venv/bin/python bench/validate_engines.py                 # 1,000 and 10,000 findings
    .venv/bin/python bench/validate_engines.py --findings 1000 --repeats 1
    .venv/bin/python bench/validate_engines.py --findings 25000 --engines pyshacl pyshacl-turbo \
        --store /tmp/store --json /tmp/engines.json           # also `qikg validate` end to end

Each size is a coding sheet of valid synthetic studies (tests/sheets.py ``many_studies``, 25
findings per study) read as ``qikg import`` reads it: a few whole studies at a time
(``kg.importer.FINDINGS_PER_BATCH`` findings), each batch validated with the rdf:type triples of
the concepts it points to. Every engine validates the same batches in the same run, in turns, so
the ratios hold on a busy machine; times are medians of ``--repeats`` runs and include what an
engine needs besides validating (serialising the data for the engines that take text).

A candidate is one entry of ``CANDIDATES``: a function from the data graph to an
sh:ValidationReport graph (tests/test_validate_engines.py compares them all with pyshacl).

With ``--store`` (a built store: its vocabulary), each engine qikg can run (``QIKG_ENGINES``) also
checks the whole sheet as ``qikg validate`` does (``kg.importer.check_path``: reading it, turning
it into RDF, and, from ``kg.importer.PARALLEL_FROM`` findings on, worker processes side by side),
in turns, and its report is compared with pyshacl's. bench/run.py runs this at each size it
measures (its ``engines`` step) and reads ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import rdflib
from rdflib.namespace import RDF
from rdflib.util import from_n3

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "bench")]

from kg.importer import FINDINGS_PER_BATCH  # noqa: E402
from kg.namespaces import QIKG, SH  # noqa: E402
from kg.validate import ENGINE_SETTING, ENGINES, Engine, load_shapes, validate  # noqa: E402


@functools.cache
def _shapes_turtle() -> str:
    return load_shapes().serialize(format="turtle")


def _shacl(graph: rdflib.Graph) -> rdflib.Graph:
    """``shacl`` (SHACL_Engine, Rust): its own report graph, read back as N-Triples. Blank nodes
    go in as skolem IRIs and come back as the same blank nodes (text would relabel them)."""
    compiled = _shacl_compiled()
    text = _skolem(graph).serialize(format="nt")
    report = compiled.validate_text(text, format="ntriples")
    return _unskolem(rdflib.Graph().parse(data=report.serialize("ntriples"), format="nt"))


_SKOLEM = "urn:qikg:bench:bnode:"


def _skolem(graph: rdflib.Graph) -> rdflib.Graph:
    if not any(isinstance(t, rdflib.BNode) for triple in graph for t in triple):
        return graph
    out = rdflib.Graph()
    out.addN(
        tuple(rdflib.URIRef(_SKOLEM + t) if isinstance(t, rdflib.BNode) else t for t in triple)
        + (out,)
        for triple in graph
    )
    return out


def _unskolem(report: rdflib.Graph) -> rdflib.Graph:
    out = rdflib.Graph()
    out.addN(
        tuple(
            rdflib.BNode(t[len(_SKOLEM) :])
            if isinstance(t, rdflib.URIRef) and t.startswith(_SKOLEM)
            else t
            for t in triple
        )
        + (out,)
        for triple in report
    )
    return out


@functools.cache
def _shacl_compiled():
    import shacl

    return shacl.Shapes.from_turtle(_shapes_turtle())


def _shacl_rust(graph: rdflib.Graph) -> rdflib.Graph:
    """``shacl-rust``: a dict of results (terms in N-Triples syntax) made into a report graph."""
    import shacl_rust

    found = shacl_rust.validate(graph.serialize(format="nt"), _shapes_turtle(), data_format="nt")
    report = rdflib.Graph()
    node = rdflib.BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    report.add((node, SH.conforms, rdflib.Literal(bool(found["conforms"]))))
    keys = {
        "focusNode": SH.focusNode,
        "resultPath": SH.resultPath,
        "value": SH.value,
        "severity": SH.resultSeverity,
        "sourceConstraintComponent": SH.sourceConstraintComponent,
        "sourceShape": SH.sourceShape,
    }
    for item in found["results"]:
        result = rdflib.BNode()
        report.add((node, SH.result, result))
        report.add((result, RDF.type, SH.ValidationResult))
        for key, prop in keys.items():
            if item.get(key) is not None:
                report.add((result, prop, from_n3(item[key])))
        for message in item.get("messages", []):
            report.add((result, SH.resultMessage, rdflib.Literal(message)))
    return report


def _pyrudof(graph: rdflib.Graph) -> rdflib.Graph:
    """``pyrudof`` (rudof, Rust): its report serialised as N-Triples."""
    import pyrudof

    rudof = pyrudof.Rudof(pyrudof.RudofConfig())
    rudof.read_data(graph.serialize(format="nt"), format=pyrudof.RDFFormat.NTriples)
    rudof.read_shacl(_shapes_turtle(), format=pyrudof.ShaclFormat.Turtle)
    rudof.validate_shacl()
    text = rudof.serialize_shacl_validation_results(
        format=pyrudof.ResultShaclValidationFormat.NTriples
    )
    return rdflib.Graph().parse(data=text, format="nt")


#: The engines qikg itself runs (``QIKG_SHACL_ENGINE``): measured end to end with --store.
QIKG_ENGINES = tuple(ENGINES)
#: name -> (distribution to install, function): the engines measured and compared.
CANDIDATES: dict[str, tuple[str, Engine]] = {
    "pyshacl": ("pyshacl", ENGINES["pyshacl"]),
    "pyshacl-turbo": ("pyshacl-turbo", ENGINES["pyshacl-turbo"]),
    "pyrudof": ("pyrudof", _pyrudof),
    "shacl-rust": ("shacl-rust", _shacl_rust),
    "shacl": ("shacl", _shacl),
}


def installed(name: str) -> str | None:
    """The installed version of a candidate's distribution, or None."""
    try:
        return metadata.version(CANDIDATES[name][0])
    except metadata.PackageNotFoundError:
        return None


@contextlib.contextmanager
def sheet(findings: int, per_study: int = 25) -> Iterator[Path]:
    """A coding sheet (a folder of CSVs) of ``findings`` valid findings, ``per_study`` a study."""
    from sheets import many_studies, write_sheet

    studies, rows = many_studies(max(1, findings // per_study), per_study)
    with tempfile.TemporaryDirectory() as tmp:
        yield write_sheet(Path(tmp) / "sheet", studies, rows)


def batches(findings: int, per_study: int = 25) -> list[tuple[rdflib.Graph, rdflib.Graph]]:
    """(data, context) of each batch a sheet of ``findings`` valid findings is checked in."""
    with sheet(findings, per_study) as path:
        return batches_of(path)


def batches_of(path: Path) -> list[tuple[rdflib.Graph, rdflib.Graph]]:
    """(data, context) of each batch the sheet at ``path`` is checked in."""
    from generate import ontology_vocabulary

    from kg.sheets.read import read_sources, read_tables, split_tables
    from kg.sheets.to_rdf import tables_to_batch

    vocab = ontology_vocabulary()
    out = []
    tables, sources = read_tables(path), read_sources(path)
    for part in split_tables(tables, FINDINGS_PER_BATCH):
        batch = tables_to_batch(part, vocab, lambda _: False, sources=sources)
        data = batch.data()
        pointed = {str(o) for o in data.objects() if isinstance(o, rdflib.URIRef)}
        out.append((data, vocab.type_triples(pointed)))
    return out


def measure_checks(path: Path, store: str, engines: list[str], repeats: int) -> dict[str, dict]:
    """Median seconds of ``qikg validate``'s whole check of the sheet (kg.importer.check_path)
    with each engine, in turns, and whether its report is pyshacl's."""
    from kg.importer import check_path
    from kg.store import open_store

    handle = open_store(store)
    times: dict[str, list[float]] = {name: [] for name in engines}
    reports: dict[str, dict] = {}
    errors: dict[str, str] = {}
    before = os.environ.get(ENGINE_SETTING)
    try:
        for _ in range(repeats):
            for name in engines:
                if name in errors:
                    continue
                os.environ[ENGINE_SETTING] = name  # worker processes take it from here too
                t0 = time.perf_counter()
                try:
                    report = check_path(handle, path)
                except Exception as exc:  # an engine that fails is a result, not a crash
                    errors[name] = f"{type(exc).__name__}: {exc}"[:200]
                    continue
                times[name].append(time.perf_counter() - t0)
                reports[name] = report.to_json()
    finally:
        if before is None:
            os.environ.pop(ENGINE_SETTING, None)
        else:
            os.environ[ENGINE_SETTING] = before
    out = outcome(engines, times, reports, errors)
    for name in engines:
        out[name]["summary"] = reports[name]["summary"] if name in reports else None
    return out


def throughput(findings: int, engines: list[str], repeats: int, store: str | None = None) -> dict:
    """Findings per second of each engine at one size: ``validate`` of the sheet's batches and,
    with ``store``, the whole check of the sheet (engines qikg runs only); the JSON of --json."""
    with sheet(findings) as path:
        parts = batches_of(path)
        count = sum(len(set(d.subjects(RDF.type, QIKG.Finding))) for d, _ in parts)
        validated = measure(parts, engines, repeats)
        del parts
        checked = (
            measure_checks(path, store, [e for e in engines if e in QIKG_ENGINES], repeats)
            if store
            else {}
        )
    out: dict = {"findings": count, "repeats": repeats, "machine": machine(), "engines": {}}
    for name, v in validated.items():
        c = checked.get(name, {})
        out["engines"][name] = {
            "validate_s": v["s"],
            "validate_per_s": count / v["s"] if v["s"] else None,
            "same": v["same"],
            "error": v["error"] or c.get("error"),
            "check_s": c.get("s"),
            "check_per_s": count / c["s"] if c.get("s") else None,
            "check_same": c.get("same"),
        }
    peaks = (
        resource.getrusage(w).ru_maxrss for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    out["peak_rss_mb"] = round(max(peaks) / 1024)  # this process, or its largest worker
    return out


def measure(
    parts: list[tuple[rdflib.Graph, rdflib.Graph]], engines: list[str], repeats: int
) -> dict[str, dict]:
    """Median seconds per engine over ``repeats`` turns, and whether its reports equal pyshacl's."""
    times: dict[str, list[float]] = {name: [] for name in engines}
    reports: dict[str, list] = {}
    errors: dict[str, str] = {}
    for _ in range(repeats):
        for name in engines:
            if name in errors:
                continue
            run: Callable = CANDIDATES[name][1]
            t0 = time.perf_counter()
            try:
                found = [validate(data, context, engine=run) for data, context in parts]
            except Exception as exc:  # a candidate that fails is a result, not a crash
                errors[name] = f"{type(exc).__name__}: {exc}"[:200]
                continue
            times[name].append(time.perf_counter() - t0)
            reports[name] = [(r.to_json(), r.conforms) for r in found]
    return outcome(engines, times, reports, errors)


def outcome(
    engines: list[str], times: dict[str, list[float]], reports: dict, errors: dict[str, str]
) -> dict[str, dict]:
    """Each engine's median seconds, whether its report equals pyshacl's, and its error."""
    reference = reports.get("pyshacl")
    return {
        name: {
            "s": statistics.median(times[name]) if times[name] else None,
            "same": reports.get(name) == reference if name in reports else None,
            "error": errors.get(name),
        }
        for name in engines
    }


def machine() -> str:
    load = Path("/proc/loadavg").read_text().split()[0] if Path("/proc/loadavg").exists() else "?"
    return (
        f"{platform.processor() or platform.machine()}, {_cpus()} cores, Python "
        f"{platform.python_version()}, load {load}; "
        + ", ".join(f"{n} {installed(n)}" for n in CANDIDATES if installed(n))
    )


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--engines", nargs="+", default=list(CANDIDATES))
    parser.add_argument("--store", help="a built store: also time `qikg validate` end to end")
    parser.add_argument("--json", type=Path, help="write the numbers here (one size: an object)")
    parser.add_argument(
        "--emit", action="store_true", help="end with 'DONE {json}' (bench/run.py reads it)"
    )
    args = parser.parse_args(argv)
    engines = [e for e in args.engines if installed(e)]
    missing = sorted(set(args.engines) - set(engines))
    print(machine())
    if missing:
        print("not installed:", ", ".join(missing))
    print(
        "| findings | engine | ms per finding | findings/s | ratio to pyshacl | same report "
        "| `qikg validate` findings/s | same report |"
    )
    print("| ---: | --- | ---: | ---: | ---: | --- | ---: | --- |")
    found = []
    for n in args.findings:
        result = throughput(n, engines, args.repeats, args.store)
        found.append(result)
        count, reference = result["findings"], result["engines"].get("pyshacl", {})
        base, check_base = reference.get("validate_s"), reference.get("check_s")
        for name, r in result["engines"].items():
            if r["validate_s"] is None:
                print(f"| {count:,} | {name} | error | | | {r['error']} | | |")
                continue
            ratio = f"{r['validate_s'] / base:.2f}x" if base else ""
            check = f"{r['check_per_s']:,.0f}" if r["check_per_s"] else ""
            print(
                f"| {count:,} | {name} | {r['validate_s'] * 1000 / count:.2f} | "
                f"{r['validate_per_s']:,.0f} | {ratio} | {_same(r['same'], base)} | {check} | "
                f"{_same(r['check_same'], check_base) if r['check_s'] else ''} |"
            )
        sys.stdout.flush()
    numbers = found[0] if len(found) == 1 else {"sizes": found}
    if args.json:
        args.json.write_text(json.dumps(numbers, indent=1) + "\n")
    if args.emit:
        print("DONE " + json.dumps(numbers), flush=True)


def _same(same: bool | None, base: float | None) -> str:
    return "(no pyshacl run)" if base is None else "yes" if same else "**no**"


if __name__ == "__main__":
    main()
