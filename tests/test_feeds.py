"""Feed and sitemap parsing, including gzipped sitemaps and hostile XML."""

import gzip

import pytest

from crawler.feeds import FeedError, feed_links, sitemap_entries

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>t</title>
<item><title>\xd8\xae\xd8\xa8\xd8\xb1</title><link>https://n.example/a/1</link></item>
<item><guid isPermaLink="true">https://n.example/a/2</guid></item>
<item><title>no link</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">
<entry><link rel="alternate" href="https://n.example/b/1"/><link rel="enclosure" href="x.mp3"/></entry>
<entry><link href="https://n.example/b/2"/></entry></feed>"""

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
 xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>https://n.example/c/1</loc><news:news><news:title>x</news:title></news:news></url>
<url><loc>https://n.example/c/2</loc></url></urlset>"""

INDEX = b"""<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<sitemap><loc>https://n.example/s1.xml</loc></sitemap></sitemapindex>"""


def test_rss_and_atom_links() -> None:
    assert list(feed_links(RSS)) == ["https://n.example/a/1", "https://n.example/a/2"]
    assert list(feed_links(ATOM)) == ["https://n.example/b/1", "https://n.example/b/2"]


def test_sitemaps_plain_gzipped_and_index() -> None:
    expected = ("urlset", ["https://n.example/c/1", "https://n.example/c/2"])
    assert sitemap_entries(NEWS_SITEMAP) == expected
    assert sitemap_entries(gzip.compress(NEWS_SITEMAP)) == expected
    assert sitemap_entries(INDEX) == ("sitemapindex", ["https://n.example/s1.xml"])


def test_entities_are_not_expanded() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY ext SYSTEM "file:///etc/passwd">]>
<rss><channel><item><link>https://n.example/&c;&ext;</link></item></channel></rss>"""
    links = list(feed_links(bomb))
    assert all("aaaaaaaaaa" not in link and "root:" not in link for link in links)


def test_garbage_is_a_clear_error_or_nothing() -> None:
    assert list(feed_links(b"<html><body>not a feed</body></html>")) == []
    with pytest.raises(FeedError):
        sitemap_entries(b"")
