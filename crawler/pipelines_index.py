"""Keeps the embedded search index up to date while a crawl archives articles.

With the embedded backend the crawl process is the index's one writer while it runs: each
archived article is added to the tantivy writer with the analysed fields its worker process
made (analysis/page_work.py), and every ARSHIF_INDEX_COMMIT_ITEMS articles or
ARSHIF_INDEX_COMMIT_SECONDS the archive's group is committed first, then the index, then
the outbox acknowledges what the index commit holds. So the index never holds an article
the archive lost, and a crash before the acknowledgement only re-indexes (by id: no
duplicate). `search`, `serve` and `export` in other processes read each commit as it lands.
If another process holds the writer, articles stay pending for whoever drains next.
Elasticsearch is fed in bulk from the outbox when the crawl ends (crawler/extensions.py,
IndexOnClose), which also indexes anything this stage could not.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path
from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from twisted.internet.task import LoopingCall

from analysis.items import PageItem
from crawler.backend import search_backend
from crawler.pipelines import _ArchiveStage, guard_storage
from indexer.embedded import EmbeddedIndex, IndexBusy, Writer

logger = logging.getLogger(__name__)

# One writer per index and process, shared by the crawls of several outlets at once.
_WRITERS: dict[Path, tuple[Writer, int]] = {}


class SearchIndexPipeline(_ArchiveStage):
    """Indexes each archived article in the embedded index (only that backend)."""

    writer: Writer | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if search_backend(crawler.settings) != "embedded":
            raise NotConfigured("the embedded search index is not the crawl's backend")
        return cls(crawler)

    def open_spider(self) -> None:
        archive = self.session.acquire()
        settings = self.crawler.settings
        self.every = settings.getint("ARSHIF_INDEX_COMMIT_ITEMS", 500)
        self.seconds = settings.getfloat("ARSHIF_INDEX_COMMIT_SECONDS", 5.0)
        self.added = 0
        self.last_commit = time.monotonic()
        index = EmbeddedIndex(archive)
        shared = _WRITERS.get(index.path)
        if shared is None:
            try:
                shared = (index.writer(), 0)
            except IndexBusy:
                logger.warning(
                    "Another process is writing the search index; this crawl's articles stay "
                    "pending until it or `arshif index` drains them"
                )
                return
        self.writer = shared[0]
        _WRITERS[index.path] = (shared[0], shared[1] + 1)
        self.timer = LoopingCall(self.commit_logged)
        self.timer.start(self.seconds, now=False)

    @guard_storage
    def process_item(self, item: PageItem) -> PageItem:
        article = item.article
        assert article is not None
        if self.writer is None:
            return item
        made = item.result.search_columns if item.result else None
        with self.session.write() as archive:
            pk, stamp = archive.db.execute(
                "SELECT pk, updated_at FROM articles WHERE id = ?", (article.id,)
            ).fetchone()
            self.writer.put([(pk, stamp, article)], {article.id: made} if made else None)
        self.added += 1
        if self.added >= self.every or time.monotonic() - self.last_commit >= self.seconds:
            self.commit()
        return item

    def commit(self) -> None:
        """Archive first, then the index, then the acknowledgement (see the module doc)."""
        if self.writer is None:
            return
        self.session.flush()
        self.writer.commit()
        self.added, self.last_commit = 0, time.monotonic()

    def commit_logged(self) -> None:
        """`commit` from the timer, where no caller can handle an error: they stay pending."""
        try:
            self.commit()
        except (OSError, ValueError, sqlite3.Error) as exc:  # tantivy's come as ValueError
            logger.error("Search index commit failed (%s); the articles stay pending", exc)

    def close_spider(self) -> None:
        if self.writer is not None:
            self.timer.stop()
            self.commit_logged()
            path = self.writer.index.path
            writer, holders = _WRITERS.pop(path)
            if holders > 1:
                _WRITERS[path] = (writer, holders - 1)
            else:
                try:
                    writer.close()
                except (OSError, ValueError) as exc:  # a full disk stopped its threads
                    logger.error("Search index writer failed (%s); articles stay pending", exc)
            self.writer = None
        super().close_spider()
