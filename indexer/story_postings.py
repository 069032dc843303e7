"""The story index's postings (`dedup_terms`: heavy term -> day, document, weight) held in
memory, so finding a newcomer's story candidates costs dictionary and array lookups instead
of a dozen index range scans in SQLite (an eighth of the time placing an article took).

Each term's postings are loaded from the table the first time a newcomer probes it, one
query for all of a newcomer's missing terms, and kept in two arrays sorted by (day, doc):
the latest postings of a date window are then one binary search away. New postings are not
inserted into the table one by one (a dozen random places in a large index per article):
they wait in `dedup_terms_pending`, one row per article, and here, by term ("pending"),
until the index merges them in bulk. The tables stay the record; this is a cache of them,
kept in step by the index that writes both, started afresh when it grows past its budget
(pending postings excepted), and topped up with what another connection wrote.
"""

from __future__ import annotations

import json
import sqlite3
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from datetime import date

SHIFT = 40  # a posting's key: the day's ordinal above, the document below (< 2**40)
BUDGET = 3_000_000  # postings kept (16 bytes each) before the cache starts afresh
TERMS = 150_000  # terms kept (about 300 bytes each) before the cache starts afresh
UNDATED = 0  # the ordinal of an undated posting: before every real day


def ordinal(day: str | None) -> int:
    """The key's day part: the date's ordinal, or UNDATED for '' / None."""
    return date.fromisoformat(day).toordinal() if day else UNDATED


class StoryPostings:
    """Postings by term, each as sorted keys (`ordinal(day) << SHIFT | doc`) and weights."""

    def __init__(self) -> None:
        self._terms: dict[str, tuple[array, array]] = {}
        self._size = 0
        # Postings not merged into dedup_terms yet, by term: (key, weight).
        self._pending: dict[str, list[tuple[int, float]]] = {}
        self.pending_docs: set[int] = set()

    def clear(self) -> None:
        """Forget the loaded terms (not the pending postings: the table lacks them)."""
        self._terms.clear()
        self._size = 0

    def merged(self) -> None:
        """The pending postings are in dedup_terms now."""
        self._pending.clear()
        self.pending_docs.clear()

    def drop_below(self, doc: int) -> None:
        """Forget pending postings of documents below `doc`: another connection merged them
        (they stay in the loaded terms' arrays)."""
        mask = (1 << SHIFT) - 1
        for term, found in list(self._pending.items()):
            kept = [(key, weight) for key, weight in found if key & mask >= doc]
            if kept:
                self._pending[term] = kept
            else:
                del self._pending[term]
        self.pending_docs = {d for d in self.pending_docs if d >= doc}

    def load(self, db: sqlite3.Connection, terms: Iterable[str]) -> None:
        """Read the postings of the terms not held yet, in one query."""
        terms = list(terms)
        if self._size > BUDGET or len(self._terms) + len(terms) > TERMS:
            self.clear()  # before choosing what to read: every term asked for is held after
        missing = [term for term in terms if term not in self._terms]
        if not missing:
            return
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
        for term in missing:
            for key, weight in self._pending.get(term, ()):
                self._insert(term, key, weight)
            if not self._terms[term][0]:  # a word no article had: not worth holding
                del self._terms[term]

    def add(self, term: str, day: str | None, doc: int, weight: float) -> None:
        """Record a pending posting: one just written to dedup_terms_pending."""
        key = ordinal(day) << SHIFT | doc
        self._pending.setdefault(term, []).append((key, weight))
        self.pending_docs.add(doc)
        if term in self._terms:
            self._insert(term, key, weight)

    def _insert(self, term: str, key: int, weight: float) -> None:
        keys, weights = self._terms[term]
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            weights[at] = weight
            return
        keys.insert(at, key)
        weights.insert(at, weight)
        self._size += 1

    def remove(self, term: str, day: str | None, doc: int) -> None:
        key = ordinal(day) << SHIFT | doc
        if term in self._pending:
            self._pending[term] = [(k, w) for k, w in self._pending[term] if k != key]
        held = self._terms.get(term)
        if held is None:
            return
        keys, weights = held
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            del keys[at], weights[at]
            self._size -= 1

    def latest(
        self, term: str, first: int, last: int, exclude: int, limit: int
    ) -> list[tuple[int, float]]:
        """(doc, weight) of the `limit` latest postings (day, then doc, descending) of a
        term just loaded between day ordinals `first` and `last`, leaving out `exclude`."""
        held = self._terms.get(term)
        if held is None:  # no posting when loaded
            return []
        keys, weights = held
        end = bisect_left(keys, (last + 1) << SHIFT)
        start = max(bisect_left(keys, first << SHIFT), end - limit - 1)
        mask = (1 << SHIFT) - 1
        found = [
            (keys[i] & mask, weights[i]) for i in range(end - 1, start - 1, -1)
            if keys[i] & mask != exclude
        ]  # fmt: skip
        return found[:limit]
