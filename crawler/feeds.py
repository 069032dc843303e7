"""Article links from RSS/Atom feeds and from (news) sitemaps and sitemap indexes.

Both are parsed as a stream with entity resolution off, so a hostile or huge file cannot
expand entities or fill memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO

from lxml import etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit


class FeedError(ValueError):
    """A feed or sitemap that could not be read at all."""


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def feed_links(body: bytes) -> Iterator[str]:
    """Item links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in document order."""
    parser = etree.iterparse(
        BytesIO(body),
        events=("end",),
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        for _, elem in parser:
            name = _local(elem.tag)
            if name in ("item", "entry"):
                link = _item_link(elem)
                if link:
                    yield link
                elem.clear()
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"feed is not readable XML: {exc}") from exc


def _item_link(item: etree._Element) -> str | None:
    fallback = None
    for child in item:
        name = _local(child.tag)
        if name == "link":
            href = child.get("href")
            if href and child.get("rel", "alternate") == "alternate":
                return href.strip()
            if child.text and child.text.strip():
                return child.text.strip()
        elif name == "guid" and child.get("isPermaLink", "true") == "true" and child.text:
            fallback = child.text.strip()
    return fallback if fallback and fallback.startswith("http") else None


def sitemap_entries(body: bytes) -> tuple[str, list[str]]:
    """('urlset' | 'sitemapindex', locations) of a sitemap, gzipped or not."""
    if body[:2] == b"\x1f\x8b":
        body = gunzip(body, max_size=MAX_SITEMAP_BYTES)
    try:
        sitemap = Sitemap(body)
    except (etree.XMLSyntaxError, StopIteration) as exc:
        raise FeedError("sitemap is not readable XML") from exc
    return sitemap.type, [entry["loc"] for entry in sitemap if entry.get("loc")]
