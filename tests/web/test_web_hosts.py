"""`arshif serve` answers only for the names it serves (issue #15, item 10): a page on
another site can point its own name at 127.0.0.1 (DNS rebinding) and read a token-less
archive through the user's browser; its Host header gives it away. A real server process
on a free local port, asked with raw HTTP."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from arshif.config import archive_path
from arshif.web.app import host_name
from indexer.archive import Archive
from tests.conftest import ROOT


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp_path = tmp_path_factory.mktemp("hosts")
    with Archive(archive_path(tmp_path)):
        pass  # an empty archive to serve
    port = _free_port()
    env = {**os.environ, "ARSHIF_HOME": str(tmp_path), "ARSHIF_WEB_HOSTS": "archive.lan, x.test"}
    env.pop("ARSHIF_WEB_TOKEN", None)
    command = [sys.executable, "-m", "arshif.cli", "serve", "--port", str(port)]
    server = subprocess.Popen([*command, "--allow-host", "news.box"], env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)


def status(port: int, host: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.putrequest("GET", "/api/facets", skip_host=True)
    conn.putheader("Host", host)
    conn.endheaders()
    response = conn.getresponse()
    return response.status, response.read()


@pytest.mark.parametrize(
    ("host", "answered"),
    [
        ("127.0.0.1:{port}", True),
        ("localhost:{port}", True),
        ("LOCALHOST.", True),
        ("[::1]:{port}", True),
        ("news.box:{port}", True),  # --allow-host
        ("archive.lan", True),  # ARSHIF_WEB_HOSTS
        ("x.test:{port}", True),
        ("evil.example:{port}", False),
        ("127.0.0.1.evil.example", False),
        ("localhost.evil.example:{port}", False),
        ("", False),
    ],
)
def test_only_the_served_names_are_answered(served: int, host: str, answered: bool) -> None:
    code, body = status(served, host.format(port=served))
    if answered:
        assert code == 200, body
    else:
        assert code == 400 and b"does not answer for the host" in body, body


@pytest.mark.parametrize(
    ("header", "name"),
    [("a.example:80", "a.example"), ("[::1]:8080", "::1"), ("[::1]", "::1"),
     ("A.Example.", "a.example"), ("a.example:x", "a.example:x"), ("", "")],
)  # fmt: skip
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name
