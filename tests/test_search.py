"""Search over the embedded (tantivy) index: Arabic spelling variants, ranking, filters,
paging, snippets, and user input that must never become engine syntax."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from arshif.record import Article
from indexer.archive import Archive
from indexer.embedded import EmbeddedIndex
from indexer.filters import Filters
from indexer.search import QueryError, SearchQuery, parse_query, search
from indexer.snippets import snippet

FILLER = "تحدث الوزير عن التعاون الاقتصادي بين البلدين وأكد أهمية الاستثمار في الطاقة والنقل."


def make(id_: str, title: str, text: str, **fields: object) -> Article:
    base = dict(
        id=id_,
        url=f"https://news.example/{id_}",
        canonical_url=f"https://news.example/{id_}",
        outlet="alpha",
        title=title,
        text=text,
        published="2022-09-15T10:00:00+04:00",
        language="ar",
    )
    return Article(**{**base, **fields})  # type: ignore[arg-type]


ARTICLES = [
    # The same word in four spellings: with the article, with و+article, with haa, plain.
    make("summit-al", "انعقاد القمة في سمرقند", "وصل القادة إلى المدينة لحضور القمة."),
    make("summit-wal", "بيان ختامي", "وانتهت اجتماعات اليوم والقمة مستمرة حتى الغد."),
    make("summit-haa", "لقاء القادة", "تبدأ قمه المنظمة غدا في المدينة."),
    make(
        "summit-plain",
        "موعد جديد",
        "أعلنت الرئاسة عن قمة شنغهاي للتعاون في أستانا.",
        outlet="beta",
        published="2024-07-04T08:00:00Z",
    ),
    # Tashkeel, tatweel, hamza forms and Arabic-Indic digits.
    make(
        "marked",
        "تقرير",
        "عُقِدَت القِمَّةُ عام ٢٠٢٢ في أوزبكستان، وحضرها رئيس إيران والـمـنـظـمـة.",
        outlet="beta",
        language="ar",
        published="2022-09-16",
    ),
    make(
        "unrelated",
        "أسعار النفط",
        "ارتفعت أسعار النفط في الأسواق العالمية.",
        outlet="gamma",
        language="en",
        published=None,
    ),
]
SUMMIT = {"summit-al", "summit-wal", "summit-haa", "summit-plain", "marked"}


@pytest.fixture
def archive(tmp_path: Path):
    with Archive(tmp_path / "archive.sqlite") as archive:
        for article in ARTICLES:
            archive.upsert(article)
        EmbeddedIndex(archive).drain(archive)
        yield archive


def ids(archive: Archive, text: str, **kwargs: object) -> set[str]:
    result = search(archive, SearchQuery(text, limit=1000, **kwargs))  # type: ignore[arg-type]
    assert result.total == len(result.hits)
    return {hit.id for hit in result.hits}


@pytest.mark.parametrize("spelling", ["قمة", "القمة", "قمه", "والقمة", "القمه", "بالقمة"])
def test_spellings_of_summit_find_the_same_articles(archive: Archive, spelling: str) -> None:
    assert ids(archive, spelling) == SUMMIT


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("القِمَّة", SUMMIT),  # tashkeel in the query
        ("القـمـة", SUMMIT),  # tatweel in the query
        ("2022", {"marked"}),  # Arabic-Indic digits in the text
        ("٢٠٢٢", {"marked"}),
        ("ايران", {"marked"}),  # hamza forms
        ("إيران", {"marked"}),
        ("اوزبكستان", {"marked"}),
        ("المنظمة", {"marked", "summit-haa"}),  # tatweel in the text
        ("عقدت", {"marked"}),  # tashkeel in the text
    ],
)
def test_tashkeel_tatweel_hamza_and_digits_are_folded(
    archive: Archive, query: str, expected: set[str]
) -> None:
    assert ids(archive, query) == expected


def test_all_words_must_match_and_phrases_keep_order(archive: Archive) -> None:
    assert ids(archive, "قمة شنغهاي") == {"summit-plain"}
    assert ids(archive, '"قمة شنغهاي"') == {"summit-plain"}
    assert ids(archive, '"شنغهاي قمة"') == set()
    assert ids(archive, "قمة النفط") == set()


def test_title_hit_outranks_text_only_hits(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        archive.upsert(make("in-title", "قمة سمرقند", FILLER))
        # Twice in the text: with equal column weights this one would rank first.
        archive.upsert(make("in-text", "لقاء في سمرقند", f"{FILLER} ملفات القمة وجدول القمة"))
        for n in range(5):
            archive.upsert(make(f"other{n}", "خبر آخر", FILLER))
        EmbeddedIndex(archive).drain(archive)
    with Archive(path) as archive:  # the rank setting is stored with the index
        hits = search(archive, SearchQuery("القمة")).hits
    assert [h.id for h in hits] == ["in-title", "in-text"]
    assert hits[0].score > hits[1].score > 0


def test_filters_apply_to_search(archive: Archive) -> None:
    assert ids(archive, "قمة", filters=Filters(outlets=("beta",))) == {"summit-plain", "marked"}
    assert ids(archive, "قمة", filters=Filters(since="2022-09-16")) == {"summit-plain", "marked"}
    assert ids(archive, "قمة", filters=Filters(until="2022-09-15")) == SUMMIT - {
        "summit-plain",
        "marked",
    }
    assert ids(archive, "النفط", filters=Filters(languages=("en",))) == {"unrelated"}
    assert ids(archive, "النفط", filters=Filters(since="2000-01-01")) == set()  # undated


def test_paging_covers_every_match_once(archive: Archive) -> None:
    pages = [search(archive, SearchQuery("قمة", limit=2, page=p)) for p in (1, 2, 3, 4)]
    assert [r.total for r in pages] == [5, 5, 5, 5]
    assert [len(r.hits) for r in pages] == [2, 2, 1, 0]
    assert [(r.page, r.limit) for r in pages] == [(1, 2), (2, 2), (3, 2), (4, 2)]
    seen = [hit.id for r in pages for hit in r.hits]
    assert sorted(seen) == sorted(SUMMIT)
    scores = [hit.score for r in pages for hit in r.hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(("limit", "page"), [(0, 1), (1001, 1), (10, 0), (10, -1)])
def test_paging_arguments_are_validated(limit: int, page: int) -> None:
    with pytest.raises(ValueError, match="limit|page"):
        SearchQuery("قمة", limit=limit, page=page)


def test_hits_carry_record_fields_and_highlighted_snippet(archive: Archive) -> None:
    (hit,) = search(archive, SearchQuery("شنغهاي")).hits
    assert hit.to_dict() == {
        "id": "summit-plain",
        "url": "https://news.example/summit-plain",
        "outlet": "beta",
        "title": "موعد جديد",
        "published": "2024-07-04T08:00:00Z",
        "score": hit.score,
        "snippet": "أعلنت الرئاسة عن قمة [شنغهاي] للتعاون في أستانا",
    }


def test_snippet_marks_every_spelling_in_the_original_text(archive: Archive) -> None:
    marked = Filters(since="2022-09-16", until="2022-09-16")
    (hit,) = search(archive, SearchQuery("قمة", filters=marked)).hits
    assert hit.snippet.startswith("عُقِدَت [القِمَّةُ] عام ٢٠٢٢")  # original spelling kept
    (hit,) = search(archive, SearchQuery("القمة مستمرة")).hits
    assert hit.snippet == "وانتهت اجتماعات اليوم [والقمة] [مستمرة] حتى الغد"


def test_snippet_picks_the_densest_window_and_marks_the_cut() -> None:
    words = ["كلمة"] * 100
    words[70] = "القمة"
    words[74] = "شنغهاي"
    words[20] = "قمة"
    text = " ".join(words)
    terms = parse_query("قمة شنغهاي").terms
    result = snippet(text, terms, words=10)
    assert result.startswith("… ") and result.endswith(" …")
    assert "[القمة]" in result and "[شنغهاي]" in result and "[قمة]" not in result
    assert len(result.replace("… ", "").replace(" …", "").split()) == 10


def test_snippet_without_hits_starts_at_the_beginning() -> None:
    assert snippet("واحد اثنان ثلاثة أربعة", {"خمس"}, words=2) == "واحد اثنان …"


def test_html_snippet_escapes_text_but_not_markers(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as archive:
        archive.upsert(make("x", "عنوان", 'القمة <script>alert("x")</script> & القمة'))
        EmbeddedIndex(archive).drain(archive)
        query = SearchQuery("قمة", highlight=("<mark>", "</mark>"), html=True)
        (hit,) = search(archive, query).hits
    assert hit.snippet == (
        "<mark>القمة</mark> &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
        "<mark>القمة</mark>"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("(قمة)", SUMMIT),
        ("قمة;--", SUMMIT),
        ("^قمة", SUMMIT),
        ("{قمة}", SUMMIT),
        ("قمة + شنغهاي", {"summit-plain"}),
        ("قمة' OR '1'='1", SUMMIT),  # OR is an operator; no article holds the word 1
    ],
)
def test_punctuation_around_words_is_plain_text(
    archive: Archive, query: str, expected: set[str]
) -> None:
    assert ids(archive, query) == expected


@pytest.mark.parametrize(
    "query",
    [
        '"قمة" OR 1=1; DROP TABLE articles; --',
        "NEAR(",
        "NEAR(قمة شنغهاي, 2)",
        '"unbalanced',
        "قمة AND NOT شنغهاي",
        "a:b",
        "'); DELETE FROM articles; --",
        "قمة\x00' \" `",
        "title:(قمة OR",
        "field:value* [1 TO 5] ~2 ^3",
    ],
)
def test_hostile_queries_never_break_or_change_the_database(archive: Archive, query: str) -> None:
    try:
        result = search(archive, SearchQuery(query))
    except QueryError as exc:  # malformed: a message pointing into the query, nothing run
        assert 0 <= exc.position <= len(query) and exc.message
    else:
        assert result.total == len(result.hits)
    assert archive.count() == len(ARTICLES)
    assert ids(archive, "قمة") == SUMMIT  # the index is intact


@pytest.mark.parametrize("query", ["", "   ", "؟!،", "*", '""', "في من على", "(*)", "_", "\x00"])
def test_query_without_searchable_words_is_a_clear_error(archive: Archive, query: str) -> None:
    with pytest.raises(ValueError, match="no searchable words|the query is empty"):
        search(archive, SearchQuery(query))


def test_update_reindexes_the_new_text(archive: Archive) -> None:
    index = EmbeddedIndex(archive)
    archive.upsert(replace(ARTICLES[0], title="خبر", text="افتتاح معرض الكتاب"))
    assert archive.pending_count() == 1
    assert index.drain(archive) == 1
    assert "summit-al" not in ids(archive, "قمة")
    assert ids(archive, "معرض") == {"summit-al"}


def test_drain_reports_progress_per_batch(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as archive:
        for article in ARTICLES:
            archive.upsert(article)
        index = EmbeddedIndex(archive)
        steps: list[int] = []
        assert index.drain(archive, batch=4, progress=steps.append) == len(ARTICLES)
        assert steps == [4, 2]
        assert archive.pending_count() == 0
        assert index.drain(archive) == 0


def test_drain_refuses_another_archive(tmp_path: Path) -> None:
    with (
        Archive(tmp_path / "a.sqlite") as one,
        Archive(tmp_path / "b.sqlite") as other,
        pytest.raises(ValueError, match="drain"),
    ):
        EmbeddedIndex(one).drain(other)


def test_rebuild_restores_the_same_results(archive: Archive) -> None:
    before = {q: ids(archive, q) for q in ("قمة", "النفط", "2022")}
    index = EmbeddedIndex(archive)
    shutil.rmtree(index.path)  # the index is lost; the archive is the system of record
    assert index.rebuild() == len(ARTICLES)
    assert {q: ids(archive, q) for q in before} == before
    assert archive.pending_count() == 0


def test_a_new_index_requeues_articles_acknowledged_elsewhere(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as archive:
        archive.upsert(ARTICLES[0])
        archive.mark_indexed([ARTICLES[0].id], "elasticsearch")
        index = EmbeddedIndex(archive)
        index.ensure()
        assert archive.pending_count() == 1
        index.drain(archive)
        assert ids(archive, "قمة") == {"summit-al"}
        EmbeddedIndex(archive).ensure()  # an existing index keeps the outbox as it is
        assert archive.pending_count() == 0


def test_count_and_iter_matches_agree_with_search(archive: Archive) -> None:
    index = EmbeddedIndex(archive)
    beta = Filters(outlets=("beta",))
    assert index.count("قمة") == 5
    assert index.count("قمة", beta) == 2
    assert [a.id for a in index.iter_matches("قمة", beta, batch=1)] == ["summit-plain", "marked"]
    assert {a.id for a in index.iter_matches("قمة", batch=2)} == SUMMIT
