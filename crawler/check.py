"""`arshif outlets check`: does each outlet's robots.txt, feed and sitemap still answer?

Outlet sites change their feed addresses without notice, so the catalogue is only as good
as its last check. This asks each configured URL once with a plain HTTP client (no Scrapy
engine, no retries, a short timeout, Arshif's own User-Agent, and the crawl's rule on
private addresses, redirects included), and says what answered, how many article links
each feed or sitemap holds, and what failed. When nothing can be reached at all it says so
in one line per outlet instead of a wall of errors.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.message import Message
from typing import IO, Any
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

from crawler import discovery
from crawler.address_guard import configured_endpoints, refusal
from crawler.feeds import FeedError, feed_links, sitemap_entries
from crawler.outlets import Outlet

MAX_BYTES = 10 * 1024 * 1024  # the crawl's own download limit
INDEX_CHILDREN = 3  # sitemaps of an index read to count its article links


class _Unreachable(Exception):
    """The network (not the outlet) failed: DNS, no route, refused, timed out."""


@dataclass(frozen=True)
class UrlCheck:
    """What one URL answered."""

    kind: str  # "robots", "feed" or "sitemap"
    url: str
    ok: bool
    detail: str  # "HTTP 200", "HTTP 404", "connection refused", ...
    links: int = 0  # item links (feed) or locations (sitemap)
    article_links: int = 0  # of those, links the outlet's article_pattern accepts
    unreachable: bool = False  # failed before any HTTP answer


@dataclass
class OutletCheck:
    """Every URL checked for one outlet."""

    outlet: str
    results: list[UrlCheck] = field(default_factory=list)
    found: list[UrlCheck] = field(default_factory=list)  # listings discovery found instead

    @property
    def offline(self) -> str | None:
        """The network failure shared by every URL, when none got an HTTP answer."""
        if self.results and all(r.unreachable for r in self.results):
            return self.results[0].detail
        return None

    @property
    def ok(self) -> bool:
        """Whether at least one feed or sitemap answered with readable links."""
        return any(r.ok and r.kind != "robots" and r.links for r in self.results)


class _Refused(Exception):
    """A URL, or a redirect, to an address the crawler would not fetch either."""


class _GuardedRedirects(urllib.request.HTTPRedirectHandler):
    """Follows redirects only where the crawl's address guard would let it go."""

    def __init__(self, configured: set[tuple[str, int]]) -> None:
        super().__init__()
        self.configured = configured

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> urllib.request.Request | None:
        why = refusal(newurl, self.configured)
        if why:
            fp.close()
            raise _Refused(f"redirected to {newurl}: {why}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class _Deadline:
    """One request's whole time, redirects included: when it is over, the sockets opened
    for it are shut, so a server that answers a byte a second cannot outlast it (a socket
    timeout bounds each read only)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                sock.shutdown(socket.SHUT_RDWR)
            self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


def _watched(base: type[http.client.HTTPConnection], deadline: _Deadline) -> Any:
    class Connection(base):  # type: ignore[valid-type, misc]
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    return Connection


class _Http(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self.deadline), req)


class _Https(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        connection = _watched(http.client.HTTPSConnection, self.deadline)
        return self.do_open(connection, req, context=self._context)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Client:
    """Plain HTTP for one outlet: Arshif's User-Agent, a short timeout for the whole of
    each request, and the crawl's rules on schemes and private addresses
    (crawler/schemes.py, crawler/address_guard.py), redirects included: the hosts the
    outlet's configuration names are allowed, other private ones are refused. Only http
    and https are spoken at all (no file, ftp or data handlers)."""

    user_agent: str
    timeout: float
    configured: set[tuple[str, int]]

    def fetch(self, url: str) -> tuple[int, bytes]:
        why = refusal(url, self.configured)
        if why:
            raise _Refused(why)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        deadline = _Deadline(self.timeout)
        opener = urllib.request.OpenerDirector()
        for handler in (
            _Http(deadline),
            _Https(deadline),
            _GuardedRedirects(self.configured),
            urllib.request.UnknownHandler(),
            urllib.request.HTTPDefaultErrorHandler(),
            urllib.request.HTTPErrorProcessor(),
        ):
            opener.add_handler(handler)
        try:
            with opener.open(request, timeout=self.timeout) as response:
                status, body = response.status, response.read(MAX_BYTES + 1)[:MAX_BYTES]
            if deadline.expired:
                raise TimeoutError
            return status, body
        except urllib.error.HTTPError as exc:
            return exc.code, b""
        except (OSError, http.client.HTTPException) as exc:
            if deadline.expired or isinstance(exc, TimeoutError):
                raise _Unreachable(f"timed out after {self.timeout:g} s") from exc
            if isinstance(exc, urllib.error.URLError):
                raise _Unreachable(_network_reason(exc.reason)) from exc
            if isinstance(exc, OSError):
                raise _Unreachable(_network_reason(exc)) from exc
            # A connection that broke mid-answer.
            raise _Unreachable(f"broken HTTP answer ({type(exc).__name__})") from exc
        finally:
            deadline.cancel()


def _network_reason(reason: object) -> str:
    if isinstance(reason, socket.gaierror):
        return "network unreachable (DNS failed)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, ssl.SSLError):
        return f"TLS failed ({reason.reason or reason})"
    if isinstance(reason, OSError) and reason.errno in (101, 113):  # ENETUNREACH, EHOSTUNREACH
        return "network unreachable (no route)"
    return f"failed ({reason})"


def _robots(outlet: Outlet, client: _Client) -> tuple[UrlCheck, RobotFileParser]:
    first = outlet.base_url or outlet.entry_urls[0]
    url = urljoin(first, "/robots.txt")
    parser = RobotFileParser(url)
    try:
        status, body = client.fetch(url)
    except _Unreachable as exc:
        parser.allow_all = True
        return UrlCheck("robots", url, False, str(exc), unreachable=True), parser
    except _Refused as exc:
        parser.allow_all = True
        return UrlCheck("robots", url, False, f"refused: {exc}"), parser
    if status == 200:
        parser.parse(body.decode("utf-8", "replace").splitlines())
    else:
        parser.allow_all = status >= 400  # as Scrapy does: no robots.txt, no rules
    return UrlCheck("robots", url, status == 200 or status == 404, f"HTTP {status}"), parser


def _listing(
    kind: str, url: str, outlet: Outlet, robots: RobotFileParser, client: _Client
) -> UrlCheck:
    if not robots.can_fetch(client.user_agent, url):
        return UrlCheck(kind, url, False, "disallowed by robots.txt")
    try:
        status, body = client.fetch(url)
    except _Unreachable as exc:
        return UrlCheck(kind, url, False, str(exc), unreachable=True)
    except _Refused as exc:
        return UrlCheck(kind, url, False, f"refused: {exc}")
    if status != 200:
        return UrlCheck(kind, url, False, f"HTTP {status}")
    try:
        if kind == "feed":
            links, sub = [urljoin(url, link) for link in feed_links(body)], ""
        else:
            links, sub = _sitemap_links(url, body, client)
    except FeedError as exc:
        return UrlCheck(kind, url, False, f"HTTP {status}, unreadable: {exc}")
    if not links:
        return UrlCheck(kind, url, False, f"HTTP {status}, no links{sub}")
    articles = sum(outlet.is_article_url(link) for link in links)
    return UrlCheck(kind, url, True, f"HTTP {status}{sub}", len(links), articles)


def _sitemap_links(url: str, body: bytes, client: _Client) -> tuple[list[str], str]:
    """A sitemap's locations; for a sitemap index, those of its first few sitemaps."""
    form, locations = sitemap_entries(body)
    locations = [urljoin(url, loc) for loc in locations]
    if form != "sitemapindex":
        return locations, ""
    links: list[str] = []
    children = locations[:INDEX_CHILDREN]
    for child in children:
        try:
            status, child_body = client.fetch(child)
            if status == 200:
                links += [urljoin(child, loc) for loc in sitemap_entries(child_body)[1]]
        except (_Unreachable, _Refused, FeedError):
            continue
    return links, f" (index of {len(locations)}, read {len(children)})"


def check_outlet(outlet: Outlet, user_agent: str, timeout: float = 10.0) -> OutletCheck:
    """Fetch the outlet's robots.txt, then each feed and sitemap it configures."""
    client = _Client(user_agent, timeout, configured_endpoints(outlet))
    report = OutletCheck(outlet.id)
    robots_check, robots = _robots(outlet, client)
    report.results.append(robots_check)
    if robots_check.unreachable:
        return report  # the same host serves the rest; one network error is enough
    for kind, urls in (("feed", outlet.feeds), ("sitemap", outlet.sitemaps)):
        for url in urls:
            report.results.append(_listing(kind, outlet.url(url), outlet, robots, client))
    if not report.ok:
        report.found = _discover(outlet, robots_check.url, robots, client)
    return report


def _discover(
    outlet: Outlet, robots_url: str, robots: RobotFileParser, client: _Client
) -> list[UrlCheck]:
    """What the crawl's discovery (crawler/discovery.py) would find, fetched plainly."""
    home = urljoin(robots_url, "/")
    texts: list[bytes] = []
    for url in (robots_url, home):
        try:
            status, body = client.fetch(url)
        except (_Unreachable, _Refused):
            status, body = 0, b""
        texts.append(body if status == 200 else b"")
    found = []
    for url in discovery.candidates(outlet, home, texts[0].decode("utf-8", "replace"), texts[1]):
        if not robots.can_fetch(client.user_agent, url):
            continue
        try:
            status, body = client.fetch(url)
            if status != 200:
                continue
            kind, links = discovery.listing_links(body)
        except (_Unreachable, _Refused, FeedError):
            continue
        if discovery.holds_articles(outlet, kind, links, url):
            check = _listing("feed" if kind == "feed" else "sitemap", url, outlet, robots, client)
            if check.ok:
                found.append(check)
    return found


def check_outlets(
    outlets: list[Outlet], user_agent: str, timeout: float = 10.0, workers: int = 8
) -> list[OutletCheck]:
    """Check several outlets at once (different hosts), in catalogue order."""
    with ThreadPoolExecutor(max(1, min(workers, len(outlets)))) as pool:
        return list(pool.map(lambda o: check_outlet(o, user_agent, timeout), outlets))


def render(report: OutletCheck) -> list[str]:
    """Human lines: one when the outlet is unreachable, else one per URL."""
    if report.offline:
        return [f"{report.outlet}: {report.offline}"]
    lines = [f"{report.outlet}: {'ok' if report.ok else 'FAILING'}"]
    for r in report.results:
        mark = "ok  " if r.ok else "FAIL"
        count = ""
        if r.kind != "robots" and r.ok:
            count = f", {r.links} links, {r.article_links} match article_pattern"
        host = urlsplit(r.url)
        lines.append(f"  {mark} {r.kind:<7} {host.netloc}{host.path}: {r.detail}{count}")
    for r in report.found:
        lines.append(
            f"  found {r.kind:<7} {r.url}: {r.links} links, {r.article_links} match article_pattern"
        )
    if report.found:
        lines.append(f"  to use them, put in outlet '{report.outlet}' of outlets.yaml:")
        lines += discovery.yaml_lines((r.kind, r.url) for r in report.found)
    return lines
