"""The explorer's whole process tree's memory on a built store, as a researcher uses it.

    .venv/bin/python bench/explorer_memory.py STORE [--json OUT] [--settle SECONDS]

Starts the explorer (``streamlit run app.py``) over STORE, opens every page in Debian's chromium
(Playwright) and runs a query on the SPARQL page (which starts its query worker), then samples
the memory of the explorer's process and its children every 2 s until the copy of the store in
memory has loaded and the total has settled, and opens every page again. Reports each process's
resident (RSS) and proportional (PSS: shared pages split between the processes sharing them)
memory, the peak of their sum, and the sum at the end (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]

from kg.explorer import PAGES  # noqa: E402
from tests.conftest import CHROMIUM_ARGS, IDLE  # noqa: E402
from tests.servers import start_explorer  # noqa: E402


def tree(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        children = Path(f"/proc/{current}/task/{current}/children")
        if children.exists():
            todo += [int(c) for c in children.read_text().split()]
    return found


def memory_mb(pid: int) -> dict[str, float]:
    """RSS and PSS of one process, in MiB (0 once it has ended)."""
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
    except (FileNotFoundError, ProcessLookupError):
        return {"rss": 0.0, "pss": 0.0}
    values = {line.split(":")[0]: int(line.split()[1]) / 1024 for line in lines[1:]}
    return {"rss": values.get("Rss", 0.0), "pss": values.get("Pss", 0.0), "command": name}


def sample(pid: int) -> dict:
    each = {p: memory_mb(p) for p in tree(pid)}
    return {
        "rss": sum(m["rss"] for m in each.values()),
        "pss": sum(m["pss"] for m in each.values()),
        "processes": each,
    }


def visit_all(tab, base: str) -> None:
    for name in PAGES:
        tab.goto(f"{base}/{name}")
        tab.wait_for_selector(IDLE, timeout=600_000)
    query = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { ?f a qikg:Finding }")
    tab.goto(f"{base}/sparql?query={query}")
    tab.wait_for_selector(IDLE, timeout=600_000)
    tab.get_by_role("button", name="Run query").click()
    tab.wait_for_timeout(1000)
    tab.wait_for_selector(IDLE, timeout=600_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--settle", type=float, default=600, help="most seconds to wait")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    samples: list[dict] = []
    with start_explorer(args.store, Path(tempfile.mkdtemp(prefix="qikg-mem-"))) as base:
        host = int(base.rsplit(":", 1)[1])
        pid = next(
            p
            for p in map(int, filter(str.isdigit, (x.name for x in Path("/proc").iterdir())))
            if f"--server.port\0{host}\0".encode() in _cmdline(p)
        )
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            tab = browser.new_page()
            started = time.monotonic()
            visit_all(tab, base)
            opened = time.monotonic() - started
            while time.monotonic() - started < args.settle:
                samples.append({"t": round(time.monotonic() - started, 1), **sample(pid)})
                recent = [s["rss"] for s in samples[-15:]]
                if len(recent) == 15 and max(recent) - min(recent) < 30:
                    break  # the copy has loaded: the total has not moved for 30 s
                time.sleep(2)
            visit_all(tab, base)
            samples.append({"t": round(time.monotonic() - started, 1), **sample(pid)})
            browser.close()
    out = {
        "store": str(args.store),
        "pages_opened_s": opened,
        "peak_rss_mb": max(s["rss"] for s in samples),
        "peak_pss_mb": max(s["pss"] for s in samples),
        "end": samples[-1],
        "samples": [{k: v for k, v in s.items() if k != "processes"} for s in samples],
    }
    text = json.dumps(out, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


if __name__ == "__main__":
    main()
