"""The sample outlet as a crawler sees it: a real server on 127.0.0.1, the pages, feed,
sitemaps and robots.txt it serves, and the manifest that the other tests take as truth."""

from __future__ import annotations

import json
import shutil
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from lxml import html as lxml_html

from crawler.sample_server import SampleServer, load_manifest, sample_site_dir

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
MANIFEST = load_manifest()
ARTICLES = MANIFEST["articles"]
NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}


@pytest.fixture(scope="module")
def live() -> Iterator[SampleServer]:
    """The packaged site, read-only, shared by the tests that only read."""
    with SampleServer() as server:
        yield server


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def norm(text: str) -> str:
    return " ".join(text.split())


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def links(base_url: str, page: str) -> list[str]:
    parser = _Links()
    parser.feed(page)
    return [urljoin(base_url + "/", href) for href in parser.hrefs]


def local_paths(base_url: str, urls: list[str]) -> set[str]:
    return {urlsplit(u).path for u in urls if u.startswith(base_url + "/")}


def test_home_page_has_the_base_url_filled_in(live: SampleServer) -> None:
    for path in ("/", "/index.html"):
        status, headers, body = fetch(live.base_url + path)
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert int(headers["Content-Length"]) == len(body)
        page = body.decode("utf-8")
        assert "__BASE_URL__" not in page
        assert f'href="{live.base_url}/news/' in page
        assert "أخبار العينة" in page
    hrefs = links(live.base_url, page)
    assert f"{live.base_url}/private/admin.html" in hrefs
    assert any(urlsplit(h).hostname == "example.org" for h in hrefs)
    assert {"/about.html", "/contact.html", "/section/politics.html"} <= set(
        local_paths(live.base_url, hrefs)
    )


def test_robots_txt(live: SampleServer) -> None:
    status, headers, body = fetch(live.base_url + "/robots.txt")
    assert status == 200
    assert headers["Content-Type"] == "text/plain"
    lines = body.decode("ascii").splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /private/" in lines
    assert f"Sitemap: {live.base_url}/sitemap_index.xml" in lines


def test_cp1256_page_is_served_as_windows_1256(live: SampleServer) -> None:
    (entry,) = [a for a in ARTICLES if a["kind"] == "cp1256"]
    status, headers, body = fetch(live.base_url + entry["path"])
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=windows-1256"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = body.decode("cp1256")
    assert '<meta charset="windows-1256">' in page
    assert entry["title"] in page
    assert entry["body"][0] in page
    assert f"{live.base_url}{entry['path']}" in page, "the base URL is filled in here too"


def test_every_page_answers_and_others_do_not(live: SampleServer) -> None:
    for path in [a["path"] for a in ARTICLES] + MANIFEST["pages"]:
        status, headers, _ = fetch(live.base_url + path)
        assert status == 200, path
        assert headers["Content-Type"].startswith("text/html"), path
    for path in ("/missing.html", "/news/2030/01/01/nothing.html", "/../../etc/passwd"):
        assert fetch(live.base_url + path)[0] == 404, path
    status, headers, _ = fetch(live.base_url + "/sitemap_index.xml")
    assert (status, headers["Content-Type"]) == (200, "application/xml")


def test_head_has_headers_and_no_body(live: SampleServer) -> None:
    _, _, full = fetch(live.base_url + "/rss.xml")
    status, headers, body = fetch(live.base_url + "/rss.xml", method="HEAD")
    assert status == 200
    assert body == b""
    assert int(headers["Content-Length"]) == len(full)


def test_articles_are_found_where_the_manifest_says(live: SampleServer) -> None:
    base = live.base_url
    feed = ET.fromstring(fetch(base + "/rss.xml")[2])
    in_feed = local_paths(base, [link.text or "" for link in feed.iterfind("channel/item/link")])

    index = ET.fromstring(fetch(base + "/sitemap_index.xml")[2])
    assert index.tag == f"{{{NS['sm']}}}sitemapindex"
    in_sitemap: set[str] = set()
    for loc in index.iterfind("sm:sitemap/sm:loc", NS):
        urlset = ET.fromstring(fetch(loc.text or "")[2])
        for url in urlset.iterfind("sm:url", NS):
            assert url.find("news:news/news:publication_date", NS) is not None
            in_sitemap |= local_paths(base, [url.findtext("sm:loc", "", NS)])

    home = local_paths(base, links(base, fetch(base + "/")[2].decode("utf-8")))

    for entry in ARTICLES:
        path = entry["path"]
        assert (path in in_feed) == entry["in_feed"], path
        assert (path in in_sitemap) == entry["in_sitemap"], path
        assert (path in home) == entry["linked_from_home"], path
        assert entry["in_feed"] or entry["in_sitemap"] or entry["linked_from_home"], path
    paths = {a["path"] for a in ARTICLES}
    assert in_feed | in_sitemap <= paths, "feeds and sitemaps list only known articles"
    assert in_feed & in_sitemap, "the feed and the sitemap overlap"
    link_only = [a for a in ARTICLES if not (a["in_feed"] or a["in_sitemap"])]
    assert link_only, "some articles are found only by following links"


def test_manifest_matches_the_pages() -> None:
    root = sample_site_dir()
    kinds = {a["kind"] for a in ARTICLES}
    assert {"seed", "arabic", "english", "cp1256", "broken", "listing"} == kinds
    assert len(ARTICLES) >= 24
    types = {a["page_type"] for a in ARTICLES}
    assert {"article", "opinion", "live", "video", "gallery"} <= types, "every archived type"
    for entry in ARTICLES:
        raw = (root / entry["path"].lstrip("/")).read_bytes()
        assert (entry["page_type"] is None) == bool(entry["skip_reason"]), entry["path"]
        if entry["kind"] == "broken":
            assert not entry["body"] and b"</html>" not in raw
            continue
        if entry["skip_reason"]:  # a page with no article of its own: no body to check
            assert not entry["body"], entry["path"]
            continue
        tree = lxml_html.fromstring(raw.decode("cp1256" if entry["kind"] == "cp1256" else "utf-8"))
        (h1,) = tree.iter("h1")
        assert norm(h1.text_content()) == entry["title"]
        assert entry["title"] in tree.findtext(".//title")
        blocks = [norm(el.text_content()) for el in tree.xpath("//p | //h2 | //h3 | //li")]
        positions = [blocks.index(paragraph) for paragraph in entry["body"]]
        assert positions == sorted(positions), entry["path"]
        for script in tree.xpath("//script"):
            script.drop_tree()
        page_text = norm(tree.text_content())
        own_text = " ".join([entry["title"], *entry["body"]])
        for junk in entry["boilerplate"]:
            assert junk in page_text and junk not in own_text, (entry["path"], junk)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="seed articles not found next to the repo")
def test_seed_pages_carry_exactly_the_seed_texts() -> None:
    """Each seed line is the title, a body paragraph (in seed order), or page furniture
    that the manifest lists as boilerplate (captions, credits, «اقرأ أيضاً» lists)."""
    seeds = [a for a in ARTICLES if a["kind"] == "seed"]
    assert sorted(a["seed"] for a in seeds) == sorted(p.name for p in SEEDS.glob("*.txt"))
    for entry in seeds:
        lines = [norm(line) for line in (SEEDS / entry["seed"]).read_text("utf-8").splitlines()]
        lines = [line for line in lines if line]
        body_lines = [line for line in lines if line in entry["body"]]
        assert body_lines == entry["body"], entry["seed"]
        for line in lines:
            if line == entry["title"] or line in entry["body"]:
                continue
            assert any(junk in line for junk in entry["boilerplate"]), (entry["seed"], line)


def test_site_is_small() -> None:
    total = sum(p.stat().st_size for p in sample_site_dir().rglob("*") if p.is_file())
    assert total < 400 * 1024


@pytest.fixture
def copied(tmp_path: Path) -> Iterator[tuple[Path, SampleServer]]:
    site = Path(shutil.copytree(sample_site_dir(), tmp_path / "site"))
    with SampleServer(root=site) as server:
        yield site, server


def test_serves_files_added_and_changed_after_start(copied: tuple[Path, SampleServer]) -> None:
    site, server = copied
    new = site / "news" / "2026" / "11" / "20" / "new-story.html"
    assert fetch(server.base_url + "/news/2026/11/20/new-story.html")[0] == 404
    new.parent.mkdir(parents=True)
    new.write_text('<a href="__BASE_URL__/">خبر جديد</a>', encoding="utf-8")
    status, _, body = fetch(server.base_url + "/news/2026/11/20/new-story.html")
    assert status == 200
    assert body.decode("utf-8") == f'<a href="{server.base_url}/">خبر جديد</a>'

    rss = site / "rss.xml"
    rss.write_text(rss.read_text(encoding="utf-8").replace("</channel>", "<item/></channel>"))
    assert b"<item/></channel>" in fetch(server.base_url + "/rss.xml")[2]


def test_manifest_kind_cp1256_sets_the_charset(copied: tuple[Path, SampleServer]) -> None:
    site, server = copied
    page = '<html><head><meta charset="windows-1256"></head><body><p>خبر قديم</p></body></html>'
    (site / "legacy.html").write_bytes(page.encode("cp1256"))
    assert fetch(server.base_url + "/legacy.html")[1]["Content-Type"].endswith("utf-8")
    manifest = load_manifest(site)
    manifest["articles"].append({"path": "/legacy.html", "kind": "cp1256"})
    (site / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    _, headers, body = fetch(server.base_url + "/legacy.html")
    assert headers["Content-Type"] == "text/html; charset=windows-1256"
    assert body.decode("cp1256") == page


def test_requests_are_recorded_in_order(copied: tuple[Path, SampleServer]) -> None:
    _, server = copied
    for path in ("/robots.txt", "/", "/missing.html", "/rss.xml?page=2"):
        fetch(server.base_url + path)
    fetch(server.base_url + "/about.html", method="HEAD")
    assert server.requests == [
        "/robots.txt",
        "/",
        "/missing.html",
        "/rss.xml?page=2",
        "/about.html",
    ]


def test_start_picks_a_free_port_and_stop_frees_it() -> None:
    first, second = SampleServer().start(), SampleServer().start()
    try:
        assert first.base_url != second.base_url
        assert first.base_url.startswith("http://127.0.0.1:")
        assert not first.base_url.endswith("/")
    finally:
        first.stop()
        second.stop()
    with pytest.raises(RuntimeError):
        _ = first.base_url
