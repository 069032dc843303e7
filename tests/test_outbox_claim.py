"""Several indexers draining one PostgreSQL outbox into Elasticsearch (noida-db) at once:
each claims its batches FOR UPDATE SKIP LOCKED, so they take disjoint batches, and every
article is indexed once and none is skipped."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from arshif.record import Article
from indexer.archive_pg import PgArchive
from indexer.es import ElasticIndex, ESConfig
from tests.test_es import config, drop, make, noida  # noqa: F401 (fixtures)

ARTICLES = 400
BATCH = 25


class Observed(ElasticIndex):
    """The real index, noting which articles this indexer sent; its first batch is held
    until the other indexer holds one too, so both claims are open at the same moment."""

    def __init__(self, settings: ESConfig, together: threading.Barrier) -> None:
        super().__init__(settings)
        self.together = together
        self.sent: list[str] = []

    def _bulk(self, archive: Any, index: str, rows: Sequence[tuple[int, str, Article]]) -> Any:
        if not self.sent:
            self.together.wait(timeout=120)
        self.sent += [a.id for _, _, a in rows]
        return super()._bulk(archive, index, rows)


def test_two_indexers_take_disjoint_batches(postgres_url, config) -> None:  # noqa: F811
    with PgArchive(postgres_url) as archive:
        for n in range(ARTICLES):
            archive.upsert(make(n, dup_cluster=f"c{n // 3}"))
        every = {a.id for a in archive.iter_articles()}
    ElasticIndex(config).ensure()  # one index for both, before they start
    together = threading.Barrier(2)
    indexers = [Observed(config, together) for _ in range(2)]
    reports: list[Any] = []
    errors: list[BaseException] = []

    def drain(index: Observed) -> None:
        try:
            with PgArchive(postgres_url) as archive:
                reports.append(index.drain(archive, batch=BATCH))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=drain, args=(index,)) for index in indexers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    first, second = (index.sent for index in indexers)
    assert first and second, "both indexers took batches"
    assert not set(first) & set(second), "no article was sent by both"
    assert len(first) + len(second) == ARTICLES and set(first) | set(second) == every
    assert sum(r.indexed for r in reports) == ARTICLES and not any(r.failed for r in reports)
    with PgArchive(postgres_url) as archive:
        assert archive.pending_count() == 0
    try:
        assert indexers[0].count() == ARTICLES
    finally:
        drop(indexers[0])
        for index in indexers:
            index.client.close()
