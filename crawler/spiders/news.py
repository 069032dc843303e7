"""The one generic news spider: an outlet's feeds, sitemaps and start pages lead to articles.

Everything outlet-specific comes from the outlet file, so adding an outlet is a YAML entry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.crawler import Crawler
from scrapy.http import HtmlResponse, Response
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure
from w3lib.encoding import http_content_type_encoding
from w3lib.url import canonicalize_url

from analysis.items import PageItem
from crawler.address_guard import GuardedResolver, configured_endpoints
from crawler.date_range import DateRange
from crawler.failures import failure_kind
from crawler.feeds import FeedError, feed_entries, iter_sitemap_entries
from crawler.outlets import Outlet, OutletConfigError, load_outlets
from crawler.spiders.discovering import DiscoveringSpider


def _headers(headers: Any) -> dict[str, str]:
    return {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in headers.items() if v}


class NewsSpider(DiscoveringSpider):
    """Crawl one outlet: `scrapy crawl news -a outlet=ID [-a base_url=URL]`."""

    name = "news"

    def __init__(
        self,
        outlet: str | None = None,
        base_url: str | None = None,
        since: str | None = None,
        until: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not outlet:
            raise ValueError("which outlet? pass -a outlet=ID (see `arshif outlets list`)")
        self.outlet_id = outlet
        self.base_url = base_url
        # `-a since=YYYY-MM-DD -a until=...`: only listings and articles of those dates.
        self.dates = DateRange.parse(since, until)
        self.outlet: Outlet
        self._sitemaps_seen: set[str] = set()  # canonical URLs of the sitemaps asked for

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        outlets = load_outlets(crawler.settings.get("ARSHIF_OUTLETS") or None)
        if spider.outlet_id not in outlets:
            known = ", ".join(sorted(outlets)) or "none"
            raise OutletConfigError(f"unknown outlet '{spider.outlet_id}' (known: {known})")
        outlet = outlets[spider.outlet_id]
        spider.outlet = outlet.with_base_url(spider.base_url) if spider.base_url else outlet
        spider.allowed_domains = list(spider.outlet.domains)
        spider._links = LinkExtractor(unique=True)
        # The names its configuration gives may resolve to private addresses.
        GuardedResolver.allow_names(host for host, _ in configured_endpoints(spider.outlet))
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        # Listing URLs are fetched on every crawl; only article URLs are deduplicated.
        for request in self.remembered_listings():  # found by an earlier crawl's discovery
            yield request
        if not self.outlet.entry_urls:
            for request in self.discover("no feed, sitemap or start page is configured"):
                yield request
        for url in self.outlet.feeds:
            yield self._listing(self.outlet.url(url), self.parse_feed)
        for url in self.outlet.sitemaps:
            self._sitemaps_seen.add(canonicalize_url(self.outlet.url(url)))
            yield self._listing(self.outlet.url(url), self.parse_sitemap)
        for url in self.outlet.start_pages:
            yield self._listing(self.outlet.url(url), self.parse_listing, depth=0)

    def _listing(self, url: str, callback: Any, depth: int = 0) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.failed,
            dont_filter=True,
            meta={"arshif_kind": "listing", "arshif_depth": depth},
        )

    def article(self, url: str) -> scrapy.Request:
        """A request for one article page; the archive decides whether it is fetched again."""
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.failed,
            meta={"arshif_kind": "article", "arshif_article": True},
            priority=10,
        )

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            entries = list(feed_entries(response.body))
        except FeedError as exc:
            self._count("error/feed")
            self.logger.warning("Feed %s unreadable: %s", response.url, exc)
            yield from self.discover(f"Feed {response.url} is not a feed")
            return
        if not entries:
            yield from self.discover(f"Feed {response.url} holds no links")
        self.crawler.stats.inc_value("arshif/links/feed", len(entries))
        for link, published in entries:
            url = response.urljoin(link)
            if self.dates is None or self._in_range(self.dates.admits_entry(url, published)):
                yield self.article(url)

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        dates = self.dates
        try:  # streamed: a sitemap of millions of entries never sits in memory as a list
            kind, entries = iter_sitemap_entries(response.body)
            for loc, lastmod, published in entries:
                self.crawler.stats.inc_value("arshif/links/sitemap")
                url = response.urljoin(loc)
                if kind == "sitemapindex":
                    if dates is None or self._in_range(dates.admits_sitemap(url, lastmod)):
                        child = self._sitemap_child(response, url)
                        if child is not None:
                            yield child
                elif dates is None or self._in_range(dates.admits_entry(url, published, lastmod)):
                    yield self.article(url)
        except FeedError as exc:
            self._count("error/sitemap")
            self.logger.warning("Sitemap %s unreadable: %s", response.url, exc)
            yield from self.discover(f"Sitemap {response.url} is not a sitemap")

    def _sitemap_child(self, index: Response, url: str) -> scrapy.Request | None:
        """The request for a sitemap a sitemap index lists, unless this crawl asked for it
        already (an index that lists itself, or two that list each other) or it lies
        deeper than ARSHIF_SITEMAP_DEPTH indexes below a configured sitemap. Listings are
        requested with dont_filter, so Scrapy's own duplicate filter would not stop them."""
        key = canonicalize_url(url)
        if key in self._sitemaps_seen:
            self._count("skip/sitemap_seen")
            return None
        depth = index.meta.get("arshif_depth", 0) + 1
        if depth > self.crawler.settings.getint("ARSHIF_SITEMAP_DEPTH"):
            self._count("skip/sitemap_depth")
            self.logger.warning("Not following %s: sitemap indexes nested too deep", url)
            return None
        self._sitemaps_seen.add(key)
        return self._listing(url, self.parse_sitemap, depth=depth)

    def parse_listing(self, response: Response) -> Iterator[scrapy.Request]:
        if not isinstance(response, HtmlResponse):
            return
        depth = response.meta.get("arshif_depth", 0)
        for link in self._links.extract_links(response):
            if not self._on_outlet(link.url):
                continue
            if self.outlet.is_article_url(link.url):
                self.crawler.stats.inc_value("arshif/links/page")
                if self.dates is None or self._in_range(self.dates.admits_entry(link.url, None)):
                    yield self.article(link.url)
            elif depth < self.outlet.follow_depth:
                yield self._listing(link.url, self.parse_listing, depth=depth + 1).replace(
                    dont_filter=False
                )

    def _on_outlet(self, url: str) -> bool:
        """Whether a link stays on the outlet's domains (by host name, whatever the port)."""
        host = urlsplit(url).hostname or ""
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)

    def parse_article(self, response: Response) -> Iterator[PageItem]:
        if not isinstance(response, HtmlResponse):
            self._count("skip/not_html")
            self.logger.info("Skipped %s: not an HTML page", response.url)
            return
        yield PageItem(
            url=response.url,
            outlet=self.outlet.id,
            status=response.status,
            body=response.body,
            headers=_headers(response.headers),
            request_headers=_headers(response.request.headers),
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
            header_encoding=http_content_type_encoding(
                response.headers.get("Content-Type", b"").decode("latin-1")
            ),
        )

    def failed(self, failure: Failure) -> Iterator[scrapy.Request]:
        """Log a failed request once, with its kind, and count it for the crawl run.

        Called once per request after Scrapy's retries, so a URL counts once, by its final
        outcome. Requests refused on purpose (robots.txt, already archived, off the outlet's
        domains) are not failures: they are counted as skips by whoever refused them."""
        request = failure.request  # type: ignore[attr-defined]
        kind = failure_kind(failure, request, self.crawler.settings.getint("REDIRECT_MAX_TIMES"))
        if kind is None or request.meta.get("arshif_discovery"):  # a skip, or a guess
            self.logger.debug("Not fetched %s: %s", request.url, failure.getErrorMessage())
            return
        self._count(f"error/{kind}")
        self.logger.warning("Failed %s: %s", request.url, failure.getErrorMessage() or kind)
        if request.meta.get("arshif_kind") == "listing":
            yield from self.discover(f"Listing {request.url} failed ({kind})")

    def _in_range(self, admitted: bool) -> bool:
        """Count what a date range leaves out (`arshif/skip/out_of_range`)."""
        if not admitted:
            self._count("skip/out_of_range")
        return admitted

    def _count(self, key: str) -> None:
        self.crawler.stats.inc_value(f"arshif/{key}")
