"""ArchiveSession: the crawl's stages share one connection and commit writes in groups."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from scrapy.utils.test import get_crawler

from arshif.config import archive_path
from arshif.record import Article
from crawler.archive_session import ArchiveSession
from crawler.sample_server import SampleServer
from indexer.archive import Archive
from tests.conftest import FAST, run_arshif
from tests.test_crawl_e2e import good


def article(n: int) -> Article:
    url = f"https://x.example/{n}"
    return Article(id=f"a{n}", url=url, canonical_url=url, outlet="x", title="t", text="نص")


def committed(home: Path) -> int:
    """Articles another connection sees, as a search or a restarted crawl would."""
    with sqlite3.connect(archive_path(home)) as db:
        return db.execute("SELECT count(*) FROM articles").fetchone()[0]


def test_writes_are_committed_in_groups(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"ARSHIF_HOME": str(tmp_path), "ARSHIF_COMMIT_ITEMS": 3})
    session = ArchiveSession.of(crawler)
    assert ArchiveSession.of(get_crawler(settings_dict={"ARSHIF_HOME": str(tmp_path)})) is session
    with session.held():
        for n in range(2):
            with session.write() as archive:
                archive.upsert(article(n))
        assert committed(tmp_path) == 0, "a group is committed as a whole"
        assert session.archive is not None and session.archive.has_article("a1")
        with session.write() as archive:
            archive.upsert(article(2))
        assert committed(tmp_path) == 3, "the third write fills the group of 3"
        with session.write() as archive:
            archive.upsert(article(3))
    assert committed(tmp_path) == 4, "releasing the session commits the rest"
    assert session.archive is None


def test_a_failed_write_undoes_only_itself(tmp_path: Path) -> None:
    session = ArchiveSession.of(get_crawler(settings_dict={"ARSHIF_HOME": str(tmp_path)}))
    with session.held():
        with session.write() as archive:
            archive.upsert(article(1))
        with pytest.raises(RuntimeError), session.write() as archive:
            archive.upsert(article(2))
            raise RuntimeError("extraction of the dedup stage failed")
    with Archive(archive_path(tmp_path)) as archive:
        assert archive.has_article("a1") and not archive.has_article("a2")


def test_group_commit_settings_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 1 item"):
        ArchiveSession(tmp_path / "a.sqlite", group_items=0)


def test_two_outlets_crawled_in_one_process(tmp_path: Path, site: Path, manifest: dict) -> None:
    """Both crawlers write through the one session: neither waits on the other's lock."""
    home = tmp_path / "data"
    with SampleServer(root=site) as one, SampleServer(root=site) as two:
        outlets = tmp_path / "outlets.yaml"
        outlets.write_text(
            "outlets:\n"
            + "".join(
                f"  - id: {oid}\n    name: {oid}\n    language: ar\n    base_url: {srv.base_url}\n"
                "    feeds: ['/rss.xml']\n    sitemaps: ['/sitemap_index.xml']\n"
                "    start_pages: ['/']\n    article_pattern: '/news/.+\\.html$'\n"
                for oid, srv in (("one", one), ("two", two))
            ),
            encoding="utf-8",
        )
        result = run_arshif(home, "crawl", "one", "two", "--outlets", str(outlets), *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "database is locked" not in result.stderr
    with Archive(archive_path(home)) as archive:
        runs = archive.runs()
        assert sorted(r["outlet"] for r in runs) == ["one", "two"]
        assert [r["new_articles"] for r in runs] == [len(good(manifest))] * 2, runs
        assert archive.pending_count() == 0
