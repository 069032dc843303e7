"""A duplicate filter that never persists to JOBDIR.

Scrapy's default filter writes every seen request to the job folder; a request that was
in flight when a crawl stopped would then be 'seen' forever and its article lost. Here the
archive is the memory of what was fetched, and the filter only stops repeats within a run.
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter


class MemoryDupeFilter(RFPDupeFilter):
    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            None,
            debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )
