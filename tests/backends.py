"""One archive's search index on each backend, for tests that run the same cases on both:
the embedded (tantivy) index, and Elasticsearch on noida-db (its Arabic analysis is
approximate: such tests check which articles match, not how they rank)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from indexer.archive import Archive
from indexer.embedded import EmbeddedIndex
from indexer.es import ElasticIndex, ESConfig
from indexer.search import SearchIndex
from tests.test_es import Noida, drop


def index_on(request: pytest.FixtureRequest, archive: Archive, alias: str) -> Iterator[SearchIndex]:
    """The backend `request.param` names, holding every article of `archive`."""
    if request.param == "embedded":
        index = EmbeddedIndex(archive)
        index.drain(archive)
        yield index
        return
    server: Noida = request.getfixturevalue("noida")
    es = ElasticIndex(ESConfig(urls=(server.url,), replicas=0, alias=alias, retries=1))
    es.rebuild(archive)
    try:
        yield es
    finally:
        drop(es)
        es.client.close()
