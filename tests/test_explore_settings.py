"""``qikg explore`` serves the explorer with its own settings wherever it is started.

Streamlit reads ``.streamlit/config.toml`` from the working folder and from beside the script
(``app.py``: the repository root in a checkout, ``kg/_resources`` in a wheel, which has no such
file), and ``STREAMLIT_*`` environment variables override both. The test starts ``qikg explore``
as a real process from a folder whose own config, and an environment, ask for the opposite
(200 MB uploads, full error details, the developer toolbar, another colour), then asks the
running server: the session's settings as a browser receives them over the websocket, and the
upload endpoint, which must refuse 60 MB.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from kg.explorer.settings import MAX_UPLOAD_MB, SETTINGS, streamlit_options
from tests.conftest import REPO
from tests.servers import free_port

QIKG = Path(sys.executable).parent / "qikg"
CONTRARY = """\
[server]
maxUploadSize = 200
[client]
showErrorDetails = "full"
toolbarMode = "developer"
[theme]
primaryColor = "#ff0000"
"""
CONTRARY_ENV = {
    "STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "200",
    "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "full",
    "STREAMLIT_CLIENT_TOOLBAR_MODE": "developer",
    "STREAMLIT_THEME_PRIMARY_COLOR": "#ff0000",
}


@pytest.fixture(scope="module")
def explorer(built_store_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """``qikg explore`` started from a folder that is not the repository, with config and
    environment against it; its address, XSRF token and process id."""
    folder = tmp_path_factory.mktemp("elsewhere")
    shutil.copytree(built_store_path, folder / "store")
    (folder / ".streamlit").mkdir()
    (folder / ".streamlit" / "config.toml").write_text(CONTRARY, encoding="utf-8")
    port = free_port()
    log = open(folder / "explore.log", "wb")  # noqa: SIM115 - closed at teardown
    server = subprocess.Popen(
        [str(QIKG), "--store", str(folder / "store"), "explore", "--port", str(port)],
        cwd=folder,
        env={**os.environ, **CONTRARY_ENV},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: qikg and the streamlit it starts
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        token = SimpleCookie(answer.headers["Set-Cookie"])["_streamlit_xsrf"].value
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"qikg explore did not start: {(folder / 'explore.log').read_text()}")
            time.sleep(0.3)
        yield {"base": base, "port": port, "token": token, "pid": server.pid}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@contextmanager
def browser_session(explorer: dict) -> Iterator:
    """The NewSession message a browser receives when it opens the explorer; the session lasts
    as long as the context."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    url = f"ws://127.0.0.1:{explorer['port']}/_stcore/stream"
    with connect(
        url,
        subprotocols=["streamlit", explorer["token"]],
        origin=explorer["base"],
        additional_headers={"Cookie": f"_streamlit_xsrf={explorer['token']}"},
        max_size=None,
        open_timeout=30,
    ) as socket:
        ask = BackMsg()
        ask.rerun_script.query_string = ""
        socket.send(ask.SerializeToString())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            message = ForwardMsg()
            message.ParseFromString(socket.recv(timeout=60))
            if message.WhichOneof("type") == "new_session":
                yield message.new_session
                return
        pytest.fail("the explorer sent no new session")


def announced(explorer: dict, session_id: str, size: int) -> int:
    """The answer to an upload announced as ``size`` bytes, before any of it is sent."""
    boundary = uuid.uuid4().hex
    connection = http.client.HTTPConnection("127.0.0.1", explorer["port"], timeout=30)
    connection.putrequest("PUT", f"/_stcore/upload_file/{session_id}/{uuid.uuid4().hex}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={boundary}")
    connection.putheader("Content-Length", str(size))
    connection.putheader("X-Xsrftoken", explorer["token"])
    connection.putheader("Cookie", f"_streamlit_xsrf={explorer['token']}")
    connection.putheader("Origin", explorer["base"])
    connection.endheaders()
    try:
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_session_gets_the_explorers_toolbar_and_theme(explorer):
    from streamlit.proto.NewSession_pb2 import Config

    with browser_session(explorer) as session:
        pass
    assert session.config.toolbar_mode == Config.ToolbarMode.MINIMAL
    assert session.custom_theme.primary_color == SETTINGS["theme.primaryColor"]


def test_an_upload_over_the_limit_is_refused_by_the_server(explorer):
    with browser_session(explorer) as session:
        session_id = session.initialize.session_id
        assert announced(explorer, session_id, 60 * 2**20) == 413  # 60 MB: refused
        assert announced(explorer, session_id, (MAX_UPLOAD_MB + 2) * 2**20) == 413
        assert uploaded(explorer, session_id, b"x" * 1024) in (200, 204)  # a small one is taken


def uploaded(explorer: dict, session_id: str, data: bytes) -> int:
    """The answer to an upload of ``data`` as one file."""
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="a.zip"\r\nContent-Type: application/zip\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection = http.client.HTTPConnection("127.0.0.1", explorer["port"], timeout=30)
    connection.request(
        "PUT",
        f"/_stcore/upload_file/{session_id}/{uuid.uuid4().hex}",
        body=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "X-Xsrftoken": explorer["token"],
            "Cookie": f"_streamlit_xsrf={explorer['token']}",
            "Origin": explorer["base"],
        },
    )
    try:
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_streamlit_process_runs_with_every_setting(explorer):
    """Error details are not observable from outside without an error: the running streamlit
    process's command line carries every setting of the table, showErrorDetails among them."""
    children = Path(f"/proc/{explorer['pid']}/task/{explorer['pid']}/children").read_text()
    (child,) = children.split()
    argv = Path(f"/proc/{child}/cmdline").read_bytes().decode().split("\0")
    options = streamlit_options()
    assert "--client.showErrorDetails" in options
    at = argv.index(options[0])
    assert argv[at : at + len(options)] == options


def test_the_repository_config_agrees_with_the_table():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    flat = {f"{section}.{k}": v for section, values in config.items() for k, v in values.items()}
    assert flat == SETTINGS
