"""Item pipelines: they only wire the stages (WARC, extraction, archive) into Scrapy.

Order: the raw page is written to WARC first, so that even a page that fails extraction
is kept and can be re-extracted later; then the page's own work (extraction, record,
topic tags, dedup fingerprint, search-index row) runs in worker processes (it is the one
real CPU cost, and a crawl should use every core); then the archive row is written through
one shared, group-committed connection (crawler/archive_session.py). Every refused page
raises DropItem with its reason, so stats explain each loss.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import sqlite3
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from analysis.extract import ExtractOptions
from analysis.items import PageItem
from analysis.page_work import PageResult, PageWork, process_page, warm_up
from arshif.config import warc_dir
from arshif.dedup import DedupParams
from arshif.storage import storage_message
from crawler.archive_session import ArchiveSession
from crawler.backend import search_backend
from crawler.warc import WarcStore
from crawler.warc_objects import WarcBucket, recover
from crawler.workers import worker_context, worker_count
from indexer.dedup_pg import dedup_index_for

logger = logging.getLogger(__name__)


def _home(crawler: Crawler) -> Path:
    return Path(crawler.settings["ARSHIF_HOME"])


STORAGE_STAT = "arshif/storage_error"  # the message, when the data folder stopped the crawl


def guard_storage(
    method: Callable[[Any, PageItem], PageItem],
) -> Callable[[Any, PageItem], PageItem]:
    """For a pipeline's process_item: when the data folder cannot take a write (disk full,
    read-only), stop the crawl once with a clear message (kept in the stats for `arshif
    crawl` to print) and drop the page; nothing half-written is marked archived."""

    @functools.wraps(method)
    def process_item(self: Any, item: PageItem) -> PageItem:
        try:
            return method(self, item)
        except (OSError, sqlite3.Error) as exc:
            crawler: Crawler = self.crawler
            message = storage_message(exc, _home(crawler))
            if message is None:
                raise
            if not crawler.stats.get_value(STORAGE_STAT):
                crawler.stats.set_value(STORAGE_STAT, message)
                logger.error("Stopping the crawl: %s", message)
                assert crawler.engine is not None
                deferred_from_coro(crawler.engine.close_spider_async(reason="storage_error"))
            raise DropItem(f"{item.url}: not archived, the data folder cannot be written") from None

    return process_item


class WarcPipeline:
    """Writes every fetched article page to the raw WARC archive."""

    def __init__(self, store: WarcStore, crawler: Crawler | None = None) -> None:
        self.store = store
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        folder, bucket = warc_dir(_home(crawler)), WarcBucket.from_env()
        max_bytes = crawler.settings.getint("ARSHIF_WARC_MAX_BYTES")
        return cls(WarcStore(folder, max_bytes, bucket=bucket), crawler)

    def open_spider(self) -> None:
        if self.store.bucket is not None:  # files a killed crawl left here go up first
            recover(self.store.folder, self.store.bucket)

    @guard_storage
    def process_item(self, item: PageItem) -> PageItem:
        item.warc_file, item.warc_offset = self.store.write(
            item.url, item.status, item.headers, item.body, item.request_headers, item.outlet
        )
        return item

    def close_spider(self) -> None:
        self.store.close()


def _reason_key(reason: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", reason.split("(")[0].lower()).strip("_") or "unknown"


class ExtractPipeline:
    """Runs each page's work (analysis/page_work.py: extraction, record, topics, dedup
    fingerprint) in a pool of worker processes (ARSHIF_EXTRACT_WORKERS, 0 = cores)."""

    def __init__(self, crawler: Crawler, workers: int) -> None:
        self.crawler = crawler
        self.workers = workers
        self.pool: Executor | None = None
        self.dedup: DedupParams | None = None
        self._work: PageWork | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, worker_count(crawler.settings.getint("ARSHIF_EXTRACT_WORKERS")))

    def open_spider(self) -> None:
        settings = self.crawler.settings
        if settings.getbool("ARSHIF_DEDUP", True):
            # The fingerprint settings are the archive's own, fixed when it was made.
            with ArchiveSession.of(self.crawler).held() as archive:
                self.dedup = dedup_index_for(archive).params
        if self.workers > 1:
            self.pool = ProcessPoolExecutor(self.workers, mp_context=worker_context())
        else:
            warm_up()  # as the workers' fork server does: not on the first pages' budget

    def work(self) -> PageWork:
        """The crawl's page work, made once the spider (and so the outlet) is known."""
        if self._work is None:
            spider = self.crawler.spider
            outlet = spider.outlet  # type: ignore[union-attr]
            settings = self.crawler.settings
            tagging = settings.getbool("ARSHIF_TOPICS_ENABLED", True)
            self._work = PageWork(
                ExtractOptions.for_outlet(outlet),
                domains=tuple(spider.allowed_domains or ()),  # type: ignore[union-attr]
                topics=(settings.get("ARSHIF_TOPICS") or "") if tagging else None,
                dedup=self.dedup,
                stories=settings.getbool("ARSHIF_DEDUP_STORIES", True),
                search=search_backend(settings) == "embedded",
                budget=settings.getfloat("ARSHIF_EXTRACT_TIMEOUT"),
            )
        return self._work

    async def process_item(self, item: PageItem) -> PageItem:
        if self.pool is None:
            item.result = process_page(item, self.work())
        else:
            item.result = await self._in_pool(item)
        return item

    async def _in_pool(self, item: PageItem) -> PageResult:
        """The page's work in a worker. A worker that dies (killed for memory, a crash in
        a library's C code) breaks the whole pool: a new one takes over and the pages that
        were in the broken one are tried once more, so one bad page or one lost process
        does not fail every page after it."""
        loop = asyncio.get_running_loop()
        for _ in range(2):
            pool = self.pool
            assert pool is not None
            try:
                return await loop.run_in_executor(pool, process_page, item, self.work())
            except BrokenProcessPool:
                if pool is self.pool:  # the first page to see it replaces the pool
                    logger.warning("An extraction worker died; starting new workers")
                    self.crawler.stats.inc_value("arshif/workers_restarted")
                    pool.shutdown(wait=False, cancel_futures=True)
                    self.pool = ProcessPoolExecutor(self.workers, mp_context=worker_context())
        return PageResult(None, "worker died (twice while working on this page)")

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _ArchiveStage:
    """A pipeline stage writing through the crawl's shared archive session."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.session = ArchiveSession.of(crawler)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        self.session.acquire()

    def close_spider(self) -> None:
        self.session.release()


class RecordPipeline(_ArchiveStage):
    """Takes the page's archive record (`item.article`), or drops the page with its reason,
    recording it as seen so the next crawl does not fetch it again."""

    @guard_storage
    def process_item(self, item: PageItem) -> PageItem:
        result = item.result
        assert result is not None
        if result.article is None:
            reason = result.skip_reason or "no article"
            with self.session.write() as archive:
                archive.mark_seen(item.url, None, f"skipped:{reason}")
            self.crawler.stats.inc_value(f"arshif/drop/extract/{_reason_key(reason)}")
            logger.warning("Skipped %s: %s (raw page kept in %s)", item.url, reason, item.warc_file)
            raise DropItem(f"{item.url}: {reason}")
        item.article = result.article
        return item


class ArchivePipeline(_ArchiveStage):
    """Writes the article row, idempotent by id; the outbox then feeds the search index."""

    @guard_storage
    def process_item(self, item: PageItem) -> PageItem:
        assert item.article is not None
        with self.session.write() as archive:
            is_new = archive.upsert(item.article)  # also records both URLs as archived
        self.crawler.stats.inc_value("arshif/archived/new" if is_new else "arshif/archived/updated")
        return item
