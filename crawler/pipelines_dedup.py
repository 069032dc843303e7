"""The dedup stage in the crawl: exact copies, near-duplicates and stories, before archiving.

Runs after RecordPipeline (250) built `item.article` and before ArchivePipeline (300) writes
it, so the archive row, index document and export row carry `dup_cluster`, `dup_of` and
`story_id`. The fingerprint was made with the page's work in a worker process
(analysis/page_work.py); here only the index is asked. The index lives in the archive
database, so a copy found in a later crawl (or by another process) joins the cluster of the
first one.
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from analysis.items import PageItem
from crawler.archive_session import ArchiveSession
from crawler.pipelines import guard_storage
from indexer.dedup_pg import dedup_index_for
from indexer.dedup_store import DedupIndex

_STAT = {"near": "near_dup", "exact": "exact_dup"}


class DedupPipeline:
    """Places each article in the persistent dedup index (ARSHIF_DEDUP, on by default;
    ARSHIF_DEDUP_STORIES off leaves out story clustering).
    Stats: `arshif/dedup/new`, `exact_dup`, `near_dup`, `unchanged`, `story_joined`."""

    def __init__(self, crawler: Crawler, stories: bool = True) -> None:
        self.crawler = crawler
        self.stories = stories
        self.session = ArchiveSession.of(crawler)
        self.index: DedupIndex | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARSHIF_DEDUP", True):
            raise NotConfigured("ARSHIF_DEDUP is off")
        return cls(crawler, crawler.settings.getbool("ARSHIF_DEDUP_STORIES", True))

    def open_spider(self) -> None:
        self.index = dedup_index_for(self.session.acquire(), stories=self.stories)

    def close_spider(self) -> None:
        self.session.release()

    @guard_storage
    def process_item(self, item: PageItem) -> PageItem:
        assert self.index is not None and item.article is not None
        with self.session.write():
            result = self.index.place(item.article, item.result.prepared if item.result else None)
        stats = self.crawler.stats
        stats.inc_value(f"arshif/dedup/{_STAT.get(result.kind, result.kind)}")
        if result.kind == "new" and result.story_id != item.article.id:
            stats.inc_value("arshif/dedup/story_joined")
        return item
