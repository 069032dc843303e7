"""The query language, the same on both backends: every case runs on the embedded (tantivy)
index and on Elasticsearch (noida-db, whose Arabic analysis is approximate: the cases check
which articles match, not how they rank). Facets and counts are checked against the archive."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from arshif.record import Article
from indexer.archive import Archive
from indexer.embedded import EmbeddedIndex
from indexer.filters import Filters
from indexer.search import QueryError, SearchIndex, SearchQuery, parse_query
from tests.backends import index_on
from tests.test_es import noida  # noqa: F401 - the noida fixture

STORIES = {
    "putin-xi": ("بوتين يلتقي شي في سمرقند",
                 "التقى الرئيس الروسي فلاديمير بوتين نظيره الصيني شي جين بينغ على هامش قمة "
                 "منظمة شنغهاي للتعاون.", "alpha", "2022-09-15T10:00:00+03:00", ["sco-summit"]),
    "putin-tehran": ("بوتين يزور طهران",
                     "وصل الرئيس الروسي فلاديمير بوتين إلى طهران لبحث الملفات الإقليمية.",
                     "alpha", "2022-07-19T09:00:00+03:00", []),
    "xi-macron": ("شي يستقبل ماكرون",
                  "استقبل الرئيس الصيني شي جين بينغ نظيره الفرنسي في بكين.",
                  "gamma", "2023-04-06T12:00:00+08:00", []),
    "oil": ("أسعار النفط ترتفع",
            "ارتفعت أسعار النفط في الأسواق العالمية بعد قرار أوبك.",
            "beta", "2023-10-02T08:00:00Z", []),
    "g20": ("قمة العشرين",
            "تنطلق قمة مجموعة العشرين في نيودلهي بمشاركة قادة العالم أو من ينوب عنهم.",
            "beta", "2023-09-09T07:00:00+05:30", []),
    "speech": ("خطاب الرئيس",
               "قال الرئيس إن الاقتصاد ليس في خطر رغم تصريحات بوتين الأخيرة.",
               "gamma", None, []),
}  # fmt: skip
ALL = set(STORIES)

CASES = [
    ("بوتين", {"putin-xi", "putin-tehran", "speech"}),
    ("بوتين شي", {"putin-xi"}),  # implicit AND
    ("بوتين AND شي", {"putin-xi"}),
    ("بوتين -شي", {"putin-tehran", "speech"}),  # a leading - excludes
    ("بوتين NOT شي", {"putin-tehran", "speech"}),
    ("-شي", ALL - {"putin-xi", "xi-macron"}),  # only an exclusion: everything else
    ("بوتين OR ماكرون", {"putin-xi", "putin-tehran", "speech", "xi-macron"}),
    ("(بوتين OR ماكرون) شي", {"putin-xi", "xi-macron"}),
    ("شي (بوتين OR ماكرون) -سمرقند", {"xi-macron"}),
    ('"الرئيس الروسي"', {"putin-xi", "putin-tehran"}),  # a phrase keeps its order
    ('"الروسي الرئيس"', set()),
    ('"الرئيس الروسي" طهران', {"putin-tehran"}),
    ("شنغ*", {"putin-xi"}),  # a prefix of the normalised word
    ("شنغ* OR نيود*", {"putin-xi", "g20"}),
    ("title:بوتين", {"putin-xi", "putin-tehran"}),  # the title only
    ('title:"قمة العشرين"', {"g20"}),
    ("title:(بوتين OR ماكرون)", {"putin-xi", "putin-tehran", "xi-macron"}),
    ("outlet:beta", {"oil", "g20"}),
    ("قمة outlet:beta", {"g20"}),
    ("topic:sco-summit", {"putin-xi"}),
    ("بوتين -outlet:gamma", {"putin-xi", "putin-tehran"}),
    ("قمة أو النفط", set()),  # «أو» is a word (a stop word), not OR: both words needed
    ("قمة OR النفط", {"putin-xi", "g20", "oil"}),
    ("الاقتصاد ليس", {"speech"}),  # «ليس» is a word, not NOT
    ("or", set()),  # lower-case operators are words
]

MALFORMED = [
    ('"بوتين شي', 0, "quote"),
    ("(بوتين OR شي", 0, "never closed"),
    ("بوتين شي)", 8, "no ("),
    ("بوتين OR", 6, "OR needs"),
    ("OR بوتين", 0, "OR needs"),
    ("بوتين AND", 6, "AND needs"),
    ("NOT", 0, "NOT needs"),
    ("بوتين ()", 6, "empty parentheses"),
    ("ش*", 0, "at least 2"),
    ("title:", 0, "needs a value"),
    ("بوتين -في", 7, "nothing to exclude"),
    ("في", 0, "no searchable"),
]


def make(key: str) -> Article:
    title, text, outlet, published, topics = STORIES[key]
    return Article(
        id=key,
        url=f"https://news.example/{key}",
        canonical_url=f"https://news.example/{key}",
        outlet=outlet,
        title=title,
        text=text,
        published=published,
        language="ar",
        topics=topics,
        fetched_at="2026-11-23T10:00:00+00:00",
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with Archive(tmp_path_factory.mktemp("ql") / "archive.sqlite") as db:
        for key in STORIES:
            db.upsert(make(key))
        # An English copy of "oil" a day later: the language facet has two values.
        db.upsert(replace(make("oil"), id="oil-en", url="https://news.example/oil-en",
                          language="en", published="2023-10-03T08:00:00Z"))  # fmt: skip
        yield db


@pytest.fixture(scope="module", params=["embedded", "elasticsearch"])
def backend(request: pytest.FixtureRequest, archive: Archive) -> Iterator[SearchIndex]:
    yield from index_on(request, archive, "ql")


def ids(backend: SearchIndex, text: str, **kwargs: object) -> list[str]:
    result = backend.search(SearchQuery(text, limit=100, **kwargs))  # type: ignore[arg-type]
    assert result.total == len(result.hits) == backend.count(text, kwargs.get("filters"))  # type: ignore[arg-type]
    return [hit.id for hit in result.hits]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_query_language(backend: SearchIndex, query: str, expected: set[str]) -> None:
    # "oil-en" is the English copy of "oil": the same words, so it matches with it.
    found = set(ids(backend, query))
    assert found == expected | ({"oil-en"} if "oil" in expected else set()), query


@pytest.mark.parametrize(("query", "position", "words"), MALFORMED)
def test_malformed_queries_point_at_the_error(
    backend: SearchIndex, query: str, position: int, words: str
) -> None:
    with pytest.raises(QueryError) as caught:
        backend.search(SearchQuery(query))
    assert caught.value.position == position and words in caught.value.message
    assert f"at character {position + 1}" in str(caught.value)


def test_sort_by_date(backend: SearchIndex) -> None:
    query = "الرئيس OR النفط OR قمة"
    by_date = ["putin-tehran", "putin-xi", "xi-macron", "g20", "oil", "oil-en"]
    assert ids(backend, query, sort="newest") == [*by_date[::-1], "speech"], "undated last"
    assert ids(backend, query, sort="oldest") == [*by_date, "speech"]
    assert set(ids(backend, query)) == {*by_date, "speech"}


def test_facets_and_coverage_equal_counts_over_the_archive(
    backend: SearchIndex, archive: Archive
) -> None:
    for text in (None, "بوتين OR النفط", "-شي"):
        for filters in (Filters(), Filters(outlets=("alpha",)), Filters(languages=("en",))):
            matched = (
                [archive.get(i) for i in ids(backend, text, filters=filters)]
                if text
                else list(archive.iter_articles(filters))
            )
            facets = backend.facets(text, filters)
            # Each facet ignores its own filter: count those matches without it.
            for name, unfiltered in (
                ("outlet", Filters(languages=filters.languages)),
                ("language", Filters(outlets=filters.outlets)),
            ):
                pool = (
                    [archive.get(i) for i in ids(backend, text, filters=unfiltered)]
                    if text
                    else list(archive.iter_articles(unfiltered))
                )
                expected = Counter(getattr(a, name) or "unknown" for a in pool if a)
                assert facets[name] == dict(expected), (text, filters, name)
            assert facets["topics"] == dict(Counter(t for a in matched if a for t in a.topics))
            months = Counter(a.published[:7] for a in matched if a and a.published)
            assert facets["month"] == dict(months)
            days = Counter((a.published[:10], a.outlet) for a in matched if a and a.published)
            coverage = backend.coverage(text, filters)
            assert {(d, o): n for d, row in coverage.items() for o, n in row.items()} == days
            assert list(coverage) == sorted(coverage)
            dated = [(date.fromisoformat(a.published[:10]), a.outlet) for a in matched
                     if a and a.published]  # fmt: skip
            starts = {
                "week": lambda d: d - timedelta(days=d.weekday()),  # Monday
                "month": lambda d: d.replace(day=1),
                "year": lambda d: d.replace(month=1, day=1),
            }
            for period, start in starts.items():
                by = Counter((start(d).isoformat(), o) for d, o in dated)
                table = backend.coverage(text, filters, period)
                assert {(d, o): n for d, row in table.items() for o, n in row.items()} == by
                assert list(table) == sorted(table)
            first_last = (min(d for d, _ in dated), max(d for d, _ in dated)) if dated else None
            span = backend.span(text, filters)
            assert span == (first_last and tuple(d.isoformat() for d in first_last))


def test_iteration_for_exports_is_in_archive_order(backend: SearchIndex, archive: Archive) -> None:
    order = [a.id for a in archive.iter_articles()]
    got = [a.id for a in backend.iter_matches("بوتين OR النفط", batch=2)]
    assert got == [i for i in order if i in {"putin-xi", "putin-tehran", "speech", "oil", "oil-en"}]
    assert [a.id for a in backend.iter_matches(None, Filters(outlets=("beta",)), batch=1)] == [
        "oil",
        "g20",
        "oil-en",
    ]


def test_parser_tree_marks_only_positive_terms() -> None:
    parsed = parse_query('بوتين -شي شنغ* "الرئيس الروسي"')
    assert "شي" not in parsed.terms and parsed.prefixes == ("شنغ",)
    assert {"رئيس", "روس"} <= parsed.terms


def test_embedded_snippets_mark_prefix_and_phrase_hits(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as db:
        db.upsert(make("putin-xi"))
        index = EmbeddedIndex(db)
        index.drain(db)
        (hit,) = index.search(SearchQuery('شنغ* "الرئيس الروسي" -ماكرون')).hits
    assert "[شنغهاي]" in hit.snippet and "[الرئيس] [الروسي]" in hit.snippet
