"""Downloader middleware that keeps crawls incremental: an article already in the archive is
not fetched again (unless ARSHIF_REFRESH)."""

from __future__ import annotations

from typing import Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from arshif.urls import article_id
from crawler.archive_session import ArchiveSession
from indexer.archive import Archive


class SkipArchivedMiddleware:
    """Reads through the crawl's archive session, so it also sees the writes of the group
    not yet committed."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session = ArchiveSession.of(crawler)
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("ARSHIF_REFRESH"):
            raise NotConfigured("ARSHIF_REFRESH: archived articles are fetched again")
        mw = cls(crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_request(self, request: Request) -> None:
        if not request.meta.get("arshif_article"):
            return None
        if self.archive is None:
            self.archive = self.session.acquire()
        if self.archive.has_url(request.url) or self.archive.has_article(article_id(request.url)):
            self.crawler.stats.inc_value("arshif/skip/archived")
            raise IgnoreRequest(f"already archived: {request.url}")
        return None

    def spider_closed(self) -> None:
        if self.archive is not None:
            self.session.release()
            self.archive = None
