"""Bounded queries: each runs in a worker process that is killed if it passes its time limit.

pyoxigraph cannot cancel a running query, so the only sure stop is to end the process running it.
A pool keeps a few warm workers; a query waits for a free one, a timed-out worker is replaced.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

from kg.errors import QueryTimeout, StoreUnavailable


class _Worker:
    def __init__(self, root: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kg.store.worker", str(root)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            bufsize=1,
        )
        if not self.proc.stdout.readline():
            raise StoreUnavailable("a query worker could not start (is the store readable?)")

    def ask(self, request: dict, timeout: float) -> dict:
        """Send one request; kill the worker and raise QueryTimeout if no answer in time."""
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()))
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.kill()
            reader.join()
            raise QueryTimeout(f"the query was stopped after its time limit of {timeout:g} s")
        if not box or not box[0]:
            raise StoreUnavailable("the query worker ended unexpectedly (is the store readable?)")
        return json.loads(box[0])

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


class QueryPool:
    """A fixed number of query workers over one embedded store, safe to share between threads."""

    def __init__(self, root: Path, size: int = 2) -> None:
        self.root = root
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
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
                worker = _Worker(self.root)
            answer = worker.ask(request, timeout)
        except BaseException:
            if worker is not None and not worker.alive():
                worker = None
            raise
        finally:
            self._idle.put(worker)
        return answer

    def close(self) -> None:
        while not self._idle.empty():
            worker = self._idle.get_nowait()
            if worker is not None and worker.alive():
                worker.kill()
