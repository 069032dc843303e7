"""Arabic text normalisation, tokens and a light stemmer.

One small analysis chain, used for indexing and for queries alike, in the order of
Elasticsearch's `arabic` analyzer (tokens, lowercase, digits, stop words, normalise, light
stem), so that the embedded SQLite backend and Elasticsearch agree on what matches.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Harakat (fathatan .. sukun), superscript alef, Quranic marks, and tatweel.
_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans(
    {
        "\u0622": "\u0627",  # آ -> ا
        "\u0623": "\u0627",  # أ -> ا
        "\u0625": "\u0627",  # إ -> ا
        "\u0671": "\u0627",  # ٱ -> ا
        "\u0649": "\u064a",  # ى -> ي
        "\u0629": "\u0647",  # ة -> ه
        **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
        **{chr(0x06F0 + d): str(d) for d in range(10)},  # Eastern Arabic-Indic digits
    }
)
_FOLD_PAIRS = tuple((chr(k), v) for k, v in _FOLD.items())
assert not {t for _, t in _FOLD_PAIRS} & {s for s, _ in _FOLD_PAIRS}
_WORD = re.compile(r"\w+")

# Prefixes and suffixes of the light stemmer, longest first where order matters.
_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال", "و")
_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")

# Function words that carry no topic, already in normalised form.
STOP_WORDS: frozenset[str] = frozenset(
    """
    في من الي علي عن مع ان او ام ثم لا لم لن ما ماذا متي اين كيف هل قد لقد كان كانت يكون
    تكون هو هي هم هن انا نحن انت انتم هذا هذه ذلك تلك هؤلاء الذي التي الذين اللذين اللتين
    اللواتي كل بعض غير بين حتي اذا اذ لكن بل و ف ب ل ك عند عندما منذ حيث ايضا فقط لدي لدي
    اي التي عليه عليها فيه فيها منه منها به بها له لها لهم الا اما حين قبل بعد خلال ضد نحو
    """.split()
)


def normalize(text: str) -> str:
    """Fold the spellings that readers treat as one: hamza forms of alef, alef maqsura,
    taa marbuta, harakat, tatweel, presentation forms, Arabic-Indic digits and case."""
    text = unicodedata.normalize("NFKC", text)
    text = _MARKS.sub("", text)
    # One str.replace per folded letter is several times faster than str.translate on
    # Arabic text; the result is the same, as no letter folds into another folded one.
    for source, target in _FOLD_PAIRS:
        if source in text:
            text = text.replace(source, target)
    return text.lower()


def tokens(text: str) -> list[str]:
    """Normalised word tokens, in order."""
    return _WORD.findall(normalize(text))


@lru_cache(maxsize=262_144)
def stem(token: str) -> str:
    """Light stem of one normalised token: one prefix, then each suffix once if long enough.

    Cached: a news vocabulary is small next to the number of words stemmed, and every
    article is analysed for the index, dedup stories and topics."""
    for prefix in _PREFIXES:
        minimum = 4 if len(prefix) == 1 else len(prefix) + 2
        if token.startswith(prefix) and len(token) >= minimum:
            token = token[len(prefix) :]
            break
    for suffix in _SUFFIXES:
        if token.endswith(suffix) and len(token) >= len(suffix) + 2:
            token = token[: -len(suffix)]
    return token


def analyze(text: str) -> list[str]:
    """Index terms: normalised tokens without stop words, stemmed."""
    return terms_of(tokens(text))


def terms_of(words: list[str]) -> list[str]:
    """`analyze` of a text already split by `tokens` (a crawl splits each article once, for
    its fingerprint, its story terms and its search index row)."""
    return [stem(t) for t in words if t not in STOP_WORDS]
