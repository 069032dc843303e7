"""Spelling variants of foreign names: «شنغهاي», «شنجهاي», «شانغهاي» and «شنقهاي» are one
name, written as each country's press writes a g or a vowel.

A word gets a *variant key* (its letters with g-like letters folded into one, hamza seats
folded, and long vowels inside it dropped) only when it is not a native Arabic word: native
words are those of a Hunspell Arabic lexicon (`data/native_words.txt.gz`, made by
`tools/build_native_lexicon.py`), so «قبل», «جبل» and «غبل» never meet, while names that no
lexicon lists do. Search indexes the keys in a field of their own, weighted below the words
themselves, and topic rules match them the same way.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from importlib import resources

from arshif.arabic import stem

# The letters Arabic writers use for a foreign g (and Persian gaf, Maghrebi gaf), one key.
_G_LETTERS = "غجقكگڭ"
_FOLD = str.maketrans({**dict.fromkeys(_G_LETTERS, "گ"), "ؤ": "و", "ئ": "ي", "ء": None})
_LONG_VOWELS = str.maketrans(dict.fromkeys("اوي"))
# Clitics folded before the lexicon look-up and the key: the article and a leading «و».
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
_PROCLITICS = "بلفكس"
# Pronoun endings: a word that carries one is an Arabic word the lexicon missed, not a name.
_PRONOUN_ENDINGS = ("هما", "هم", "هن", "ها", "كم", "نا", "ته")
MIN_KEY = 3


@lru_cache(maxsize=1)
def native_words() -> tuple[frozenset[str], frozenset[str]]:
    """The lexicon of native Arabic words, normalised, and their light stems (loaded once,
    in about 0.1 s)."""
    return _lines("native_words.txt.gz"), _lines("native_stems.txt.gz")


def _lines(name: str) -> frozenset[str]:
    data = resources.files("arshif").joinpath("data", name).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def _bare(token: str) -> str:
    """The token without a leading article or «و», when enough is left to be a name."""
    for prefix in _PREFIXES:
        if token.startswith(prefix) and len(token) >= len(prefix) + 3:
            return token[len(prefix) :]
    return token


def _forms(token: str) -> set[str]:
    """The token with the clitics and endings a lexicon of stems does not list taken off:
    the article, a leading preposition or future «س», the accusative «ا», a verb's «ت»."""
    forms = {token, _bare(token)}
    if token[0] in _PROCLITICS and len(token) >= 5:
        forms.add(token[1:])
    for form in list(forms):
        if form[-1] in "ات" and len(form) >= 5:
            forms.add(form[:-1])
    return forms


def is_native(token: str) -> bool:
    """True for a normalised token the lexicon knows, as written, without its clitics and
    endings, or by its light stem."""
    words, stems = native_words()
    return any(form in words or stem(form) in stems for form in _forms(token))


@lru_cache(maxsize=262_144)
def variant_key(token: str) -> str | None:
    """The variant key of one normalised token, or None for native, short or non-Arabic
    words. Keys of two spellings of one name are equal."""
    if (
        len(token) < MIN_KEY
        or not ("\u0621" <= token[0] <= "\u064a")
        or token.endswith(_PRONOUN_ENDINGS)
        or is_native(token)
    ):
        return None
    bare = _bare(token).translate(_FOLD)
    if len(bare) < 2:
        return None
    key = bare[0] + bare[1:-1].translate(_LONG_VOWELS) + bare[-1]
    return key if len(key) >= MIN_KEY else None


@lru_cache(maxsize=262_144)
def token_keys(token: str) -> tuple[str, ...]:
    """The keys a token of running text may stand for: its own, and that of the token
    without an attached preposition or conjunction («بشنغهاي», «لزيلنسكي»), which a name
    may carry but `variant_key` leaves on (a name may begin with those letters too)."""
    keys = []
    for form in (token, token[1:] if token[:1] in "بلفك" and len(token) > MIN_KEY else ""):
        key = variant_key(form) if form else None
        if key is not None and key not in keys:
            keys.append(key)
    return tuple(keys)


def variant_terms(words: list[str]) -> list[str]:
    """The variant keys of a text split by `arshif.arabic.tokens`, in order."""
    return [key for word in words if (key := variant_key(word)) is not None]
