"""The spider's half of discovery (crawler/discovery.py): when a configured feed or
sitemap fails (an HTTP error, not a feed, no links), or the outlet configures none, look
where sites announce their listings and crawl those that hold the outlet's articles.

Discovery runs once per crawl. What it finds is logged with the YAML lines to paste,
counted (`arshif/discovery/found`) and remembered in the archive, and later crawls of the
outlet start with it. Candidates that do not answer are not the outlet's errors: they are
guesses, counted only as `arshif/discovery/tried`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.archive_session import ArchiveSession
from crawler.discovery import (
    USUAL_PATHS,
    alternate_feeds,
    holds_articles,
    listing_links,
    on_outlet,
    remember,
    remembered,
    robots_sitemaps,
    yaml_lines,
)
from crawler.feeds import FeedError
from crawler.outlets import Outlet


class DiscoveringSpider(scrapy.Spider):
    outlet: Outlet
    _discovering = False

    def remembered_listings(self) -> Iterator[scrapy.Request]:
        """Requests for the listings earlier crawls found, tried before the configured ones."""
        with ArchiveSession.of(self.crawler).held() as archive:
            found = remembered(archive, self.outlet.id)
        configured = set(self.outlet.entry_urls)
        for kind, url in found:
            if url not in configured and on_outlet(self.outlet, url):
                yield self._candidate(
                    url, self.parse_feed if kind == "feed" else self.parse_sitemap
                )

    def discover(self, why: str) -> Iterator[scrapy.Request]:
        """Start looking (once per crawl): robots.txt, the home page, the usual paths."""
        if self._discovering:
            return
        self._discovering = True
        parts = urlsplit(self.outlet.base_url or self.outlet.entry_urls[0])
        home = f"{parts.scheme}://{parts.netloc}/"
        self.logger.warning("%s; looking for %s's feeds and sitemaps", why, self.outlet.id)
        self.crawler.stats.inc_value("arshif/discovery/started")
        self._tried: set[str] = set(self.outlet.entry_urls)
        yield self._candidate(home + "robots.txt", self.parse_discovery_robots)
        yield self._candidate(home, self.parse_discovery_home)
        for path in USUAL_PATHS:
            yield from self._try(home.rstrip("/") + path)

    def _candidate(self, url: str, callback: Any) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,  # type: ignore[attr-defined]
            dont_filter=True,
            meta={"arshif_kind": "listing", "arshif_depth": 0, "arshif_discovery": True},
        )

    def _try(self, url: str) -> Iterator[scrapy.Request]:
        if url in self._tried or not on_outlet(self.outlet, url):
            return
        self._tried.add(url)
        self.crawler.stats.inc_value("arshif/discovery/tried")
        yield self._candidate(url, self.parse_candidate)

    def parse_discovery_robots(self, response: Response) -> Iterator[scrapy.Request]:
        text = response.body.decode("utf-8", "replace")
        for url in robots_sitemaps(text, response.url):
            yield from self._try(url)

    def parse_discovery_home(self, response: Response) -> Iterator[scrapy.Request]:
        for url in alternate_feeds(response.body, response.url):
            yield from self._try(url)

    def parse_candidate(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            kind, links = listing_links(response.body)
        except FeedError:
            return
        if not holds_articles(self.outlet, kind, links, response.url):
            return
        self.crawler.stats.inc_value("arshif/discovery/found")
        self.logger.warning(
            "Found %s %s for %s; to configure it, add to outlets.yaml:\n%s",
            "feed" if kind == "feed" else "sitemap", response.url, self.outlet.id,
            "\n".join(yaml_lines([(kind, response.url)])),
        )  # fmt: skip
        session = ArchiveSession.of(self.crawler)
        with session.held(), session.write() as archive:
            remember(archive, self.outlet.id, response.url, kind)
        parse = self.parse_feed if kind == "feed" else self.parse_sitemap  # type: ignore[attr-defined]
        yield from parse(response)
