"""Finding an outlet's feeds and sitemaps when its configuration is wrong or missing.

Outlets move their feeds without notice, and a catalogue written from public listings may
name addresses that never worked. As trafilatura and Media Cloud do, the listings are
looked up again where sites announce them: robots.txt `Sitemap:` lines, the home page's
`<link rel="alternate">` RSS/Atom links, then the usual paths. A candidate is kept only on
the outlet's own domains, and only when it holds article links (those `article_pattern`
accepts, when the outlet has one). What was found is remembered in the archive, so later
crawls try it first, and `arshif outlets check` prints it as YAML lines to paste.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

from lxml import html as lxml_html

from crawler.feeds import FeedError, feed_links, sitemap_entries
from crawler.outlets import Outlet
from indexer.archive_base import ArchiveStore

USUAL_PATHS = (
    "/rss", "/feed", "/rss.xml", "/feed.xml", "/atom.xml", "/feeds/rss", "/sitemap.xml",
    "/sitemap_index.xml", "/news-sitemap.xml", "/sitemap-news.xml", "/sitemap_news.xml",
)  # fmt: skip
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
               "application/xml", "text/xml")  # fmt: skip
_SITEMAP_LINE = re.compile(r"^\s*sitemap\s*:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


def on_outlet(outlet: Outlet, url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return any(host == d or host.endswith("." + d) for d in outlet.domains)


def robots_sitemaps(text: str, base: str) -> list[str]:
    """The `Sitemap:` lines of a robots.txt, as absolute URLs."""
    return [urljoin(base, url) for url in _SITEMAP_LINE.findall(text)]


def alternate_feeds(body: bytes, base: str) -> list[str]:
    """The RSS/Atom feeds a page announces with `<link rel="alternate" type=...>`."""
    try:
        tree = lxml_html.fromstring(body)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return []
    found = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in _FEED_TYPES and href:
            found.append(urljoin(base, href))
    return found


def candidates(
    outlet: Outlet, home: str, robots_text: str = "", home_body: bytes = b""
) -> list[str]:
    """Where to look, in order, on the outlet's domains, without the configured URLs."""
    configured = set(outlet.entry_urls)
    ordered = [
        *robots_sitemaps(robots_text, home),
        *alternate_feeds(home_body, home),
        *(urljoin(home, path) for path in USUAL_PATHS),
    ]
    return [u for u in dict.fromkeys(ordered) if u not in configured and on_outlet(outlet, u)]


def listing_links(body: bytes) -> tuple[str, list[str]]:
    """('feed' | 'sitemap' | 'sitemapindex', links) of a listing; FeedError if it is
    neither a feed nor a sitemap."""
    head = body[:2048].lstrip().lower()
    if b"<rss" in head or b"<feed" in head or b"<rdf" in head:
        return "feed", list(feed_links(body))
    kind, locations = sitemap_entries(body)
    if kind not in ("urlset", "sitemapindex"):
        raise FeedError(f"neither a feed nor a sitemap (<{kind}>)")
    return ("sitemap" if kind == "urlset" else "sitemapindex"), locations


def holds_articles(outlet: Outlet, kind: str, links: Iterable[str], base: str) -> bool:
    """Whether a candidate is worth crawling: links on the outlet's domains that are
    articles (by `article_pattern`, when set); a sitemap index is judged by its children
    being on the outlet's domains."""
    urls = [urljoin(base, link) for link in links]
    mine = [u for u in urls if on_outlet(outlet, u)]
    if kind == "sitemapindex" or not outlet.article_pattern:
        return bool(mine)
    return any(outlet.is_article_url(u) for u in mine)


def yaml_lines(found: Iterable[tuple[str, str]]) -> list[str]:
    """The outlet-file lines that configure what was found: (kind, url) pairs."""
    found = list(found)
    feeds = [url for kind, url in found if kind == "feed"]
    sitemaps = [url for kind, url in found if kind != "feed"]
    lines = []
    if feeds:
        lines.append(f"    feeds: [{', '.join(repr(u) for u in feeds)}]")
    if sitemaps:
        lines.append(f"    sitemaps: [{', '.join(repr(u) for u in sitemaps)}]")
    return lines


def remember(archive: ArchiveStore, outlet: str, url: str, kind: str) -> None:
    """Keep a found listing for the next crawls (in the archive, either backend)."""
    archive.remember_listing(outlet, url, "feed" if kind == "feed" else "sitemap")


def remembered(archive: ArchiveStore, outlet: str) -> list[tuple[str, str]]:
    """(kind, url) found by earlier crawls of this outlet, latest first."""
    return archive.remembered_listings(outlet)
