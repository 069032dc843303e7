"""The Elasticsearch backend fed from the PostgreSQL archive's outbox: test_es's outbox
tests run again with the archive in a real PostgreSQL, and a search of what was indexed
keeps the `--dedup` rule (one hit per duplicate cluster)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from crawler.sample_server import SampleServer
from indexer.archive_pg import PgArchive
from indexer.es import ElasticIndex
from indexer.filters import Filters
from indexer.search import SearchQuery
from tests.test_es import (  # noqa: F401 (fixtures, and tests collected here again)
    FAST,
    config,
    drop,
    es,
    fill,
    noida,
    run_es,
    test_drain_acknowledges_only_what_was_indexed,
    test_rebuild_switches_alias_atomically,
    test_update_topics_in_place,
)


@pytest.fixture
def archive(postgres_url: str) -> Iterator[PgArchive]:
    with PgArchive(postgres_url) as db:
        fill(db)
        yield db


def test_dedup_search_from_postgresql(es: ElasticIndex, archive: PgArchive) -> None:  # noqa: F811
    es.drain(archive)
    assert archive.pending_count() == 0 and es.count() == archive.count()
    deduped = es.search(SearchQuery("سمرقند", Filters(dedup=True), limit=100))
    ids = [h.id for h in deduped.hits]
    assert "id00034" not in ids, "recorded duplicates are left out"
    assert len({"id00032", "id00033"} & set(ids)) == 1, "one hit per duplicate cluster"
    assert es.count(None, Filters(dedup=True)) == archive.count(Filters(dedup=True))


def test_crawl_into_postgresql_is_indexed_into_elasticsearch(
    config,  # noqa: F811 (the fixture)
    postgres_url,
    tmp_path,
    monkeypatch,
) -> None:
    monkeypatch.setenv("ARSHIF_DATABASE_URL", postgres_url)
    home = tmp_path / "home"
    with SampleServer() as server:
        out = run_es(home, config, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert out.returncode == 0, out.stderr[-3000:]
    with PgArchive(postgres_url) as archive:
        archived = archive.count()
        assert archived > 0 and archive.pending_count() == 0  # the crawl's end drained it
        archive.requeue_all()
    indexed = run_es(home, config, "index")
    assert indexed.returncode == 0, indexed.stderr
    assert f"Indexed {archived} articles" in indexed.stdout
    index = ElasticIndex(config)
    try:
        assert index.count() == archived
    finally:
        drop(index)
        index.client.close()
