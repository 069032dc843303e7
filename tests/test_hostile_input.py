"""Hostile input: feeds and sitemaps built to expand entities, read local files, break the
parser or fill memory; HTML built to break extraction. Each either yields its links or
record, or fails with the module's own error and a reason, never another exception."""

from __future__ import annotations

import gzip
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from analysis.extract import ExtractionError, extract_article
from crawler.feeds import MAX_SITEMAP_BYTES, FeedError, feed_links, iter_sitemap, sitemap_entries
from tests.conftest import ROOT, reliability_fact

SECRET = "arshif-secret-7f3a"
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>"""


def _feeds(secret_file: Path) -> dict[str, bytes]:
    ext = f'<!DOCTYPE r [<!ENTITY x SYSTEM "file://{secret_file}">]>'.encode()
    param = (
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "file://{secret_file}"> %p;'
        '<!ENTITY % q SYSTEM "http://127.0.0.1:9/evil.dtd"> %q;]>'
    ).encode()
    item = b"<rss><channel><item><link>https://n.example/a/1?q=%s</link></item></channel></rss>"
    urlset = b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>https://n.example/s/1?q=%s</loc></url></urlset>'  # noqa: E501
    return {
        "rss-billion-laughs": LAUGHS + item % b"&lol9;",
        "sitemap-billion-laughs": LAUGHS + urlset % b"&lol9;",
        "rss-external-entity": b'<?xml version="1.0"?>' + ext + item % b"&x;",
        "sitemap-external-entity": b'<?xml version="1.0"?>' + ext + urlset % b"&x;",
        "rss-parameter-entity": b'<?xml version="1.0"?>' + param + item % b"z",
        "sitemap-parameter-entity": b'<?xml version="1.0"?>' + param + urlset % b"z",
    }


@pytest.mark.parametrize(
    "kind",
    [
        "rss-billion-laughs",
        "sitemap-billion-laughs",
        "rss-external-entity",
        "sitemap-external-entity",
        "rss-parameter-entity",
        "sitemap-parameter-entity",
    ],
)
def test_entities_are_neither_expanded_nor_fetched(kind: str, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    body = _feeds(secret)[kind]
    started = time.monotonic()
    try:
        links = list(feed_links(body)) if kind.startswith("rss") else sitemap_entries(body)[1]
    except FeedError:
        links = []
    reliability_fact("hostile", group="xml-entities", case=kind, links=len(links))
    assert time.monotonic() - started < 2
    assert all(len(link) < 200 and "lollol" not in link for link in links)
    assert all(SECRET not in link for link in links)


BROKEN = [
    b"",
    b"\x00\x01\x02",
    b"<",
    b"<?xml version='1.0'?>",
    b"<rss><channel><item><link>https://n.example/a/1",
    b"<urlset><url><loc>https://n.example/s/1</loc></url><url><loc>https://n.exa",
    b"\x1f\x8b\x08\x00garbage-gzip",
    gzip.compress(b"<urlset><url><loc>https://n.example/s/1</loc></url></urlset>")[:-12],
    "<rss><channel><item><link>https://n.example/أ</link></item>".encode("utf-16"),
    b"<rss>" + b"<item>" * 50_000 + b"<link>https://n.example/deep</link>",
    b"<html><body><p>not xml at all &nbsp; &copy;</p></body></html>",
    b"<rss><channel><item><link>\xff\xfe\xc3\x28 https://n.example/a/2</link></item></channel></rss>",
]


@pytest.mark.parametrize("body", BROKEN, ids=range(len(BROKEN)))
def test_broken_xml_is_links_or_feed_error(body: bytes) -> None:
    for parse in (lambda b: list(feed_links(b)), lambda b: sitemap_entries(b)[1]):
        reliability_fact("hostile", group="broken-xml", case=BROKEN.index(body))
        try:
            links = parse(body)
        except FeedError as exc:
            assert str(exc)
            continue
        assert all(isinstance(link, str) for link in links)


ENTRIES = 1_000_000


def _big_sitemap(path: Path, entries: int = ENTRIES) -> None:
    """A urlset of `entries` compact locations, written in chunks (never whole in memory)."""
    with path.open("wb") as fh:
        fh.write(
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        )
        for start in range(0, entries, 10_000):
            fh.write(
                "".join(
                    f"<url><loc>https://n.ex/{n}</loc></url>" for n in range(start, start + 10_000)
                ).encode()
            )
        fh.write(b"</urlset>")


def _count(locations: Iterator[str]) -> tuple[int, str]:
    n, last = 0, ""
    for loc in locations:
        n, last = n + 1, loc
    return n, last


def test_sitemap_streams_in_bounded_python_memory(tmp_path: Path) -> None:
    """Python-side peak stays constant: 250k entries here (tracemalloc slows allocation
    several fold); the million-entry run below measures the whole process."""
    entries = 250_000
    path = tmp_path / "sitemap.xml"
    _big_sitemap(path, entries)
    assert path.stat().st_size < MAX_SITEMAP_BYTES
    tracemalloc.start()
    try:
        started = time.monotonic()
        with path.open("rb") as fh:
            kind, locations = iter_sitemap(fh)
            n, last = _count(locations)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    reliability_fact("hostile", group="huge-sitemap", case=f"{entries} entries", peak=peak)
    assert (kind, n, last) == ("urlset", entries, f"https://n.ex/{entries - 1}")
    assert peak < 2 * 1024 * 1024, f"Python peak {peak / 1e6:.1f} MB"
    assert time.monotonic() - started < 60


CHILD = """
import resource, sys
from pathlib import Path
from crawler.feeds import iter_sitemap
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with Path(sys.argv[1]).open("rb") as fh:
    kind, locations = iter_sitemap(fh)
    n, last = 0, ""
    for last in locations:
        n += 1
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(n, last, (after - before) // 1024)
"""


def test_million_entry_gzipped_sitemap_keeps_resident_memory_flat(tmp_path: Path) -> None:
    """A million entries, gzipped, streamed: lxml's own (C) memory is not seen by
    tracemalloc, so the child's peak resident memory is measured (the list the old
    parser built would alone take ~100 MB)."""
    plain = tmp_path / "sitemap.xml"
    _big_sitemap(plain)
    packed = tmp_path / "sitemap.xml.gz"
    with plain.open("rb") as src, gzip.open(packed, "wb") as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(packed)],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=True,
    )  # fmt: skip
    n, last, grown = out.stdout.split()
    grown_mb = int(grown)
    reliability_fact(
        "hostile", group="huge-sitemap", case=f"{n} entries, gzipped", grown_mb=grown_mb
    )
    assert (int(n), last) == (ENTRIES, f"https://n.ex/{ENTRIES - 1}")
    assert grown_mb < 20, f"resident memory grew {grown_mb} MB while streaming"


def test_gzip_bomb_sitemap_stops_at_the_size_limit() -> None:
    entry = b"<url><loc>https://n.ex/x</loc></url>"
    bomb = gzip.compress(b"<urlset>" + entry * (MAX_SITEMAP_BYTES // len(entry) + 10_000))
    assert len(bomb) < MAX_SITEMAP_BYTES // 50
    reliability_fact("hostile", group="sitemap-gzip-bomb", case=len(bomb))
    with pytest.raises(FeedError, match="larger than"):
        sitemap_entries(bomb)


TEXT = "<p>" + "تحدث الوزير عن التعاون الاقتصادي بين البلدين وأكد أهمية الاستثمار. " * 10 + "</p>"
PAGE = "<html><head><title>عنوان الخبر</title></head><body><article><h1>عنوان الخبر</h1>{}</article></body></html>"  # noqa: E501
HTML = {
    "deep-nesting-100k": ("<html><body>" + "<div>" * 100_000 + TEXT + "</div>" * 100_000).encode(),
    "deep-unclosed-100k": ("<html><body>" + "<div><span><b>" * 100_000 + TEXT).encode(),
    "deep-tables-10k": ("<html><body>" + "<table><tr><td>" * 10_000 + TEXT).encode(),
    "huge-attribute-5mb": PAGE.format(f'<p class="{"x" * 5_000_000}">a</p>' + TEXT).encode(),
    "many-attributes": PAGE.format(
        "<p " + " ".join(f"a{n}='{n}'" for n in range(10_000)) + ">a</p>" + TEXT
    ).encode(),
    "scripts-only": ("<html><body>" + "<script>var s='تحدث الوزير';</script>" * 5000).encode(),
    "styles-only": ("<html><head>" + "<style>p{color:red}</style>" * 5000 + "</head>").encode(),
    "no-text": b"<html><body><div></div><img src=x><br><hr></body></html>",
    "empty": b"",
    "whitespace": b" \n\t " * 1000,
    "nul-bytes": b"\x00" * 10_000,
    "mixed-utf8-cp1256-utf16": PAGE.format("").encode()[:-24]
    + TEXT.encode("utf-8")
    + TEXT.encode("cp1256")
    + TEXT.encode("utf-16")
    + b"</article></body></html>",
    "wrong-declared-charset": b'<meta charset="iso-8859-1">' + PAGE.format(TEXT).encode("cp1256"),
    "unknown-charset": b'<meta charset="x-no-such">' + PAGE.format(TEXT).encode(),
    "bom-then-cp1256": b"\xef\xbb\xbf" + PAGE.format(TEXT).encode("cp1256"),
    "broken-tags": ("<html><body><<<>>><p <a href='" + TEXT + "</b></i></div>" * 1000).encode(),
    "huge-comment": PAGE.format("<!--" + "x" * 2_000_000 + TEXT).encode(),
    "too-large": PAGE.format(TEXT * 20_000).encode(),
}


@pytest.mark.parametrize("kind", sorted(HTML))
def test_hostile_html_is_a_record_or_extraction_error(kind: str) -> None:
    body = HTML[kind]
    started = time.monotonic()
    for header_encoding in (None, "utf-8", "x-bogus"):
        reliability_fact("hostile", group="hostile-html", case=kind, charset=header_encoding)
        try:
            record = extract_article(
                body, "https://n.example/a/1.html", header_encoding=header_encoding
            )
        except ExtractionError as exc:
            assert exc.reason
            assert not exc.reason.startswith("extraction failed"), exc.reason  # no library crash
            continue
        assert isinstance(record["text"], str) and record["text"].strip()
        assert isinstance(record.get("title"), str)
    assert time.monotonic() - started < 30


def test_mixed_encodings_keep_the_readable_arabic() -> None:
    record = extract_article(HTML["mixed-utf8-cp1256-utf16"], "https://n.example/a/1.html")
    assert "التعاون الاقتصادي" in record["text"]


def test_too_large_page_is_refused_with_its_size() -> None:
    with pytest.raises(ExtractionError, match="too large"):
        extract_article(HTML["too-large"], "https://n.example/a/1.html")


COMMENTS = {  # pages that open with HTML comments, for the feed-or-page check
    "40-comments": "<!-- c -->" * 40,
    "10k-comments-with-dashes": "<!-- a - b -- c --->\n" * 10_000,
    "unclosed-comment": "<!-- " + "-" * 100_000,
    "nested-openers": "<!--" * 50_000,
}


@pytest.mark.parametrize("kind", sorted(COMMENTS))
def test_leading_comments_do_not_hang_extraction(kind: str) -> None:
    """The check that tells feeds from pages backtracked exponentially over leading
    comments (24 took 85 s). In a child process, so that a regression fails here
    instead of hanging the test run."""
    code = (
        "import sys; from analysis.extract import ExtractionError, extract_article\n"
        "try: extract_article(sys.stdin.buffer.read(), 'https://n.example/a/1.html')\n"
        "except ExtractionError as exc: print(exc.reason)\n"
    )
    body = (COMMENTS[kind] + PAGE.format(TEXT)).encode()
    reliability_fact("hostile", group="regex-backtracking", case=f"page: {kind}")
    done = subprocess.run(
        [sys.executable, "-c", code], input=body, capture_output=True, timeout=60, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    if "comments" in kind:  # closed comments, then a page: not taken for a feed
        assert b"not HTML" not in done.stdout


SPACES = " " * 30_000
METADATA = {  # long runs of spaces where names, tags, titles and bylines are split
    "keywords": f'<meta name="keywords" content="أ{SPACES}ب،{SPACES}ج">',
    "author": f'<meta name="author" content="كاتب{SPACES}و{SPACES}آخر">',
    "title": f"<title>عنوان{SPACES}-{SPACES}الموقع</title>",
}


@pytest.mark.parametrize("kind", sorted(METADATA))
def test_long_runs_of_spaces_in_metadata_do_not_stall_extraction(kind: str) -> None:
    """The splitters of names, tags, titles and datelines were quadratic in a run of
    spaces (30,000 in a keywords meta: 13 s). In a child process with a bound, so that a
    regression fails here instead of stalling the test run."""
    code = (
        "import sys; from analysis.extract import ExtractionError, extract_article\n"
        "try: extract_article(sys.stdin.buffer.read(), 'https://n.example/a/1.html')\n"
        "except ExtractionError as exc: print(exc.reason)\n"
    )
    page = PAGE.replace("<head>", "<head>" + METADATA[kind]).format(TEXT)
    reliability_fact("hostile", group="regex-backtracking", case=f"metadata: {kind}")
    done = subprocess.run(
        [sys.executable, "-c", code], input=page.encode(), capture_output=True, timeout=10, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
