"""The one article record shape: archive row, index document and export row.

Defined once here so that the archive, both search backends and every export format agree
on field names, types and order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any


@dataclass
class Article:
    """One archived article. `id` is derived from the canonical URL, so writes are idempotent."""

    id: str
    url: str
    canonical_url: str
    outlet: str
    title: str = ""
    text: str = ""
    lead: str = ""
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # ISO 8601, timezone kept when the page gives one
    modified: str | None = None
    language: str | None = None
    language_prob: float | None = None
    image: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    page_type: str = "article"
    fetched_at: str = ""  # ISO 8601 UTC
    http_status: int | None = None
    encoding: str | None = None
    warc_file: str | None = None
    warc_offset: int | None = None
    content_hash: str | None = None
    dup_cluster: str | None = None
    dup_of: str | None = None
    story_id: str | None = None
    topics: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Build from a mapping, ignoring keys that are not record fields."""
        return cls(**{k: data[k] for k in FIELDS if k in data})


FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Article))
LIST_FIELDS: frozenset[str] = frozenset({"authors", "tags", "topics"})
INT_FIELDS: frozenset[str] = frozenset({"http_status", "warc_offset"})
FLOAT_FIELDS: frozenset[str] = frozenset({"language_prob"})
