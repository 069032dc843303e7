"""Feeds and sitemaps are fetched with the last finished crawl's ETag / Last-Modified; a 304
is a counted success (no body read, no article asked for), across two real crawls."""

from __future__ import annotations

import http.server
from pathlib import Path

from tests.test_crawl_bounds import Site, crawl, outlets_file, page, robots, rss


class ValidatingSite(Site):
    """Answers the feed with validators, and 304 when the client sends them back."""

    def __init__(self) -> None:
        super().__init__()
        self.conditional: list[tuple[str | None, str | None]] = []

    def handle(self, h: http.server.BaseHTTPRequestHandler, path: str, hit: int) -> None:
        if path in ("/rss.xml", "/sitemap.xml"):
            sent = (h.headers.get("If-None-Match"), h.headers.get("If-Modified-Since"))
            self.conditional.append(sent)
            if sent[0] == f'"v1{path}"':
                h.send_response(304)
                h.send_header("ETag", f'"v1{path}"')
                h.end_headers()
                return
            status, headers, body = self.routes[path]
            headers = {**headers, "ETag": f'"v1{path}"',
                       "Last-Modified": "Thu, 15 Sep 2022 09:00:00 GMT"}  # fmt: skip
            self.send(h, status, body, headers)
            return
        super().handle(h, path, hit)


def test_unchanged_listings_cost_a_304(tmp_path: Path, home: Path) -> None:
    with ValidatingSite() as site:
        site.routes = {
            "/robots.txt": robots("User-agent: *\nDisallow:\n"),
            "/rss.xml": rss(f"{site.url}/a/1.html"),
            "/sitemap.xml": (200, {"Content-Type": "application/xml"}, (
                '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<url><loc>{site.url}/a/2.html</loc></url></urlset>").encode()),
            "/a/1.html": page("خبر أول"),
            "/a/2.html": page("خبر ثان"),
        }  # fmt: skip
        outlets = outlets_file(
            tmp_path, site.url, '    feeds: ["/rss.xml"]\n    sitemaps: ["/sitemap.xml"]\n'
        )
        first = crawl(home, outlets)
        assert site.conditional == [(None, None), (None, None)]
        assert "0 listings unchanged" in " ".join(first.stdout.split())
        before = len(site.log)
        second = crawl(home, outlets)
        assert sorted(site.conditional[2:]) == [
            ('"v1/rss.xml"', "Thu, 15 Sep 2022 09:00:00 GMT"),
            ('"v1/sitemap.xml"', "Thu, 15 Sep 2022 09:00:00 GMT"),
        ]
        out = " ".join(second.stdout.split())
        assert "2 listings unchanged (304)" in out and "0 failed requests" in out
        # Nothing else was asked for: no article request came out of an unchanged listing.
        assert {p for p, _ in site.log[before:]} <= {"/robots.txt", "/rss.xml", "/sitemap.xml"}
        # A third crawl still sends the validators (a 304 keeps them).
        crawl(home, outlets)
        assert site.conditional[-1][0] is not None and site.conditional[-2][0] is not None
