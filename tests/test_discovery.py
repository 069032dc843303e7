"""Discovery when an outlet's configuration is wrong or missing: a feed that 404s while
robots.txt names a working sitemap, an outlet with only a base_url, and `arshif outlets
check` printing what it found as YAML lines. Real crawls against local servers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from crawler.discovery import alternate_feeds, candidates, robots_sitemaps
from crawler.outlets import Outlet
from tests.conftest import run_arshif
from tests.test_crawl_bounds import Route, Site, crawl, outlets_file, page, robots, rss

PATTERN = "    article_pattern: '/a/\\d+\\.html$'\n"


def urlset(*locs: str) -> Route:
    items = "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
    body = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{items}</urlset>")  # fmt: skip
    return 200, {"Content-Type": "application/xml"}, body.encode()


def home_page(*feeds: str) -> Route:
    links = "".join(f'<link rel="alternate" type="application/rss+xml" href="{f}">' for f in feeds)
    body = f"<html><head>{links}<title>home</title></head><body>home</body></html>"
    return 200, {"Content-Type": "text/html"}, body.encode()


def archived_urls(home: Path) -> set[str]:
    with sqlite3.connect(home / "archive.sqlite") as db:
        return {row[0] for row in db.execute("SELECT url FROM articles")}


def test_feed_404_robots_names_a_working_sitemap(tmp_path: Path, home: Path) -> None:
    with Site() as site:
        site.routes = {
            "/robots.txt": robots(f"User-agent: *\nDisallow:\nSitemap: {site.url}/maps/news.xml\n"),
            "/maps/news.xml": urlset(f"{site.url}/a/1.html", f"{site.url}/a/2.html"),
            "/a/1.html": page("خبر أول"),
            "/a/2.html": page("خبر ثان"),
        }
        outlets = outlets_file(tmp_path, site.url, '    feeds: ["/old-rss.xml"]\n' + PATTERN)
        result = crawl(home, outlets)
        assert archived_urls(home) == {f"{site.url}/a/1.html", f"{site.url}/a/2.html"}
        log = " ".join(result.stderr.split())
        assert f"Found sitemap {site.url}/maps/news.xml for local" in log
        assert f"sitemaps: ['{site.url}/maps/news.xml']" in log
        with sqlite3.connect(home / "archive.sqlite") as db:
            rows = db.execute("SELECT outlet, url, kind FROM discovered_listings").fetchall()
        assert rows == [("local", f"{site.url}/maps/news.xml", "sitemap")]
        # The next crawl starts with what was found: a new article there is taken even
        # before discovery would run again.
        site.routes["/maps/news.xml"] = urlset(f"{site.url}/a/3.html")
        site.routes["/a/3.html"] = page("خبر ثالث")
        start = len(site.log)
        crawl(home, outlets)
        paths = [p for p, _ in site.log[start:] if p != "/robots.txt"]
        assert paths[0] == "/maps/news.xml" or paths.index("/maps/news.xml") < paths.index(
            "/old-rss.xml"
        )
        assert f"{site.url}/a/3.html" in archived_urls(home)

        # `arshif outlets check` says the same, with the lines to paste.
        done = run_arshif(home, "outlets", "check", "local", "--outlets", str(outlets))
        out = done.stdout
        assert done.returncode == 1  # the configuration is still wrong
        assert f"found sitemap {site.url}/maps/news.xml" in out
        assert f"    sitemaps: ['{site.url}/maps/news.xml']" in out


def test_outlet_with_only_a_base_url(tmp_path: Path, home: Path) -> None:
    with Site() as site:
        site.routes = {
            "/robots.txt": robots("User-agent: *\nDisallow:\n"),
            "/": home_page("/news/feed"),
            "/news/feed": rss(f"{site.url}/a/7.html"),
            "/a/7.html": page("خبر من موقع بلا إعداد"),
        }
        outlets = outlets_file(tmp_path, site.url, PATTERN)
        crawl(home, outlets)
        assert archived_urls(home) == {f"{site.url}/a/7.html"}
        guesses = {"/rss", "/feed", "/sitemap.xml"}
        assert guesses <= set(site.paths)  # tried, and their 404s are not the outlet's errors
        done = run_arshif(home, "stats", "--json")
        assert '"http_404"' not in done.stdout


def test_where_to_look() -> None:
    outlet = Outlet("x", "x", "ar", base_url="https://news.example", feeds=("/rss.xml",))
    assert robots_sitemaps("User-agent: *\nSITEMAP: /s.xml\nsitemap:https://cdn.other/s.xml",
                           "https://news.example/") == [
        "https://news.example/s.xml", "https://cdn.other/s.xml"]  # fmt: skip
    html = (b'<link rel="alternate" type="application/atom+xml" href="/atom">'
            b'<link rel="alternate" hreflang="en" href="/en/">')  # fmt: skip
    assert alternate_feeds(html, "https://news.example/") == ["https://news.example/atom"]
    found = candidates(outlet, "https://news.example/", "Sitemap: https://cdn.other/s.xml", html)
    assert found[0] == "https://news.example/atom"  # announced first, then the usual paths
    assert "https://news.example/rss.xml" not in found  # configured already
    assert not any("cdn.other" in u for u in found)  # never off the outlet's domains
