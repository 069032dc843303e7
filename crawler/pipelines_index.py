"""Keeps the embedded search index up to date while a crawl archives articles.

With the embedded backend (SQLite FTS5 in the archive's own file), each article's index row
is written right after its archive row, through the same group-committed connection, and
acknowledged in the outbox at once. The row's analysed terms were made in the worker
processes with the rest of the page's work (crawler/page_work.py), so the crawl process only
writes them. Articles can be searched while a long crawl runs, and the crawl ends without a
pass over everything it archived. Elasticsearch is fed in bulk from the outbox when the
crawl ends (crawler/extensions.py, IndexOnClose), which also indexes anything this stage
could not.
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.backend import search_backend
from crawler.items import PageItem
from crawler.pipelines import _ArchiveStage, guard_storage
from indexer.fts import SqliteIndex


class SearchIndexPipeline(_ArchiveStage):
    """Indexes each archived article in the embedded index (only that backend)."""

    index: SqliteIndex | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if search_backend(crawler.settings) != "sqlite":
            raise NotConfigured("the embedded search index is not the crawl's backend")
        return cls(crawler)

    def open_spider(self) -> None:
        self.index = SqliteIndex(self.session.acquire())

    @guard_storage
    def process_item(self, item: PageItem) -> PageItem:
        article = item.article
        assert self.index is not None and article is not None
        made = item.result.search_columns if item.result else None
        with self.session.write() as archive:
            done = self.index.index([article], {article.id: made} if made else None)
            archive.mark_indexed(done, self.index.name)
        return item
