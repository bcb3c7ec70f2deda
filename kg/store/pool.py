"""Bounded queries: each runs in a worker process that is killed if it passes its time limit.

pyoxigraph cannot cancel a running query, so the only sure stop is to end the process running it.
A pool keeps a few warm workers; a query waits for a free one, a timed-out worker is replaced.
Each worker is confined (``kg.store.worker.confine``): no network, a memory cap.
"""

from __future__ import annotations

import io
import json
import os
import queue
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from kg.errors import (
    BadInput,
    QueryTimeout,
    QueryTooLarge,
    ReadOnly,
    StoreUnavailable,
    TooLarge,
)

#: A worker's memory cap unless QIKG_QUERY_MEMORY_MB says otherwise: room for a large answer at
#: 100k findings (docs/benchmarks.md) while a runaway query cannot take the machine.
DEFAULT_MEMORY_MB = 2048
#: The refusals a worker's check can answer with, by name.
REFUSALS = {cls.__name__: cls for cls in (BadInput, ReadOnly, TooLarge)}


def memory_mb() -> int:
    """The memory cap of each query worker in MB (QIKG_QUERY_MEMORY_MB, 0 for none)."""
    value = os.environ.get("QIKG_QUERY_MEMORY_MB", "")
    return int(value) if value.strip().isdigit() else DEFAULT_MEMORY_MB


class _Worker:
    def __init__(self, root: Path | None, memory: int, in_memory: bool = False) -> None:
        self.memory = memory
        self.errors = tempfile.TemporaryFile()
        where = [str(root or "-"), str(memory), *(["memory"] if in_memory else [])]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kg.store.worker", *where],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None  # asked for as pipes
        # UTF-8 both ways whatever the locale, and no newline translation: an answer's text is
        # read by its length in characters (kg.store.worker.framed)
        self.requests = io.TextIOWrapper(self.proc.stdin, encoding="utf-8", line_buffering=True)
        self.answers = io.TextIOWrapper(self.proc.stdout, encoding="utf-8", newline="")
        ready = self.answers.readline()
        if not ready:
            raise StoreUnavailable("a query worker could not start (is the store readable?)")
        self.offline = bool(json.loads(ready).get("offline"))
        #: Whether its last answer came from its copy of the store in memory.
        self.from_memory = False

    def ask(self, request: dict, timeout: float) -> dict:
        """Send one request; kill the worker and raise QueryTimeout if no answer in time."""
        self.requests.write(json.dumps(request) + "\n")
        # The worker writes an answer once it has it whole, so the limit is on its first byte.
        if not select.select([self.answers], [], [], timeout)[0]:
            self.kill()
            raise QueryTimeout(f"the query was stopped after its time limit of {timeout:g} s")
        answer = self._receive()
        if answer is None:
            raise self._ended()
        if answer.get("error") == "memory":
            self.kill()  # a MemoryError may have left the worker's heap in pieces
            raise self._too_large()
        if answer.get("error") == "refused":
            raise REFUSALS.get(answer["class"], BadInput)(answer["message"])
        return answer

    def _receive(self) -> dict | None:
        """One answer as the worker frames it (kg.store.worker.framed); None if it ended."""
        line = self.answers.readline()
        if not line:
            return None
        answer = json.loads(line)
        size = answer.pop("document_chars", 0)
        if size:
            answer["document"] = self.answers.read(size)
            if len(answer["document"]) < size:
                return None
        return answer

    def _ended(self) -> Exception:
        """Why the worker ended without answering: its memory cap, or something else."""
        self.proc.wait()
        self.errors.seek(0, os.SEEK_END)
        self.errors.seek(max(0, self.errors.tell() - 2000))
        said = self.errors.read().decode(errors="replace")
        if "memory allocation" in said or (self.memory and self.proc.returncode == -signal.SIGABRT):
            return self._too_large()
        return StoreUnavailable("the query worker ended unexpectedly while answering the query")

    def _too_large(self) -> QueryTooLarge:
        return QueryTooLarge(
            f"the query was stopped: it needed more than the {self.memory} MB of memory a query "
            "may use; narrow it (LIMIT, fewer variables, a more selective pattern)"
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


class QueryPool:
    """A fixed number of query workers over one embedded store (or, with ``root`` None, workers
    that only check queries), safe to share between threads. A refused query raises the
    refusal (ReadOnly, BadInput, TooLarge) as the check in the worker made it."""

    def __init__(
        self,
        root: Path | None,
        size: int = 2,
        memory: int | None = None,
        in_memory: bool = False,
    ) -> None:
        self.root = root
        self.memory = memory_mb() if memory is None else memory
        self.in_memory = in_memory
        self._closed = False
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            if in_memory:  # each loads its copy of the store: all start now, side by side
                threading.Thread(target=self._replace, daemon=True).start()
            else:
                self._idle.put(None)  # started on first use

    def run(self, request: dict, timeout: float) -> dict:
        """Run one query request within ``timeout`` seconds (waiting for a worker counts too)."""
        try:
            worker = self._idle.get(timeout=timeout)
        except queue.Empty:
            raise QueryTimeout(
                f"every query worker stayed busy for the whole time limit of {timeout:g} s"
            ) from None
        try:
            if worker is None or not worker.alive():
                worker = self._start()
            answer = worker.ask(request, timeout)
            worker.from_memory = bool(answer.get("memory"))
            return answer
        finally:
            if worker is not None and not worker.alive():
                worker = None
            if worker is None and self.in_memory:
                # A stopped worker's copy takes a while to load: start it now, not on next use.
                threading.Thread(target=self._replace, daemon=True).start()
            else:
                self._idle.put(worker)

    def workers_in_memory(self) -> int:
        """How many idle workers answered their last query from their copy in memory."""
        return sum(1 for w in list(self._idle.queue) if w is not None and w.from_memory)

    def _start(self) -> _Worker:
        return _Worker(self.root, self.memory, self.in_memory)

    def _replace(self) -> None:
        """Start a worker (at first, or in place of one that was stopped) and make it idle."""
        try:
            worker = self._start()
        except BaseException:
            self._idle.put(None)  # started again on use, where the failure reaches a caller
            return
        if self._closed:
            worker.kill()
        else:
            self._idle.put(worker)

    def close(self) -> None:
        self._closed = True
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            if worker is not None and worker.alive():
                worker.kill()
