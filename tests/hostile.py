"""Hostile queries (``fixtures/hostile/queries.txt``) and a local listener that counts every
connection made to it: the network trap the hostile-input tests assert stays empty."""

from __future__ import annotations

import json
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "fixtures" / "hostile" / "queries.txt"
#: What the listener answers, so that a query that did reach it would visibly succeed.
LEAKED = json.dumps(
    {
        "head": {"vars": ["s", "p", "o"]},
        "results": {"bindings": [{"s": {"type": "literal", "value": "LEAKED"}}]},
    }
).encode()


def hostile_queries(listener: str) -> dict[str, str]:
    """The corpus by name, with ``{listener}`` replaced by the listener's URL."""
    queries: dict[str, str] = {}
    name = None
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            name = line[4:].strip()
            queries[name] = ""
        elif name is not None:
            queries[name] += line.replace("{listener}", listener) + "\n"
    return queries


NAMES = list(hostile_queries("http://127.0.0.1:9/sparql"))


class Listener:
    """A TCP server on 127.0.0.1 that records each connection and answers as a SPARQL endpoint."""

    def __init__(self) -> None:
        self.connections: list[bytes] = []
        record = self.connections

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.settimeout(2)
                try:
                    record.append(self.request.recv(4096))
                except OSError:
                    record.append(b"")
                head = (
                    "HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                    f"Content-Length: {len(LEAKED)}\r\nConnection: close\r\n\r\n"
                )
                try:
                    self.request.sendall(head.encode() + LEAKED)
                except OSError:
                    pass

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    """A listener for a whole test module; each test checks it stayed untouched."""
    trap = Listener()
    yield trap
    trap.close()
