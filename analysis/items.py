"""The item that travels through the pipelines: one fetched article page."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from arshif.record import Article

if TYPE_CHECKING:
    from analysis.page_work import PageResult


@dataclass
class PageItem:
    """A fetched page and, once the pipelines ran, its WARC place and extracted fields."""

    url: str
    outlet: str
    status: int
    body: bytes
    headers: dict[str, str]
    request_headers: dict[str, str]
    fetched_at: str
    header_encoding: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    result: PageResult | None = None  # what the page's extraction work gave
    article: Article | None = None  # the record, once RecordPipeline took it

    def __repr__(self) -> str:  # keep page bodies out of Scrapy's logs
        return f"PageItem({self.url!r}, status={self.status}, {len(self.body)} bytes)"
