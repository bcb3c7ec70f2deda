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

MAIN_ENGINES = ("qikg", "qikg-union", "pyoxigraph", "pyoxigraph-disk", "rdflib")
LABELS = {
    "qikg": "qikg EmbeddedStore.query",
    "qikg-timeout": "qikg query(timeout=) (worker pool)",
    "qikg-union": "qikg + union default graph (prototype fix)",
    "pyoxigraph": "pyoxigraph in memory (floor)",
    "pyoxigraph-disk": "pyoxigraph on the same disk store",
    "rdflib": "rdflib Graph",
}


def ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 10:
        return f"{value:,.0f} s"
    if value >= 1:
        return f"{value:.2f} s"
    if value >= 0.01:
        return f"{value * 1000:.0f} ms"
    return f"{value * 1000:.1f} ms"


def q_cell(q: dict | None) -> str:
    if not q:
        return "–"
    if "timeout" in q:
        return f"> {q['timeout']:g} s"
    if "error" in q:
        return "error"
    if "skipped" in q:
        return "skipped"
    return ms(q.get("median"))


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


def ratio(a: tuple[float | None, bool], b: tuple[float | None, bool]) -> str:
    """a / b, with '>' or '<' when one side is a lower bound."""
    (x, x_low), (y, y_low) = a, b
    if x is None or y is None or (x_low and y_low):
        return "–"
    r = x / y
    text = f"{r:.2f}" if r < 10 else f"{r:,.0f}"
    return (">" if x_low else "<" if y_low else "") + text


def size_by_label(results: dict, label: str) -> dict | None:
    return next((s for s in results["sizes"] if s["label"] == label), None)


def largest(results: dict) -> dict:
    return max(results["sizes"], key=lambda s: s.get("findings", 0))


def agree(size: dict, name: str) -> str:
    digests = {
        engine: (query_result(size, engine, name) or {}).get("digest")
        for engine in size.get("queries", {})
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
            f"{ms(c.get('seconds'))} |"
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
            ms(b.get("median_total")) if "median_total" in b else q_cell(b.get("runs", [{}])[-1])
        )
        rows.append(
            f"| {s['label']} | {s.get('findings', 0):,} | {total} | "
            f"{ms(b.get('median_load_corpus'))} | {mb(b.get('median_peak_rss_mb'))} | {runs} | "
            f"{ms(load.get('median_total'))} | {mb(load.get('median_peak_rss_mb'))} | "
            f"{ms(bulk.get('median_total'))} | {mb(bulk.get('median_peak_rss_mb'))} |"
        )
    return "\n".join(rows)


def mb(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value:.0f} MiB"


def table_queries(results: dict, size: dict) -> str:
    engines = [
        e
        for e in ("qikg", "qikg-timeout", "qikg-union", "pyoxigraph", "pyoxigraph-disk", "rdflib")
        if e in size.get("queries", {})
    ]
    head = (
        "| query | rows | " + " | ".join(engines) + " | rdflib / qikg | qikg / pyoxigraph | "
        "qikg-union / pyoxigraph | same answers |"
    )
    rows = [
        head,
        "| --- | ---: | " + " | ".join("---:" for _ in engines) + " | ---: | ---: | ---: | --- |",
    ]
    for q in results["queries"]:
        name = q["name"]
        cells = [q_cell(query_result(size, e, name)) for e in engines]
        found = [query_result(size, e, name) or {} for e in engines]
        n_rows = next((f.get("rows") for f in found if "rows" in f), "–")
        rows.append(
            f"| [{name}](../{q['file']}) | {n_rows} | " + " | ".join(cells) + " | "
            f"{ratio(bound(size, 'rdflib', name), bound(size, 'qikg', name))} | "
            f"{ratio(bound(size, 'qikg', name), bound(size, 'pyoxigraph', name))} | "
            f"{ratio(bound(size, 'qikg-union', name), bound(size, 'pyoxigraph', name))} | "
            f"{agree(size, name)} |"
        )
    loads = []
    for e in engines:
        load = size["queries"][e].get("load", {})
        if "seconds" in load:
            loads.append(f"{e} {ms(load['seconds'])} ({mb(load.get('peak_rss_mb'))})")
    return "\n".join(rows) + (
        "\n\nLoad before the first query: " + "; ".join(loads) + "." if loads else ""
    )


def table_query_summary(results: dict) -> str:
    engines = [e for e in MAIN_ENGINES if any(e in s.get("queries", {}) for s in results["sizes"])]
    rows = [
        "| size | findings | "
        + " | ".join(f"{e}: median / worst CQ" for e in engines)
        + " | CQs under 100 ms (qikg) |",
        "| --- | ---: | " + " | ".join("---:" for _ in engines) + " | ---: |",
    ]
    for s in results["sizes"]:
        if "queries" not in s:
            continue
        cells = []
        for e in engines:
            values = [bound(s, e, q["name"]) for q in results["queries"]]
            values = [v for v in values if v[0] is not None]
            if not values:
                cells.append("–")
                continue
            times = [v[0] for v in values]
            worst = max(values, key=lambda v: v[0])
            cells.append(
                f"{ms(statistics.median(times))} / {'> ' if worst[1] else ''}{ms(worst[0])}"
            )
        under = sum(1 for q in results["queries"] if (med(s, "qikg", q["name"]) or 1e9) < 0.1)
        rows.append(
            f"| {s['label']} | {s.get('findings', 0):,} | "
            + " | ".join(cells)
            + f" | {under} of {len(results['queries'])} |"
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
            ms(sh["validate"]) + f" ({sh.get('summary', '')})" if "validate" in sh else q_cell(sh)
        )
        imp = s.get("import", {})
        ratio_text = f"{imp['ratio']:.2f}" if "ratio" in imp else "–"
        sv = s.get("serve", {})
        serve = (
            f"{sv['throughput_rps']:.1f}, {ms(sv['p50'])}, {ms(sv['p99'])}"
            + (f" ({sv['errors']} errors)" if sv.get("errors") else "")
            if sv.get("throughput_rps")
            else q_cell(sv)
            if sv
            else "–"
        )
        rows.append(
            f"| {s['label']} | {s.get('findings', 0):,} | {shacl} | {q_cell(imp.get('corpus'))} | "
            f"{q_cell(imp.get('empty'))} | {ratio_text} | {q_cell(s.get('cold_start'))} | {serve} |"
        )
    return "\n".join(rows)


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
                    f"{ms(p['cold'])} / {ms(p['warm'])}" + (" (!)" if p.get("problems") else "")
                )
            else:
                cells.append(q_cell(p))
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
                f"{ms(r['seconds'])}, {r.get('triples', 0):,} triples, {mb(r.get('peak_rss_mb'))}"
                if "seconds" in r
                else q_cell(r)
            )
        rows.append(f"| {engine} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


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
    cq = [q["name"] for q in results["queries"] if q["file"].startswith("ontology/")]
    names = cq or [q["name"] for q in results["queries"]]
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
        ax.axhline(100, color="grey", linestyle="--", linewidth=1)
        ax.text(sizes[0]["findings"], 115, "target 100 ms", color="grey", fontsize=8)
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
    ax.axhline(60, color="grey", linestyle="--", linewidth=1)
    ax.text(sizes[0]["findings"], 66, "build target 60 s", color="grey", fontsize=8)
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
    ax2.axhline(2048, color="grey", linestyle="--", linewidth=1)
    ax2.text(sizes[0]["findings"], 2300, "target 2 GiB", color="grey", fontsize=8)
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
