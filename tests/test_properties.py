"""Property-based tests (hypothesis): the Arabic normaliser and analyser, the date parser,
canonical URLs, the topic matcher and search input never crash on arbitrary text, and are
idempotent or stable where they must be."""

from __future__ import annotations

import re
import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.dates import date_spans, find_dates, parse_date, text_dates, url_date
from arshif.arabic import analyze, normalize, stem, tokens
from arshif.record import Article
from arshif.urls import article_id, canonical_url
from indexer.archive import Archive
from indexer.embedded import EmbeddedIndex
from indexer.search import QueryError, SearchQuery, parse_query, search
from indexer.topics import load_topics

SETTINGS = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Arabic letters, marks, tatweel, Arabic-Indic digits, presentation forms, Latin and
# punctuation mixed with arbitrary unicode: the alphabet the crawler meets.
ARABIC = st.characters(min_codepoint=0x0600, max_codepoint=0x06FF)
PRESENTATION = st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFC)
MIXED = st.text(
    st.one_of(ARABIC, ARABIC, PRESENTATION, st.characters(), st.sampled_from(' "*:-()^+'))
)
DATEY = st.lists(
    st.one_of(
        st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩-/:.,TZ+ "),
        st.sampled_from(["يناير", "مارس", "نوفمبر", "ذو الحجة", "هـ", "م", "GMT", "Mon, "]),
        st.integers(0, 3000).map(str),
        ARABIC,
    ),
    max_size=25,
).map("".join)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@SETTINGS
@given(MIXED)
def test_normalize_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert isinstance(once, str)
    assert normalize(once) == once


@SETTINGS
@given(MIXED)
def test_tokens_stem_analyze_do_not_crash_and_analyze_ignores_normalisation(text: str) -> None:
    toks = tokens(text)
    assert all(isinstance(t, str) and t for t in toks)
    assert all(isinstance(stem(t), str) for t in toks)
    assert analyze(normalize(text)) == analyze(text)


def _valid_iso(value: str) -> None:
    """A date string the archive can store: it starts with a real calendar date."""
    assert ISO_DATE.match(value), value
    date.fromisoformat(value[:10])
    datetime.fromisoformat(value)


@SETTINGS
@given(st.one_of(DATEY, MIXED))
def test_date_parsing_never_crashes_and_returns_valid_iso(text: str) -> None:
    stamp = parse_date(text)
    if stamp is not None:
        _valid_iso(stamp.iso())
    for found in text_dates(text):
        _valid_iso(found.stamp.iso())
    for start, end in date_spans(text):
        assert 0 <= start <= end
    published, modified = find_dates(text, now=datetime(2026, 11, 23))
    for value in (published, modified):
        if value is not None:
            _valid_iso(value)


@SETTINGS
@given(st.text(st.sampled_from("0123456789/-abcnews"), max_size=40))
def test_url_date_is_valid_or_none(path: str) -> None:
    stamp = url_date(f"https://news.example/{path}.html")
    if stamp is not None:
        _valid_iso(stamp.iso())


SEGMENT = st.text(
    st.one_of(
        st.characters(min_codepoint=0x0621, max_codepoint=0x064A),
        st.sampled_from("abcXYZ019-_.~%!$&'()*+,;=:@ "),
    ),
    max_size=12,
)
URLS = st.builds(
    lambda scheme, prefix, host, port, segs, amp, params, frag: (
        f"{scheme}://{prefix}{host}{port}/{'/'.join(segs)}{amp}"
        + ("?" + "&".join(f"{k}={v}" for k, v in params) if params else "")
        + (f"#{frag}" if frag else "")
    ),
    st.sampled_from(["http", "https", "HTTP", "Https"]),
    st.sampled_from(["", "www.", "m.", "amp.", "WWW2."]),
    st.sampled_from(["news.example", "Aljazeera.NET", "xn--mgbh0fb.example", "a.b.c"]),
    st.sampled_from(["", ":80", ":443", ":8080"]),
    st.lists(SEGMENT, max_size=4),
    st.sampled_from(["", "/", "/amp", ".amp.html", "/amp/"]),
    st.lists(
        st.tuples(st.sampled_from(["utm_source", "id", "p", "fbclid", "q", "page"]), SEGMENT),
        max_size=3,
    ),
    SEGMENT,
)


@SETTINGS
@given(URLS)
def test_canonical_url_is_idempotent_and_article_id_stable(url: str) -> None:
    canon = canonical_url(url)
    assert canonical_url(canon) == canon
    assert article_id(canon) == article_id(url)
    assert re.fullmatch(r"[0-9a-f]{16}", article_id(url))
    if not re.match(r"^https?://[^/]*:\d", canon):  # an explicit port names another server
        swapped = "https" if canon.startswith("http:") else "http"
        other = re.sub(r"^https?", swapped, canon)
        assert article_id(other) == article_id(url), "http and https variants are one article"


@SETTINGS
@given(st.text(max_size=200))
def test_canonical_url_does_not_crash_on_any_text(text: str) -> None:
    try:
        result = canonical_url(text)
    except ValueError:  # urllib's own verdict on an impossible URL (bad port, IPv6)
        return
    assert isinstance(result, str)


TOPICS = load_topics()
PHRASES = st.sampled_from(["قمة", "شنغهاي", "منظمة شنغهاي للتعاون", "والقمة", "للقمة", "سمرقند"])


@SETTINGS
@given(
    st.lists(st.one_of(MIXED, PHRASES), max_size=8).map(" ".join),
    st.lists(st.one_of(MIXED, PHRASES), max_size=30).map(" ".join),
    st.one_of(st.none(), DATEY, st.just("2022-09-15")),
)
def test_topic_matcher_never_crashes(title: str, text: str, published: str | None) -> None:
    found = TOPICS.tag(title, text, published)
    assert set(found) <= set(TOPICS.topics)
    assert found == TOPICS.tag(title, text, published), "tagging is deterministic"
    for topic_id in found:
        assert any(r.matched for r in TOPICS.explain(topic_id, title, text, published))


SQLISH = st.sampled_from(
    [
        '"', "'", "*", "^", ":", "(", ")", "-", "+", "NEAR", "NEAR(", "AND", "OR", "NOT",
        "title:", "{", "}", ";", "--", "/*", "*/", "' OR 1=1 --", "'; DROP TABLE articles; --",
        "\x00", "\\", "%", "_", "قمة", "القمة", "سمرقند", "x",
    ]
)  # fmt: skip
QUERIES = st.lists(st.one_of(SQLISH, MIXED), max_size=8).map(" ".join)


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("props") / "archive.sqlite"
    with Archive(path) as archive:
        for n, (title, text) in enumerate(
            [
                ("انعقاد القمة في سمرقند", "وصل القادة إلى المدينة لحضور القمة والتعاون."),
                ("NEAR AND OR", 'The words "NEAR" AND OR NOT are plain text here * ^.'),
                ("أسعار النفط", "ارتفعت أسعار النفط في الأسواق العالمية."),
            ]
        ):
            archive.upsert(
                Article(
                    id=f"a{n}",
                    url=f"https://news.example/{n}",
                    canonical_url=f"https://news.example/{n}",
                    outlet="alpha",
                    title=title,
                    text=text,
                    published="2022-09-15T10:00:00Z",
                    language="ar",
                )
            )
        EmbeddedIndex(archive).drain(archive)
    return path


@SETTINGS
@given(QUERIES)
def test_search_input_is_only_ever_text(indexed: Path, text: str) -> None:
    with Archive(indexed) as archive:
        try:
            parse_query(text)
        except QueryError as refused:  # malformed or empty: the same error, nothing run
            with pytest.raises(QueryError) as caught:
                search(archive, SearchQuery(text))
            assert str(caught.value) == str(refused) and 0 <= refused.position <= len(text)
            return
        result = search(archive, SearchQuery(text, limit=50))
        assert result.total == len(result.hits) <= 3
    with sqlite3.connect(indexed) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("select count(*) from articles").fetchone() == (3,)


def test_search_operators_are_upper_case_words_only(indexed: Path) -> None:
    """Lower-case or quoted, operator words are words to find; upper-case, operators."""
    with Archive(indexed) as archive:
        assert {h.id for h in search(archive, SearchQuery("near and or")).hits} == {"a1"}
        assert {h.id for h in search(archive, SearchQuery('"NEAR" "AND"')).hits} == {"a1"}
        found = search(archive, SearchQuery('"القمة" OR النفط')).hits
        assert {h.id for h in found} == {"a0", "a2"}
