"""The story index's postings (`dedup_terms`: heavy term -> day, document, weight) held in
memory, so finding a newcomer's story candidates costs dictionary and array lookups instead
of a dozen index range scans in SQLite (two thirds of placing an article with stories).

Each term's postings are loaded from the table the first time a newcomer probes it, one
query for all of a newcomer's missing terms, and kept in two arrays sorted by (day, doc):
the latest postings of a date window are then one binary search away. The table stays the
record; this is a cache of it, kept in step by the index that writes both, started afresh
when it grows past its budget, and topped up with what another connection wrote
(`catch_up`).
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date

SHIFT = 40  # a posting's key: the day's ordinal above, the document below (< 2**40)
BUDGET = 4_000_000  # postings kept (16 bytes each) before the cache starts afresh
TERMS = 400_000  # terms kept (a few hundred bytes each) before the cache starts afresh
UNDATED = 0  # the ordinal of an undated posting: before every real day


def ordinal(day: str | None) -> int:
    """The key's day part: the date's ordinal, or UNDATED for '' / None."""
    return date.fromisoformat(day).toordinal() if day else UNDATED


class StoryPostings:
    """Postings by term, each as sorted keys (`ordinal(day) << SHIFT | doc`) and weights."""

    def __init__(self) -> None:
        self._terms: dict[str, tuple[array, array]] = {}
        self._size = 0

    def clear(self) -> None:
        self._terms.clear()
        self._size = 0

    def load(self, db: sqlite3.Connection, terms: Iterable[str]) -> None:
        """Read the postings of the terms not held yet, in one query."""
        missing = [term for term in terms if term not in self._terms]
        if not missing:
            return
        if self._size > BUDGET or len(self._terms) > TERMS:
            self.clear()
        for term in missing:
            self._terms[term] = (array("q"), array("d"))
        rows = db.execute(
            "SELECT term, day, doc, weight FROM dedup_terms "
            "WHERE term IN (SELECT value FROM json_each(?)) ORDER BY term, day, doc",
            (json.dumps(missing, ensure_ascii=False),),
        )
        for term, day, doc, weight in rows:  # in key order: appended, not inserted
            keys, weights = self._terms[term]
            keys.append(ordinal(day) << SHIFT | doc)
            weights.append(weight)
            self._size += 1

    def add(self, term: str, day: str | None, doc: int, weight: float) -> None:
        """Record a posting just written to the table (a term not held is read when needed)."""
        held = self._terms.get(term)
        if held is None:
            return
        keys, weights = held
        key = ordinal(day) << SHIFT | doc
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            weights[at] = weight
            return
        keys.insert(at, key)
        weights.insert(at, weight)
        self._size += 1

    def remove(self, term: str, day: str | None, doc: int) -> None:
        held = self._terms.get(term)
        if held is None:
            return
        keys, weights = held
        key = ordinal(day) << SHIFT | doc
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            del keys[at], weights[at]
            self._size -= 1

    def latest(
        self, term: str, first: int, last: int, exclude: int, limit: int
    ) -> list[tuple[int, float]]:
        """(doc, weight) of the `limit` latest postings (day, then doc, descending) of a
        loaded term between day ordinals `first` and `last`, leaving out `exclude`."""
        keys, weights = self._terms[term]
        end = bisect_left(keys, (last + 1) << SHIFT)
        start = max(bisect_left(keys, first << SHIFT), end - limit - 1)
        mask = (1 << SHIFT) - 1
        found = [
            (keys[i] & mask, weights[i]) for i in range(end - 1, start - 1, -1)
            if keys[i] & mask != exclude
        ]  # fmt: skip
        return found[:limit]
