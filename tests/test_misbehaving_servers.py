"""Misbehaving servers (issue #8): a hostile outlet on 127.0.0.1 whose pages time out, drop
the connection, answer 503 or 429 before succeeding, loop redirects, send a gzip bomb, never
end or exceed the size limit. The real `arshif crawl` must finish, archive every reachable
article, skip the rest and count each failure by kind in the crawl run."""

from __future__ import annotations

import gzip
import http.server
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import pytest

from arshif.config import archive_path
from crawler.retry_after import retry_after_seconds
from crawler.sample_server import load_manifest, sample_site_dir
from indexer.archive import Archive
from tests.conftest import reliability_fact, run_arshif
from tests.servers import RecordingServer

PLACEHOLDER = b"__BASE_URL__"
GOOD = [f"/good/{n}.html" for n in range(8)]
FLAKY_503 = "/flaky-503.html"  # 503 once, then the page
LIMITED_429 = "/limited-429.html"  # 429 with Retry-After once, then the page
REACHABLE = [*GOOD, FLAKY_503, LIMITED_429]
SLOW = "/slow.html"
DROPPED = "/dropped.html"
LOOP = "/loop.html"
BOMB = "/bomb.html"
ENDLESS = "/endless.html"
HUGE = "/huge.html"
HOSTILE = [SLOW, DROPPED, LOOP, BOMB, ENDLESS, HUGE]
PRIVATE = "/private/hidden.html"  # disallowed by robots.txt: a skip, not an error
OFFSITE = "http://localhost:9/good/0.html"  # another host: a skip, never fetched
TIMEOUT_S = 2
MAXSIZE = 2_000_000
BOMB_BODY = gzip.compress(b"\0" * (60 * 1024 * 1024), 9)  # ~60 KB, 60 MB unpacked


def _pages() -> dict[str, bytes]:
    """Real sample articles under new URLs, one per reachable path (placeholder kept)."""
    manifest = load_manifest()
    chosen = [a for a in manifest["articles"] if a["kind"] in ("arabic", "english", "cp1256")]
    chosen += [a for a in manifest["articles"] if a["kind"] == "seed"][:1]
    assert len(chosen) >= len(REACHABLE)
    pages = {}
    for path, article in zip(REACHABLE, chosen, strict=False):
        raw = (sample_site_dir() / article["path"].lstrip("/")).read_bytes()
        pages[path] = raw.replace(article["path"].encode(), path.encode())
    return pages


class HostileServer(RecordingServer):
    def __init__(self, feed: list[str] | None = None, retry_after: int = 1) -> None:
        super().__init__()
        self.pages = _pages()
        self.feed = feed or [*REACHABLE, *HOSTILE, PRIVATE, OFFSITE]
        self.retry_after = retry_after

    def times(self, path: str) -> list[float]:
        return [t for p, t in self.log if p.split("?")[0] == path]

    def handle(self, h: http.server.BaseHTTPRequestHandler, path: str, hit: int) -> None:
        base = self.url.encode()
        if path == "/robots.txt":
            return self.reply(h, 200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
        if path == "/rss.xml":
            items = "".join(
                f"<item><title>{p}</title><link>{urljoin(self.url, p)}</link></item>"
                for p in self.feed
            )
            rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
            return self.reply(h, 200, (rss + "</channel></rss>").encode(), "application/rss+xml")
        if path == FLAKY_503 and hit == 1:
            return self.reply(h, 503, b"busy", "text/plain")
        if path == LIMITED_429 and hit == 1:
            return self.reply(
                h, 429, b"slow down", "text/plain", {"Retry-After": str(self.retry_after)}
            )
        if path in self.pages:
            body = self.pages[path].replace(PLACEHOLDER, base)
            charset = "windows-1256" if b"windows-1256" in body[:2000].lower() else "utf-8"
            return self.reply(h, 200, body, f"text/html; charset={charset}")
        if path == SLOW:
            time.sleep(TIMEOUT_S * 2)
            return self.reply(h, 200, b"<html><body>too late</body></html>", "text/html")
        if path == DROPPED:
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", "100000")
            h.end_headers()
            h.wfile.write(b"<html><body>" + b"x" * 1000)
            h.wfile.flush()
            h.close_connection = True
            return None
        if path == LOOP:  # a new URL each time, so only the redirect limit stops it
            h.send_response(302)
            h.send_header("Location", f"{LOOP}?n={hit}")
            h.send_header("Content-Length", "0")
            h.end_headers()
            return None
        if path == BOMB:
            return self.reply(h, 200, BOMB_BODY, "text/html", {"Content-Encoding": "gzip"})
        if path == ENDLESS:
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            chunk = b"<p>" + b"y" * 65536 + b"</p>"
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                h.wfile.flush()
            h.close_connection = True
            return None
        if path == HUGE:
            body = b"<html><body>" + b"z" * (MAXSIZE + 1_000_000) + b"</body></html>"
            return self.reply(h, 200, body, "text/html")
        return self.reply(h, 404, b"not found", "text/plain")

    def reply(
        self,
        h: http.server.BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send(h, status, body, {"Content-Type": ctype, **(headers or {})})


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as srv:
        yield srv


def outlets_file(tmp_path: Path, base_url: str) -> Path:
    path = tmp_path / "outlets.yaml"
    path.write_text(
        "outlets:\n"
        "  - id: hostile\n"
        '    name: "hostile test outlet"\n'
        "    language: ar\n"
        f'    base_url: "{base_url}"\n'
        '    feeds: ["/rss.xml"]\n',
        encoding="utf-8",
    )
    return path


def test_crawl_survives_misbehaving_servers(tmp_path: Path, home: Path, hostile) -> None:
    settings = {
        "DOWNLOAD_TIMEOUT": TIMEOUT_S,
        "DOWNLOAD_MAXSIZE": MAXSIZE,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_TIMES": 2,
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_ENABLED": False,
        "ARSHIF_EXTRACT_WORKERS": 1,
    }
    sets = [arg for k, v in settings.items() for arg in ("--set", f"{k}={v}")]
    started = time.monotonic()
    result = run_arshif(
        home, "crawl", "hostile", "--outlets", str(outlets_file(tmp_path, hostile.url)),
        *sets, timeout=90,
    )  # fmt: skip
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-3000:]
    assert elapsed < 60, f"crawl took {elapsed:.0f} s"

    with Archive(archive_path(home)) as archive:
        urls = {a.url.removeprefix(hostile.url) for a in archive.iter_articles()}
        (run,) = archive.runs()
    faults = [p for p in hostile.feed if p not in GOOD]
    reliability_fact(
        "faults", hits={p: hostile.hits.get(p, 0) for p in faults}, errors=run["errors"],
        reachable=len(REACHABLE), lost=len(set(REACHABLE) - urls),
    )  # fmt: skip
    assert urls == set(REACHABLE), result.stderr[-3000:]
    assert run["status"] == "finished"
    errors = run["errors"]

    # Timeouts and dropped connections are retried (RETRY_TIMES=2), the size limits are not.
    assert hostile.hits[SLOW] == 3 and hostile.hits[DROPPED] == 3, hostile.hits
    assert hostile.hits[HUGE] == hostile.hits[ENDLESS] == hostile.hits[BOMB] == 1, hostile.hits
    assert hostile.hits[LOOP] == 6, "the redirect limit (5) ends the loop"
    assert hostile.hits[FLAKY_503] == hostile.hits[LIMITED_429] == 2, hostile.hits
    # Each failed URL counts once, by its final outcome after retries; the gzip bomb, the
    # oversized bodies and the redirect loop are failures too, not skips.
    assert errors == {
        "timeout": 1,  # slow page
        "connection_lost": 1,  # connection dropped mid-body
        "too_large": 3,  # huge (Content-Length), endless (streamed past the limit), gzip bomb
        "redirect_loop": 1,
    }, errors
    # Repeated attempts are retries, reported apart: slow and dropped twice each, 503 and 429
    # once each.
    assert run["info"]["retries"] == 2 + 2 + 1 + 1, run["info"]
    assert run["skipped"] == 2, run  # robots.txt and off-site
    assert PRIVATE not in hostile.hits, hostile.hits
    assert run["pages"] >= len(REACHABLE)
    assert "exceeded DOWNLOAD_MAXSIZE (2000000 B) during decompression" in result.stderr

    # Retry-After: 1 was honoured before the second request.
    first, second = hostile.times(LIMITED_429)
    assert second - first >= 1.0


@pytest.mark.parametrize(("cap", "waits"), [(60, True), (0, False)])
def test_retry_after_delays_the_retry(tmp_path: Path, home: Path, cap: int, waits: bool) -> None:
    """Alone in its feed, the 429 page is retried at once unless Retry-After is honoured
    (up to ARSHIF_RETRY_AFTER_MAX seconds)."""
    with HostileServer(feed=[LIMITED_429], retry_after=2) as srv:
        result = run_arshif(
            home, "crawl", "hostile", "--outlets", str(outlets_file(tmp_path, srv.url)),
            "--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_ENABLED=False",
            "--set", f"ARSHIF_RETRY_AFTER_MAX={cap}", "--set", "ARSHIF_EXTRACT_WORKERS=1",
            timeout=60,
        )  # fmt: skip
        first, second = srv.times(LIMITED_429)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (second - first >= 2.0) is waits, second - first
    with Archive(archive_path(home)) as archive:
        assert [a.url for a in archive.iter_articles()] == [srv.url + LIMITED_429]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(b"1", 1.0), ("120", 120.0), (None, None), (b"soon", None),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)  # fmt: skip
def test_retry_after_header_values(value, seconds) -> None:
    assert retry_after_seconds(value) == seconds
