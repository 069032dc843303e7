"""`arshif crawl OUTLET --since D --until D`: sitemap indexes walked by date (archive
sitemaps by month, lastmod), entries by news:publication_date, dated path or lastmod, feed
items by pubDate. A real crawl against a local server that records every request."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.date_range import DateRange, parse_when, path_span
from tests.conftest import run_arshif
from tests.test_crawl_bounds import Route, Site, crawl, outlets_file, page, robots, sites

__all__ = ["sites"]  # the fixture, shared with the crawl-bounds tests

NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" ' \
     'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'  # fmt: skip


def xml(body: str) -> Route:
    return 200, {"Content-Type": "application/xml"}, f'<?xml version="1.0"?>{body}'.encode()


def index(*children: tuple[str, str | None]) -> Route:
    items = "".join(
        f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>"
        for loc, mod in children
    )
    return xml(f"<sitemapindex {NS}>{items}</sitemapindex>")


def urlset(*entries: tuple[str, str | None, str | None]) -> Route:
    items = ""
    for loc, published, lastmod in entries:
        news = (f"<news:news><news:publication_date>{published}</news:publication_date>"
                "</news:news>") if published else ""  # fmt: skip
        mod = f"<lastmod>{lastmod}</lastmod>" if lastmod else ""
        items += f"<url><loc>{loc}</loc>{mod}{news}</url>"
    return xml(f"<urlset {NS}>{items}</urlset>")


def feed(*items: tuple[str, str]) -> Route:
    body = "".join(f"<item><link>{u}</link><pubDate>{d}</pubDate></item>" for u, d in items)
    return xml(f'<rss version="2.0"><channel><title>t</title>{body}</channel></rss>')


IN_RANGE = ["/a/2022/09/10/one.html", "/n/1.html", "/n/4.html", "/f/1.html"]
OUT_OF_RANGE = ["/sitemaps/2022-08.xml", "/sitemaps/2022-10.xml", "/sitemaps/old.xml",
                "/a/2022/10/02/late.html", "/n/2.html", "/n/3.html", "/f/2.html"]  # fmt: skip


def routes(base: str) -> dict[str, Route]:
    out = {
        "/robots.txt": robots("User-agent: *\nDisallow:\n"),
        "/sitemap_index.xml": index(
            (f"{base}/sitemaps/2022-08.xml", "2022-09-01"),
            (f"{base}/sitemaps/2022-09.xml", "2024-01-01"),  # regenerated later: path decides
            (f"{base}/sitemaps/2022-10.xml", None),
            (f"{base}/sitemaps/news.xml", "2022-09-20T08:00:00Z"),
            (f"{base}/sitemaps/old.xml", "2021-01-01"),
        ),
        "/sitemaps/2022-08.xml": urlset((f"{base}/a/2022/08/20/aug.html", None, None)),
        "/sitemaps/2022-09.xml": urlset(
            (f"{base}/a/2022/09/10/one.html", None, None),
            (f"{base}/a/2022/10/02/late.html", None, None),
        ),
        "/sitemaps/2022-10.xml": urlset((f"{base}/a/2022/10/05/oct.html", None, None)),
        "/sitemaps/news.xml": urlset(
            (f"{base}/n/1.html", "2022-09-12T10:00:00+03:00", None),
            (f"{base}/n/2.html", "2022-08-30", None),
            (f"{base}/n/3.html", None, "2022-07-01"),
            (f"{base}/n/4.html", None, None),
        ),
        "/sitemaps/old.xml": urlset((f"{base}/o/1.html", None, None)),
        "/rss.xml": feed(
            (f"{base}/f/1.html", "Thu, 15 Sep 2022 09:00:00 +0000"),
            (f"{base}/f/2.html", "Mon, 01 Aug 2022 09:00:00 +0000"),
        ),
    }
    for path in ["/a/2022/08/20/aug.html", "/a/2022/10/05/oct.html", "/o/1.html", *IN_RANGE,
                 *OUT_OF_RANGE]:  # fmt: skip
        if path.endswith(".html"):
            out[path] = page(f"خبر {path}")
    return out


FIELDS = '    feeds: ["/rss.xml"]\n    sitemaps: ["/sitemap_index.xml"]\n'


@pytest.mark.parametrize("dated", [True, False])
def test_crawl_takes_only_the_range(
    tmp_path: Path, home: Path, sites: tuple[Site, Site], dated: bool
) -> None:
    outlet, _ = sites
    outlet.routes = routes(outlet.url)
    outlets = outlets_file(tmp_path, outlet.url, FIELDS)
    if dated:
        result = run_arshif(
            home, "crawl", "local", "--outlets", str(outlets), "--since", "2022-09-01",
            "--until", "2022-09-30", "--set", "DOWNLOAD_DELAY=0",
            "--set", "AUTOTHROTTLE_START_DELAY=0.05", "--set", "ARSHIF_EXTRACT_WORKERS=1",
            timeout=90,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr[-3000:]
    else:
        crawl(home, outlets)
    fetched = set(outlet.paths)
    assert set(IN_RANGE) <= fetched
    if dated:
        assert not fetched & set(OUT_OF_RANGE), fetched & set(OUT_OF_RANGE)
        assert "/sitemaps/2022-09.xml" in fetched and "/sitemaps/news.xml" in fetched
    else:  # the same site without a range: everything is taken
        assert set(OUT_OF_RANGE) <= fetched


def test_bad_range_is_one_line(home: Path) -> None:
    done = run_arshif(home, "crawl", "sample", "--since", "2022-10-01", "--until", "2022-09-01")
    assert done.returncode == 2 and "is after --until" in done.stderr
    done = run_arshif(home, "crawl", "sample", "--since", "Sept")
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr


def test_dates_of_paths_and_headers() -> None:
    assert path_span("https://x/story/2022/9/16/slug/123") == (
        parse_when("2022-09-16"), parse_when("2022-09-16"))  # fmt: skip
    assert path_span("https://x/sitemap-2022-09.xml")[1].day == 30
    assert path_span("https://x/article/123456789") is None
    assert parse_when("Thu, 15 Sep 2022 09:00:00 +0000") == parse_when("2022-09-15")
    september = DateRange.parse("2022-09-01", "2022-09-30")
    assert september is not None and DateRange.parse(None, None) is None
    assert september.admits_sitemap("https://x/s.xml", "2024-01-01")  # changed later: kept
    assert not september.admits_sitemap("https://x/s.xml", "2022-08-31")
    assert not september.admits_entry("https://x/a/2022/09/01/a", "2022-08-31")  # date wins
