"""`arshif migrate --to postgresql://…`: a crawled SQLite archive moved into a real
PostgreSQL, every row checked, clusters kept, and a second run harmless."""

from __future__ import annotations

from arshif.config import archive_path
from indexer.archive import Archive
from indexer.archive_base import POLL_COLUMNS, ArchiveStore
from indexer.archive_pg import PgArchive
from indexer.dedup_pg import PgClusters
from schedules import history
from tests.conftest import FAST, run_arshif


def _state(archive: ArchiveStore) -> tuple:
    """What the tables beside the articles hold, as the interface reads it."""
    runs = [{k: v for k, v in r.items() if k != "pid"} for r in archive.schedule_runs(10)]
    size, position, done, referenced, counts = archive.import_state("/x.warc")
    return (
        archive.saved_searches(), (size, position, bool(done), bool(referenced), counts),
        runs, archive.listing_validators(), archive.remembered_listings("sample"),
        archive.poll_states("hourly"),
    )  # fmt: skip


def test_migrate_moves_everything_and_checks_it(home, server, postgres_url) -> None:
    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0, result.stderr[-2000:]
    with Archive(archive_path(home)) as source:
        source.save_search("قمة", "q=قمة", "2026-01-01T00:00:00+00:00")
        source.save_import_state(("/x.warc", "warc", 10, 4, True, True, '{"new": 2}'))
        run = history.start(source, "hourly", ["sample"], "")
        history.finish(source, run, "finished")
        source.remember_listing("sample", f"{server.base_url}/rss.xml", "feed")
        poll = {name: None for name in POLL_COLUMNS} | {"interval_seconds": 900.0, "skipped": 2}
        source.save_poll_state("hourly", "sample", poll)
        state = _state(source)
        assert state[-1] == {"sample": poll}
        articles = list(source.iter_articles())
        urls = source.db.execute("SELECT url, article_id, status FROM urls ORDER BY url").fetchall()
        runs = source.runs()
    for _ in range(2):  # a second run finds everything there and changes nothing
        done = run_arshif(home, "migrate", "--to", postgres_url, "--no-progress")
        assert done.returncode == 0, done.stderr
        assert f"{len(articles)} articles" in done.stdout
    with PgArchive(postgres_url) as target:
        assert list(target.iter_articles()) == articles  # same rows, same order
        assert target.conn.execute(
            'SELECT url, article_id, status FROM urls ORDER BY url COLLATE "C"'
        ).fetchall() == sorted(urls, key=lambda r: r[0].encode())
        assert target.runs() == runs
        assert _state(target) == state
        assert history.start(target, "hourly", [], "") == run + 1
        assert target.start_run("next") == runs[0]["id"] + 1
        # The dedup index came along: a copy of a migrated article joins its cluster.
        original = next(a for a in articles if a.dup_cluster and len(a.text or "") > 500)
        placed = PgClusters(target).add("copy", original.title, original.text + "\nاقرأ أيضا")
        assert placed.dup_cluster == original.dup_cluster and placed.kind == "near"


def test_migrate_needs_a_postgresql_target(home, server) -> None:
    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0
    done = run_arshif(home, "migrate", "--to", "mysql://x")
    assert done.returncode == 2 and "postgresql://" in done.stderr


def test_migrated_stories_are_joined_as_in_sqlite(home, server, postgres_url) -> None:
    """The story index comes along: an article's story mates on PostgreSQL are those the
    SQLite index gives, and a new write-up of a migrated story joins it."""
    from indexer.dedup_store import DedupIndex

    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0, result.stderr[-2000:]
    assert run_arshif(home, "migrate", "--to", postgres_url, "--no-progress").returncode == 0
    with Archive(archive_path(home)) as source, PgArchive(postgres_url) as target:
        articles = list(source.iter_articles())
        stories = [a for a in articles if sum(b.story_id == a.story_id for b in articles) > 2]
        assert stories, "the sample site has a story of several write-ups"
        sqlite_index, pg_index = DedupIndex.for_archive(source), PgClusters(target)
        for article in stories:
            expected = {m.id for m in sqlite_index.similar(article.id) if m.relation == "story"}
            assert {m.id for m in pg_index.similar(article.id) if m.relation == "story"} == expected
        # A third of each of three write-ups of one story: a copy of none, close to the story.
        mates = [a for a in stories if a.story_id == stories[0].story_id][:3]
        text = "\n".join(_third(a.text, n) for n, a in enumerate(mates))
        mixed = sqlite_index.add("new", "", text, mates[0].published)
        placed = pg_index.add("new", "", text, mates[0].published)
        assert (placed.kind, placed.story_id) == (mixed.kind, mixed.story_id)
        assert mixed.kind == "new" and mixed.story_id == mates[0].story_id


def _third(text: str | None, n: int) -> str:
    lines = (text or "").splitlines()
    size = max(1, len(lines) // 3)
    return "\n".join(lines[n * size : (n + 1) * size])
