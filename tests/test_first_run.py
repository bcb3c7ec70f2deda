"""A newcomer's first steps: a taken port is said before anything starts (that every `--help`
example runs as written is tests/test_help_examples.py)."""

from __future__ import annotations

import socket


def test_a_taken_port_is_refused_before_the_explorer_starts(cli, fresh_store_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = cli("explore", "--port", str(port), store=fresh_store_path)
    assert ran.exit_code == 2
    assert f"port {port} on 127.0.0.1 is taken" in ran.err and "--port" in ran.err
    assert "explorer at" not in ran.err
