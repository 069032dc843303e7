"""Which search index a crawl feeds, from its settings."""

from __future__ import annotations

from scrapy.exceptions import NotConfigured
from scrapy.settings import BaseSettings

from arshif.credentials import has_secret

# "sqlite" is the embedded index's name from before it was tantivy: still accepted.
BACKENDS = ("embedded", "elasticsearch", "sqlite")


def search_backend(settings: BaseSettings) -> str | None:
    """The index a crawl feeds: ARSHIF_BACKEND, else Elasticsearch when ARSHIF_ES_URL is set,
    else the embedded one; None when ARSHIF_INDEX_ON_CLOSE turns indexing off."""
    if not settings.getbool("ARSHIF_INDEX_ON_CLOSE"):
        return None
    backend = settings.get("ARSHIF_BACKEND") or (
        "elasticsearch" if has_secret("ARSHIF_ES_URL") else "embedded"
    )
    if backend not in BACKENDS:
        raise NotConfigured(f"unknown ARSHIF_BACKEND {backend!r}")
    backend = "embedded" if backend == "sqlite" else backend
    if backend == "embedded" and has_secret("ARSHIF_DATABASE_URL"):
        return None  # the embedded index lives beside an SQLite archive; PostgreSQL's outbox
        # waits for `arshif index` into Elasticsearch
    return backend
