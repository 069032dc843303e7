"""Feeds, sitemaps, pages and redirects that name other schemes than http(s), sitemap
indexes that never end, and servers that answer a byte at a time (issue #15).

Real `arshif crawl` and `arshif outlets check` runs against servers on 127.0.0.1 that
record every request, and a bare TCP listener that records every connection (an FTP
server would have to accept one to be fooled).
"""

from __future__ import annotations

import gzip
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.records import build_article
from arshif.config import archive_path, warc_dir
from arshif.urls import article_id, canonical_url
from crawler.check import check_outlet
from crawler.outlets import load_outlets
from crawler.settings import USER_AGENT
from indexer.archive import Archive
from tests.conftest import ROOT, reliability_fact
from tests.servers import RecordingServer
from tests.test_crawl_bounds import (
    Route,
    Site,
    crawl,
    outlets_file,
    page,
    redirect,
    robots,
    rss,
    sitemap_index,
)

SECRET = "arshif-local-secret-5c1e"
QUICK = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0.05, "ARSHIF_INDEX_ON_CLOSE": False}


class Listener:
    """A TCP port on 127.0.0.1 that greets like an FTP server and counts connections."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.sendall(b"220 ready\r\n")

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    with Listener() as ftp:
        yield ftp


def warc_bytes(home: Path) -> bytes:
    """Everything the crawl wrote to its WARC files, unpacked."""
    files = sorted(warc_dir(home).rglob("*.warc.gz"))
    assert files, "the crawl wrote WARC files"
    return b"".join(gzip.decompress(p.read_bytes()) for p in files)


def html(body: str, head: str = "") -> Route:
    text = f'<html><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'
    return 200, {"Content-Type": "text/html; charset=utf-8"}, text.encode()


def test_only_http_urls_are_fetched_in_a_crawl(
    tmp_path: Path, home: Path, listener: Listener
) -> None:
    """A feed item, a sitemap entry, a link, a redirect and a meta refresh each name a
    local file (on the outlet's own host name, which the file handler ignores), an FTP
    server, or a data: page. None is fetched, whether or not private addresses are allowed
    (the address rule is not what stops them); the http articles are archived."""
    secret = tmp_path / "secret.html"
    secret.write_text(f"<html><body><article><p>{SECRET * 40}</p></article></body></html>")
    ftp = f"ftp://127.0.0.1:{listener.port}"
    data = "data:text/html," + f"<html><body><article><p>{SECRET * 40}</p></article></body></html>"
    with Site() as outlet:
        outlet.routes = {
            "/robots.txt": robots("User-agent: *\nDisallow:\n"),
            "/rss.xml": rss(
                f"{outlet.url}/a/1.html",
                f"file://127.0.0.1{secret}",
                f"file://{secret}",
                f"{ftp}/feed-item.html",
                data.replace("<", "&lt;"),
                f"{outlet.url}/a/to-ftp.html",
                f"{outlet.url}/a/to-file.html",
                f"{outlet.url}/a/refresh.html",
            ),
            "/sitemap.xml": sitemap_index(f"{ftp}/sitemap.xml", f"file://127.0.0.1{secret}"),
            "/": html(f'<a href="file://127.0.0.1{secret}">f</a><a href="{ftp}/a/link.html">x</a>'),
            "/a/1.html": page("خبر على موقع المنفذ"),
            "/a/to-ftp.html": redirect(f"{ftp}/a/redirected.html"),
            "/a/to-file.html": redirect(f"file://127.0.0.1{secret}"),
            "/a/refresh.html": html(
                "", f'<meta http-equiv="refresh" content="0; url=file://127.0.0.1{secret}">'
            ),
        }
        fields = (
            '    feeds: ["/rss.xml"]\n    sitemaps: ["/sitemap.xml"]\n    start_pages: ["/"]\n'
            "    article_pattern: '/a/'\n    allowed_domains: [127.0.0.1]\n"
        )
        result = crawl(
            home, outlets_file(tmp_path, outlet.url, fields), ARSHIF_ALLOW_PRIVATE_ADDRESSES=True
        )
    assert listener.connections == 0, "nothing connects to the FTP port"
    with Archive(archive_path(home)) as archive:
        articles = list(archive.iter_articles())
        (run,) = archive.runs()
    assert {a.url for a in articles} == {f"{outlet.url}/a/1.html"}, result.stderr[-3000:]
    assert not any(SECRET in (a.text or "") for a in articles)
    assert SECRET.encode() not in warc_bytes(home)
    assert "only http and https URLs are fetched" in result.stderr
    reliability_fact("hostile", group="url-schemes", case="crawl", refused=run["skipped"])


def test_outlets_check_speaks_only_http(tmp_path: Path, listener: Listener) -> None:
    """`outlets check` follows no redirect to ftp:// or file:// and reads no sitemap-index
    child on them: the listener sees no connection, the check says why."""
    ftp = f"ftp://127.0.0.1:{listener.port}"
    with Site() as outlet:
        outlet.routes = {
            "/robots.txt": robots("User-agent: *\nDisallow:\n"),
            "/rss.xml": redirect(f"{ftp}/rss.xml"),
            "/file.xml": redirect("file:///etc/passwd"),
            "/sitemap.xml": sitemap_index(f"{ftp}/s.xml", "file:///etc/passwd"),
        }
        fields = '    feeds: ["/rss.xml", "/file.xml"]\n    sitemaps: ["/sitemap.xml"]\n'
        local = load_outlets(outlets_file(tmp_path, outlet.url, fields))["local"]
        report = check_outlet(local, USER_AGENT, timeout=5)
    assert listener.connections == 0
    to_ftp, to_file, index = report.results[1:]
    assert to_ftp.detail == (
        f"refused: redirected to {ftp}/rss.xml: ftp scheme: only http and https URLs are fetched"
    )
    assert not to_file.ok and to_file.detail == "HTTP 302"  # urllib follows no file: redirect
    assert not index.ok and index.detail == "HTTP 200, no links (index of 2, read 2)"
    reliability_fact("hostile", group="url-schemes", case="outlets check", refused=3)


class SitemapLoops(Site):
    """Sitemap indexes that list themselves, each other, and ever deeper indexes."""

    def __init__(self) -> None:
        super().__init__()
        u = self.url
        self.routes = {
            "/robots.txt": robots("User-agent: *\nDisallow:\n"),
            "/si.xml": sitemap_index(f"{u}/si.xml", f"{u}/si2.xml", f"{u}/si.xml#again"),
            "/si2.xml": sitemap_index(f"{u}/si.xml", f"{u}/deeper/1.xml", f"{u}/urls.xml"),
            "/urls.xml": (
                200,
                {"Content-Type": "application/xml"},
                f"<urlset><url><loc>{u}/a/1.html</loc></url></urlset>".encode(),
            ),
            "/a/1.html": page("خبر من خريطة الموقع"),
        }

    def handle(self, h: http.server.BaseHTTPRequestHandler, path: str, hit: int) -> None:
        if path.startswith("/deeper/"):  # each lists a new, deeper one: never the same URL
            n = int(path.rsplit("/", 1)[1].split(".")[0])
            status, headers, body = sitemap_index(f"{self.url}/deeper/{n + 1}.xml")
            return self.send(h, status, body, headers)
        return super().handle(h, path, hit)


def test_sitemap_indexes_that_never_end_do_end(tmp_path: Path, home: Path) -> None:
    with SitemapLoops() as site:
        path = outlets_file(tmp_path, site.url, '    sitemaps: ["/si.xml"]\n')
        result = crawl(home, path)
        hits = dict(site.hits)
    assert hits["/si.xml"] == 1 and hits["/si2.xml"] == 1, hits
    # /si.xml (configured) > /si2.xml > /deeper/1.xml > /deeper/2.xml is not followed.
    assert hits.get("/deeper/1.xml") == 1 and "/deeper/2.xml" not in hits, hits
    with Archive(archive_path(home)) as archive:
        assert [a.url for a in archive.iter_articles()] == [f"{site.url}/a/1.html"]
    assert "sitemap indexes nested too deep" in result.stderr
    reliability_fact("hostile", group="sitemap-loops", case="self, mutual, endless", hits=hits)


class Trickle(RecordingServer):
    """Answers /rss.xml a byte at a time, a byte every 0.3 s: every read is quick."""

    def handle(self, h: http.server.BaseHTTPRequestHandler, path: str, hit: int) -> None:
        if path != "/rss.xml":  # robots.txt, and the usual paths discovery tries next
            return self.send(h, 404, b"")
        body = b'<?xml version="1.0"?><rss><channel>' + b" " * 200 + b"</channel></rss>"
        h.send_response(200)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for byte in body:
            h.wfile.write(bytes([byte]))
            h.wfile.flush()
            time.sleep(0.3)


def test_outlets_check_timeout_bounds_the_whole_request(tmp_path: Path) -> None:
    with Trickle() as server:
        local = load_outlets(outlets_file(tmp_path, server.url))["local"]
        started = time.monotonic()
        report = check_outlet(local, USER_AGENT, timeout=2)
        took = time.monotonic() - started
    feed = report.results[1]
    assert feed.detail == "timed out after 2 s" and not feed.ok
    assert took < 10, f"the feed alone takes 70 s; the check took {took:.0f} s"
    reliability_fact("hostile", group="slow-answers", case="byte a second", seconds=round(took))


def _heavy_page() -> Route:
    """A real article of 9 MB (under the 10 MB limits): seconds of extraction, not 1."""
    para = "<p>" + "نص الخبر المحلي للتجربة في هذه الصفحة الطويلة جدا. " * 20 + "</p>\n"
    body = para * (9 * 1024 * 1024 // len(para.encode()))
    return html(f"<article><h1>خبر طويل</h1>{body}</article>", "<title>خبر طويل</title>")


@pytest.mark.parametrize("workers", [1, 2])
def test_a_page_over_its_extraction_budget_is_skipped(
    tmp_path: Path, home: Path, workers: int
) -> None:
    """With ARSHIF_EXTRACT_TIMEOUT=1 the 9 MB page is stopped (counted as extract/timeout,
    its raw copy kept in the WARC files), and the crawl goes on to archive the others,
    in the crawl process (one worker) as in worker processes."""
    with Site() as outlet:
        normal = [f"/a/{n}.html" for n in range(3)]
        outlet.routes = {
            "/robots.txt": robots("User-agent: *\nDisallow:\n"),
            "/rss.xml": rss(*(outlet.url + p for p in ["/a/heavy.html", *normal])),
            "/a/heavy.html": _heavy_page(),
            **{p: page(f"خبر عادي {p}") for p in normal},
        }
        result = crawl(
            home,
            outlets_file(tmp_path, outlet.url),
            ARSHIF_EXTRACT_WORKERS=workers,
            ARSHIF_EXTRACT_TIMEOUT=1,
            DOWNLOAD_MAXSIZE=10 * 1024 * 1024,
        )
    with Archive(archive_path(home)) as archive:
        urls = {a.url for a in archive.iter_articles()}
        (run,) = archive.runs()
    assert urls == {outlet.url + p for p in normal}, result.stderr[-3000:]
    assert run["errors"] == {"extract/timeout": 1}, run
    assert "Skipped " + outlet.url + "/a/heavy.html: timeout" in result.stderr
    assert f"{outlet.url}/a/heavy.html".encode() in warc_bytes(home), "the raw page is kept"
    reliability_fact("hostile", group="extract-budget", case=f"{workers} workers", **run["errors"])


def test_a_catastrophic_article_pattern_does_not_hang_the_crawl(tmp_path: Path, home: Path) -> None:
    """The issue's pattern `(a+)+$` and one the regex engine cannot simplify, `(a|aa)+$`,
    against 40-character links on a start page: each match is stopped, the crawl ends."""
    links = "".join(f'<a href="/{"a" * 40}!{n}">x</a>' for n in range(3))
    for pattern in (r"^http://[^/]+/(a+)+$", r"^http://[^/]+/(a|aa)+$"):
        with Site() as outlet:
            outlet.routes = {"/robots.txt": robots("User-agent: *\nDisallow:\n"), "/": html(links)}
            fields = f"    start_pages: ['/']\n    article_pattern: '{pattern}'\n"
            crawl(home, outlets_file(tmp_path, outlet.url, fields))
            # The start page, and once more when discovery, finding no article link on it,
            # looks there for the outlet's feeds: the crawl ended.
            assert 1 <= outlet.hits["/"] <= 2
    reliability_fact("hostile", group="regex-backtracking", case="article_pattern", patterns=2)


@pytest.mark.parametrize(
    "canonical",
    ["javascript://news.example/%0Aalert(1)", "file://news.example/etc/passwd", "data:,x"],
)
def test_a_canonical_link_that_is_not_http_does_not_name_the_article(canonical: str) -> None:
    url = "https://news.example/a/1.html"
    fields = {"title": "t", "text": "نص", "canonical_url": canonical}
    record = build_article(
        fields, url=url, outlet="o", fetched_at="2026-01-01T00:00:00+00:00", status=200,
        warc_file=None, warc_offset=None, domains=("news.example",),
    )  # fmt: skip
    assert record.canonical_url == canonical_url(url) and record.id == article_id(url)


def test_a_crawl_delay_past_the_maximum_does_not_stall_the_crawl(
    tmp_path: Path, home: Path
) -> None:
    """`Crawl-delay: 1e308` (robots.txt is the site's own) is cut to ARSHIF_MAX_CRAWL_DELAY."""
    articles = [f"/a/{n}.html" for n in range(2)]
    with Site() as outlet:
        outlet.routes = {
            "/robots.txt": robots("User-agent: *\nCrawl-delay: 1e308\nDisallow:\n"),
            "/rss.xml": rss(*(outlet.url + p for p in articles)),
            **{p: page(f"خبر {p}") for p in articles},
        }
        result = crawl(home, outlets_file(tmp_path, outlet.url), ARSHIF_MAX_CRAWL_DELAY=0.5)
    with Archive(archive_path(home)) as archive:
        assert {a.url for a in archive.iter_articles()} == {outlet.url + p for p in articles}
    assert "more than ARSHIF_MAX_CRAWL_DELAY: waiting 0.5 s" in result.stderr
    reliability_fact("hostile", group="slow-answers", case="Crawl-delay 1e308")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def test_killed_extraction_workers_are_replaced(tmp_path: Path, home: Path) -> None:
    """The workers are killed (as the kernel's OOM killer would) while the 9 MB page is
    being extracted: new workers take over, that page is tried again, and every page is
    archived; the pool used to stay broken, failing every page after."""
    normal = [f"/a/{n}.html" for n in range(3)]
    with Site() as outlet:
        outlet.routes = {
            "/robots.txt": robots("User-agent: *\nDisallow:\n"),
            "/rss.xml": rss(*(outlet.url + p for p in ["/a/heavy.html", *normal])),
            "/a/heavy.html": _heavy_page(),
            **{p: page(f"خبر عادي {p}") for p in normal},
        }
        path = outlets_file(tmp_path, outlet.url)
        sets = {"ARSHIF_EXTRACT_WORKERS": 2, "DOWNLOAD_MAXSIZE": 10 * 1024 * 1024, **QUICK}
        args = [a for k, v in sets.items() for a in ("--set", f"{k}={v}")]
        env = {**os.environ, "ARSHIF_HOME": str(home)}
        command = [sys.executable, "-m", "arshif.cli", "crawl", "local", "--outlets", str(path)]
        crawl_process = subprocess.Popen(
            [*command, *args], env=env, cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while "/a/heavy.html" not in outlet.hits and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # the page is downloaded and handed to a worker
        workers = [w for server in _children(crawl_process.pid) for w in _children(server)]
        for worker in workers:
            os.kill(worker, signal.SIGKILL)
        _, stderr = crawl_process.communicate(timeout=120)
    assert workers, "the crawl had extraction workers"
    assert crawl_process.returncode == 0, stderr[-3000:]
    assert "An extraction worker died; starting new workers" in stderr
    with Archive(archive_path(home)) as archive:
        urls = {a.url for a in archive.iter_articles()}
    assert urls == {outlet.url + p for p in ["/a/heavy.html", *normal]}, stderr[-3000:]
