"""The embedded search index is written as articles are archived, from fields the workers
made, and committed (then acknowledged) in groups while the crawl runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from analysis.extract import ExtractOptions
from analysis.items import PageItem
from analysis.page_work import PageWork, process_page
from bench.dedup_eval import originals
from crawler.pipelines import ArchivePipeline
from crawler.pipelines_index import SearchIndexPipeline
from crawler.sample_server import load_manifest, sample_site_dir
from indexer.documents import columns
from indexer.embedded import EmbeddedIndex
from tests.test_pipelines_dedup import item as archived_item


def page(path: str) -> PageItem:
    body = (sample_site_dir() / path.lstrip("/")).read_bytes()
    url = f"http://127.0.0.1:8000{path}"
    return PageItem(url, "sample", 200, body, {}, {}, "2025-09-01T10:00:00+00:00")


def test_worker_rows_equal_rows_made_from_the_record() -> None:
    """A row made in a worker from the terms shared with dedup is the row `arshif index`
    would make from the archived record, lead included when the text lacks it."""
    work = PageWork(ExtractOptions(), topics=None, search=True)
    checked = lead_added = 0
    for entry in load_manifest()["articles"]:
        if entry["kind"] not in ("seed", "arabic"):
            continue
        result = process_page(page(entry["path"]), work)
        article = result.article
        assert article is not None and result.search_columns is not None
        expected = columns(article.title, article.lead, article.text)
        assert result.search_columns == expected, entry["path"]
        checked += 1
        lead_added += expected[1] != columns(article.title, None, article.text)[1]
    assert checked >= 10 and lead_added, "pages whose lead is not in the text are covered"
    assert process_page(page(entry["path"]), PageWork(ExtractOptions())).search_columns is None


def test_archived_articles_are_searchable_before_the_crawl_ends(tmp_path: Path) -> None:
    settings = {"ARSHIF_HOME": str(tmp_path), "ARSHIF_INDEX_ON_CLOSE": True}
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    stages = [ArchivePipeline.from_crawler(crawler), SearchIndexPipeline.from_crawler(crawler)]
    for stage in stages:
        stage.open_spider()
    doc = originals()[0]
    try:
        for stage in stages:
            stage.process_item(archived_item(1, doc.title, doc.text))
        archive = stages[1].session.archive
        assert archive is not None
        stages[1].commit()  # what the timer does every ARSHIF_INDEX_COMMIT_SECONDS
        index = EmbeddedIndex(archive)
        assert index.count("قمة") == 1 and index.count("والقمة") == 1
        assert archive.pending_count() == 0, "acknowledged in the outbox once committed"
        # A changed article is indexed again under the same row: old words gone.
        for stage in stages:
            stage.process_item(archived_item(1, "عنوان آخر", "نص مختلف تماما عن الاقتصاد"))
        stages[1].commit()
        assert index.count("قمة") == 0 and index.count("الاقتصاد") == 1
    finally:
        for stage in stages:
            stage.close_spider()


@pytest.mark.parametrize(
    "settings",
    [{"ARSHIF_BACKEND": "elasticsearch"}, {"ARSHIF_INDEX_ON_CLOSE": False}],
)
def test_only_the_embedded_backend_is_indexed_during_the_crawl(settings: dict) -> None:
    with pytest.raises(NotConfigured):
        SearchIndexPipeline.from_crawler(get_crawler(settings_dict=settings))
