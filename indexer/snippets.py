"""Highlighted snippets, cut from the original text (not the analysed index text).

A token of the original counts as a hit when its analysed form, `stem(normalize(token))`,
is one of the query terms, so «القمة» is marked for a query «قمه» just as the index matched
it, and a word is marked when its normalised form starts with a query prefix (`شنغ*`).
The snippet is the window of words with the most distinct query terms.
"""

from __future__ import annotations

import html as html_lib
import re
from collections import Counter
from collections.abc import Collection
from functools import lru_cache

from arshif.arabic import normalize, stem

# Words of the original text, keeping harakat and tatweel inside the word they belong to.
_WORD = re.compile(r"[\w\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]+")
_SPACE = re.compile(r"\s+")


def snippet(
    text: str,
    terms: Collection[str],
    *,
    prefixes: tuple[str, ...] = (),
    words: int = 30,
    highlight: tuple[str, str] = ("[", "]"),
    html: bool = False,
) -> str:
    """About `words` words of `text` around the densest cluster of query-term hits, hits
    wrapped in `highlight` markers. With `html=True` the text (not the markers) is
    HTML-escaped, so `<mark>`/`</mark>` markers are safe to put in a page."""
    spans = [m.span() for m in _WORD.finditer(text)]
    if not spans:
        return ""
    # The query term (or word, for a prefix) each word matches, "" for none.
    keys = []
    for start, end in spans:
        form, key = _analysed(text[start:end])
        keys.append(
            key if key in terms else (form if prefixes and form.startswith(prefixes) else "")
        )
    first = _best_window(keys, words)
    window = range(first, min(first + words, len(spans)))
    escape = html_lib.escape if html else str
    out = ["… " if first > 0 else ""]
    for i in window:
        start, end = spans[i]
        if i > first:
            out.append(escape(_SPACE.sub(" ", text[spans[i - 1][1] : start])))
        word = escape(text[start:end])
        out.append(f"{highlight[0]}{word}{highlight[1]}" if keys[i] else word)
    if window.stop < len(spans):
        out.append(" …")
    return "".join(out)


@lru_cache(maxsize=262_144)
def _analysed(word: str) -> tuple[str, str]:
    """(normalised form, term) of a word of the text: cached, as news repeats its words."""
    form = normalize(word)
    return form, stem(form)


def _best_window(keys: list[str], size: int) -> int:
    """Start of the window of `size` tokens with the most distinct terms, then most hits;
    the earliest such window wins (0 when nothing matches)."""
    counts: Counter[str] = Counter(k for k in keys[:size] if k)
    best, best_score = 0, (len(counts), counts.total())
    for start in range(1, max(len(keys) - size, 0) + 1):
        leaving, entering = keys[start - 1], keys[start + size - 1]
        if leaving:
            counts[leaving] -= 1
            if not counts[leaving]:
                del counts[leaving]
        if entering:
            counts[entering] += 1
        score = (len(counts), counts.total())
        if score > best_score:
            best, best_score = start, score
    return best
