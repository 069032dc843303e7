"""The item that travels through the pipelines: one fetched article page."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from arshif.record import Article


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
    fields: dict[str, Any] = field(default_factory=dict)
    article: Article | None = None  # the record, once RecordPipeline built it

    def __repr__(self) -> str:  # keep page bodies out of Scrapy's logs
        return f"PageItem({self.url!r}, status={self.status}, {len(self.body)} bytes)"
