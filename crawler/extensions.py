"""Crawl-level extensions: the run record, indexing at the end, and job-folder cleanup."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from arshif.storage import storage_message
from crawler.archive_session import ArchiveSession
from crawler.backend import search_backend
from crawler.jobdir import claim as jobdir_claim
from crawler.jobdir import release as jobdir_release
from crawler.pipelines import STORAGE_STAT
from indexer.archive import Archive, ArchiveError
from indexer.embedded import EmbeddedIndex, IndexBusy

logger = logging.getLogger(__name__)

_ERROR_PREFIXES = ("arshif/error/", "arshif/drop/")
# Requests refused on purpose, counted by the Scrapy middleware that refused them.
_SKIP_KEYS = ("robotstxt/forbidden", "offsite/filtered")


def run_errors(stats: dict) -> dict[str, int]:
    """Errors of one crawl by kind: each failed request once, by its final outcome (the
    spider's errback, after retries), plus pages refused by the pipelines. Scrapy's
    per-attempt counts (downloader/exception_type_count/...) are retries, not errors."""
    errors: dict[str, int] = {}
    for key, value in stats.items():
        for prefix in _ERROR_PREFIXES:
            if key.startswith(prefix):
                kind = key[len(prefix) :]
                errors[kind] = errors.get(kind, 0) + int(value)
    return errors


@contextmanager
def _storage_logged(consequence: str, home: Path) -> Iterator[None]:
    """A full or read-only data folder, met when the crawl ends, is one clear log line."""
    try:
        yield
    except (OSError, sqlite3.Error, ArchiveError) as exc:
        message = storage_message(exc, home)
        if message is None:
            raise
        logger.error("%s; %s", message, consequence)


PIPELINE_ERROR = "arshif/error/pipeline_exception"


class CrawlRunRecorder:
    """Records each crawl in the archive's crawl_runs table: pages, new, skipped, errors."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(ext.item_error, signal=signals.item_error)
        return ext

    def item_error(self) -> None:
        """A page lost to an unexpected error in a pipeline: Scrapy only logs it, so it
        is counted here, or the run would look clean."""
        self.crawler.stats.inc_value(PIPELINE_ERROR)

    def spider_opened(self, spider: Spider) -> None:
        session = ArchiveSession.of(self.crawler)
        with session.held(), session.write() as archive:
            self.run_id = archive.start_run(
                spider.outlet.id,  # type: ignore[attr-defined]
                **self.crawler.settings.getdict("ARSHIF_RUN_INFO"),
            )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        skipped = sum(v for k, v in stats.items() if k.startswith(("arshif/skip/", "arshif/drop/")))
        skipped += sum(stats.get(k, 0) for k in _SKIP_KEYS)
        # Pages of articles already archived: not fetched again, fetched under another URL,
        # or found to be near-duplicates of another article.
        duplicates = stats.get("arshif/skip/archived", 0) + stats.get("arshif/archived/updated", 0)
        duplicates += stats.get("arshif/dedup/exact_dup", 0) + stats.get("arshif/dedup/near_dup", 0)
        session = ArchiveSession.of(self.crawler)
        with _storage_logged("the crawl run is not recorded as ended", session.db_path.parent):
            self._finish(session, stats, reason, skipped, duplicates)

    def _finish(
        self, session: ArchiveSession, stats: dict, reason: str, skipped: int, duplicates: int
    ) -> None:
        assert self.run_id is not None
        with session.held(), session.write() as archive:
            archive.finish_run(
                self.run_id,
                status=reason,
                pages=int(stats.get("downloader/response_count", 0)),
                new_articles=int(stats.get("arshif/archived/new", 0)),
                skipped=int(skipped),
                errors=run_errors(stats),
                # Attempts Scrapy repeated (5xx, 429, timeouts, dropped connections).
                info={"duplicates": int(duplicates), "retries": int(stats.get("retry/count", 0))},
            )


class IndexOnClose:
    """Drains the archive's outbox into the search index when a crawl ends: the embedded
    one, or Elasticsearch when configured. An Elasticsearch that cannot be reached leaves
    the articles pending (they are archived already) for a later `arshif index`."""

    def __init__(self, session: ArchiveSession, backend: str) -> None:
        self.session = session
        self.backend = backend

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        backend = search_backend(crawler.settings)
        if backend is None:
            raise NotConfigured("ARSHIF_INDEX_ON_CLOSE is off")
        ext = cls(ArchiveSession.of(crawler), backend)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider) -> None:
        if spider.crawler.stats.get_value(STORAGE_STAT):
            logger.warning("Not indexing: the data folder cannot be written; articles stay pending")
            return
        with _storage_logged("articles stay pending", self.session.db_path.parent):
            self._drain(spider)

    def _drain(self, spider: Spider) -> None:
        with self.session.held() as archive:
            if self.backend == "embedded":
                try:
                    count = EmbeddedIndex(archive).drain(archive)
                except IndexBusy as exc:
                    logger.warning("%s; articles stay pending for it", exc)
                    return
                logger.info("Indexed %d pending articles into the embedded search index", count)
                return
            self._drain_elastic(archive)

    def _drain_elastic(self, archive: Archive) -> None:
        from indexer.es import ElasticIndex, ESConfig, ESError

        try:
            config = ESConfig.from_env()
        except ESError as exc:
            logger.warning("%s (%d articles pending)", exc, archive.pending_count())
            return
        if config is None:
            logger.warning("ARSHIF_BACKEND is elasticsearch but ARSHIF_ES_URL is not set")
            return
        index = ElasticIndex(config)
        try:
            report = index.drain(archive)
        except ESError as exc:
            logger.warning("%s (%d articles pending)", exc, archive.pending_count())
            return
        finally:
            index.client.close()
        logger.info("Indexed %d pending articles into Elasticsearch", report.indexed)
        for article_id, reason in report.failed.items():
            logger.warning("Not indexed, stays pending: %s: %s", article_id, reason)


class JobDirCleanup:
    """Keeps the crawl's JOBDIR trustworthy (crawler/jobdir.py): claimed before the engine
    opens the scheduler's queues; removed after a finished crawl, so the next one starts
    afresh; kept after a graceful stop, to resume from."""

    def __init__(self, jobdir: Path) -> None:
        self.jobdir = jobdir

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured
        ext = cls(Path(jobdir))
        jobdir_claim(ext.jobdir)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        jobdir_release(self.jobdir, finished=reason == "finished")
        if reason != "finished":
            logger.info("Crawl stopped (%s); it resumes from %s next time", reason, self.jobdir)
