"""`arshif migrate --to postgresql://…`: a crawled SQLite archive moved into a real
PostgreSQL, every row checked, clusters kept, and a second run harmless."""

from __future__ import annotations

from arshif.config import archive_path
from indexer.archive import Archive
from indexer.archive_pg import PgArchive
from indexer.dedup_pg import PgClusters
from tests.conftest import FAST, run_arshif


def test_migrate_moves_everything_and_checks_it(home, server, postgres_url) -> None:
    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0, result.stderr[-2000:]
    with Archive(archive_path(home)) as source:
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
