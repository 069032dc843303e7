"""Spelling variants of foreign names: one key for the usual spellings, none for native words."""

import json
from collections import Counter
from pathlib import Path

import pytest

from arshif.arabic import normalize, stem, tokens
from arshif.variants import is_native, native_words, variant_key, variant_terms

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata" / "topics_dev.jsonl"


def key(word: str) -> str | None:
    return variant_key(normalize(word))


@pytest.mark.parametrize(
    "spellings",
    [
        ("شنغهاي", "شنجهاي", "شنقهاي", "شانغهاي", "والشنغهاي", "وشانغهاي"),
        ("غوغل", "جوجل", "قوقل"),
        ("زيلينسكي", "زيلنسكي"),
        ("ترامب", "ترمب"),
        ("غوتيريش", "جوتيريش", "غوتيرش"),
        ("نتنياهو", "نتانياهو"),
        ("بلينكن", "بلنكن"),
    ],
)
def test_spellings_of_one_name_share_a_key(spellings):
    keys = {key(word) for word in spellings}
    assert len(keys) == 1 and None not in keys


@pytest.mark.parametrize("word", ["قبل", "جبل", "كبل", "كتاب", "كتب", "مغرب", "مقرب"])
def test_native_words_have_no_key(word):
    assert is_native(normalize(word))
    assert key(word) is None


def test_native_words_never_meet_through_a_key():
    # «غبل» is no word: it may have a key, but the native «قبل» and «جبل» have none to meet.
    assert key("قبل") is None and key("جبل") is None
    assert key("غبل") not in {key("قبل"), key("جبل")}


def test_words_with_pronoun_endings_and_short_words_have_no_key():
    assert key("بحوزتهم") is None
    assert key("بي") is None
    assert key("oppo") is None


def test_variant_terms_keeps_text_order():
    words = tokens("قمة شنغهاي في سمرقند وزيلنسكي")
    assert variant_terms(words) == [key("شنغهاي"), key("زيلنسكي")]


@pytest.mark.skipif(not REALDATA.exists(), reason="shared real data not beside the project")
def test_common_words_of_real_articles_are_mostly_native():
    """On real articles, the common words are native: they get no key, so a search for them
    matches exactly what it matched before variants existed."""
    counts: Counter[str] = Counter()
    for line in REALDATA.open(encoding="utf-8"):
        counts.update(t for t in tokens(json.loads(line)["text"]) if len(t) >= 3)
    common = [word for word, _ in counts.most_common(200) if not word.isascii()]
    keyed = [word for word in common if variant_key(word) is not None]
    assert len(keyed) <= len(common) // 10, keyed


def test_shipped_stems_are_the_stems_of_the_shipped_words():
    """The lexicon ships its words' stems; a change to the stemmer must rebuild them
    (tools/build_native_lexicon.py)."""
    words, stems = native_words()
    assert stems == {stem(word) for word in words}
