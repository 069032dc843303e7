"""`arshif outlets check` against the sample outlet on 127.0.0.1 and a closed local port:
a real HTTP server and real sockets, no traffic leaves the machine."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from arshif.cli import main
from crawler.check import check_outlet, render
from crawler.outlets import load_outlets
from crawler.sample_server import SampleServer
from crawler.settings import USER_AGENT


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sample_outlet_answers_with_article_links(server: SampleServer) -> None:
    outlet = load_outlets()["sample"].with_base_url(server.base_url)
    report = check_outlet(outlet, USER_AGENT, timeout=5)
    kinds = {r.kind: r for r in report.results}
    assert report.ok and report.offline is None
    assert kinds["robots"].ok and kinds["robots"].detail == "HTTP 200"
    assert kinds["feed"].ok and kinds["feed"].article_links == kinds["feed"].links > 0
    # The sitemap index is followed to its news sitemap.
    assert kinds["sitemap"].ok and "index of 1" in kinds["sitemap"].detail
    assert kinds["sitemap"].article_links > 0
    assert set(server.requests) >= {"/robots.txt", "/rss.xml", "/sitemap_index.xml"}


def test_missing_feed_is_reported_not_fatal(site: Path, server: SampleServer) -> None:
    (site / "rss.xml").unlink()
    outlet = load_outlets()["sample"].with_base_url(server.base_url)
    report = check_outlet(outlet, USER_AGENT, timeout=5)
    feed = next(r for r in report.results if r.kind == "feed")
    assert not feed.ok and feed.detail == "HTTP 404"
    assert report.ok  # the sitemap still leads to articles
    assert any("FAIL feed" in line and "HTTP 404" in line for line in render(report))


def test_unreachable_outlet_says_so_in_one_line() -> None:
    outlet = load_outlets()["sample"].with_base_url(f"http://127.0.0.1:{_closed_port()}")
    report = check_outlet(outlet, USER_AGENT, timeout=2)
    assert report.offline == "connection refused" and not report.ok
    assert render(report) == ["sample: connection refused"]


def test_cli_check(server: SampleServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outlets", "check", "sample", "--base-url", server.base_url]) == 0
    out = capsys.readouterr().out
    assert "sample: ok" in out and "match article_pattern" in out
    assert "1 of 1 outlets answer" in out

    closed = f"http://127.0.0.1:{_closed_port()}"
    assert main(["outlets", "check", "sample", "--base-url", closed, "--timeout", "2"]) == 1
    out = capsys.readouterr().out
    assert "sample: connection refused" in out and "No outlet could be reached" in out


def test_cli_check_unknown_outlet(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["outlets", "check", "no-such-outlet"]) == 2
    assert "unknown outlet 'no-such-outlet'" in capsys.readouterr().err
