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

# Words of the original text, keeping harakat and tatweel inside the word they belong to;
# split on them, a text is [before, word, between, word, ..., word, after].
_WORD = re.compile(r"([\w\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]+)")
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
    parts = _WORD.split(text)
    found = parts[1::2]
    if not found:
        return ""
    # The query term (or word, for a prefix) each distinct word matches, "" for none.
    key_of = {}
    for word in set(found):
        form, key = _analysed(word)
        key_of[word] = (
            key if key in terms else (form if prefixes and form.startswith(prefixes) else "")
        )
    keys = [key_of[word] for word in found]
    first = _best_window(keys, words)
    window = range(first, min(first + words, len(found)))
    escape = html_lib.escape if html else str
    out = ["… " if first > 0 else ""]
    for i in window:
        if i > first:
            out.append(escape(_SPACE.sub(" ", parts[2 * i])))
        word = escape(found[i])
        out.append(f"{highlight[0]}{word}{highlight[1]}" if keys[i] else word)
    if window.stop < len(found):
        out.append(" …")
    return "".join(out)


@lru_cache(maxsize=262_144)
def _analysed(word: str) -> tuple[str, str]:
    """(normalised form, term) of a word of the text: cached, as news repeats its words."""
    form = normalize(word)
    return form, stem(form)


def _best_window(keys: list[str], size: int) -> int:
    """Start of the window of `size` tokens with the most distinct terms, then most hits;
    the earliest such window wins (0 when nothing matches). Only starts where a hit enters
    can do better than the start before, so only those are scored."""
    hits = [(i, key) for i, key in enumerate(keys) if key]
    inside = sum(1 for i, _ in hits if i < size)
    counts: Counter[str] = Counter(key for _, key in hits[:inside])
    total = inside
    best, best_score = 0, (len(counts), total)
    leaving = 0
    for position, key in hits[inside:]:
        start = position - size + 1
        counts[key] += 1
        total += 1
        while hits[leaving][0] < start:
            gone = hits[leaving][1]
            counts[gone] -= 1
            if not counts[gone]:
                del counts[gone]
            total -= 1
            leaving += 1
        score = (len(counts), total)
        if score > best_score:
            best, best_score = start, score
    return best
