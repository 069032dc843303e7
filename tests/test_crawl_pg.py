"""A crawl writing to a real PostgreSQL archive (ARSHIF_DATABASE_URL): the same articles
and the same near-duplicate clusters as a crawl into the SQLite archive."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from arshif.config import archive_path
from indexer.archive import Archive
from indexer.archive_base import ArchiveStore
from indexer.archive_pg import PgArchive
from tests.conftest import FAST, run_arshif
from tests.syndicated import syndicated_outlets


def clusters(archive: ArchiveStore) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for article in archive.iter_articles():
        groups[article.dup_cluster or article.id].add(article.url)
    return {frozenset(g) for g in groups.values()}


def test_crawl_into_postgresql_matches_sqlite(tmp_path: Path, postgres_url, monkeypatch) -> None:
    with syndicated_outlets(tmp_path / "outlets", 2) as (outlets, _):
        crawl = ("crawl", "sample1", "sample2", "--outlets", str(outlets), *FAST)
        lite = tmp_path / "lite"
        assert run_arshif(lite, *crawl).returncode == 0
        monkeypatch.setenv("ARSHIF_DATABASE_URL", postgres_url)
        pg_home = tmp_path / "pg"
        result = run_arshif(pg_home, *crawl)
        assert result.returncode == 0, result.stderr[-3000:]
        again = run_arshif(pg_home, *crawl)  # fetches nothing already archived
        assert again.returncode == 0, again.stderr[-3000:]
    with Archive(archive_path(lite)) as sqlite_archive, PgArchive(postgres_url) as pg_archive:
        assert sqlite_archive.count() == pg_archive.count() > 0
        assert clusters(pg_archive) == clusters(sqlite_archive)
        assert any(len(group) == 2 for group in clusters(pg_archive))  # copies across outlets
        runs = pg_archive.runs()
        assert [r["status"] for r in runs] == ["finished"] * 4
        assert sum(r["new_articles"] for r in runs[2:]) == pg_archive.count()
        assert sum(r["new_articles"] for r in runs[:2]) == 0  # the second crawl added nothing
        assert pg_archive.pending_count() == pg_archive.count()  # the outbox waits for ES
