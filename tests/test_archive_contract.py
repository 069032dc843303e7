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


def test_summary_values_members_and_outlet_runs(archive: ArchiveStore) -> None:
    archive.upsert(make(1, topics=["sco-summit"], dup_cluster="id1", story_id="s"))
    archive.upsert(make(2, outlet="beta", dup_cluster="id1", dup_of="id1", story_id="s"))
    archive.upsert(make(3, published=None, language=None, dup_cluster="id3", story_id="s"))
    counts = archive.summary(30)
    assert counts["undated"] == 1 and counts["by_topic"] == {"sco-summit": 1}
    assert counts["by_outlet"] == {"alpha": 2, "beta": 1}
    assert counts["by_day"] == {"2022-09-12": 1, "2022-09-11": 1}
    assert counts["by_language"] == {"ar": 2, "unknown": 1}
    assert counts["by_index_state"] == {"pending": 3}
    assert [tuple(r) for r in counts["duplicates_by_outlet"]] == [("beta", 1, 1), ("alpha", 2, 0)]
    assert archive.distinct("outlet") == {"alpha", "beta"} and archive.distinct("language") == {
        "ar"
    }
    assert [m[0] for m in archive.members("dup_cluster", "id1")] == ["id1", "id2"]
    assert [m[0] for m in archive.members("story_id", "s")] == ["id1", "id2", "id3"]
    assert archive.representatives({"id2"}, ["id1"]) == ({"id1"}, {"id1": "id1"})
    first = archive.start_run("alpha")
    archive.finish_run(first, status="finished", pages=3, new_articles=2, skipped=0,
                       errors={"timeout": 1})  # fmt: skip
    archive.start_run("alpha")  # still running: not in the history
    archive.start_run("beta")
    assert [(r["id"], r["errors"]) for r in archive.outlet_runs("alpha", 5)] == [
        (first, {"timeout": 1})
    ]
    assert sorted(archive.run_outlets()) == ["alpha", "beta"]


def test_saved_searches_and_import_positions(archive: ArchiveStore) -> None:
    assert archive.saved_searches() == [] and archive.import_state("/x.warc") is None
    one = archive.save_search("قمة", "q=قمة", "2026-01-01T00:00:00+00:00")
    two = archive.save_search("b", "q=b", "2026-01-02T00:00:00+00:00")
    assert [s[:3] for s in archive.saved_searches()] == [(two, "b", "q=b"), (one, "قمة", "q=قمة")]
    archive.delete_saved_search(two)
    assert [s[0] for s in archive.saved_searches()] == [one]
    archive.save_import_state(("/x.warc", "warc", 100, 40, False, True, '{"archived": 2}'))
    archive.save_import_state(("/y.jsonl", "jsonl", None, 0, True, False, "{}"))
    size, position, done, referenced, counts = archive.import_state("/x.warc")
    assert (size, position, bool(done), bool(referenced), counts) == (
        100, 40, False, True, '{"archived": 2}'
    )  # fmt: skip
    assert archive.referenced_sources() == {"/x.warc"}
    archive.upsert(make(1, warc_file="/x.warc", warc_offset=7))
    archive.upsert(make(2, warc_file="/x.warc", warc_offset=3, outlet="beta"))
    assert archive.referenced_records("/x.warc") == [("beta", 3), ("alpha", 7)]


def test_outbox_batches_cover_the_outbox_once(archive: ArchiveStore) -> None:
    for n in range(1, 8):
        archive.upsert(make(n))
    archive.mark_indexed(["id3"], "elasticsearch")
    pending = [[a.id for _, _, a in rows] for rows in archive.outbox_batches(True, 3)]
    assert pending == [["id1", "id2", "id4"], ["id5", "id6", "id7"]]
    every = [len(rows) for rows in archive.outbox_batches(False, 3)]
    assert every == [3, 3, 1]


def test_schedule_history(archive: ArchiveStore) -> None:
    from schedules import history

    assert history.recent(archive) == [] and history.last_results(archive) == {}
    run = history.start(archive, "hourly", ["alpha", "beta"], "/logs/x.log")
    for outlet, pages in (("alpha", 3), ("beta", 4)):
        crawl = archive.start_run(outlet, schedule="hourly", schedule_run=run)
        archive.finish_run(crawl, status="finished", pages=pages, new_articles=1, skipped=0,
                           errors={"timeout": 1}, info={"duplicates": 2})  # fmt: skip
    archive.start_run("alpha", schedule_run=run + 1)  # another run's crawl
    history.skipped(archive, "hourly", "the last run is still going")
    row = history.finish(archive, run, "finished", "ok")
    assert (row["pages"], row["new_articles"], row["duplicates"], row["errors"]) == (
        7, 2, 4, {"timeout": 2}
    )  # fmt: skip
    assert row["outlets"] == ["alpha", "beta"] and row["ended_at"] and row["detail"] == "ok"
    assert [r["status"] for r in history.recent(archive)] == ["skipped", "finished"]
    assert history.last_results(archive)["hourly"]["id"] == run
    lost = history.start(archive, "daily", ["alpha"], "")
    assert archive.running_schedule_runs()[0][0] == lost
    assert history.mark_lost(archive) == 0  # this process is its scheduler: alive
    assert [r["status"] for r in archive.schedule_crawl_runs(run)] == ["finished", "finished"]


def test_listing_validators_and_discovered_listings(archive: ArchiveStore) -> None:
    assert archive.listing_validators() == {} and archive.remembered_listings("alpha") == []
    archive.save_listing_validators({"https://a/rss": ('"v1"', None), "https://a/map": (None, "x")})
    archive.save_listing_validators({"https://a/rss": ('"v2"', "y")})
    assert archive.listing_validators() == {
        "https://a/rss": ('"v2"', "y"),
        "https://a/map": (None, "x"),
    }
    archive.remember_listing("alpha", "https://a/rss", "feed")
    archive.remember_listing("beta", "https://b/map", "sitemap")
    archive.remember_listing("alpha", "https://a/map", "sitemap")
    assert archive.remembered_listings("alpha") == [
        ("sitemap", "https://a/map"),
        ("feed", "https://a/rss"),
    ]


def test_retag_and_topic_coverage(archive: ArchiveStore) -> None:
    from indexer.filters import Filters
    from indexer.topic_ops import coverage, topic_counts

    archive.upsert(make(1, topics=["a"]))
    archive.upsert(make(2, outlet="beta", topics=["a"], published="2022-09-11T23:00:00+00:00"))
    archive.upsert(make(3, topics=["b"]))
    archive.upsert(make(4, topics=["a"], published=None))
    archive.mark_all_indexed("elasticsearch")
    archive.set_topics([("id3", '["a", "b"]')], "2030-01-01T00:00:00+00:00")
    assert [a.id for a in archive.pending(10)] == ["id3"] and archive.get("id3").topics == [
        "a",
        "b",
    ]
    assert topic_counts(archive) == {"a": 4, "b": 1}
    assert sorted(archive.day_outlet_counts(Filters(topics=("a",)))) == [
        ("2022-09-11", "alpha", 1), ("2022-09-11", "beta", 1), ("2022-09-13", "alpha", 1)
    ]  # fmt: skip
    assert len(archive.day_outlet_counts(Filters())) == 3  # no filter: every dated article
    assert coverage(archive, "a") == {
        "2022-09-11": {"alpha": 1, "beta": 1},
        "2022-09-13": {"alpha": 1},
    }
