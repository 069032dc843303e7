"""DedupPipeline: places each article before it is archived, with stats; can be turned off."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from analysis.items import PageItem
from arshif.config import archive_path
from arshif.record import Article
from bench.dedup_eval import originals
from crawler.pipelines_dedup import DedupPipeline
from indexer.archive import Archive
from indexer.dedup_store import DedupIndex


def item(n: int, title: str, text: str) -> PageItem:
    url = f"https://x.example/{n}"
    page = PageItem(url, "x", 200, b"", {}, {}, "2022-09-15T10:00:00+00:00")
    page.article = Article(id=f"a{n}", url=url, canonical_url=url, outlet="x")
    page.article.title, page.article.text = title, text
    return page


def test_pipeline_sets_clusters_and_counts(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"ARSHIF_HOME": str(tmp_path)})
    crawler.stats.open_spider()
    pipeline = DedupPipeline.from_crawler(crawler)
    pipeline.open_spider()
    doc = originals()[0]
    try:
        first = pipeline.process_item(item(1, doc.title, doc.text)).article
        copy = pipeline.process_item(item(2, "عنوان", "عمان - " + doc.text[:-200])).article
        again = pipeline.process_item(item(1, doc.title, doc.text)).article
    finally:
        pipeline.close_spider()
    assert (first.dup_cluster, first.dup_of, first.story_id) == ("a1", None, "a1")
    assert first.content_hash
    assert (copy.dup_cluster, copy.dup_of, copy.story_id) == ("a1", "a1", "a1")
    assert again.dup_cluster == "a1"
    stats = crawler.stats.get_stats()
    assert stats["arshif/dedup/new"] == 1
    assert stats["arshif/dedup/near_dup"] == 1
    assert stats["arshif/dedup/unchanged"] == 1
    with Archive(archive_path(tmp_path)) as archive:  # kept in the archive for later crawls
        assert DedupIndex.for_archive(archive).assignment("a2").dup_of == "a1"


def test_pipeline_can_be_turned_off() -> None:
    with pytest.raises(NotConfigured):
        DedupPipeline.from_crawler(get_crawler(settings_dict={"ARSHIF_DEDUP": False}))
