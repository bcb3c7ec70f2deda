"""Every example in ``qikg --help`` and ``qikg VERB --help`` runs as written.

Each verb's examples run in order, through ``bash -c``, with ``qikg`` on PATH, in a working
folder of their own over a fresh copy of the bundled store, with the files a newcomer would have
made first (PREPARED). ``qikg serve`` and ``qikg explore`` are started, asked whether they answer,
and stopped; the lines after them (curl) run while they are up. An example exits 0 unless its
comment documents a refusal, as in ``# refused: ... (exit 1)``.

The verbs' blocks run two at a time (most of the time is a few slow verbs: suggest-synthesis,
reason, release), each still a test of its own.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kg.cli import VERBS
from tests.conftest import IN_CI, REPO, run_cli
from tests.servers import stop_group, wait_until_answers
from tests.sheets import finding, study, write_sheet
from tests.test_qda import write_qdpx

#: The study a newcomer codes in my-study.xlsx (the examples of import-qda and remove name it).
STUDY_ID = "hansen2025"
#: The query file ``qikg query --help`` names, in the repository a newcomer has cloned.
CQ04 = "ontology/queries/cq04-enablers-for-group.rq"


def coding_sheet(path: Path) -> None:
    """my-study.xlsx: the template's sheets with one study and one finding coded in them."""
    write_sheet(path, [study(study_id=STUDY_ID)], [finding(study_id=STUDY_ID)])


def qda_project(path: Path) -> None:
    """interviews.qdpx: a REFI-QDA project as ATLAS.ti or NVivo exports it."""
    write_qdpx(path)


def repository_file(name: str) -> Callable[[Path], None]:
    """A file of the qikg repository, which a newcomer has from the clone."""

    def copy(path: Path) -> None:
        shutil.copyfile(REPO / name, path)

    return copy


#: The files each verb's examples expect in the working folder, and how each is made.
PREPARED: dict[str, dict[str, Callable[[Path], None]]] = {
    "import": {"my-study.xlsx": coding_sheet},
    "import-qda": {"my-study.xlsx": coding_sheet, "interviews.qdpx": qda_project},
    "mapping-template": {"interviews.qdpx": qda_project},
    "query": {CQ04: repository_file(CQ04)},
    "remove": {"my-study.xlsx": coding_sheet},
    "restore": {"my-study.xlsx": coding_sheet},
    "undo": {"my-study.xlsx": coding_sheet},
    "validate": {"my-study.xlsx": coding_sheet},
}
#: Verbs that run until stopped, and the path that answers once each is up.
LONG_RUNNING = {"serve": "/health", "explore": "/_stcore/health"}
#: A refusal documented in an example's comment: ``# refused: why (exit 1)``.
REFUSAL = re.compile(r"#.*\(exit (\d+)\)\s*$")
#: Started first, so that the slowest blocks do not run last and alone.
SLOWEST = ("suggest-synthesis", "reason", "release", "explore", "build", "")
BIN = Path(sys.executable).parent


def examples_in(help_text: str) -> list[str]:
    """The command lines of a help text's Example(s) block (none without one), a line ending in
    ``\\`` joined to the next (bash reads it so too)."""
    lines = help_text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() in ("Example:", "Examples:")]
    found: list[str] = []
    continued = False
    for line in lines[starts[0] + 1 :] if len(starts) == 1 else []:
        if not line.strip():
            break
        if continued:
            found[-1] += "\n" + line
        else:
            found.append(line.strip())
        continued = line.endswith("\\")
    return found


def help_examples(verb: str) -> list[str]:
    """The examples of ``qikg VERB --help`` (of ``qikg --help`` for verb ""). Not in a thread:
    the CLI runs in this process with its output redirected."""
    ran = run_cli(*([verb] if verb else []), "--help")
    assert ran.exit_code == 0, ran.err
    return examples_in(ran.out)


def newcomer(folder: Path, store: str) -> dict[str, str]:
    """The environment of a newcomer's shell: qikg on PATH, ``store`` as the store, and curl
    failing on an HTTP error (``--fail`` in a .curlrc beside the working folder)."""
    (folder.parent / ".curlrc").write_text("fail\n")
    return {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "QIKG_STORE": store,
        "CURL_HOME": str(folder.parent),
    }


def run_example(line: str, folder: Path, env: dict[str, str]) -> str | None:
    """Run one example in bash; what went wrong, or None."""
    expected = int(m.group(1)) if (m := REFUSAL.search(line)) else 0
    ran = subprocess.run(
        ["bash", "-c", line], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )
    if ran.returncode == expected:
        return None
    return f"`{line}` exited {ran.returncode}, not {expected}:\n{ran.stderr[-2000:]}"


class Skipped(Exception):
    """A block that cannot run here (a port it names is taken)."""


class Broken(Exception):
    """A long-running example that did not come up."""


def port_of(line: str) -> int:
    found = re.search(r"--port (\d+)", line)
    if not found:
        raise Broken(f"a long-running example names its port: {line}")
    return int(found.group(1))


def start(line: str, answers: str, folder: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start a long-running example and wait until ``answers`` answers 200 on its port."""
    port = port_of(line)
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise Skipped(f"port {port}, which `{line}` names, is taken on this machine") from None
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "-c", line],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_answers(f"http://127.0.0.1:{port}{answers}", proc, log, timeout=120)
    except RuntimeError as exc:
        raise Broken(f"`{line}`: {exc}") from None
    said = log.read_text(errors="replace")
    if answers == LONG_RUNNING["explore"] and f"explorer at http://127.0.0.1:{port}" not in said:
        stop_group(proc)
        raise Broken(f"`{line}` answers but did not say its address:\n{said}")
    return proc


@dataclass
class Outcome:
    """What became of one verb's examples."""

    lines: list[str]
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def run_block(verb: str, lines: list[str], folder: Path, store: str) -> Outcome:
    """Prepare a verb's files, then run its examples in order in ``folder`` over ``store``."""
    outcome = Outcome(lines)
    env = newcomer(folder, store)
    for name, make in PREPARED.get(verb, {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        make(folder / name)
    server = None
    try:
        for line in lines:
            if verb in LONG_RUNNING and line.startswith(f"qikg {verb}"):
                server = start(line, LONG_RUNNING[verb], folder, env)
            elif line.startswith("curl ") and shutil.which("curl") is None:
                missing = f"`{line}`: curl is not installed (.ci/run installs it)"
                (outcome.problems if IN_CI else outcome.skipped).append(missing)
            elif (problem := run_example(line, folder, env)) is not None:
                outcome.problems.append(problem)
    except Skipped as exc:
        outcome.skipped.append(str(exc))
    except Broken as exc:
        outcome.problems.append(str(exc))
    finally:
        if server is not None:
            stop_group(server, grace=15.0)
    return outcome


EXAMPLES_TEST = "test_every_help_example_runs_as_written"


@pytest.fixture(scope="module")
def outcomes(
    request: pytest.FixtureRequest, built_store_path: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Outcome]]]:
    """The examples of the verbs this session tests, each block on its own copy of the store,
    two blocks at a time, the slowest first."""
    verbs = [
        item.callspec.params["verb"]
        for item in request.session.items
        if getattr(item, "originalname", None) == EXAMPLES_TEST and hasattr(item, "callspec")
    ]
    verbs.sort(key=lambda verb: SLOWEST.index(verb) if verb in SLOWEST else len(SLOWEST))
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = {}
        for verb in verbs:
            lines = help_examples(verb)
            root = tmp_path_factory.mktemp(verb or "qikg")
            shutil.copytree(built_store_path, root / "store")
            (root / "work").mkdir()
            started[verb] = pool.submit(run_block, verb, lines, root / "work", str(root / "store"))
        yield started


@pytest.mark.parametrize("verb", ["", *sorted(VERBS)], ids=lambda verb: verb or "qikg")
def test_every_help_example_runs_as_written(verb, outcomes):
    outcome = outcomes[verb].result()
    assert outcome.lines, f"qikg {verb} --help has no Example: block"
    assert not outcome.problems, "\n\n".join(outcome.problems)
    if outcome.skipped:
        pytest.skip("; ".join(outcome.skipped))


def test_an_example_that_is_wrong_fails(fresh_store_path, tmp_path):
    (tmp_path / "work").mkdir()
    env = newcomer(tmp_path / "work", fresh_store_path)
    assert run_example("qikg stats --json", tmp_path / "work", env) is None
    assert "exited 2" in (run_example("qikg stats --jsno", tmp_path / "work", env) or "")
    refused = run_example("qikg stats    # refused (exit 1)", tmp_path / "work", env)
    assert "exited 0, not 1" in (refused or "")


def test_examples_are_read_whole():
    text = "Usage: qikg x\n\n  Examples:\n    qikg a  # one\n    qikg b \\\n      c\n\n  Options:\n"
    assert examples_in(text) == ["qikg a  # one", "qikg b \\\n      c"]
    assert examples_in("Usage: qikg x\n\n  Options:\n") == []
