"""Article links from RSS/Atom feeds and from (news) sitemaps and sitemap indexes.

Both are parsed as a stream with entity resolution off, so a hostile or huge file cannot
expand entities or fill memory.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from io import BytesIO
from typing import Any, BinaryIO, NamedTuple

from lxml import etree

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemap protocol's own limit
# Feeds and sitemaps are read forgivingly, with no entities, network or huge-tree parsing.
_SAFE_XML: dict[str, bool] = {
    "recover": True,
    "resolve_entities": False,
    "no_network": True,
    "huge_tree": False,
    "remove_comments": True,
    "remove_pis": True,
}


class FeedError(ValueError):
    """A feed or sitemap that could not be read at all."""


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def feed_links(body: bytes) -> Iterator[str]:
    """Item links of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, in document order."""
    for link, _ in feed_entries(body):
        yield link


def feed_entries(body: bytes) -> Iterator[tuple[str, str | None]]:
    """(link, date text or None) of each feed item: pubDate, dc:date, published, updated."""
    parser = etree.iterparse(BytesIO(body), events=("end",), **_SAFE_XML)
    try:
        for _, elem in parser:
            name = _local(elem.tag)
            if name in ("item", "entry"):
                link = _item_link(elem)
                if link:
                    yield link, _child_text(elem, ("pubdate", "date", "published", "updated"))
                elem.clear()
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"feed is not readable XML: {exc}") from exc


def _child_text(elem: etree._Element, names: tuple[str, ...]) -> str | None:
    """The text of the first child named one of `names` (in that order of preference)."""
    found = {_local(c.tag): c.text.strip() for c in elem if c.text and c.text.strip()}
    return next((found[n] for n in names if n in found), None)


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


class _Capped(io.RawIOBase):
    """A read-only stream that fails once more than `limit` bytes were read from `inner`."""

    def __init__(self, inner: BinaryIO, limit: int) -> None:
        self._inner, self._left = inner, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._inner.read(len(buffer))
        self._left -= len(data)
        if self._left < 0:
            raise FeedError(f"sitemap is larger than {MAX_SITEMAP_BYTES // 1024 // 1024} MB")
        buffer[: len(data)] = data
        return len(data)


def iter_sitemap(source: bytes | BinaryIO) -> tuple[str, Iterator[str]]:
    """('urlset' | 'sitemapindex', locations) of a sitemap, gzipped or not, as a stream:
    memory stays bounded however many entries the file holds (up to MAX_SITEMAP_BYTES
    uncompressed). Raises FeedError for unreadable XML, here or while iterating."""
    kind, entries = iter_sitemap_entries(source)
    return kind, (entry.loc for entry in entries)


class SitemapEntry(NamedTuple):
    loc: str
    lastmod: str | None
    published: str | None  # news:publication_date


def iter_sitemap_entries(source: bytes | BinaryIO) -> tuple[str, Iterator[SitemapEntry]]:
    """`iter_sitemap` with each entry's lastmod and news:publication_date."""
    raw: BinaryIO = BytesIO(source) if isinstance(source, bytes) else source
    stream = io.BufferedReader(_Capped(raw, MAX_SITEMAP_BYTES))
    if stream.peek(2)[:2] == b"\x1f\x8b":  # looked at, not consumed
        stream = gzip.GzipFile(fileobj=stream)  # type: ignore[assignment]
        stream = io.BufferedReader(_Capped(stream, MAX_SITEMAP_BYTES))
    events = etree.iterparse(stream, events=("start", "end"), **_SAFE_XML)
    try:
        _, root = next(events)
    except (etree.XMLSyntaxError, StopIteration, OSError, EOFError) as exc:
        raise FeedError("sitemap is not readable XML") from exc
    return _local(root.tag), _locations(events)


def _locations(events: Any) -> Iterator[SitemapEntry]:
    try:
        for event, elem in events:
            if event != "end" or _local(elem.tag) not in ("url", "sitemap"):
                continue
            loc = _child_text(elem, ("loc",))
            if loc:
                news = next((c for c in elem if _local(c.tag) == "news"), None)
                published = None if news is None else _child_text(news, ("publication_date",))
                yield SitemapEntry(loc, _child_text(elem, ("lastmod",)), published)
            elem.clear()
            # Drop the entries already read, so the tree never grows with the file.
            parent = elem.getparent()
            if parent is not None:
                while elem.getprevious() is not None:
                    del parent[0]
    except (etree.XMLSyntaxError, OSError, EOFError) as exc:
        raise FeedError(f"sitemap is not readable XML: {exc}") from exc


def sitemap_entries(body: bytes) -> tuple[str, list[str]]:
    """('urlset' | 'sitemapindex', locations) of a sitemap, gzipped or not."""
    kind, locations = iter_sitemap(body)
    return kind, list(locations)
