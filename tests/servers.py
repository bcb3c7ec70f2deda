"""Real SPARQL servers for tests: Oxigraph server and Virtuoso, each in a temp folder on free
loopback ports, started as child processes in a process group of their own and stopped after.

Not a test module: the fixtures in ``tests/test_backend_contract.py`` (and ``tests/test_serve.py``,
``tests/test_hostile_queries.py``) use it. The explorer, for the browser tests, starts the same
way (:func:`start_explorer`).
"""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

#: The repository (the explorer's app.py, the working folder of the servers started here); not
#: imported from tests/conftest.py, which imports this module for the browser tests' explorer.
REPO = Path(__file__).resolve().parent.parent
VIRTUOSO_INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
VIRTUOSO_VAD = "/usr/share/virtuoso-opensource-7/vad"
#: What docs/deploy.md tells users to grant the SPARQL endpoint's user: updates.
VIRTUOSO_GRANTS = 'GRANT SPARQL_UPDATE TO "SPARQL";'


@dataclass
class Server:
    """A running server: ``url`` is its SPARQL query endpoint, the descriptor qikg takes."""

    name: str
    url: str
    proc: subprocess.Popen
    folder: Path
    log: Path
    #: Virtuoso's SQL port (isql-vt), for bulk loads in tests; None for other servers.
    sql_port: int | None = None

    def stop(self) -> None:
        """End the server's whole process group: politely, then for sure."""
        stop_group(self.proc)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_group(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """SIGTERM a child started with ``start_new_session=True`` and its children; SIGKILL if slow."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


def wait_until_answers(
    url: str,
    proc: subprocess.Popen,
    log: Path,
    timeout: float = 60.0,
    params: dict[str, str] | None = None,
) -> None:
    """Poll ``url`` until it answers 200; if the process ends first, or the time runs out (then
    its process group is stopped), RuntimeError with the end of its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server at {url} exited ({proc.returncode}):\n{_tail(log)}")
        try:
            if httpx.get(url, params=params, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_group(proc)
    raise RuntimeError(f"the server at {url} did not answer within {timeout:g} s:\n{_tail(log)}")


def wait_for_sparql(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    """Poll ``ASK {}`` until the endpoint answers; fail with the server's log if it never does."""
    wait_until_answers(url, proc, log, timeout, {"query": "ASK {}"})


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def oxigraph_binary() -> str | None:
    """The ``oxigraph`` server binary: beside this Python (the ``oxigraph`` wheel puts it in the
    venv), else on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.exists() else shutil.which("oxigraph")


def start_oxigraph(folder: Path, binary: str, *options: str) -> Server:
    """An Oxigraph server on a free port, storing its data in ``folder``; ``options`` are more
    ``oxigraph serve`` options (e.g. ``--timeout-s 2``)."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                binary,
                "serve",
                "--location",
                str(folder / "data"),
                "--bind",
                f"127.0.0.1:{port}",
                *options,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}/query"
    wait_for_sparql(url, proc, log)
    return Server("oxigraph", url, proc, folder, log)


#: A Virtuoso's settings beyond Debian's defaults: {section: {key: value}} of virtuoso.ini.
Settings = Mapping[str, Mapping[str, str]]


def virtuoso_config(
    folder: Path, sql_port: int, http_port: int, settings: Settings | None = None
) -> Path:
    """A copy of Debian's virtuoso.ini with every file in ``folder``, the given ports, and
    ``settings`` over the rest."""
    ini = configparser.ConfigParser(
        strict=False, inline_comment_prefixes=(";",), interpolation=None
    )
    ini.optionxform = str  # Virtuoso's keys are CamelCase; keep them as written
    ini.read(VIRTUOSO_INI)
    for key in (
        "DatabaseFile",
        "ErrorLogFile",
        "LockFile",
        "TransactionFile",
        "xa_persistent_file",
    ):
        ini["Database"][key] = str(folder / f"virtuoso.{key.lower()}")
    ini["TempDatabase"]["DatabaseFile"] = str(folder / "virtuoso-temp.db")
    ini["TempDatabase"]["TransactionFile"] = str(folder / "virtuoso-temp.trx")
    ini["Parameters"]["ServerPort"] = str(sql_port)
    ini["Parameters"]["DirsAllowed"] = f"., {folder}, {VIRTUOSO_VAD}"
    ini["Parameters"]["NumberOfBuffers"] = "10000"
    ini["Parameters"]["MaxDirtyBuffers"] = "6000"
    ini["HTTPServer"]["ServerPort"] = str(http_port)
    ini["URIQA"]["DefaultHost"] = f"localhost:{http_port}"
    ini.remove_section("Plugins")  # wiki hosting plugins: not needed, and slow to load
    for section, values in (settings or {}).items():
        for key, value in values.items():
            ini[section][key] = value
    path = folder / "virtuoso.ini"
    with path.open("w") as out:
        ini.write(out)
    return path


def start_virtuoso(
    folder: Path, binary: str, isql: str, settings: Settings | None = None
) -> Server:
    """A Virtuoso on free ports with its database in ``folder``; the anonymous SPARQL user may
    update (the grant docs/deploy.md tells users to give)."""
    folder.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    config = virtuoso_config(folder, sql_port, http_port, settings)
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "+configfile", str(config), "+foreground"],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{http_port}/sparql"
    try:
        wait_for_sparql(url, proc, log, timeout=120)
        grant = subprocess.run(
            [isql, str(sql_port), "dba", "dba", f"exec={VIRTUOSO_GRANTS}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if grant.returncode != 0 or "Error" in grant.stdout + grant.stderr:
            raise RuntimeError(f"cannot grant qikg's rights: {grant.stdout}{grant.stderr}")
    except BaseException:
        stop_group(proc)
        raise
    return Server("virtuoso", url, proc, folder, log, sql_port)


def start_serve(store: str, folder: Path, *options: str) -> tuple[str, subprocess.Popen]:
    """``qikg --store STORE serve OPTIONS`` on a free port; its base URL once /health answers."""
    port = free_port()
    log = folder / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kg", "--store", store, "serve", "--port", str(port), *options],
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    wait_until_answers(f"{base}/health", proc, log)
    return base, proc


@contextmanager
def start_explorer(store: str | Path, folder: Path, timeout: float = 90.0) -> Iterator[str]:
    """The explorer (``streamlit run app.py`` over ``store``) on a free loopback port, its log in
    ``folder``; yields its base URL once ``/_stcore/health`` answers, and stops it (with the
    store's query workers: its own process group) when the context ends."""
    port = free_port()
    log = folder / f"explorer-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streamlit",
                "run",
                str(REPO / "app.py"),
                "--server.address",
                "127.0.0.1",
                "--server.port",
                str(port),
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
            ],
            cwd=REPO,
            env={**os.environ, "QIKG_STORE": str(store)},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(f"{base}/_stcore/health", proc, log, timeout)
        yield base
    finally:
        stop_group(proc, grace=15.0)
