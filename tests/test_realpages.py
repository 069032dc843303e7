"""Real outlet pages (../shared/realpages) as regression tests with thresholds, not exact
text: a change that loses article paragraphs, lets boilerplate back in, or misreads a
date fails here. Skipped where the folder is not present (it is not shipped)."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest

from bench.extraction import REALPAGES, _tokens, bare, gold_for, missed_words, ours, text_f1

pytestmark = pytest.mark.skipif(
    not (REALPAGES / "MANIFEST.tsv").exists(), reason=f"{REALPAGES} not present"
)

# Per page: (minimum precision, minimum recall). The Youm7 reference text also holds the
# headline (30 words, kept in `title`, not `text`), photo captions (17, boilerplate as in
# the sample outlet's manifest) and a rendered video player's controls (61): Arshif's
# recall ceiling there is 0.740 (it is there), and `test_no_article_words_are_lost` checks
# that what it misses is one of those, up to 1% of the reference.
TEXT_FLOORS = {
    "newspaper4k_cnn_arabic_2013": (0.99, 0.99),
    "magichtml_youm7_1": (0.99, 0.73),
}


def _pages() -> dict[str, tuple[Path, dict[str, str]]]:
    urls = {}
    for row in (REALPAGES / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = row.split("\t")
        urls[cols[0]] = cols[5]
    return {
        path.stem: (path, gold_for(REALPAGES, path.stem, urls.get(path.stem, "")))
        for path in sorted(REALPAGES.glob("*.html"))
    }


@pytest.fixture(scope="module")
def pages() -> dict[str, tuple[Path, dict[str, str]]]:
    return _pages()


def test_every_real_page_is_an_article_with_text_and_a_title(pages: dict) -> None:
    for name, (path, gold) in pages.items():
        record = ours(path.read_bytes(), gold["url"])
        assert record, name
        assert record["page_type"] == "article", name
        assert record["language"] == "ar", name
        assert len(record["title"]) >= 20 and len(record["text"]) >= 400, name


@pytest.mark.parametrize(("name", "floors"), sorted(TEXT_FLOORS.items()))
def test_text_precision_and_recall(pages: dict, name: str, floors: tuple[float, float]) -> None:
    path, gold = pages[name]
    precision, recall, _ = text_f1(ours(path.read_bytes(), gold["url"])["text"], gold["text"])
    assert precision >= floors[0] and recall >= floors[1], (precision, recall)


def test_no_article_words_are_lost(pages: dict) -> None:
    """What Arshif leaves out of a reference text is its headline, photo captions or
    player strings, never the article's own words (at most 1% of the reference)."""
    for name, (path, gold) in pages.items():
        if gold["kind"] == "text":
            html = path.read_bytes()
            counts = missed_words(html, ours(html, gold["url"]), gold["text"])
            assert counts["other"] <= 0.01 * sum(_tokens(gold["text"]).values()), (name, counts)


def test_every_known_date_is_right(pages: dict) -> None:
    for name, (path, gold) in pages.items():
        if gold["kind"] == "date":
            record = ours(path.read_bytes(), gold["url"])
            assert (record["published"] or "")[:10] == gold["date"], name


def test_beats_bare_trafilatura_on_text(pages: dict) -> None:
    scores: dict[str, list[float]] = {"ours": [], "bare": []}
    for path, gold in pages.values():
        if gold["kind"] == "text":
            html = path.read_bytes()
            scores["ours"].append(text_f1(ours(html, gold["url"])["text"], gold["text"])[2])
            scores["bare"].append(text_f1(bare(html, gold["url"])["text"], gold["text"])[2])
    assert statistics.mean(scores["ours"]) > statistics.mean(scores["bare"])
