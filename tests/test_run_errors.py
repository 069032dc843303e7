"""Errors of a crawl run, by kind: a page lost to a pipeline's unexpected error counts."""

from __future__ import annotations

from scrapy import signals
from scrapy.utils.test import get_crawler

from crawler.extensions import CrawlRunRecorder, run_errors


def test_a_page_lost_in_a_pipeline_is_an_error() -> None:
    crawler = get_crawler(settings_dict={})
    crawler.stats.open_spider()
    recorder = CrawlRunRecorder.from_crawler(crawler)  # signals hold only weak references
    for _ in range(2):
        crawler.signals.send_catch_log(
            signals.item_error, item=None, response=None, spider=None, failure=None
        )
    assert run_errors(crawler.stats.get_stats()) == {"pipeline_exception": 2}, recorder
