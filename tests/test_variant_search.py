"""Search finds a foreign name in its other spellings, on both backends, ranks the spelling
typed first (embedded; noida-db's relevance is approximate), and leaves native words alone."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import indexer.query
from arshif.arabic import STOP_WORDS, tokens
from arshif.record import Article
from indexer.archive import Archive
from indexer.embedded import EmbeddedIndex
from indexer.search import SearchIndex, SearchQuery
from tests.backends import index_on
from tests.test_es import noida  # noqa: F401 - the noida fixture

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "topics_dev.jsonl"
TEXTS = {
    "levant": "انطلقت قمة منظمة شنغهاي للتعاون في سمرقند بحضور القادة.",
    "egypt": "بدأت أعمال قمة منظمة شنجهاي للتعاون اليوم وسط حضور واسع.",
    "gulf": "وصل الوفد إلى مقر قمة شانغهاي للتعاون صباح اليوم.",
    "near": "وقع الانفجار قرب الحدود صباح أمس.",
    "west": "هطلت أمطار غزيرة على غرب البلاد.",
    "grief": "عاش السكان كرب الحصار شهورا.",
}
SPELLINGS = {"شنغهاي": "levant", "شنجهاي": "egypt", "شانغهاي": "gulf"}


def article(key: str, text: str, outlet: str = "x") -> Article:
    return Article(
        id=key, url=f"https://news.example/{key}", canonical_url=f"https://news.example/{key}",
        outlet=outlet, title="خبر", text=text, language="ar",
        fetched_at="2026-11-23T10:00:00+00:00",
    )  # fmt: skip


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    with Archive(tmp_path_factory.mktemp("variants") / "archive.sqlite") as db:
        for key, text in TEXTS.items():
            db.upsert(article(key, text))
        yield db


@pytest.fixture(scope="module", params=["embedded", "elasticsearch"])
def backend(request: pytest.FixtureRequest, archive: Archive) -> Iterator[SearchIndex]:
    yield from index_on(request, archive, "variants")


def ids(backend: SearchIndex, text: str) -> list[str]:
    return [hit.id for hit in backend.search(SearchQuery(text, limit=50)).hits]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_each_spelling_finds_every_article_that_writes_any(
    backend: SearchIndex, spelling: str
) -> None:
    assert set(ids(backend, spelling)) == set(SPELLINGS.values())
    assert backend.count(spelling) == 3


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_spelling_typed_ranks_first(archive: Archive, spelling: str) -> None:
    index = EmbeddedIndex(archive)
    index.catch_up(archive)
    assert ids(index, spelling)[0] == SPELLINGS[spelling]


def test_native_words_stay_apart(backend: SearchIndex) -> None:
    # «قرب», «غرب» and «كرب» differ only in a letter a foreign g is written with.
    assert ids(backend, "قرب") == ["near"]
    assert ids(backend, "غرب") == ["west"]
    assert ids(backend, "كرب") == ["grief"]


def test_a_phrase_keeps_the_spelling_typed(backend: SearchIndex) -> None:
    assert ids(backend, '"منظمة شنجهاي"') == ["egypt"]


@pytest.mark.skipif(not REALDATA.exists(), reason="shared real data not beside the project")
def test_common_words_of_real_articles_find_what_they_found_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On real articles, a search for each common word returns the same articles with and
    without variant matching."""
    records = [json.loads(line) for line in REALDATA.open(encoding="utf-8")]
    counts: Counter[str] = Counter()
    with Archive(tmp_path / "archive.sqlite") as db:
        for r in records:
            db.upsert(article(str(r["id"]), f"{r['title']}\n\n{r['text']}"))
            counts.update(t for t in tokens(r["text"]) if len(t) >= 3 and t not in STOP_WORDS)
        index = EmbeddedIndex(db)
        index.drain(db)
        common = [w for w, _ in counts.most_common(60) if not w.isascii()]
        with_variants = {w: set(ids(index, w)) for w in common}
        monkeypatch.setattr(indexer.query, "variant_key", lambda word: None)
        assert {w: set(ids(index, w)) for w in common} == with_variants
