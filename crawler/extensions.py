"""Crawl-level extensions: the run record, indexing at the end, and job-folder cleanup."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Self

from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from arshif.config import archive_path
from indexer.archive import Archive
from indexer.fts import SqliteIndex

logger = logging.getLogger(__name__)

_ERROR_PREFIXES = (
    "downloader/exception_type_count/",
    "httperror/response_ignored_status_count/",
    "arshif/error/",
    "arshif/drop/",
)


def run_errors(stats: dict) -> dict[str, int]:
    """Errors of one crawl by kind, from Scrapy's and Arshif's stats keys."""
    errors: dict[str, int] = {}
    for key, value in stats.items():
        for prefix in _ERROR_PREFIXES:
            if key.startswith(prefix):
                kind = key[len(prefix) :].rsplit(".", 1)[-1]
                if kind == "IgnoreRequest":  # skipped on purpose (archived, robots.txt)
                    continue
                if prefix.startswith("httperror"):
                    kind = f"http_{kind}"
                errors[kind] = errors.get(kind, 0) + int(value)
    return errors


class CrawlRunRecorder:
    """Records each crawl in the archive's crawl_runs table: pages, new, skipped, errors."""

    def __init__(self, crawler: Crawler, db_path: Path) -> None:
        self.crawler = crawler
        self.db_path = db_path
        self.run_id: int | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler, archive_path(Path(crawler.settings["ARSHIF_HOME"])))
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        with Archive(self.db_path) as archive:
            self.run_id = archive.start_run(
                spider.outlet.id,  # type: ignore[attr-defined]
                **self.crawler.settings.getdict("ARSHIF_RUN_INFO"),
            )

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.run_id is None:
            return
        stats = self.crawler.stats.get_stats()
        skipped = sum(v for k, v in stats.items() if k.startswith(("arshif/skip/", "arshif/drop/")))
        # Pages of articles already archived: not fetched again, fetched under another URL,
        # or found to be near-duplicates of another article.
        duplicates = stats.get("arshif/skip/archived", 0) + stats.get("arshif/archived/updated", 0)
        duplicates += stats.get("arshif/dedup/exact_dup", 0) + stats.get("arshif/dedup/near_dup", 0)
        with Archive(self.db_path) as archive:
            archive.finish_run(
                self.run_id,
                status=reason,
                pages=int(stats.get("downloader/response_count", 0)),
                new_articles=int(stats.get("arshif/archived/new", 0)),
                skipped=int(skipped),
                errors=run_errors(stats),
                info={"duplicates": int(duplicates)},
            )


class IndexOnClose:
    """Drains the archive's outbox into the search index when a crawl ends: the embedded
    one, or Elasticsearch when configured. An Elasticsearch that cannot be reached leaves
    the articles pending (they are archived already) for a later `arshif index`."""

    def __init__(self, db_path: Path, backend: str) -> None:
        self.db_path = db_path
        self.backend = backend

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARSHIF_INDEX_ON_CLOSE"):
            raise NotConfigured
        backend = crawler.settings.get("ARSHIF_BACKEND") or (
            "elasticsearch" if os.environ.get("ARSHIF_ES_URL") else "sqlite"
        )
        if backend not in ("sqlite", "elasticsearch"):
            raise NotConfigured(f"unknown ARSHIF_BACKEND {backend!r}")
        ext = cls(archive_path(Path(crawler.settings["ARSHIF_HOME"])), backend)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider) -> None:
        with Archive(self.db_path) as archive:
            if self.backend == "sqlite":
                count = SqliteIndex(archive).drain(archive)
                logger.info("Indexed %d pending articles into the embedded search index", count)
                return
            self._drain_elastic(archive)

    def _drain_elastic(self, archive: Archive) -> None:
        from indexer.es import ElasticIndex, ESConfig, ESError

        config = ESConfig.from_env()
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
    """Removes the crawl's JOBDIR after a finished crawl, so the next one starts afresh;
    an interrupted crawl keeps it and resumes from it."""

    def __init__(self, jobdir: Path) -> None:
        self.jobdir = jobdir

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        jobdir = crawler.settings.get("JOBDIR")
        if not jobdir:
            raise NotConfigured
        ext = cls(Path(jobdir))
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if reason == "finished":
            shutil.rmtree(self.jobdir, ignore_errors=True)
        else:
            logger.info("Crawl stopped (%s); it resumes from %s next time", reason, self.jobdir)
