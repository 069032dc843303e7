"""One suite for the archive interface (indexer/archive_base.py), run against SQLite and a
real PostgreSQL 15 (a throwaway database per test): the interface tests of
tests/test_archive.py, plus groups, savepoints and concurrent writers."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from indexer.archive import Archive
from indexer.archive_base import ArchiveStore
from indexer.archive_pg import PgArchive
from tests.test_archive import (  # noqa: F401 (collected here again, on both backends)
    make,
    test_crawl_runs_are_recorded,
    test_every_field_round_trips,
    test_filters_by_outlet_dates_language_topic_and_dedup,
    test_iter_articles_pages_by_rowid_with_filters,
    test_upsert_is_idempotent_and_reports_new,
    test_urls_map_to_one_article,
)

INTEGRITY = (sqlite3.IntegrityError, psycopg.IntegrityError)


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], ArchiveStore]:
    """Opens a new handle on one archive of the backend under test."""
    if request.param == "sqlite":
        path = tmp_path / "archive.sqlite"
        return lambda: Archive(path)
    url = request.getfixturevalue("postgres_url")
    return lambda: PgArchive(url)


@pytest.fixture
def archive(opener: Callable[[], ArchiveStore]) -> Iterator[ArchiveStore]:
    with opener() as archive:
        yield archive


def test_outbox_goes_pending_indexed_and_back(archive: ArchiveStore) -> None:
    for n in (1, 2, 3):
        archive.upsert(make(n))
    assert [a.id for a in archive.pending(10)] == ["id1", "id2", "id3"]
    archive.mark_indexed(["id1", "id2"], "elasticsearch")
    assert [a.id for a in archive.pending(10)] == ["id3"] and archive.pending_count() == 1
    archive.upsert(make(1, text="نص جديد"))
    assert [a.id for a in archive.pending(10)] == ["id3", "id1"]
    archive.requeue_all()
    assert archive.pending_count() == 3
    archive.mark_all_indexed("elasticsearch")
    assert archive.pending(10) == []


def test_a_failed_transaction_leaves_nothing(archive: ArchiveStore) -> None:
    archive.upsert(make(1))
    with pytest.raises(INTEGRITY), archive.transaction():
        archive.upsert(make(2))
        archive.mark_seen("https://news.example/other", "no-such-id", "archived")
    assert archive.get("id2") is None and not archive.has_url(make(2).url)
    assert archive.count() == 1


def test_a_failed_step_undoes_only_itself(archive: ArchiveStore) -> None:
    with archive.transaction():
        archive.upsert(make(1))
        with pytest.raises(INTEGRITY), archive.transaction():
            archive.upsert(make(2))
            archive.mark_seen("https://news.example/other", "no-such-id", "archived")
        archive.upsert(make(3))
    assert [a.id for a in archive.iter_articles()] == ["id1", "id3"]


def test_a_group_is_seen_by_others_only_once_committed(opener) -> None:
    with opener() as writer, opener() as reader:
        writer.begin()
        for n in range(1, 4):
            with writer.transaction():
                writer.upsert(make(n))
        assert reader.count() == 0
        writer.commit()
        assert reader.count() == 3


def test_concurrent_writers_of_one_url_make_one_row(opener) -> None:
    """Eight writers archive the same article and mark the same URLs at once."""
    with opener():
        pass  # the schema exists before the race
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def write(n: int) -> None:
        with opener() as archive:
            barrier.wait()
            results.append(archive.upsert(make(1, title=f"نسخة {n}")))
            archive.mark_seen(f"https://news.example/a/1#{n % 2}", "id1", "archived")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]  # exactly one writer inserted it
    with opener() as archive:
        assert archive.count() == 1
        assert archive.url_article("https://news.example/a/1#1") == "id1"
