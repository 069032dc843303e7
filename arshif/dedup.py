"""Near-duplicate fingerprints and story vectors of article text (no archive, no Scrapy).

Two levels above the exact `content_hash`:
- near-duplicates: MinHash (datasketch) over word shingles of the normalised Arabic text,
  bucketed by LSH bands, so syndicated copies with a new headline, a dateline, a cut ending or
  an appended block are found without comparing every pair;
- stories: TF-IDF vectors over stemmed words (title words count double, as they name the
  event) plus the overlap of each title with the other text (`story_score`), for
  independent write-ups of one event; an article joins a story by its centroid, and the bar
  rises with the days between them (see `DedupParams.story_bar`).

The parameters travel with the stored data (`DedupParams.to_json`), so fingerprints made
in different runs stay comparable.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import zlib
from bisect import bisect_left
from collections import Counter
from dataclasses import asdict, dataclass, fields
from functools import cached_property, lru_cache
from itertools import repeat
from typing import Any

import numpy as np

from arshif.arabic import analyze, terms_of, tokens
from arshif.days import parse_day
from arshif.fingerprints import words_hash

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
SCHEME = "crc32+affine32"  # shingle hash (zlib.crc32) + datasketch's permutation scheme
_MIX = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio multiplier: spreads band values over 64 bits


@dataclass(frozen=True)
class DedupParams:
    """Fingerprint and decision settings. Defaults chosen by `bench/dedup_eval.py`."""

    num_perm: int = 120  # MinHash permutations
    bands: int = 40  # LSH bands of 3 rows: a pair at Jaccard 0.45 meets with p ≈ 0.99
    shingle: int = 3  # words per shingle
    seed: int = 1  # MinHash permutation seed
    near_dup: float = 0.45  # estimated Jaccard of shingle sets at or above which: near-duplicate
    containment: float = 0.8  # or: share of the shorter text's shingles found in the other
    story: float = 0.675  # story_score at or above which (same day): same story
    story_title: float = 1.0  # weight of the title overlap in story_score
    story_drift: float = 0.01  # added to the bar per day between two write-ups
    story_undated: float = 0.0  # added to the bar when either side has no date
    story_days: int = 30  # how far apart (days) write-ups are looked for at all
    story_terms: int = 150  # terms kept per story vector
    story_prior: int = 1000  # documents assumed to lack every term, so IDF is sane when few
    story_tf: str = "linear"  # term counts as they are ("linear") or damped ("log"; older indexes)
    story_probes: int = 12  # heaviest terms by which a story vector is looked up
    scheme: str = SCHEME  # how shingles are hashed and permuted; other schemes cannot mix

    def __post_init__(self) -> None:
        if self.scheme != SCHEME:
            raise ValueError(
                f"fingerprints made with scheme {self.scheme!r} cannot be compared with this "
                f"version's {SCHEME!r}; start a new database"
            )
        if self.num_perm < 16:
            raise ValueError(f"num_perm must be at least 16, got {self.num_perm}")
        if self.bands < 1 or self.num_perm % self.bands:
            raise ValueError(
                f"bands must divide num_perm ({self.num_perm}) evenly, got {self.bands}"
            )
        if self.shingle < 1:
            raise ValueError(f"shingle must be at least 1 word, got {self.shingle}")
        for name in ("near_dup", "containment", "story"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        for name in ("story_title", "story_drift", "story_undated"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, got {getattr(self, name)}")
        if self.story_days < 0 or self.story_prior < 0:
            raise ValueError("story_days and story_prior must be 0 or more")
        if self.story_tf not in ("linear", "log"):
            raise ValueError(f"story_tf must be 'linear' or 'log', got {self.story_tf!r}")
        if not 1 <= self.story_probes <= self.story_terms:
            raise ValueError("story_probes must be between 1 and story_terms")

    def story_bar(self, days: int | None) -> float:
        """The story score an article needs to join a story whose nearest write-up is
        `days` apart (None: one side has no date, so text alone decides, on the same-day
        bar plus `story_undated`: on real write-ups text alone decided as well as text on
        one day, so by default it asks nothing more). The window is a prior, not a gate:
        each day apart asks a little more."""
        if days is None:
            return self.story + self.story_undated
        return self.story + self.story_drift * days

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DedupParams:
        data = json.loads(text)
        return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data})


@dataclass(frozen=True)
class Fingerprint:
    """MinHash signature (uint32 per permutation) and the shingle-set size, which turns an
    estimated Jaccard into an estimated containment."""

    signature: np.ndarray
    size: int

    def jaccard(self, other: Fingerprint) -> float:
        return float(np.count_nonzero(self.signature == other.signature)) / len(self.signature)

    def containment(self, other: Fingerprint, jaccard: float | None = None) -> float:
        """Estimated share of the smaller shingle set that the other set holds."""
        j = self.jaccard(other) if jaccard is None else jaccard
        smaller = min(self.size, other.size)
        if not smaller:
            return 0.0
        return min(1.0, j * (self.size + other.size) / (1 + j) / smaller)

    def to_bytes(self) -> bytes:
        return self.signature.astype("<u4").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes, size: int) -> Fingerprint:
        return cls(np.frombuffer(data, dtype="<u4").astype(np.uint32), size)


def shingles(text: str, size: int) -> set[bytes]:
    """Word n-grams of the normalised text (tashkeel, tatweel, hamza forms, digits folded).
    A text shorter than one shingle is its one shingle."""
    return _shingles(tokens(text), size)


def _shingles(words: list[str], size: int) -> set[bytes]:
    if len(words) <= size:
        return {" ".join(words).encode("utf-8")} if words else set()
    return {" ".join(words[i : i + size]).encode("utf-8") for i in range(len(words) - size + 1)}


class Fingerprinter:
    """Builds fingerprints with one set of parameters; permutations are made once. Shingles
    are hashed with CRC-32 (stable across processes, and several times faster than
    datasketch's default SHA-1; the random permutations on top do the mixing)."""

    def __init__(self, params: DedupParams) -> None:
        self.params = params
        # Per-row multipliers fold each band's rows into one 64-bit bucket key.
        rng = np.random.default_rng(params.seed)
        self._row_mix = rng.integers(1, 2**63, size=params.rows, dtype=np.uint64) | np.uint64(1)
        self._band = np.arange(params.bands, dtype=np.uint64) + np.uint64(1)  # mixed in too

    def fingerprint(self, text: str) -> Fingerprint | None:
        """The text's fingerprint, or None when it has no words."""
        return self.fingerprint_words(tokens(text))

    def fingerprint_words(self, words: list[str]) -> Fingerprint | None:
        """`fingerprint` of a text already split by `tokens`."""
        # Imported here: datasketch imports scipy, a quarter of a second, and the crawl
        # process only computes bucket keys; the workers make the fingerprints.
        from datasketch import MinHash

        grams = _shingles(words, self.params.shingle)
        if not grams:
            return None
        minhash = MinHash(
            self.params.num_perm,
            seed=self.params.seed,
            hashfunc=zlib.crc32,
            permutations=self._permutations,
            scheme="affine32",
        )
        minhash.update_batch(list(grams))
        return Fingerprint(minhash.hashvalues.astype(np.uint32), len(grams))

    @cached_property
    def _permutations(self) -> Any:
        from datasketch import MinHash  # see fingerprint_words

        return MinHash(self.params.num_perm, seed=self.params.seed).permutations

    def buckets(self, fp: Fingerprint) -> list[int]:
        """One signed 64-bit LSH bucket key per band (band index mixed in)."""
        rows = fp.signature.astype(np.uint64).reshape(self.params.bands, self.params.rows)
        # Integer arrays wrap around silently: the sum of products modulo 2**64, in one call.
        keys = rows @ self._row_mix
        keys ^= self._band
        keys *= _MIX
        return keys.view(np.int64).tolist()

    def is_near_dup(self, a: Fingerprint, b: Fingerprint) -> tuple[bool, float]:
        """The decision and the similarity it rests on (the larger of Jaccard and
        containment, whichever passed its threshold)."""
        j = a.jaccard(b)
        if j >= self.params.near_dup:
            return True, j
        c = a.containment(b, j)
        if c >= self.params.containment:
            return True, c
        return False, j


def story_counts(title_terms: list[str], text_terms: list[str]) -> Counter[str]:
    """Term counts for story vectors, from `analyze`d title and text: stemmed words of
    three letters or more; the title's count double."""
    counts = Counter(text_terms)  # counted in C, then the few short words dropped
    counts.update(title_terms)
    counts.update(title_terms)
    for term in [t for t in counts if len(t) < 3]:
        del counts[term]
    return counts


def story_title(title_terms: list[str]) -> frozenset[str]:
    """The title's story terms (as `story_counts` keeps them), for `story_score`."""
    return frozenset(t for t in title_terms if len(t) >= 3)


def story_vector(
    counts: Counter[str],
    title: frozenset[str],
    df: dict[str, int],
    docs: int,
    params: DedupParams,
) -> tuple[dict[str, float], dict[str, float]]:
    """Unit-length TF-IDF vector of the `story_terms` heaviest terms, and the title's terms
    weighted by idf, summing to at most 1 (rare title words say most).

    idf comes from `df` document frequencies among `docs` documents plus `story_prior` that
    hold none of the terms, so that a young archive of one topic does not count the topic's
    own names as common. tf is the plain count (`story_tf` "linear"): the names of an event
    recur through every write-up of it, and the unit length already evens out long and short
    texts; indexes made before keep the damped 1 + log(count) ("log") they were made with."""
    terms = sorted(counts)  # ties in weight go to the first term, in every process
    size = len(terms)
    n = np.fromiter(map(counts.get, terms), np.float64, size)
    known = np.fromiter(map(df.get, terms, repeat(0, size)), np.float64, size)
    everyone = params.story_prior + docs + 1
    idf = np.log(everyone / (known + 1)) + 1
    tf = n if params.story_tf == "linear" else 1 + np.log(n)
    weights = tf * idf
    top = (-weights).argsort(kind="stable")[: params.story_terms]
    heaviest = weights[top]
    norm = math.sqrt((heaviest**2).sum()) or 1.0
    # Each title word weighs its idf over the highest idf there can be (a word no document
    # holds), so a title of common words weighs little however many of them recur.
    words = [bisect_left(terms, term) for term in sorted(title) if term in counts]
    heads = (idf[words] / (math.log(everyone) + 1) / (len(words) or 1)).round(5)
    # Five decimals: the cosines move by 1e-5 at most, and stored vectors shrink by half.
    vector = (heaviest / norm).round(5)
    names = np.array(terms, object)  # indexed by arrays in C, not term by term in Python
    return (
        dict(zip(names[top].tolist(), vector.tolist(), strict=True)),
        dict(zip(names[words].tolist(), heads.tolist(), strict=True)),
    )


@lru_cache(maxsize=262_144)
def term_key(term: str) -> int:
    """A signed 64-bit key of a story term, the same in every process (Python's `hash` of a
    string is not), so story vectors can be stored as arrays of keys and weights."""
    return int.from_bytes(
        hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest(), "little", signed=True
    )


def day_of(*stamps: str | None) -> str | None:
    """The first YYYY-MM-DD date among ISO timestamps, for story windows; a date that is
    not real or lies outside arshif.days' range (a window around 9999-12-31 overflows) is
    no date."""
    for stamp in stamps:
        if stamp and _DAY.match(stamp):
            try:
                return parse_day(stamp[:10]).isoformat()
            except ValueError:
                continue
    return None


@dataclass(frozen=True)
class Prepared:
    """What placing an article needs from its text alone: made where extraction runs (a
    worker process), so the crawl process is left with the index lookups. `params` says
    which settings the fingerprint was made with; the index ignores a mismatch."""

    params: DedupParams
    content_hash: str | None
    fingerprint: Fingerprint | None
    counts: Counter[str] | None  # story term counts; None when stories are off
    title: frozenset[str] = frozenset()  # the title's story terms


@lru_cache(maxsize=4)
def fingerprinter(params: DedupParams) -> Fingerprinter:
    """One Fingerprinter per settings in a process (its permutations take time to make)."""
    return Fingerprinter(params)


def prepare(params: DedupParams, title: str, text: str, *, stories: bool = True) -> Prepared:
    words = tokens(text)  # once, for the hash, the shingles and the story terms
    return prepare_words(params, words, analyze(title), terms_of(words), stories=stories)


def prepare_words(
    params: DedupParams,
    words: list[str],
    title_terms: list[str],
    text_terms: list[str],
    *,
    stories: bool = True,
) -> Prepared:
    """`prepare` from a text already split by `tokens` and both texts `analyze`d."""
    return Prepared(
        params,
        words_hash(words),
        fingerprinter(params).fingerprint_words(words),
        story_counts(title_terms, text_terms) if stories else None,
        story_title(title_terms) if stories else frozenset(),
    )
