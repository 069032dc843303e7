"""Where the crawler may go (issue #8): not to private, loopback, link-local or metadata
addresses that an outlet's pages lead to (unless ARSHIF_ALLOW_PRIVATE_ADDRESSES), never off
the outlet's allowed domains (unless they are listed), and at robots.txt's pace.

Real `arshif crawl` runs against small HTTP servers on 127.0.0.1 that record every request.
That robots.txt `Disallow` is obeyed is shown in tests/test_crawl_e2e.py
(`/private/admin.html` never requested) and again below.
"""

from __future__ import annotations

import http.server
import ipaddress
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from arshif.config import archive_path
from crawler import settings as settings_module
from crawler.address_guard import address_kind, host_kind
from crawler.check import check_outlet
from crawler.outlets import load_outlets
from crawler.settings import USER_AGENT
from indexer.archive import Archive
from tests.conftest import run_arshif
from tests.servers import RecordingServer

Route = tuple[int, dict[str, str], bytes]


def page(title: str) -> Route:
    body = (
        f'<!DOCTYPE html><html lang="ar"><head><meta charset="utf-8"><title>{title}</title>'
        f"</head><body><article><h1>{title}</h1><p>{'نص الخبر المحلي للتجربة. ' * 30}</p>"
        "</article></body></html>"
    )
    return 200, {"Content-Type": "text/html; charset=utf-8"}, body.encode()


def redirect(url: str) -> Route:
    return 302, {"Location": url}, b""


def rss(*links: str) -> Route:
    items = "".join(f"<item><title>t</title><link>{link}</link></item>" for link in links)
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
    return 200, {"Content-Type": "application/rss+xml"}, (body + "</channel></rss>").encode()


def sitemap_index(*locs: str) -> Route:
    entries = "".join(f"<sitemap><loc>{loc}</loc></sitemap>" for loc in locs)
    body = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"{entries}</sitemapindex>"
    )
    return 200, {"Content-Type": "application/xml"}, body.encode()


def robots(text: str) -> Route:
    return 200, {"Content-Type": "text/plain"}, text.encode()


class Site(RecordingServer):
    """An HTTP server on 127.0.0.1 answering from `routes` (404 otherwise)."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[str, Route] = {}

    def handle(self, h: http.server.BaseHTTPRequestHandler, path: str, hit: int) -> None:
        status, headers, body = self.routes.get(h.path, (404, {}, b"not found"))
        self.send(h, status, body, headers)


@pytest.fixture
def sites() -> Iterator[tuple[Site, Site]]:
    """The outlet's site and another server (another port, also reachable as localhost)."""
    with Site() as outlet, Site() as other:
        yield outlet, other


FEED = '    feeds: ["/rss.xml"]\n'


def outlets_file(tmp_path: Path, base_url: str, fields: str = FEED) -> Path:
    path = tmp_path / "outlets.yaml"
    path.write_text(
        "outlets:\n"
        "  - id: local\n"
        '    name: "local test outlet"\n'
        "    language: ar\n"
        f'    base_url: "{base_url}"\n' + fields,
        encoding="utf-8",
    )
    return path


def crawl(home: Path, outlets: Path, **settings: object):
    settings = {
        "DOWNLOAD_DELAY": 0,
        "AUTOTHROTTLE_START_DELAY": 0.05,
        "ARSHIF_EXTRACT_WORKERS": 1,
        "ARSHIF_INDEX_ON_CLOSE": False,
        **settings,
    }
    sets = [arg for k, v in settings.items() for arg in ("--set", f"{k}={v}")]
    result = run_arshif(home, "crawl", "local", "--outlets", str(outlets), *sets, timeout=90)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.mark.parametrize(
    ("address", "kind"),
    [("127.0.0.1", "loopback"), ("10.1.2.3", "private"), ("172.16.5.4", "private"),
     ("192.168.1.1", "private"), ("169.254.10.1", "link-local"),
     ("169.254.169.254", "cloud metadata"), ("100.64.0.1", "shared"),
     ("0.0.0.0", "unspecified"), ("224.0.0.251", "multicast"), ("240.0.0.1", "reserved"),
     ("::1", "loopback"), ("fe80::1", "link-local"), ("fc00::1", "private"),
     ("fd00:ec2::254", "cloud metadata"), ("::ffff:127.0.0.1", "loopback"),
     ("::ffff:10.0.0.1", "private"), ("ff02::1", "multicast"),
     ("8.8.8.8", None), ("2606:4700:4700::1111", None), ("185.199.108.153", None)],
)  # fmt: skip
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(ipaddress.ip_address(address)) == kind
    assert host_kind(address) == kind


def test_metadata_host_names_need_no_lookup() -> None:
    assert host_kind("metadata.google.internal") == "cloud metadata"
    assert host_kind("METADATA.google.internal.") == "cloud metadata"
    assert host_kind("[::1]") == "loopback"
    assert host_kind("news.example") is None  # a name: resolved by the middleware


@pytest.mark.parametrize("allow", [False, True])
def test_private_addresses_reached_from_outlet_pages(
    tmp_path: Path, home: Path, sites: tuple[Site, Site], allow: bool
) -> None:
    """The outlet itself is on 127.0.0.1 and is crawled with no setting (its configuration
    names it). Its feed links to another local server by IP and by name (localhost, looked
    up), and one of its pages redirects there: none of that is fetched by default, all of it
    with ARSHIF_ALLOW_PRIVATE_ADDRESSES. Both hosts are allowed domains, so only the address
    rule can stop them."""
    outlet, other = sites
    elsewhere = f"http://localhost:{other.port}"
    outlet.routes = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        "/rss.xml": rss(
            f"{outlet.url}/a/1.html",
            f"{outlet.url}/a/moved.html",
            f"{other.url}/b/by-ip.html",
            f"{elsewhere}/b/by-name.html",
        ),
        "/a/1.html": page("خبر على موقع المنفذ"),
        "/a/moved.html": redirect(f"{other.url}/b/redirected.html"),
    }
    other.routes = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        **{f"/b/{n}.html": page(n) for n in ("by-ip", "by-name", "redirected")},
    }
    path = outlets_file(
        tmp_path, outlet.url, FEED + "    allowed_domains: [127.0.0.1, localhost]\n"
    )
    result = crawl(home, path, ARSHIF_ALLOW_PRIVATE_ADDRESSES=allow)

    assert {"/robots.txt", "/rss.xml", "/a/1.html", "/a/moved.html"} <= set(outlet.paths)
    with Archive(archive_path(home)) as archive:
        urls = {a.url for a in archive.iter_articles()}
        (run,) = archive.runs()
    assert f"{outlet.url}/a/1.html" in urls, result.stderr[-3000:]
    if allow:
        assert {"/b/by-ip.html", "/b/by-name.html", "/b/redirected.html"} <= set(other.paths)
        assert f"{other.url}/b/redirected.html" in urls
        assert "Not fetching" not in result.stderr
    else:
        assert other.paths == [], "nothing reaches the other local server"
        assert urls == {f"{outlet.url}/a/1.html"}
        # One warning per host (the first of its requests), each refusal counted as a skip.
        assert ": 127.0.0.1 is a loopback address" in result.stderr
        assert f"Not fetching {elsewhere}/b/by-name.html: localhost is a loopback address" in (
            result.stderr
        )
        assert run["skipped"] == 3 and not run["errors"], run


@pytest.mark.parametrize("resolver", ["guarded", "scrapy"])
def test_the_resolver_refuses_a_name_that_turns_private(
    tmp_path: Path, home: Path, sites: tuple[Site, Site], resolver: str
) -> None:
    """DNS rebinding: a name that answered a public address when the middleware looked it
    up answers a private one when the download looks it up again. Here the middleware is
    taken out, as if its look-up had been fooled; the crawl's resolver still refuses the
    loopback address `localhost` resolves to, where Scrapy's own resolver connects."""
    outlet, other = sites
    elsewhere = other.url.replace("127.0.0.1", "localhost")
    outlet.routes = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        "/rss.xml": rss(f"{outlet.url}/a/1.html", f"{elsewhere}/b/turned.html"),
        "/a/1.html": page("خبر على موقع المنفذ"),
    }
    other.routes = {"/b/turned.html": page("turned")}
    path = outlets_file(
        tmp_path, outlet.url, FEED + "    allowed_domains: [127.0.0.1, localhost]\n"
    )
    middlewares = {**settings_module.DOWNLOADER_MIDDLEWARES}
    middlewares["crawler.address_guard.AddressGuardMiddleware"] = None
    extra = {"DOWNLOADER_MIDDLEWARES": json.dumps(middlewares), "RETRY_ENABLED": False}
    if resolver == "scrapy":
        extra["TWISTED_DNS_RESOLVER"] = "scrapy.resolver.CachingThreadedResolver"
    result = crawl(home, path, **extra)

    assert "/a/1.html" in outlet.paths, result.stderr[-3000:]
    if resolver == "guarded":
        assert other.paths == [], "no connection to the address the name turned into"
        assert "Not connecting to localhost: it now resolves to 127.0.0.1, a loopback" in (
            result.stderr
        )
    else:
        assert "/b/turned.html" in other.paths


def test_an_outlet_configured_by_a_private_name_is_crawled(
    tmp_path: Path, home: Path, sites: tuple[Site, Site]
) -> None:
    """Its configuration names the host, so both the middleware and the resolver let it
    resolve to a loopback address, with no setting."""
    outlet, _ = sites
    by_name = f"http://localhost:{outlet.port}"
    outlet.routes = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        "/rss.xml": rss(f"{by_name}/a/1.html"),
        "/a/1.html": page("خبر على موقع المنفذ"),
    }
    result = crawl(home, outlets_file(tmp_path, by_name))
    assert "/a/1.html" in outlet.paths, result.stderr[-3000:]
    with Archive(archive_path(home)) as archive:
        assert {a.url for a in archive.iter_articles()} == {f"{by_name}/a/1.html"}


@pytest.mark.parametrize("told", [False, True])
def test_offsite_links_and_redirects(
    tmp_path: Path, home: Path, sites: tuple[Site, Site], told: bool
) -> None:
    """Every way a page can lead elsewhere: a feed item, a link on a start page, an article
    redirected away, a configured feed redirected away and a sitemap index naming another
    site's sitemap. The other site (localhost) receives nothing until the outlet lists it in
    `allowed_domains`. Private addresses are allowed here, so only the domain rule acts."""
    outlet, other = sites
    elsewhere = f"http://localhost:{other.port}"
    outlet.routes = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        "/rss.xml": rss(f"{outlet.url}/a/1.html", f"{elsewhere}/b/feed-item.html"),
        "/old-feed.xml": redirect(f"{elsewhere}/rss.xml"),
        "/": (
            200,
            {"Content-Type": "text/html; charset=utf-8"},
            f'<html><body><a href="{elsewhere}/b/linked.html">x</a>'
            f'<a href="/a/moved.html">y</a></body></html>'.encode(),
        ),
        "/a/1.html": page("خبر على موقع المنفذ"),
        "/a/moved.html": redirect(f"{elsewhere}/b/redirected.html"),
        "/sitemap_index.xml": sitemap_index(f"{elsewhere}/sitemap.xml"),
    }
    other.routes = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        "/rss.xml": rss(),
        "/sitemap.xml": sitemap_index(),
        **{f"/b/{n}.html": page(n) for n in ("feed-item", "linked", "redirected")},
    }
    fields = (
        '    feeds: ["/rss.xml", "/old-feed.xml"]\n'
        '    sitemaps: ["/sitemap_index.xml"]\n'
        '    start_pages: ["/"]\n'
        "    article_pattern: '/[ab]/[^/]+[.]html$'\n"
    )
    if told:
        fields += "    allowed_domains: [127.0.0.1, localhost]\n"
    path = outlets_file(tmp_path, outlet.url, fields)
    result = crawl(home, path, ARSHIF_ALLOW_PRIVATE_ADDRESSES=True)

    assert {"/rss.xml", "/old-feed.xml", "/", "/a/1.html", "/a/moved.html"} <= set(outlet.paths)
    assert "/sitemap_index.xml" in outlet.paths
    if told:
        expected = {"/b/feed-item.html", "/b/linked.html", "/b/redirected.html"}
        assert expected | {"/rss.xml", "/sitemap.xml"} <= set(other.paths), result.stderr[-3000:]
    else:
        assert other.paths == [], result.stderr[-3000:]


def test_crawl_delay_obeyed(tmp_path: Path, home: Path) -> None:
    """robots.txt says Crawl-delay: 1: consecutive requests arrive at least ~1 s apart even
    with AutoThrottle on and DOWNLOAD_DELAY 0, and the disallowed page is never requested.
    The same site without Crawl-delay is fetched in a burst (the control)."""
    articles = [f"/a/{n}.html" for n in range(4)]

    def run(robots_txt: str, data: Path) -> list[float]:
        with Site() as site:
            site.routes = {
                "/robots.txt": robots(robots_txt),
                "/rss.xml": rss(*(site.url + p for p in [*articles, "/private/x.html"])),
                **{p: page(f"خبر {p}") for p in articles},
                "/private/x.html": page("ممنوع"),
            }
            result = crawl(data, outlets_file(tmp_path, site.url))
            assert "/private/x.html" not in site.paths, "robots.txt Disallow is obeyed"
            assert set(articles) <= set(site.paths), result.stderr[-3000:]
            times = [t for p, t in site.log if p != "/robots.txt"]  # the feed, then articles
        return [b - a for a, b in zip(times, times[1:], strict=False)]

    gaps = run("User-agent: *\nCrawl-delay: 1\nDisallow: /private/\n", home)
    assert len(gaps) == len(articles)
    assert min(gaps) >= 0.9, gaps
    control = run("User-agent: *\nDisallow: /private/\n", tmp_path / "control")
    assert sum(control) < 1.0, control


def test_outlets_check_keeps_to_the_same_rule(tmp_path: Path, sites: tuple[Site, Site]) -> None:
    """`arshif outlets check` fetches with plain HTTP, outside Scrapy. A feed redirected to
    another local server and a sitemap index naming one are refused there as in a crawl,
    while the outlet's own (configured, also local) address is checked as usual."""
    outlet, other = sites
    outlet.routes = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        "/rss.xml": redirect(f"{other.url}/rss.xml"),
        "/feed2.xml": rss(f"{outlet.url}/a/1.html"),
        "/sitemap_index.xml": sitemap_index(f"{other.url}/sitemap.xml"),
    }
    other.routes = {"/rss.xml": rss(f"{other.url}/b/1.html")}
    fields = '    feeds: ["/rss.xml", "/feed2.xml"]\n    sitemaps: ["/sitemap_index.xml"]\n'
    local = load_outlets(outlets_file(tmp_path, outlet.url, fields))["local"]
    report = check_outlet(local, USER_AGENT, timeout=5)

    assert other.paths == [], "nothing reaches the other local server"
    moved, own, index = report.results[1:]
    assert not moved.ok
    assert moved.detail == (
        f"refused: redirected to {other.url}/rss.xml: 127.0.0.1 is a loopback address"
    )
    assert own.ok and own.links == 1, "the outlet's own local address is checked as usual"
    assert not index.ok and index.detail == "HTTP 200, no links (index of 1, read 1)"
