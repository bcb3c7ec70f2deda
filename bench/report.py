"""Turn a bench/run.py JSON file into the Markdown tables and plots of docs/benchmarks.md.

    .venv/bin/python bench/report.py bench/results/full-2026-11-26.json            # tables
    .venv/bin/python bench/report.py bench/results/full-2026-11-26.json --plots docs/img

Plots need matplotlib (not a qikg dependency: ``pip install matplotlib`` into the venv).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from run import ENGINES, TARGETS, cell, fmt_s

MAIN_ENGINES = ("qikg", "pyoxigraph", "pyoxigraph-disk", "rdflib")
LABELS = {
    "qikg": "qikg EmbeddedStore.query",
    "qikg-timeout": "qikg query(timeout=) (worker pool)",
    "qikg-memory": "qikg in memory (explorer's pages)",
    "qikg-memory-timeout": "qikg in memory, worker pool (qikg serve)",
    "pyoxigraph": "pyoxigraph in memory (floor)",
    "pyoxigraph-disk": "pyoxigraph on the same disk store",
    "rdflib": "rdflib Graph",
}


def query_result(size: dict, engine: str, name: str) -> dict | None:
    return size.get("queries", {}).get(engine, {}).get("queries", {}).get(name)


def med(size: dict, engine: str, name: str) -> float | None:
    q = query_result(size, engine, name)
    return q.get("median") if q else None


def bound(size: dict, engine: str, name: str) -> tuple[float | None, bool]:
    """(seconds, is_lower_bound): a timed-out query counts as its limit, a lower bound."""
    q = query_result(size, engine, name) or {}
    if "median" in q:
        return q["median"], False
    if "timeout" in q:
        return q["timeout"], True
    return None, False


def ratio_value(
    a: tuple[float | None, bool], b: tuple[float | None, bool]
) -> tuple[float, str] | None:
    """(a / b, sign): the sign is '>' or '<' when one side is a lower bound (stopped at its
    limit); None when it cannot be told."""
    (x, x_low), (y, y_low) = a, b
    if x is None or y is None or (x_low and y_low):
        return None
    return x / y, ">" if x_low else "<" if y_low else ""


def ratio(a: tuple[float | None, bool], b: tuple[float | None, bool]) -> str:
    """a / b as text, with '>' or '<' when one side is a lower bound."""
    r = ratio_value(a, b)
    if r is None:
        return "–"
    value, sign = r
    return sign + (f"{value:.2f}" if value < 10 else f"{value:,.0f}")


def largest(results: dict) -> dict:
    return max(results["sizes"], key=lambda s: s.get("findings", 0))


def largest_with(results: dict, has) -> dict | None:
    """The size with the most findings for which ``has(size)`` is true."""
    sizes = [s for s in results["sizes"] if has(s)]
    return max(sizes, key=lambda s: s.get("findings", 0)) if sizes else None


def competency_questions(results: dict) -> list[str]:
    """The issue's competency questions (ontology/queries/cq*.rq), not the b* bench queries."""
    return [q["name"] for q in results["queries"] if q["file"].startswith("ontology/queries/cq")]


def agree(size: dict, name: str) -> str:
    digests = {
        engine: (query_result(size, engine, name) or {}).get("digest")
        for engine in ENGINES
        if engine in size.get("queries", {})
    }
    found = {d for d in digests.values() if d}
    if len(found) <= 1:
        return "yes" if found else "–"
    return "no: " + ", ".join(
        f"{e}" for e, d in digests.items() if d and d != digests.get("pyoxigraph")
    )


# --- tables --------------------------------------------------------------------------------------


def table_machine(results: dict) -> str:
    m = results["machine"]
    v = m["versions"]
    return "\n".join(
        [
            "| | |",
            "| --- | --- |",
            f"| CPU | {m['cpu']}, {m['cores']} cores |",
            f"| memory | {m['memory_mib'] / 1024:.1f} GiB |",
            f"| OS | {m['platform']} |",
            f"| Python | {m['python']} |",
            "| libraries | " + ", ".join(f"{k} {val}" for k, val in v.items() if val) + " |",
            f"| load average when the run started | {m['load_average_at_start'][0]:.1f} "
            "(other jobs shared the machine) |",
            f"| run | `{results['command']}`, started {results['started']}, "
            f"{results.get('seconds', 0) / 3600:.1f} h |",
        ]
    )


def table_sizes(results: dict) -> str:
    rows = [
        "| size | synthetic studies | findings (with the bundled ones) | triples (store) | corpus quads | generation |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in results["sizes"]:
        c = s.get("corpus", {})
        rows.append(
            f"| {s['label']} | {s['studies']:,} | "
            f"{s.get('findings', 0):,} | {s.get('triples') or 0:,} | {c.get('quads', 0):,} | "
            f"{fmt_s(c.get('seconds'))} |"
        )
    return "\n".join(rows)


def table_build(results: dict) -> str:
    rows = [
        "| size | findings | product path: total | of which corpus load | peak RSS | runs | "
        "`Store.load` (1 transaction) | peak RSS | `bulk_load` | peak RSS |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in results["sizes"]:
        b = s.get("build", {})
        alt = b.get("alternatives", {})
        load, bulk = alt.get("load", {}), alt.get("bulk", {})
        runs = len([r for r in b.get("runs", []) if "total" in r])
        total = (
            fmt_s(b.get("median_total")) if "median_total" in b else cell(b.get("runs", [{}])[-1])
        )
        rows.append(
            f"| {s['label']} | {s.get('findings', 0):,} | {total} | "
            f"{fmt_s(b.get('median_load_corpus'))} | {mb(b.get('median_peak_rss_mb'))} | {runs} | "
            f"{fmt_s(load.get('median_total'))} | {mb(load.get('median_peak_rss_mb'))} | "
            f"{fmt_s(bulk.get('median_total'))} | {mb(bulk.get('median_peak_rss_mb'))} |"
        )
    return "\n".join(rows)


def mb(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value:.0f} MiB"


def table_queries(results: dict, size: dict) -> str:
    engines = [e for e in ENGINES if e in size.get("queries", {})]
    head = (
        "| query | rows | " + " | ".join(engines) + " | rdflib / qikg | qikg / pyoxigraph | "
        "qikg / pyoxigraph-disk | same answers |"
    )
    rows = [
        head,
        "| --- | ---: | " + " | ".join("---:" for _ in engines) + " | ---: | ---: | ---: | --- |",
    ]
    for q in results["queries"]:
        name = q["name"]
        cells = [cell(query_result(size, e, name)) for e in engines]
        found = [query_result(size, e, name) or {} for e in engines]
        n_rows = next((f.get("rows") for f in found if "rows" in f), "–")
        rows.append(
            f"| [{name}](../{q['file']}) | {n_rows} | " + " | ".join(cells) + " | "
            f"{ratio(bound(size, 'rdflib', name), bound(size, 'qikg', name))} | "
            f"{ratio(bound(size, 'qikg', name), bound(size, 'pyoxigraph', name))} | "
            f"{ratio(bound(size, 'qikg', name), bound(size, 'pyoxigraph-disk', name))} | "
            f"{agree(size, name)} |"
        )
    loads = []
    for e in engines:
        load = size["queries"][e].get("load", {})
        if "seconds" in load:
            loads.append(f"{e} {fmt_s(load['seconds'])} ({mb(load.get('peak_rss_mb'))})")
    return "\n".join(rows) + (
        "\n\nLoad before the first query: " + "; ".join(loads) + "." if loads else ""
    )


def table_query_summary(results: dict) -> str:
    engines = [e for e in MAIN_ENGINES if any(e in s.get("queries", {}) for s in results["sizes"])]
    cqs = competency_questions(results)
    rows = [
        "| size | findings | "
        + " | ".join(f"{e}: median / worst CQ" for e in engines)
        + f" | CQs under {TARGETS['query_ms']} ms (qikg) |",
        "| --- | ---: | " + " | ".join("---:" for _ in engines) + " | ---: |",
    ]
    for s in results["sizes"]:
        if "queries" not in s:
            continue
        cells = []
        for e in engines:
            values = [bound(s, e, name) for name in cqs]
            values = [v for v in values if v[0] is not None]
            if not values:
                cells.append("–")
                continue
            times = [v[0] for v in values]
            worst = max(values, key=lambda v: v[0])
            cells.append(
                f"{fmt_s(statistics.median(times))} / {'> ' if worst[1] else ''}{fmt_s(worst[0])}"
            )
        under = sum(1 for n in cqs if (med(s, "qikg", n) or 1e9) * 1000 < TARGETS["query_ms"])
        rows.append(
            f"| {s['label']} | {s.get('findings', 0):,} | "
            + " | ".join(cells)
            + f" | {under} of {len(cqs)} |"
        )
    return "\n".join(rows)


def table_other(results: dict) -> str:
    rows = [
        "| size | findings | SHACL, whole corpus | import 25 findings into this store | "
        "into an empty built store | ratio | `qikg query` cold start | serve: req/s, p50, p99 (8 clients) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in results["sizes"]:
        sh = s.get("shacl", {})
        shacl = (
            fmt_s(sh["validate"]) + f" ({sh.get('summary', '')})" if "validate" in sh else cell(sh)
        )
        imp = s.get("import", {})
        ratio_text = f"{imp['ratio']:.2f}" if "ratio" in imp else "–"
        sv = s.get("serve", {})
        serve = (
            f"{sv['throughput_rps']:.1f}, {fmt_s(sv['p50'])}, {fmt_s(sv['p99'])}"
            + (f" ({sv['errors']} errors)" if sv.get("errors") else "")
            if sv.get("throughput_rps")
            else cell(sv)
            if sv
            else "–"
        )
        rows.append(
            f"| {s['label']} | {s.get('findings', 0):,} | {shacl} | {cell(imp.get('corpus'))} | "
            f"{cell(imp.get('empty'))} | {ratio_text} | {cell(s.get('cold_start'))} | {serve} |"
        )
    return "\n".join(rows)


def table_engines(results: dict) -> str:
    """Validation throughput per SHACL engine at each size, pyshacl beside pyshacl-turbo."""
    sizes = [s for s in results["sizes"] if "engines" in s.get("engines", {})]
    if not sizes:
        return "(validation throughput per engine was not measured)"
    rows = [
        "| size | findings checked | engine | `validate`: findings/s | ratio to pyshacl | "
        "`qikg validate` whole: findings/s | ratio to pyshacl | report identical to pyshacl's |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for s in sizes:
        e = s["engines"]
        base = e["engines"].get("pyshacl", {})
        for name, r in e["engines"].items():
            if r.get("validate_per_s") is None:
                rows.append(f"| {s['label']} | {e['findings']:,} | {name} | {r.get('error')} |||||")
                continue
            same = "yes" if r.get("same") and r.get("check_same") is not False else "**no**"
            rows.append(
                f"| {s['label']} | {e['findings']:,} | {name} | {r['validate_per_s']:,.0f} | "
                f"{_times(r.get('validate_per_s'), base.get('validate_per_s'))} | "
                f"{_per_s(r.get('check_per_s'))} | "
                f"{_times(r.get('check_per_s'), base.get('check_per_s'))} | {same} |"
            )
    return "\n".join(rows) + (
        "\n\n`validate`: kg.validate.validate over the sheet's batches (the engine and qikg's "
        "work around it); `qikg validate` whole: reading the sheet, turning it into RDF and "
        "checking it, in worker processes from kg.importer.PARALLEL_FROM findings "
        "(bench/validate_engines.py); medians, each engine in turn."
    )


def _per_s(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _times(value: float | None, base: float | None) -> str:
    return "–" if not value or not base else f"{value / base:.1f}x"


def table_explorer(results: dict) -> str:
    sizes = [s for s in results["sizes"] if "pages" in s.get("explorer", {})]
    if not sizes:
        return "(the explorer was not measured)"
    pages = list(sizes[0]["explorer"]["pages"])
    rows = [
        "| page | " + " | ".join(f"{s['label']} cold / warm" for s in sizes) + " |",
        "| --- | " + " | ".join("---:" for _ in sizes) + " |",
    ]
    for page in pages:
        cells = []
        for s in sizes:
            p = s["explorer"]["pages"].get(page, {})
            if "cold" in p:
                cells.append(
                    f"{fmt_s(p['cold'])} / {fmt_s(p['warm'])}"
                    + (" (!)" if p.get("problems") else "")
                )
            else:
                cells.append(cell(p))
        rows.append(f"| {page} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def table_reasoning(results: dict) -> str:
    sizes = [
        s
        for s in results["sizes"]
        if isinstance(s.get("reasoning"), dict) and not s["reasoning"].get("skipped")
    ]
    if not sizes:
        return "(reasoning was not measured)"
    engines = list(sizes[0]["reasoning"])
    rows = [
        "| engine | "
        + " | ".join(f"{s['label']} ({s.get('findings', 0):,} findings)" for s in sizes)
        + " |",
        "| --- | " + " | ".join("---:" for _ in sizes) + " |",
    ]
    for engine in engines:
        cells = []
        for s in sizes:
            r = s["reasoning"].get(engine, {})
            cells.append(
                f"{fmt_s(r['seconds'])}, {r.get('triples', 0):,} triples, {mb(r.get('peak_rss_mb'))}"
                + (
                    f"; a finding's reads without inference {fmt_s(r['reads_before'])} before, "
                    f"{fmt_s(r['reads_after'])} after"
                    if "reads_after" in r
                    else ""
                )
                if "seconds" in r
                else cell(r)
            )
        rows.append(f"| {engine} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else "met" if ok else "not met"


def ratio_text(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:,.0f}x"


#: A row of the Targets table: (target, size it was judged at or None, measured, verdict).
Row = tuple[str, dict | None, str, str]


def target_cq_time(results: dict) -> Row:
    """(a) every competency question under the time target on the embedded qikg store."""
    cqs, limit = competency_questions(results), TARGETS["query_ms"]
    what = f"every CQ under {limit} ms (qikg EmbeddedStore.query)"
    s = largest_with(results, lambda s: any(bound(s, "qikg", c)[0] is not None for c in cqs))
    if s is None:
        return what, None, "–", verdict(None)
    times = {c: bound(s, "qikg", c) for c in cqs if bound(s, "qikg", c)[0] is not None}
    under = [c for c, (x, low) in times.items() if not low and x * 1000 < limit]
    worst = max(times, key=lambda c: times[c][0])
    x, low = times[worst]
    text = f"{len(under)} of {len(cqs)}; worst {worst} {'> ' if low else ''}{fmt_s(x)}"
    return what, s, text, verdict(len(under) == len(cqs))


def target_cq_ratio(results: dict, slow: str, fast: str, goal: float, what: str) -> Row:
    """(b), (c): ``slow / fast`` per competency question; met when the ratio is at least
    ``goal`` (``fast`` = qikg) or at most ``goal`` (``slow`` = qikg) for every CQ. A run stopped
    at its time limit counts as the limit, a bound that can still decide."""
    cqs = competency_questions(results)
    s = largest_with(
        results,
        lambda s: any(med(s, slow, c) for c in cqs) and any(med(s, fast, c) for c in cqs),
    )
    if s is None:
        return what, None, "–", verdict(None)
    ratios = {c: ratio_value(bound(s, slow, c), bound(s, fast, c)) for c in cqs}
    ratios = {c: r for c, r in ratios.items() if r is not None}
    if not ratios:
        return what, s, "–", verdict(None)
    if fast == "qikg":
        ok = [c for c, (r, sign) in ratios.items() if r >= goal and sign != "<"]
    else:
        ok = [c for c, (r, sign) in ratios.items() if r <= goal and sign != ">"]
    text = f"{len(ok)} of {len(cqs)} CQs; median ratio " + ratio_text(
        statistics.median(r for r, _ in ratios.values())
    )
    if slow == "qikg":
        worst = max(ratios, key=lambda c: ratios[c][0])
        text += f", worst {worst} {ratios[worst][1]}{ratio_text(ratios[worst][0])}"
    capped = [
        f"{c} {e} > {fmt_s(bound(s, e, c)[0])}"
        for c in cqs
        for e in (slow, fast)
        if bound(s, e, c)[1]
    ]
    if capped:
        text += f"; stopped at the time limit: {', '.join(capped)}"
    return what, s, text, verdict(len(ok) == len(cqs))


def target_build(results: dict) -> list[Row]:
    """(d) the product path's build time and peak memory at the largest size."""
    s = largest(results)
    build = s.get("build", {})
    total, rss = build.get("median_total"), build.get("median_peak_rss_mb")
    return [
        (
            f"build under {TARGETS['build_s']} s (product path)",
            s,
            fmt_s(total) if total is not None else cell(build.get("runs", [{}])[-1]),
            verdict(total is not None and total < TARGETS["build_s"]),
        ),
        (
            f"build peak RSS under {mb(TARGETS['build_mb'])} (product path)",
            s,
            mb(rss),
            verdict(None if rss is None else rss < TARGETS["build_mb"]),
        ),
    ]


def target_time(results: dict, what: str, pick, limit: float) -> Row:
    """A single timed step (``pick(size)`` its result) under ``limit`` seconds."""
    s = largest_with(results, lambda s: "median" in pick(s) or "timeout" in pick(s))
    if s is None:
        return what, None, "–", verdict(None)
    value = pick(s).get("median")
    return what, s, cell(pick(s)), verdict(value is not None and value < limit)


def target_import_ratio(results: dict) -> Row:
    """(e, issue #5) import into a large store at most ``import_ratio`` times import into an
    empty one, judged only at ``import_ratio_findings`` findings or more."""
    goal, floor = TARGETS["import_ratio"], TARGETS["import_ratio_findings"]
    what = f"import into it at most {goal:g}x import into an empty store ({floor:,}+ findings)"
    s = largest_with(results, lambda s: "ratio" in s.get("import", {}))
    if s is None:
        return what, None, "–", verdict(None)
    value = s["import"]["ratio"]
    if s.get("findings", 0) < floor:
        return what, s, f"{value:.2f}x (a smaller store)", verdict(None)
    return what, s, f"{value:.2f}x", verdict(value <= goal)


def target_pages(results: dict, bundled: bool) -> Row:
    """(g) every explorer page under the limit, judged on its cold time (caches cleared)."""
    limit = TARGETS["page_bundled_s" if bundled else "page_100k_s"]
    what = f"every explorer page under {limit:g} s " + (
        "on the bundled data" if bundled else "at the largest size"
    )
    s = largest_with(
        results,
        lambda s: "pages" in s.get("explorer", {}) and (s["studies"] == 0 or not bundled),
    )
    if s is None:
        return what, None, "–", verdict(None)
    pages = s["explorer"]["pages"]
    ok = [n for n, p in pages.items() if p.get("cold", limit) < limit and not p.get("problems")]
    timed = [n for n, p in pages.items() if "cold" in p]
    text = f"{len(ok)} of {len(pages)} pages"
    if timed:
        worst = max(timed, key=lambda n: pages[n]["cold"])
        text += f"; slowest {worst}: cold {fmt_s(pages[worst]['cold'])} / warm {fmt_s(pages[worst]['warm'])}"
    failed = [n for n, p in pages.items() if p.get("problems") or "cold" not in p]
    if failed:
        text += f"; failed or showed errors: {', '.join(failed)}"
    return what, s, text, verdict(len(ok) == len(pages))


def target_validate_sheet(results: dict) -> Row:
    """(issue #19) ``qikg validate`` fast enough for a 50 MB sheet in the time: its throughput
    (the engine qikg chooses by default) at the largest size that measured it."""
    findings, limit = TARGETS["validate_sheet_findings"], TARGETS["validate_sheet_s"]
    need = findings / limit
    what = (
        f"`qikg validate` at {need:,.0f}+ findings/s (a 50 MB sheet, {findings:,} findings, "
        f"in under {limit:g} s)"
    )

    def best(s: dict) -> float | None:
        rates = [r.get("check_per_s") for r in s.get("engines", {}).get("engines", {}).values()]
        return max((r for r in rates if r), default=None)

    s = largest_with(results, lambda s: best(s) is not None)
    if s is None:
        return what, None, "–", verdict(None)
    rate = best(s) or 0.0
    text = f"{rate:,.0f} findings/s: {findings / rate:,.0f} s for {findings:,} findings"
    return what, s, text, verdict(rate >= need)


def table_targets(results: dict) -> str:
    """One row per target of the issue: the value at the largest size that has it, met or not."""
    vs_ox = TARGETS["vs_pyoxigraph"]
    rows = [
        target_cq_time(results),
        target_cq_ratio(
            results,
            "rdflib",
            "qikg",
            TARGETS["vs_rdflib"],
            f"every CQ at least {TARGETS['vs_rdflib']:g}x faster than rdflib",
        ),
        target_cq_ratio(
            results,
            "qikg",
            "pyoxigraph",
            vs_ox,
            f"every CQ within {vs_ox:g}x of bare pyoxigraph, in memory (the floor)",
        ),
        target_cq_ratio(
            results,
            "qikg",
            "pyoxigraph-disk",
            vs_ox,
            f"every CQ within {vs_ox:g}x of bare pyoxigraph on the same disk database",
        ),
        *target_build(results),
        target_time(
            results,
            f"import a 25-finding study under {TARGETS['import_s']:g} s",
            lambda s: s.get("import", {}).get("corpus", {}),
            TARGETS["import_s"],
        ),
        target_import_ratio(results),
        target_time(
            results,
            f"`qikg query` cold start under {TARGETS['cold_start_s']:g} s",
            lambda s: s.get("cold_start", {}),
            TARGETS["cold_start_s"],
        ),
        target_pages(results, bundled=True),
        target_pages(results, bundled=False),
        target_validate_sheet(results),
    ]
    lines = ["| target | judged at | measured | verdict |", "| --- | --- | --- | --- |"]
    for what, s, text, ok in rows:
        where = f"{s['label']} ({s.get('findings', 0):,} findings)" if s else "–"
        lines.append(f"| {what} | {where} | {text} | {ok} |")
    return "\n".join(lines) + (
        "\n\nEach target is judged at the largest size that measured it (the issue sets them "
        "for 100,000 findings). Explorer pages are judged on their cold time (the first render "
        "after the caches are cleared); the warm time is shown beside it."
    )


# --- plots ---------------------------------------------------------------------------------------


def plots(results: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    written = []
    sizes = [s for s in results["sizes"] if s.get("findings")]

    # 1. queries: the median and the worst competency question per engine, vs findings.
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    names = competency_questions(results) or [q["name"] for q in results["queries"]]
    for ax, (title, pick) in zip(
        axes,
        (
            ("median over the competency questions", statistics.median),
            ("slowest competency question", max),
        ),
        strict=True,
    ):
        for engine in MAIN_ENGINES:
            xs, ys, lower = [], [], []
            for s in sizes:
                values = [bound(s, engine, n) for n in names]
                values = [v for v in values if v[0] is not None]
                if len(values) < len(names) * 0.5:
                    continue
                xs.append(s["findings"])
                ys.append(pick([v[0] for v in values]) * 1000)
                lower.append(any(v[1] for v in values) and pick is max)
            if xs:
                line = ax.plot(xs, ys, marker="o", label=LABELS[engine])[0]
                for x, y, low in zip(xs, ys, lower, strict=True):
                    if low:
                        ax.annotate(
                            "≥",
                            (x, y),
                            textcoords="offset points",
                            xytext=(4, 4),
                            color=line.get_color(),
                        )
        target = TARGETS["query_ms"]
        ax.axhline(target, color="grey", linestyle="--", linewidth=1)
        ax.text(
            sizes[0]["findings"], target * 1.15, f"target {target} ms", color="grey", fontsize=8
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("findings in the store")
        ax.set_title(title, fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    axes[0].set_ylabel("query time, ms (median of runs)")
    axes[1].legend(fontsize=7, loc="upper left")
    fig.suptitle(
        "Competency questions vs corpus size (log-log; ≥ = stopped at the time limit)", fontsize=11
    )
    fig.tight_layout()
    path = out / "bench-queries.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)

    # 2. build, validation, import: seconds and memory vs findings.
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = {
        "build: product path (replace_graphs)": [
            (s["findings"], s["build"].get("median_total")) for s in sizes
        ],
        "build: one Store.load transaction": [
            (s["findings"], s["build"].get("alternatives", {}).get("load", {}).get("median_total"))
            for s in sizes
        ],
        "build: bulk_load (not transactional)": [
            (s["findings"], s["build"].get("alternatives", {}).get("bulk", {}).get("median_total"))
            for s in sizes
        ],
        "SHACL, whole corpus": [(s["findings"], s.get("shacl", {}).get("validate")) for s in sizes],
        "import 25 findings into the store": [
            (s["findings"], s.get("import", {}).get("corpus", {}).get("median")) for s in sizes
        ],
        "qikg query cold start": [
            (s["findings"], s.get("cold_start", {}).get("median")) for s in sizes
        ],
    }
    for label, points in series.items():
        points = [(x, y) for x, y in points if y]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", label=label)
    target = TARGETS["build_s"]
    ax.axhline(target, color="grey", linestyle="--", linewidth=1)
    ax.text(
        sizes[0]["findings"], target * 1.1, f"build target {target} s", color="grey", fontsize=8
    )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("findings in the store")
    ax.set_ylabel("seconds (median of runs)")
    ax.set_title("build, validation, import, CLI start", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7)
    memory = {
        "build: product path": [
            (s["findings"], s["build"].get("median_peak_rss_mb")) for s in sizes
        ],
        "build: one Store.load transaction": [
            (
                s["findings"],
                s["build"].get("alternatives", {}).get("load", {}).get("median_peak_rss_mb"),
            )
            for s in sizes
        ],
        "build: bulk_load": [
            (
                s["findings"],
                s["build"].get("alternatives", {}).get("bulk", {}).get("median_peak_rss_mb"),
            )
            for s in sizes
        ],
        "SHACL, whole corpus": [
            (s["findings"], s.get("shacl", {}).get("peak_rss_mb")) for s in sizes
        ],
    }
    for label, points in memory.items():
        points = [(x, y) for x, y in points if y]
        if points:
            ax2.plot(*zip(*points, strict=True), marker="o", label=label)
    target = TARGETS["build_mb"]
    ax2.axhline(target, color="grey", linestyle="--", linewidth=1)
    ax2.text(sizes[0]["findings"], target * 1.1, f"target {mb(target)}", color="grey", fontsize=8)
    ax2.set_xscale("log")
    ax2.set_yscale("log")
    ax2.set_xlabel("findings in the store")
    ax2.set_ylabel("peak RSS of the process, MiB")
    ax2.set_title("peak memory", fontsize=10)
    ax2.grid(True, which="major", alpha=0.3)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    path = out / "bench-build.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--plots", type=Path, help="write bench-*.png here")
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    big = largest(results)
    sections = [
        ("Targets", table_targets(results)),
        ("Machine", table_machine(results)),
        ("Sizes", table_sizes(results)),
        ("Build", table_build(results)),
        ("Queries: summary", table_query_summary(results)),
        (
            f"Queries at {big['label']} ({big.get('findings', 0):,} findings)",
            table_queries(results, big),
        ),
    ]
    for s in results["sizes"]:
        if s is not big and "queries" in s:
            sections.append(
                (
                    f"Queries at {s['label']} ({s.get('findings', 0):,} findings)",
                    table_queries(results, s),
                )
            )
    sections += [
        ("Validation, import, CLI, server", table_other(results)),
        ("Validation throughput per SHACL engine", table_engines(results)),
        ("Explorer pages", table_explorer(results)),
        ("Reasoning", table_reasoning(results)),
    ]
    for title, text in sections:
        print(f"### {title}\n\n{text}\n")
    if args.plots:
        for path in plots(results, args.plots):
            print(f"(wrote {path})")


if __name__ == "__main__":
    main()
