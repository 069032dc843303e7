"""What a crawl keeps for the next one, on the PostgreSQL archive: the listings' validators
(conditional GET: an unchanged feed costs a 304) and the listings discovery found. The
SQLite tests run again with ARSHIF_DATABASE_URL set, plus a discovery crawl read back from
PostgreSQL; nothing is written to an SQLite archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.archive_pg import PgArchive
from tests.test_conditional_get import test_unchanged_listings_cost_a_304  # noqa: F401
from tests.test_crawl_bounds import Site, crawl, outlets_file, page, robots
from tests.test_discovery import PATTERN, urlset


@pytest.fixture(autouse=True)
def on_pg(postgres_url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("ARSHIF_DATABASE_URL", postgres_url)
    monkeypatch.delenv("ARSHIF_ES_URL", raising=False)
    yield postgres_url
    assert not (home / "archive.sqlite").exists()
    with PgArchive(postgres_url) as archive:
        assert archive.count() > 0, "the crawls archived into PostgreSQL"


def test_discovered_sitemap_is_kept_in_postgresql(tmp_path: Path, home: Path, on_pg) -> None:
    with Site() as site:
        site.routes = {
            "/robots.txt": robots(f"User-agent: *\nDisallow:\nSitemap: {site.url}/maps/news.xml\n"),
            "/maps/news.xml": urlset(f"{site.url}/a/1.html"),
            "/a/1.html": page("خبر أول"),
        }
        outlets = outlets_file(tmp_path, site.url, '    feeds: ["/old-rss.xml"]\n' + PATTERN)
        crawl(home, outlets)
        with PgArchive(on_pg) as archive:
            assert archive.remembered_listings("local") == [
                ("sitemap", f"{site.url}/maps/news.xml")
            ]
        site.routes["/maps/news.xml"] = urlset(f"{site.url}/a/3.html")
        site.routes["/a/3.html"] = page("خبر ثالث")
        start = len(site.log)
        crawl(home, outlets)
        paths = [p for p, _ in site.log[start:] if p != "/robots.txt"]
        assert paths[0] == "/maps/news.xml" or paths.index("/maps/news.xml") < paths.index(
            "/old-rss.xml"
        )
        with PgArchive(on_pg) as archive:
            urls = {a.url for a in archive.iter_articles()}
        assert urls == {f"{site.url}/a/1.html", f"{site.url}/a/3.html"}
