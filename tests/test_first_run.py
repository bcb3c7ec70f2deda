"""A newcomer's first steps: a taken port is said before anything starts, and the files the
commands' examples name exist."""

from __future__ import annotations

import re
import socket

import click

from kg.cli import cli as group
from kg.resources import queries_dir
from tests.conftest import REPO


def test_a_taken_port_is_refused_before_the_explorer_starts(cli, fresh_store_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ran = cli("explore", "--port", str(port), store=fresh_store_path)
    assert ran.exit_code == 2
    assert f"port {port} on 127.0.0.1 is taken" in ran.err and "--port" in ran.err
    assert "explorer at" not in ran.err


def test_every_file_a_help_example_names_exists():
    named = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        for line in (command.help or "").split("Example:")[-1].splitlines():
            named += re.findall(r"(?<![\w/])(?:ontology|data|shapes)/\S+", line)
    assert named, "some examples name the repository's files"
    for path in named:
        assert (REPO / path).exists(), path
    assert (queries_dir() / "cq04-enablers-for-group.rq").exists()
