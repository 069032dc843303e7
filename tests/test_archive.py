"""The archive database: schema, idempotent upserts, URL map, outbox, runs, safety."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from arshif.record import FIELDS, Article
from indexer.archive import APPLICATION_ID, SCHEMA_VERSION, Archive, ArchiveError
from indexer.filters import Filters


def make(n: int, **fields: object) -> Article:
    base = dict(
        id=f"id{n}",
        url=f"https://news.example/a/{n}?utm_source=x",
        canonical_url=f"https://news.example/a/{n}",
        outlet="alpha",
        title=f"عنوان الخبر رقم {n}",
        text="انطلقت أعمال القمة في سمرقند بحضور القادة.\nوناقش المشاركون التعاون الإقليمي.",
        published=f"2022-09-{10 + n:02d}T09:30:00+04:00",
        language="ar",
    )
    return Article(**{**base, **fields})  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path):
    with Archive(tmp_path / "data" / "archive.sqlite") as archive:
        yield archive


def test_new_database_has_schema_version_wal_and_foreign_keys(archive: Archive) -> None:
    db = archive.db
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
    assert set(FIELDS) | {"index_state", "indexed_at", "archived_at", "updated_at"} <= columns
    indexed = {row[1] for row in db.execute("PRAGMA index_list(articles)")}
    assert {
        "articles_outlet",
        "articles_published",
        "articles_language",
        "articles_index_state",
    } <= indexed


def test_reopening_keeps_data_and_schema(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        archive.upsert(make(1))
    with Archive(path) as archive:
        assert archive.count() == 1
        assert archive.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_upsert_is_idempotent_and_reports_new(archive: Archive) -> None:
    article = make(1)
    assert archive.upsert(article) is True
    assert archive.upsert(article) is False
    assert archive.count() == 1
    assert archive.upsert(replace(article, title="عنوان مُحدَّث")) is False
    assert archive.count() == 1
    stored = archive.get(article.id)
    assert stored is not None and stored.title == "عنوان مُحدَّث"
    assert archive.has_article(article.id)
    assert not archive.has_article("missing")
    assert archive.get("missing") is None


def test_every_field_round_trips(archive: Archive) -> None:
    article = make(
        2,
        lead="مقدمة قصيرة",
        authors=["سارة أحمد", "Omar K."],
        modified="2022-09-12T11:00:00Z",
        language_prob=0.9999,
        image="https://news.example/i.jpg",
        section="سياسة",
        tags=["شنغهاي", "قمة"],
        fetched_at="2024-01-01T00:00:00+00:00",
        http_status=200,
        encoding="utf-8",
        warc_file="arshif-1.warc.gz",
        warc_offset=123456789012,
        content_hash="ab12",
        dup_cluster="c1",
        dup_of=None,
        story_id="s1",
        topics=["sco-summit"],
    )
    archive.upsert(article)
    assert archive.get(article.id) == article


def test_update_keeps_archived_at_and_moves_updated_at(archive: Archive) -> None:
    archive.upsert(make(1))
    first = archive.db.execute("SELECT archived_at, updated_at FROM articles").fetchone()
    archive.upsert(make(1, title="تعديل"))
    second = archive.db.execute("SELECT archived_at, updated_at FROM articles").fetchone()
    assert second[0] == first[0]
    assert second[1] > first[1]


def test_urls_map_to_one_article(archive: Archive) -> None:
    article = make(1)
    archive.upsert(article)
    # upsert records both the fetched and the canonical URL
    assert archive.has_url(article.url)
    assert archive.has_url(article.canonical_url)
    archive.mark_seen("https://m.news.example/a/1", article.id, "archived")
    for url in (article.url, article.canonical_url, "https://m.news.example/a/1"):
        assert archive.url_article(url) == article.id
    assert not archive.has_url("https://news.example/a/2")


def test_skipped_urls_count_as_seen_and_keep_known_article(archive: Archive) -> None:
    archive.mark_seen("https://news.example/video/9", None, "skipped:no-text")
    assert archive.has_url("https://news.example/video/9")
    assert archive.url_article("https://news.example/video/9") is None
    article = make(1)
    archive.upsert(article)
    archive.mark_seen(article.url, None, "skipped:too-short")
    assert archive.url_article(article.url) == article.id
    status = archive.db.execute("SELECT status FROM urls WHERE url = ?", (article.url,))
    assert status.fetchone()[0] == "skipped:too-short"


def test_mark_seen_rejects_unknown_article(archive: Archive) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        archive.mark_seen("https://news.example/x", "no-such-id", "archived")


def test_outbox_pending_to_indexed_and_back_on_update(archive: Archive) -> None:
    for n in (1, 2, 3):
        archive.upsert(make(n))
    assert [a.id for a in archive.pending(10)] == ["id1", "id2", "id3"]  # oldest first
    assert [a.id for a in archive.pending(2)] == ["id1", "id2"]
    assert archive.pending_count() == 3
    archive.mark_indexed(["id1", "id2"], "sqlite")
    assert [a.id for a in archive.pending(10)] == ["id3"]
    row = archive.db.execute("SELECT indexed_by, indexed_at FROM articles WHERE id = 'id1'")
    indexed_by, indexed_at = row.fetchone()
    assert indexed_by == "sqlite" and indexed_at
    archive.upsert(make(1, text="نص جديد"))
    assert [a.id for a in archive.pending(10)] == ["id3", "id1"]  # updated last
    archive.requeue_all()
    assert archive.pending_count() == 3
    archive.mark_all_indexed("sqlite")
    assert archive.pending(10) == []


def test_error_inside_transaction_leaves_no_half_write(archive: Archive) -> None:
    archive.upsert(make(1))
    with pytest.raises(sqlite3.IntegrityError), archive.transaction():
        archive.upsert(make(2))
        archive.upsert(make(1, title="لن يُحفظ"))
        archive.mark_seen("https://news.example/other", "no-such-id", "archived")
    assert archive.get("id2") is None
    assert not archive.has_url(make(2).url)
    stored = archive.get("id1")
    assert stored is not None and stored.title == make(1).title
    assert archive.count() == 1
    assert not archive.db.in_transaction


def test_failed_step_inside_a_transaction_undoes_only_itself(archive: Archive) -> None:
    with archive.transaction():
        archive.upsert(make(1))
        with pytest.raises(sqlite3.IntegrityError), archive.transaction():
            archive.upsert(make(2))
            archive.mark_seen("https://news.example/other", "no-such-id", "archived")
        archive.upsert(make(3))
    assert [a.id for a in archive.iter_articles()] == ["id1", "id3"]
    assert not archive.has_url(make(2).url)


def test_crash_mid_transaction_keeps_previous_state(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    script = textwrap.dedent(
        f"""
        import os
        from arshif.record import Article
        from indexer.archive import Archive

        archive = Archive({str(path)!r})
        archive.upsert(Article(id="kept", url="u-kept", canonical_url="u-kept", outlet="o"))
        with archive.transaction():
            archive.upsert(Article(id="lost", url="u-lost", canonical_url="u-lost", outlet="o"))
            os._exit(1)  # the process dies before COMMIT
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert result.returncode == 1, result.stderr.decode()
    with Archive(path) as archive:
        assert archive.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert archive.has_article("kept")
        assert not archive.has_article("lost")
        assert not archive.has_url("u-lost")


def test_readers_see_committed_state_while_a_writer_holds_the_lock(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    with Archive(path) as writer, Archive(path) as reader:
        writer.upsert(make(1))
        with writer.transaction():
            writer.upsert(make(2))
            assert reader.count() == 1  # not blocked, and no uncommitted row visible
        assert reader.count() == 2


def test_iter_articles_pages_by_rowid_with_filters(archive: Archive) -> None:
    for n in range(1, 8):
        archive.upsert(make(n, outlet="alpha" if n % 2 else "beta"))
    assert [a.id for a in archive.iter_articles(batch=2)] == [f"id{n}" for n in range(1, 8)]
    alpha = Filters(outlets=("alpha",))
    assert [a.id for a in archive.iter_articles(alpha, batch=3)] == ["id1", "id3", "id5", "id7"]
    assert archive.count(alpha) == 4
    with pytest.raises(ValueError, match="batch"):
        list(archive.iter_articles(batch=0))


def test_filters_by_outlet_dates_language_topic_and_dedup(archive: Archive) -> None:
    archive.upsert(make(1, outlet="alpha", published="2022-09-14T23:59:00+04:00"))
    archive.upsert(make(2, outlet="beta", published="2022-09-15", topics=["sco"]))
    archive.upsert(make(3, outlet="beta", published="2022-09-16T00:00:00Z", language="en"))
    archive.upsert(make(4, outlet="gamma", published=None, dup_of="id1"))

    def ids(**kwargs: object) -> list[str]:
        return [a.id for a in archive.iter_articles(Filters(**kwargs))]  # type: ignore[arg-type]

    assert ids() == ["id1", "id2", "id3", "id4"]
    assert ids(outlets=["beta", "gamma"]) == ["id2", "id3", "id4"]
    assert ids(since="2022-09-15") == ["id2", "id3"]  # the undated article is left out
    assert ids(until="2022-09-15") == ["id1", "id2"]  # until is inclusive
    assert ids(since="2022-09-15", until="2022-09-15") == ["id2"]
    assert ids(languages=("en",)) == ["id3"]
    assert ids(topics=("sco",)) == ["id2"]
    assert ids(dedup=True) == ["id1", "id2", "id3"]
    assert ids(outlets=("beta",), languages=("ar",)) == ["id2"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"since": "2022-13-01"}, "since"),
        ({"until": "15/09/2022"}, "until"),
        ({"since": "20220915"}, "since"),
        ({"since": "2022-09-16", "until": "2022-09-15"}, "after"),
    ],
)
def test_filters_reject_bad_dates(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Filters(**kwargs)


def test_crawl_runs_are_recorded(archive: Archive) -> None:
    first = archive.start_run("alpha", base_url="http://127.0.0.1:1")
    second = archive.start_run("beta")
    archive.finish_run(
        first, status="finished", pages=12, new_articles=5, skipped=3, errors={"timeout": 2}
    )
    runs = archive.runs()
    assert [r["id"] for r in runs] == [second, first]
    assert runs[0]["status"] == "running" and runs[0]["ended_at"] is None
    done = runs[1]
    assert (done["outlet"], done["status"], done["pages"], done["new_articles"]) == (
        "alpha",
        "finished",
        12,
        5,
    )
    assert done["skipped"] == 3 and done["errors"] == {"timeout": 2}
    assert done["info"] == {"base_url": "http://127.0.0.1:1"}
    assert archive.runs(limit=1)[0]["id"] == second
    with pytest.raises(ArchiveError, match="no crawl run"):
        archive.finish_run(999, status="finished", pages=0, new_articles=0, skipped=0, errors={})


def test_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(ArchiveError, match="data folder"):
        Archive(blocker / "archive.sqlite")


def test_a_folder_in_place_of_the_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "archive.sqlite").mkdir()
    with pytest.raises(ArchiveError, match="cannot write"):
        Archive(tmp_path / "archive.sqlite")


def test_non_sqlite_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    path.write_bytes(b"this is a text file, not a database" * 100)
    with pytest.raises(ArchiveError, match="not an SQLite database"):
        Archive(path)


def test_foreign_sqlite_database_is_rejected_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE notes (body TEXT)")
    other.commit()
    other.close()
    with pytest.raises(ArchiveError, match="not an Arshif archive"):
        Archive(path)
    check = sqlite3.connect(path)
    tables = [row[0] for row in check.execute("SELECT name FROM sqlite_schema")]
    check.close()
    assert tables == ["notes"]


def test_newer_schema_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    Archive(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(ArchiveError, match="newer Arshif"):
        Archive(path)
