"""Item pipelines: they only wire the stages (WARC, extraction, archive) into Scrapy.

Order: the raw page is written to WARC first, so that even a page that fails extraction
is kept and can be re-extracted later; then extraction runs in worker processes (it is
the one real CPU cost, and a crawl should use every core); then the archive row is
written. Every refused page raises DropItem with its reason, so stats explain each loss.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Self

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from arshif.config import archive_path, warc_dir
from crawler.extract import ExtractionError, ExtractOptions, extract_article
from crawler.items import PageItem
from crawler.records import build_article
from crawler.warc import WarcStore
from indexer.archive import Archive

logger = logging.getLogger(__name__)


def _home(crawler: Crawler) -> Path:
    return Path(crawler.settings["ARSHIF_HOME"])


class WarcPipeline:
    """Writes every fetched article page to the raw WARC archive."""

    def __init__(self, store: WarcStore) -> None:
        self.store = store

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            WarcStore(warc_dir(_home(crawler)), crawler.settings.getint("ARSHIF_WARC_MAX_BYTES"))
        )

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
    """Runs extraction in a pool of worker processes (ARSHIF_EXTRACT_WORKERS, 0 = cores)."""

    def __init__(self, crawler: Crawler, workers: int) -> None:
        self.crawler = crawler
        self.workers = workers
        self.pool: Executor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        workers = crawler.settings.getint("ARSHIF_EXTRACT_WORKERS") or os.cpu_count() or 1
        return cls(crawler, workers)

    def open_spider(self) -> None:
        if self.workers > 1:
            # spawn: forking a process that runs Twisted's threads is not safe.
            context = multiprocessing.get_context("spawn")
            self.pool = ProcessPoolExecutor(self.workers, mp_context=context)

    async def process_item(self, item: PageItem) -> PageItem:
        outlet = self.crawler.spider.outlet  # type: ignore[union-attr]
        options = ExtractOptions(drop_selectors=outlet.drop_selectors, founded=outlet.founded)
        try:
            if self.pool is None:
                item.fields = extract_article(
                    item.body, item.url, header_encoding=item.header_encoding, options=options
                )
            else:
                loop = asyncio.get_running_loop()
                item.fields = await loop.run_in_executor(
                    self.pool,
                    _extract_in_worker,
                    item.body,
                    item.url,
                    item.header_encoding,
                    options,
                )
        except ExtractionError as exc:
            item.fields = {"skip_reason": exc.reason}
        return item

    def close_spider(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _extract_in_worker(
    body: bytes, url: str, header_encoding: str | None, options: ExtractOptions
) -> dict[str, Any]:
    return extract_article(body, url, header_encoding=header_encoding, options=options)


class _ArchiveStage:
    """A pipeline stage with its own connection to the archive, open while the spider runs."""

    def __init__(self, crawler: Crawler, db_path: Path) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.archive: Archive | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler, archive_path(_home(crawler)))

    def open_spider(self) -> None:
        self.archive = Archive(self.db_path)

    def close_spider(self) -> None:
        if self.archive is not None:
            self.archive.close()


class RecordPipeline(_ArchiveStage):
    """Turns extracted fields into the archive record (`item.article`), or drops the page
    with its reason, recording it as seen so the next crawl does not fetch it again."""

    def process_item(self, item: PageItem) -> PageItem:
        assert self.archive is not None
        reason = item.fields.get("skip_reason")
        if reason:
            self.archive.mark_seen(item.url, None, f"skipped:{reason}")
            self.crawler.stats.inc_value(f"arshif/drop/extract/{_reason_key(reason)}")
            logger.warning("Skipped %s: %s (raw page kept in %s)", item.url, reason, item.warc_file)
            raise DropItem(f"{item.url}: {reason}")
        item.article = build_article(
            item.fields,
            url=item.url,
            outlet=item.outlet,
            fetched_at=item.fetched_at,
            status=item.status,
            warc_file=item.warc_file,
            warc_offset=item.warc_offset,
            domains=self.crawler.spider.allowed_domains or (),  # type: ignore[union-attr]
        )
        return item


class ArchivePipeline(_ArchiveStage):
    """Writes the article row, idempotent by id; the outbox then feeds the search index."""

    def process_item(self, item: PageItem) -> PageItem:
        assert self.archive is not None and item.article is not None
        is_new = self.archive.upsert(item.article)  # also records both URLs as archived
        self.crawler.stats.inc_value("arshif/archived/new" if is_new else "arshif/archived/updated")
        return item
