"""LSH bucket entries not yet merged into `dedup_lsh`, held in memory for lookups.

Each placed article has one bucket per band (40). Inserting them as 40 rows into an index
table cost more than the rest of near-duplicate placement together; instead each article's
buckets are written as one row of `dedup_lsh_pending` (doc, buckets as a JSON array, which
SQLite's json_each expands when they are merged) and kept here, in a sorted array plus a small dictionary of the latest, so a lookup is a binary
search. `DedupIndex` merges them into `dedup_lsh` in bulk, in bucket order, now and then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

import numpy as np

FOLD = 50_000  # entries gathered in the dictionary before they join the sorted arrays


class PendingBuckets:
    """Bucket -> documents for the articles whose entries wait in `dedup_lsh_pending`."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self._keys = np.empty(0, np.int64)  # sorted
        self._docs = np.empty(0, np.int64)  # the document of each key
        self._recent: dict[int, list[int]] = {}
        self._recent_size = 0
        self.docs: set[int] = set()  # every document held

    def __len__(self) -> int:
        return len(self.docs)

    def add(self, doc: int, buckets: Iterable[int]) -> None:
        for bucket in buckets:
            self._recent.setdefault(bucket, []).append(doc)
            self._recent_size += 1
        self.docs.add(doc)
        if self._recent_size >= FOLD:
            self._fold()

    def add_rows(self, rows: Iterable[tuple[int, str]]) -> None:
        """Add (doc, buckets as a JSON array) rows read from the table, in bulk."""
        docs, keys = [], []
        for doc, stored in rows:
            found = np.array(json.loads(stored), np.int64)
            keys.append(found)
            docs.append(np.full(len(found), doc, np.int64))
            self.docs.add(doc)
        if keys:
            self._fold(np.concatenate(keys), np.concatenate(docs))

    def documents(self, buckets: list[int]) -> set[int]:
        """The documents sharing at least one of `buckets`."""
        found: set[int] = set()
        if len(self._keys):
            wanted = np.asarray(buckets, np.int64)
            starts = np.searchsorted(self._keys, wanted, "left")
            ends = np.searchsorted(self._keys, wanted, "right")
            for start, end in zip(starts[starts < ends], ends[starts < ends], strict=True):
                found.update(self._docs[start:end].tolist())
        for bucket in buckets:
            found.update(self._recent.get(bucket, ()))
        return found

    def remove(self, doc: int) -> None:
        if doc in self.docs:
            self._keep(lambda d: d != doc)

    def drop_below(self, doc: int) -> None:
        """Forget the documents below `doc`: another connection merged them."""
        if any(d < doc for d in self.docs):
            self._keep(lambda d: d >= doc)

    def _keep(self, wanted: Callable[[int], bool]) -> None:
        """Keep only the documents `wanted` says yes to, in one pass."""
        self.docs = {d for d in self.docs if wanted(d)}
        keep = np.fromiter(map(wanted, self._docs.tolist()), bool, len(self._docs))
        self._keys, self._docs = self._keys[keep], self._docs[keep]
        recent = {b: [d for d in docs if wanted(d)] for b, docs in self._recent.items()}
        self._recent = {b: docs for b, docs in recent.items() if docs}
        self._recent_size = sum(map(len, self._recent.values()))

    def _fold(self, keys: np.ndarray | None = None, docs: np.ndarray | None = None) -> None:
        """Move the dictionary's entries (and `keys`/`docs`) into the sorted arrays."""
        parts_k, parts_d = [self._keys], [self._docs]
        if keys is not None and docs is not None:
            parts_k.append(keys)
            parts_d.append(docs)
        if self._recent:
            parts_k.append(
                np.fromiter((b for b, docs_ in self._recent.items() for _ in docs_), np.int64)
            )
            parts_d.append(
                np.fromiter((d for docs_ in self._recent.values() for d in docs_), np.int64)
            )
            self._recent, self._recent_size = {}, 0
        all_keys, all_docs = np.concatenate(parts_k), np.concatenate(parts_d)
        order = np.lexsort((all_docs, all_keys))
        self._keys, self._docs = all_keys[order], all_docs[order]
