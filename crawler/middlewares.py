"""Downloader middleware that keeps crawls incremental: an article already in the archive is
not fetched again (unless ARSHIF_REFRESH)."""

from __future__ import annotations

from pathlib import Path
from typing import Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured

from arshif.config import archive_path
from arshif.urls import article_id
from indexer.archive import Archive


class SkipArchivedMiddleware:
    def __init__(self, db_path: Path, crawler: Crawler) -> None:
        self.db_path = db_path
        self.crawler = crawler
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("ARSHIF_REFRESH"):
            raise NotConfigured("ARSHIF_REFRESH: archived articles are fetched again")
        mw = cls(archive_path(Path(crawler.settings["ARSHIF_HOME"])), crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def process_request(self, request: Request) -> None:
        if not request.meta.get("arshif_article"):
            return None
        if self.archive is None:
            self.archive = Archive(self.db_path)
        if self.archive.has_url(request.url) or self.archive.has_article(article_id(request.url)):
            self.crawler.stats.inc_value("arshif/skip/archived")
            raise IgnoreRequest(f"already archived: {request.url}")
        return None

    def spider_closed(self) -> None:
        if self.archive is not None:
            self.archive.close()
