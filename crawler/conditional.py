"""Conditional GET of feeds and sitemaps: each listing is asked for with the `ETag` and
`Last-Modified` it had at the end of the last finished crawl, so an unchanged listing costs
a 304 (no body, nothing parsed, no article requests) and is counted as a success
(`arshif/listing/not_modified`), not an error.

Validators are saved only when a crawl finishes: a crawl stopped half-way must not make the
next one skip a listing whose articles it never fetched.
"""

from __future__ import annotations

from typing import Self

from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response

from crawler.archive_session import ArchiveSession
from indexer.archive_base import ArchiveStore

NOT_MODIFIED = "arshif/listing/not_modified"


def load_validators(archive: ArchiveStore) -> dict[str, tuple[str | None, str | None]]:
    """The validators of the last finished crawl (in the archive, either backend)."""
    return archive.listing_validators()


def save_validators(archive: ArchiveStore, fresh: dict[str, tuple[str | None, str | None]]) -> None:
    archive.save_listing_validators(fresh)


class ConditionalListingMiddleware:
    """Downloader middleware for listing requests (`meta["arshif_kind"] == "listing"`)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session = ArchiveSession.of(crawler)
        self.known: dict[str, tuple[str | None, str | None]] = {}
        self.fresh: dict[str, tuple[str | None, str | None]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("ARSHIF_REFRESH"):
            raise NotConfigured("ARSHIF_REFRESH: every listing is fetched and read again")
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_opened(self, spider: Spider) -> None:
        with self.session.held() as archive:
            self.known = load_validators(archive)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason != "finished" or not self.fresh:
            return
        with self.session.held(), self.session.write() as archive:
            save_validators(archive, self.fresh)

    def process_request(self, request: Request) -> None:
        if request.meta.get("arshif_kind") != "listing" or request.method != "GET":
            return
        etag, modified = self.known.get(request.url, (None, None))
        if etag:
            request.headers.setdefault("If-None-Match", etag)
        if modified:
            request.headers.setdefault("If-Modified-Since", modified)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("arshif_kind") != "listing":
            return response
        if response.status == 304:
            self.crawler.stats.inc_value(NOT_MODIFIED)
            self.fresh[request.url] = self.known.get(request.url, (None, None))
            raise IgnoreRequest(f"{request.url} not modified since the last crawl")
        if response.status == 200:
            etag = response.headers.get("ETag")
            modified = response.headers.get("Last-Modified")
            if etag or modified:
                self.fresh[request.url] = (
                    etag.decode("latin-1") if etag else None,
                    modified.decode("latin-1") if modified else None,
                )
        return response
