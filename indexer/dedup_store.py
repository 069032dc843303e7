"""The persistent near-duplicate and story index, in SQLite tables of its own.

Kept in the archive's database file, so duplicates are found across crawls, processes and
restarts; the same class over an in-memory database dedups a JSONL file (`arshif dedup`),
so both take one code path. Tables: `dedup_params` (the fingerprint settings, fixed at
creation so every stored signature stays comparable), `dedup_docs` (signature, sizes and the
assignment of each article), `dedup_lsh` (LSH bucket -> document; new entries gather in
`dedup_lsh_pending`, one row per document, and are merged in bulk, see `_merge`),
`dedup_terms` (each story vector's heaviest terms, by term and day ('' when undated), to
find story candidates near a date; new ones wait in `dedup_terms_pending` likewise),
`dedup_stories` (the centroid of each story of two write-ups or more) and `dedup_df`
(document frequencies for IDF).

A newcomer joins the story whose centroid it is closest to, when its `story_score` passes
the bar for the days between them (`DedupParams.story_bar`); comparing with the centroid,
not with the closest single article, keeps A~B, B~C from pulling in an unrelated C.
"""

from __future__ import annotations

import heapq
import json
import math
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING, Literal, NamedTuple

import numpy as np

from arshif.dedup import (
    DedupParams,
    Fingerprint,
    Prepared,
    day_of,
    fingerprinter,
    prepare,
    story_vector,
    term_key,
)
from arshif.fingerprints import content_hash
from arshif.record import Article
from indexer.lsh_pending import PendingBuckets
from indexer.story_postings import UNDATED, StoryPostings

if TYPE_CHECKING:
    from indexer.archive import Archive

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_params (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS dedup_docs (
    doc          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    content_hash TEXT,
    signature    BLOB,
    size         INTEGER NOT NULL,
    day          TEXT,
    vector       TEXT NOT NULL,  -- its terms, one a line, heaviest first (older: JSON)
    title        TEXT NOT NULL DEFAULT '{}',  -- the title's terms, likewise (older: JSON)
    packed       BLOB,  -- keys and weights of both, `Packed.to_bytes` (older: NULL)
    dup_cluster  TEXT NOT NULL,
    dup_of       TEXT,
    story_id     TEXT NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS dedup_docs_hash ON dedup_docs (content_hash);
CREATE INDEX IF NOT EXISTS dedup_docs_cluster ON dedup_docs (dup_cluster);
CREATE INDEX IF NOT EXISTS dedup_docs_story ON dedup_docs (story_id);
CREATE TABLE IF NOT EXISTS dedup_lsh (
    bucket INTEGER NOT NULL, doc INTEGER NOT NULL, PRIMARY KEY (bucket, doc)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_lsh_pending (
    doc INTEGER PRIMARY KEY, buckets TEXT NOT NULL  -- JSON array, one bucket per band
) STRICT;
CREATE TABLE IF NOT EXISTS dedup_terms (
    term TEXT NOT NULL, day TEXT NOT NULL, doc INTEGER NOT NULL,
    weight REAL NOT NULL DEFAULT 0,  -- the term's weight in the document's vector
    PRIMARY KEY (term, day, doc)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup_terms_pending (
    doc INTEGER PRIMARY KEY, day TEXT NOT NULL,
    terms TEXT NOT NULL  -- JSON [[term, weight], ...]: the rows it adds to dedup_terms
) STRICT;
CREATE TABLE IF NOT EXISTS dedup_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS dedup_stories (
    story_id TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,  -- write-ups summed (near-duplicates are not)
    centroid TEXT NOT NULL,     -- JSON {term: weight}: their vectors summed, heaviest kept
    title    TEXT NOT NULL      -- JSON {term: weight}: their title weights summed
) STRICT
"""
# Settings made before stories were scored with titles and centroids: their story
# threshold meant a plain cosine, so those settings give way to today's.
_STORY_FIELDS = ("story", "story_days", "story_terms")
# Settings made before plain term counts: their scorer, kept (`story_tf` "log").
_TF_FIELDS = ("story", "story_title", "story_tf")
_BEFORE_LINEAR = DedupParams(story=0.5, story_title=0.7, story_tf="log")

Kind = Literal["new", "exact", "near", "unchanged"]
CANDIDATES = 10  # story candidates compared in full, the heaviest shared terms first
POSTINGS = 100  # latest window articles each heavy term is looked up in
MERGE_MIN, MERGE_SHARE = 2000, 10  # pending LSH entries merge at 2,000 documents or 1/10th
TERMS_PENDING = 20_000  # story postings wait for at most so many documents (held in memory)
VECTOR_CACHE = 1000  # decoded story vectors kept (about 2 KB each)
CANDIDATE_CACHE = 50_000  # documents' candidate rows kept (about 300 bytes each)
DF_FLUSH = 500  # documents whose term counts are written to dedup_df at once
DF_CACHE = 500_000  # document frequencies kept in memory before the cache starts afresh
Key = tuple[int, str | None]  # a stored document: (doc, content hash), so a reused doc misses


@dataclass(frozen=True)
class Assignment:
    """What the index decided for one article. `similarity` is to `dup_of` (1.0 for an
    exact copy), None when the article starts its own cluster."""

    content_hash: str | None
    dup_cluster: str
    dup_of: str | None
    story_id: str
    kind: Kind
    similarity: float | None = None


@dataclass(frozen=True)
class Match:
    """A related article: a near-duplicate (`near_dup`, estimated Jaccard or containment)
    or a story mate (`story`, cosine of story vectors)."""

    id: str
    relation: Literal["near_dup", "story"]
    similarity: float


class DedupIndex:
    """Assigns `dup_cluster`, `dup_of` and `story_id` to articles as they arrive, and answers
    "what is similar to this one". Not thread-safe; one per connection."""

    def __init__(
        self,
        db: sqlite3.Connection,
        transaction: Callable[[], AbstractContextManager[sqlite3.Connection]],
        params: DedupParams | None = None,
        *,
        stories: bool = True,
    ) -> None:
        self.db = db
        self._transaction = transaction
        self.stories = stories  # off: near-duplicates only, each cluster its own story
        self._vector_cache: OrderedDict[Key, Packed] = OrderedDict()
        self._postings = StoryPostings()  # dedup_terms, in memory
        self._pending = PendingBuckets()  # dedup_lsh_pending, searchable in memory
        # Recent documents as story candidates, by doc: reading one from dedup_docs walks
        # the overflow pages of its vectors to reach its story.
        self._candidate_cache: OrderedDict[int, Candidate] = OrderedDict()
        self._centroid_cache: OrderedDict[str, Packed | None] = OrderedDict()  # by story id
        with transaction():
            for statement in _SCHEMA.split(";\n"):
                db.execute(statement)
            row = db.execute("SELECT value FROM dedup_params WHERE key = 'params'").fetchone()
            if row is None:
                params = params or DedupParams()
                db.execute("INSERT INTO dedup_params VALUES ('params', ?)", (params.to_json(),))
            else:
                stored = DedupParams.from_json(row[0])
                if "story_title" not in json.loads(row[0]):
                    stored = self._upgrade(stored)
                elif "story_tf" not in json.loads(row[0]):
                    # Made with damped term counts: its vectors and thresholds stay as made.
                    stored = replace(
                        stored, **{name: getattr(_BEFORE_LINEAR, name) for name in _TF_FIELDS}
                    )
                    db.execute(
                        "UPDATE dedup_params SET value = ? WHERE key = 'params'",
                        (stored.to_json(),),
                    )
                if params is not None and params != stored:
                    raise ValueError(
                        "this database's fingerprints were made with other settings "
                        f"({stored.to_json()}); use those or start a new database"
                    )
                params = stored
            columns = {
                row[0] for row in db.execute("SELECT name FROM pragma_table_info('dedup_docs')")
            }
            if "packed" not in columns:  # made before vectors were stored packed
                db.execute("ALTER TABLE dedup_docs ADD COLUMN packed BLOB")
            old = "SELECT 1 FROM sqlite_master WHERE name = 'dedup_lsh_new'"
            if db.execute(old).fetchone():  # made when new entries waited as rows
                db.execute("INSERT OR IGNORE INTO dedup_lsh SELECT bucket, doc FROM dedup_lsh_new")
                db.execute("DROP TABLE dedup_lsh_new")
            self._pending.add_rows(db.execute("SELECT doc, buckets FROM dedup_lsh_pending"))
            for doc, day, terms in db.execute("SELECT doc, day, terms FROM dedup_terms_pending"):
                for term, weight in json.loads(terms):
                    self._postings.add(term, day, doc, weight)
        self.params = params
        self.fingerprinter = fingerprinter(params)
        # Whether any article was indexed without a day (then lookups search those too).
        self._undated = self._any_undated()
        # Document frequencies read so far (plus this instance's own counts), and the counts
        # not yet written to dedup_df: written every DF_FLUSH documents and at the end of a
        # batch, not one row per term per document.
        self._df: dict[str, int] = {}
        self._df_new: Counter[str] = Counter()
        self._df_docs = 0
        self._batches = 0  # open `batch` blocks
        # Documents so far, for IDF: max(doc) is O(1) where count(*) scans; re-added
        # articles, and other processes' since this one opened, make it an estimate.
        self._docs = db.execute("SELECT coalesce(max(doc), 0) FROM dedup_docs").fetchone()[0]
        self._version = db.execute("PRAGMA data_version").fetchone()[0]

    def _catch_up(self) -> None:
        """Bring the caches up to what other connections committed since this one last
        looked (`PRAGMA data_version` moves only for them): their documents' postings
        added, centroids and document frequencies read afresh when next needed."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version == self._version:
            return
        self._version = version
        self._centroid_cache.clear()
        self._candidate_cache.clear()
        self._df.clear()
        self._undated = self._any_undated()
        # What another connection merged has left its pending table: forget it here too.
        for table, held in (
            ("dedup_lsh_pending", self._pending),
            ("dedup_terms_pending", self._postings),
        ):
            first = self.db.execute(f"SELECT min(doc) FROM {table}").fetchone()[0]
            held.drop_below(self._docs + 1 if first is None else first)
        self._pending.add_rows(
            self.db.execute(
                "SELECT doc, buckets FROM dedup_lsh_pending WHERE doc > ?", (self._docs,)
            )
        )
        rows = self.db.execute(
            "SELECT doc, day, vector, title, packed FROM dedup_docs WHERE doc > ? ORDER BY doc",
            (self._docs,),
        )
        for doc, day, *stored in rows:
            vector, _ = _read_vector(*stored)
            for term in self._probes(vector):
                self._postings.add(term, day, doc, vector[term])
            self._docs = doc

    def _any_undated(self) -> bool:
        row = self.db.execute("SELECT count(*) FROM dedup_params WHERE key = 'undated'")
        return bool(row.fetchone()[0])

    def _upgrade(self, stored: DedupParams) -> DedupParams:
        """Bring an index made before titles and centroids up to date: today's story
        settings, a title column (empty: old articles are compared by their vectors), and
        the centroids of the stories it holds."""
        db = self.db
        defaults = DedupParams()
        stored = replace(stored, **{name: getattr(defaults, name) for name in _STORY_FIELDS})
        db.execute("UPDATE dedup_params SET value = ? WHERE key = 'params'", (stored.to_json(),))
        columns = {row[0] for row in db.execute("SELECT name FROM pragma_table_info('dedup_docs')")}
        if "title" not in columns:
            db.execute("ALTER TABLE dedup_docs ADD COLUMN title TEXT NOT NULL DEFAULT '{}'")
            db.execute("ALTER TABLE dedup_terms ADD COLUMN weight REAL NOT NULL DEFAULT 0")
            db.execute(
                "UPDATE dedup_terms SET weight = coalesce((SELECT json_extract(d.vector, "
                "'$.\"' || dedup_terms.term || '\"') FROM dedup_docs d "
                "WHERE d.doc = dedup_terms.doc), 0)"
            )
        members: dict[str, list[dict[str, float]]] = {}
        for story, vector in db.execute(
            "SELECT story_id, vector FROM dedup_docs WHERE dup_of IS NULL ORDER BY doc"
        ):
            members.setdefault(story, []).append(json.loads(vector))
        for story, vectors in members.items():
            if len(vectors) > 1:
                self._write_story(story, len(vectors), _summed(vectors, stored.story_terms), {})
        return stored

    @classmethod
    def for_archive(
        cls, archive: Archive, params: DedupParams | None = None, *, stories: bool = True
    ) -> DedupIndex:
        """The index in the archive's database; also indexes `articles.dup_cluster`, which
        `--dedup` filters on."""
        with archive.transaction() as db:
            db.execute("CREATE INDEX IF NOT EXISTS articles_dup_cluster ON articles (dup_cluster)")
        return cls(archive.db, archive.transaction, params, stories=stories)

    @classmethod
    def in_memory(cls, params: DedupParams | None = None) -> DedupIndex:
        """A throwaway index, for deduplicating a dataset outside the archive."""
        db = sqlite3.connect(":memory:", isolation_level=None)

        @contextmanager
        def transaction() -> Iterator[sqlite3.Connection]:
            # A savepoint opens a transaction when none is open, and nests inside one.
            db.execute("SAVEPOINT dedup")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK TO dedup")
                db.execute("RELEASE dedup")
                raise
            db.execute("RELEASE dedup")

        return cls(db, transaction, params)

    # ------------------------------------------------------------------ writing

    @contextmanager
    def batch(self) -> Iterator[sqlite3.Connection]:
        """Group many `add`s in one transaction (bulk loads): one commit, not one each, and
        their document frequencies written every DF_FLUSH documents and at the end."""
        with self._transaction() as db:
            self._batches += 1
            try:
                yield db
                self.flush()
            finally:
                self._batches -= 1

    def flush(self) -> None:
        """Write the document frequencies counted since the last flush (an `add` outside
        `batch` writes its own at once)."""
        if self._df_new:
            with self._transaction() as db:
                db.executemany(
                    "INSERT INTO dedup_df (term, df) VALUES (?, ?) "
                    "ON CONFLICT (term) DO UPDATE SET df = df + excluded.df",
                    list(self._df_new.items()),
                )
        self._df_new.clear()
        self._df_docs = 0
        if len(self._df) > DF_CACHE:
            self._df.clear()

    def add(
        self,
        article_id: str,
        title: str,
        text: str,
        published: str | None = None,
        prepared: Prepared | None = None,
    ) -> Assignment:
        """Place one article: an exact copy (same content hash) or near-duplicate joins the
        cluster and story of the article it copies; otherwise it starts a cluster and joins
        the closest story within the date window, if close enough. Adding an id again with
        the same text changes nothing; with new text it is placed afresh. `prepared` (from
        `arshif.dedup.prepare` on this title and text) saves computing it here."""
        if prepared and (
            prepared.params != self.params or (self.stories and prepared.counts is None)
        ):
            prepared = None  # made with other settings
        # The hash alone first: an article added again unchanged needs no fingerprint.
        digest = prepared.content_hash if prepared else content_hash(text)
        with self._transaction() as db:
            self._catch_up()
            row = db.execute(
                "SELECT doc, content_hash, dup_cluster, dup_of, story_id FROM dedup_docs "
                "WHERE id = ?",
                (article_id,),
            ).fetchone()
            if row and row[1] == digest:
                return Assignment(digest, row[2], row[3], row[4], "unchanged")
            if row:
                self._remove(row[0])
            if prepared is None:
                prepared = prepare(self.params, title, text, stories=self.stories)
            fp = prepared.fingerprint
            kind: Kind = "new"
            dup_of, similarity = self._exact(digest), 1.0
            if dup_of:
                kind = "exact"
            elif fp is not None:
                dup_of, similarity = self._nearest(fp)
                kind = "near" if dup_of else "new"
            day = day_of(published) if self.stories else None
            vector: dict[str, float] = {}
            title: dict[str, float] = {}
            if self.stories and prepared.counts:
                vector, title = self._vector(prepared.counts, prepared.title)
            packed = Packed.of(vector, title) if vector else None
            joined = None
            if dup_of:
                cluster, story = db.execute(
                    "SELECT dup_cluster, story_id FROM dedup_docs WHERE id = ?", (dup_of,)
                ).fetchone()
            else:
                cluster, similarity = article_id, None
                joined = self._story(vector, packed, day)
                story = joined or article_id
            cursor = db.execute(
                "INSERT INTO dedup_docs (id, content_hash, signature, size, day, vector, "
                "title, packed, dup_cluster, dup_of, story_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article_id,
                    digest,
                    fp.to_bytes() if fp else None,
                    fp.size if fp else 0,
                    day,
                    "\n".join(vector),
                    "\n".join(title),
                    packed.to_bytes() if packed else None,
                    cluster,
                    dup_of,
                    story,
                ),
            )
            doc = cursor.lastrowid
            self._docs = max(self._docs, doc or 0)
            self._candidate(Candidate(doc, digest, article_id, story, day, dup_of))
            if joined:
                self._join(joined, doc, vector, title)
            if packed:
                self._remember((doc, digest), packed)
            if fp is not None:
                buckets = self.fingerprinter.buckets(fp)
                db.execute(
                    "INSERT INTO dedup_lsh_pending (doc, buckets) VALUES (?, ?)",
                    (doc, json.dumps(buckets)),
                )
                self._pending.add(doc, buckets)
                if len(self._pending) >= max(MERGE_MIN, (doc or 0) // MERGE_SHARE):
                    self._merge()
            if vector and not day and not self._undated:
                db.execute(
                    "INSERT INTO dedup_params VALUES ('undated', 'yes') ON CONFLICT DO NOTHING"
                )
                self._undated = True
            probes = self._probes(vector)
            if probes:
                db.execute(
                    "INSERT INTO dedup_terms_pending (doc, day, terms) VALUES (?, ?, ?)",
                    (
                        doc,
                        day or "",
                        json.dumps([[t, vector[t]] for t in probes], ensure_ascii=False),
                    ),
                )
                for term in probes:
                    self._postings.add(term, day, doc, vector[term])
                pending = len(self._postings.pending_docs)
                if pending >= max(MERGE_MIN, min((doc or 0) // MERGE_SHARE, TERMS_PENDING)):
                    self._merge_terms()
        return Assignment(digest, cluster, dup_of, story, kind, similarity)

    def place(self, article: Article, prepared: Prepared | None = None) -> Assignment:
        """`add` an archive record (undated: its fetch day stands in for the story window)
        and write the assignment onto it."""
        result = self.add(
            article.id,
            article.title,
            article.text,
            article.published or article.fetched_at,
            prepared,
        )
        article.content_hash = result.content_hash
        article.dup_cluster, article.dup_of = result.dup_cluster, result.dup_of
        article.story_id = result.story_id
        return result

    def keep(self, article: Article, prepared: Prepared | None = None) -> None:
        """Fingerprint an article that brings its own assignment (a record moved from
        another archive) and keep that assignment, so later articles join its cluster and
        story while the record itself stays exactly as it came."""
        self.add(
            article.id, article.title, article.text, article.published or article.fetched_at,
            prepared,
        )  # fmt: skip
        if article.dup_cluster and article.story_id:
            with self._transaction() as db:
                row = db.execute(
                    "UPDATE dedup_docs SET dup_cluster = ?, dup_of = ?, story_id = ? WHERE id = ? "
                    "RETURNING doc",
                    (article.dup_cluster, article.dup_of, article.story_id, article.id),
                ).fetchone()
                self._candidate_cache.pop(row[0], None)

    def _vector(
        self, counts: Counter[str], title: frozenset[str]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The story vector and title weights, with IDF from the documents so far; counts
        this one in."""
        known = self._df
        missing = [term for term in counts if term not in known]
        if missing:
            known.update(dict.fromkeys(missing, 0))
            known.update(
                self.db.execute(
                    "SELECT term, df FROM dedup_df WHERE term IN (SELECT value FROM json_each(?))",
                    (json.dumps(missing, ensure_ascii=False),),
                )
            )
        vector = story_vector(counts, title, known, self._docs, self.params)
        for term in counts:  # this document counts from the next one on
            known[term] += 1
        self._df_new.update(counts.keys())
        self._df_docs += 1
        if self._df_docs >= DF_FLUSH or not self._batches:
            self.flush()
        return vector

    def _join(
        self, story: str, doc: int, vector: dict[str, float], title: dict[str, float]
    ) -> None:
        """Add a write-up to its story's centroid (read afresh: another process may have
        added to it). A story of one write-up has no row: its vector is the centroid."""
        row = self.db.execute(
            "SELECT size, centroid, title FROM dedup_stories WHERE story_id = ?", (story,)
        ).fetchone()
        if row is None:
            first = self.db.execute(
                "SELECT vector, title, packed FROM dedup_docs WHERE story_id = ? AND doc != ? "
                "AND dup_of IS NULL ORDER BY doc LIMIT 1",
                (story, doc),
            ).fetchone()
            size, (centroid, heads) = (1, _read_vector(*first)) if first else (0, ({}, {}))
        else:
            size, centroid, heads = row[0], json.loads(row[1]), json.loads(row[2])
        keep = self.params.story_terms
        self._write_story(
            story, size + 1, _summed([centroid, vector], keep), _summed([heads, title])
        )

    def _write_story(
        self, story: str, size: int, centroid: dict[str, float], title: dict[str, float]
    ) -> None:
        if size < 2:
            self.db.execute("DELETE FROM dedup_stories WHERE story_id = ?", (story,))
        else:
            self.db.execute(
                "INSERT INTO dedup_stories (story_id, size, centroid, title) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (story_id) DO UPDATE SET size = excluded.size, "
                "centroid = excluded.centroid, title = excluded.title",
                (
                    story,
                    size,
                    json.dumps(centroid, ensure_ascii=False),
                    json.dumps(title, ensure_ascii=False),
                ),
            )
            # Kept as `_centroids` would read it back: this story is likely the next one
            # compared.
            heads = {term: w / size for term, w in title.items()}
            self._centroid_cache[story] = Packed.of(_unit(centroid), heads)
            self._centroid_cache.move_to_end(story)
            while len(self._centroid_cache) > VECTOR_CACHE:
                self._centroid_cache.popitem(last=False)
            return
        self._centroid_cache.pop(story, None)

    def _remove(self, doc: int) -> None:
        """Take a document's signature and story terms out of the index (its document
        frequencies stay counted: IDF is an estimate, and one extra count does not move it)."""
        db = self.db
        signature, size, day, *stored, dup_of, story = db.execute(
            "SELECT signature, size, day, vector, title, packed, dup_of, story_id "
            "FROM dedup_docs WHERE doc = ?",
            (doc,),
        ).fetchone()
        vector, title = _read_vector(*stored)
        row = db.execute(
            "SELECT size, centroid, title FROM dedup_stories WHERE story_id = ?", (story,)
        ).fetchone()
        if row and dup_of is None:  # take its vector out of the story's centroid
            minus = {t: -w for t, w in vector.items()}
            heads = {t: -w for t, w in title.items()}
            self._write_story(
                story,
                row[0] - 1,
                _summed([json.loads(row[1]), minus], self.params.story_terms),
                _summed([json.loads(row[2]), heads]),
            )
        if signature is not None:
            fp = Fingerprint.from_bytes(signature, size)
            buckets = [(b, doc) for b in self.fingerprinter.buckets(fp)]
            db.executemany("DELETE FROM dedup_lsh WHERE bucket = ? AND doc = ?", buckets)
        db.execute("DELETE FROM dedup_lsh_pending WHERE doc = ?", (doc,))
        self._pending.remove(doc)
        probes = self._probes(vector)
        db.executemany(
            "DELETE FROM dedup_terms WHERE term = ? AND day = ? AND doc = ?",
            [(term, day or "", doc) for term in probes],
        )
        db.execute("DELETE FROM dedup_terms_pending WHERE doc = ?", (doc,))
        for term in probes:
            self._postings.remove(term, day, doc)
        db.execute("DELETE FROM dedup_docs WHERE doc = ?", (doc,))
        self._candidate_cache.pop(doc, None)

    def _merge(self) -> None:
        """Move the pending LSH entries into the main table in bucket order.

        Each document has one entry per band at a random place in the bucket index; once
        that index outgrows memory, every entry dirtied its own page, and the cost per
        document grew with the archive. Entries wait as one row per document instead, and
        are merged in key order (each page of the big table written once per merge) when
        they reach a fixed share of the archive, so the cost per document stays flat."""
        self.db.execute(
            "INSERT OR IGNORE INTO dedup_lsh (bucket, doc) SELECT j.value, p.doc "
            "FROM dedup_lsh_pending p, json_each(p.buckets) j ORDER BY 1, 2"
        )
        self.db.execute("DELETE FROM dedup_lsh_pending")
        self._pending.clear()

    def _merge_terms(self) -> None:
        """Move the pending story postings into dedup_terms, in key order (as `_merge`)."""
        self.db.execute(
            "INSERT OR IGNORE INTO dedup_terms (term, day, doc, weight) "
            "SELECT j.value ->> 0, p.day, p.doc, j.value ->> 1 "
            "FROM dedup_terms_pending p, json_each(p.terms) j ORDER BY 1, 2, 3"
        )
        self.db.execute("DELETE FROM dedup_terms_pending")
        self._postings.merged()

    # ------------------------------------------------------------------ reading

    def _exact(self, digest: str | None) -> str | None:
        if digest is None:
            return None
        row = self.db.execute(
            "SELECT id FROM dedup_docs WHERE content_hash = ? ORDER BY doc LIMIT 1", (digest,)
        ).fetchone()
        return row[0] if row else None

    def _candidates(self, fp: Fingerprint) -> Iterator[tuple[int, str, Fingerprint]]:
        """Documents sharing at least one LSH bucket with `fp`."""
        buckets = self.fingerprinter.buckets(fp)
        rows = self.db.execute(
            "SELECT d.doc, d.id, d.signature, d.size FROM dedup_docs d WHERE d.doc IN "
            "(SELECT doc FROM dedup_lsh WHERE bucket IN (SELECT value FROM json_each(?)) "
            "UNION SELECT value FROM json_each(?))",
            (json.dumps(buckets), json.dumps(sorted(self._pending.documents(buckets)))),
        )
        for doc, article_id, signature, size in rows:
            yield doc, article_id, Fingerprint.from_bytes(signature, size)

    def _nearest(self, fp: Fingerprint) -> tuple[str | None, float | None]:
        """The most similar near-duplicate already indexed (earliest added on ties)."""
        best: tuple[float, int, str] | None = None
        for doc, article_id, other in self._candidates(fp):
            is_dup, similarity = self.fingerprinter.is_near_dup(fp, other)
            if is_dup and (best is None or (-similarity, doc) < (-best[0], best[1])):
                best = (similarity, doc, article_id)
        return (best[2], best[0]) if best else (None, None)

    def _probes(self, vector: dict[str, float]) -> list[str]:
        """The heaviest terms of a story vector (vectors are stored heaviest first)."""
        return list(vector)[: self.params.story_probes]

    def _story_candidates(
        self, vector: dict[str, float], day: str | None, exclude: int = 0
    ) -> list[Candidate]:
        """The articles sharing most heavy terms with `vector`, among those within
        `story_days` of `day` (any day when it is None) and the undated. Each term is
        followed through its latest POSTINGS articles only, so a term a whole busy story
        shares costs the same as a rare one."""
        probes = self._probes(vector)
        if not probes:
            return []
        self._postings.load(self.db, probes)
        if day:
            center, span = date.fromisoformat(day).toordinal(), self.params.story_days
            first, last = center - span, center + span
        else:
            first, last = UNDATED + 1, date.max.toordinal()
        # Each posting scores its weight times the term's weight here: summed over the
        # heavy terms both share, the part of the cosine that ranks candidates best.
        parts: dict[int, float] = {}
        for term in probes:
            mine = vector[term]
            found = self._postings.latest(term, first, last, exclude, POSTINGS)
            if self._undated:  # only `arshif dedup` records can lack a day; a crawl's never
                found += self._postings.latest(term, UNDATED, UNDATED, exclude, POSTINGS)
            for doc, weight in found:
                parts[doc] = parts.get(doc, 0.0) + weight * mine
        best = heapq.nsmallest(CANDIDATES, parts.items(), key=lambda part: (-part[1], part[0]))
        cache = self._candidate_cache
        missing = [doc for doc, _ in best if doc not in cache]
        if missing:
            rows = self.db.execute(
                "SELECT doc, content_hash, id, story_id, day, dup_of FROM dedup_docs "
                "WHERE doc IN (SELECT value FROM json_each(?))",
                (json.dumps(missing),),
            )
            for row in rows:
                self._candidate(Candidate(*row))
        return sorted((cache[doc] for doc, _ in best if doc in cache), key=lambda c: c.doc)

    def _candidate(self, candidate: Candidate) -> None:
        """Keep a document's candidate row as the most recently used."""
        self._candidate_cache[candidate.doc] = candidate
        self._candidate_cache.move_to_end(candidate.doc)
        while len(self._candidate_cache) > CANDIDATE_CACHE:
            self._candidate_cache.popitem(last=False)

    def _story(self, vector: dict[str, float], mine: Packed | None, day: str | None) -> str | None:
        """The story whose centroid scores best, if it passes the bar for the days between
        the newcomer and the story's nearest candidate write-up."""
        if not mine:
            return None
        candidates = self._story_candidates(vector, day)
        gaps: dict[str, int | None] = {}  # days to the nearest dated write-up, if any
        for c in candidates:
            gap, known = _days_apart(day, c.day), gaps.get(c.story)
            gaps[c.story] = gap if known is None else known if gap is None else min(known, gap)
        views = self._centroids(candidates)
        stories = list(views)
        scores = story_scores(mine, [views[story] for story in stories], self.params)
        best: tuple[float, str] | None = None
        for story, score in zip(stories, scores, strict=True):
            if score >= self.params.story_bar(gaps[story]) and (best is None or score > best[0]):
                best = (score, story)
        return best[1] if best else None

    def _centroids(self, candidates: list[Candidate]) -> dict[str, Packed]:
        """Each candidate story's centroid: its row, or for a story of one write-up that
        write-up's own vector."""
        cache = self._centroid_cache  # None: known to have no row (one write-up)
        stories = list(dict.fromkeys(c.story for c in candidates))
        found = {story: cache[story] for story in stories if story in cache}
        missing = [story for story in stories if story not in found]
        if missing:
            rows = self.db.execute(
                "SELECT story_id, size, centroid, title FROM dedup_stories "
                "WHERE story_id IN (SELECT value FROM json_each(?))",
                (json.dumps(missing, ensure_ascii=False),),
            )
            for story, size, centroid, title in rows:
                heads = {term: w / size for term, w in json.loads(title).items()}  # the mean
                found[story] = Packed.of(_unit(json.loads(centroid)), heads)
            for story in missing:
                cache[story] = found.setdefault(story, None)
            while len(cache) > VECTOR_CACHE:
                cache.popitem(last=False)
        singles = [c for c in candidates if found[c.story] is None]
        singles.sort(key=lambda c: c.dup_of is not None)  # the write-up before its copies
        vectors = self._vectors_of([(c.doc, c.digest) for c in singles])
        views: dict[str, Packed] = {}
        for c in singles:
            views.setdefault(c.story, vectors[c.doc, c.digest])
        return {story: view or views[story] for story, view in found.items()}

    def _vectors_of(self, keys: list[tuple[int, str | None]]) -> dict[Key, Packed]:
        """Story vectors by (doc, content hash), decoded once: the same recent articles are
        candidates for many newcomers, and decoding dominated the story lookup."""
        found = {key: self._vector_cache[key] for key in keys if key in self._vector_cache}
        missing = [doc for doc, digest in keys if (doc, digest) not in found]
        if missing:
            rows = self.db.execute(
                "SELECT doc, content_hash, packed, vector, title FROM dedup_docs "
                "WHERE doc IN (SELECT value FROM json_each(?))",
                (json.dumps(missing),),
            )
            found.update(
                (
                    (doc, digest),
                    Packed.from_bytes(packed)
                    if packed is not None
                    else Packed.of(*_read_vector(vector, title, None)),
                )
                for doc, digest, packed, vector, title in rows
            )
        for key, vector in found.items():
            self._remember(key, vector)
        return found

    def _remember(self, key: Key, vector: Packed) -> None:
        """Keep a vector as the most recently used, dropping the least recent beyond
        VECTOR_CACHE."""
        self._vector_cache[key] = vector
        self._vector_cache.move_to_end(key)
        while len(self._vector_cache) > VECTOR_CACHE:
            self._vector_cache.popitem(last=False)

    def assignment(self, article_id: str) -> Assignment | None:
        row = self.db.execute(
            "SELECT content_hash, dup_cluster, dup_of, story_id FROM dedup_docs WHERE id = ?",
            (article_id,),
        ).fetchone()
        return Assignment(*row, kind="unchanged") if row else None

    def similar(self, article_id: str, limit: int = 20) -> list[Match]:
        """Near-duplicates (same cluster, or sharing an LSH bucket and passing the test) and
        story mates (same story, or passing the story bar on their own: `story_score`), most
        similar first. Raises KeyError for an id the index does not hold."""
        self._catch_up()
        row = self.db.execute(
            "SELECT doc, signature, size, day, vector, title, packed, dup_cluster, story_id "
            "FROM dedup_docs WHERE id = ?",
            (article_id,),
        ).fetchone()
        if row is None:
            raise KeyError(article_id)
        doc, signature, size, day, *stored, cluster, story = row
        matches: dict[str, Match] = {}
        if signature is not None:
            fp = Fingerprint.from_bytes(signature, size)
            rows = self.db.execute(
                "SELECT doc, id, signature, size FROM dedup_docs "
                "WHERE dup_cluster = ? AND signature IS NOT NULL",
                (cluster,),
            ).fetchall()
            mates = [(d, i, Fingerprint.from_bytes(s, n)) for d, i, s, n in rows]
            in_cluster = {i for _, i, _ in mates}
            for other_doc, other_id, other in [*mates, *self._candidates(fp)]:
                if other_doc == doc or other_id in matches:
                    continue
                is_dup, similarity = self.fingerprinter.is_near_dup(fp, other)
                if is_dup or other_id in in_cluster:
                    matches[other_id] = Match(other_id, "near_dup", round(similarity, 3))
        vector, title = _read_vector(*stored)
        mates = [
            Candidate(*row)
            for row in self.db.execute(
                "SELECT doc, content_hash, id, story_id, day, dup_of FROM dedup_docs "
                "WHERE story_id = ? AND doc != ?",
                (story, doc),
            )
        ]
        others = [*mates, *self._story_candidates(vector, day, exclude=doc)]
        views = self._vectors_of([(c.doc, c.digest) for c in others])
        mine = Packed.of(vector, title)
        scores = story_scores(mine, [views[c.doc, c.digest] for c in others], self.params)
        for c, score in zip(others, scores, strict=True):
            bar = self.params.story_bar(_days_apart(day, c.day))
            if c.id not in matches and (c.story == story or score >= bar):
                matches[c.id] = Match(c.id, "story", round(score, 3))
        ranked = sorted(matches.values(), key=lambda m: (m.relation != "near_dup", -m.similarity))
        return ranked[:limit]


class Candidate(NamedTuple):
    """A stored article found as a possible story mate."""

    doc: int
    digest: str | None
    id: str
    story: str
    day: str | None
    dup_of: str | None


@dataclass(frozen=True)
class Packed:
    """A story vector as arrays, for `story_scores`: its terms' keys (`term_key`, the same
    in every process) and weights, in the vector's own stored order (heaviest first); and
    its title's keys and weights."""

    keys: np.ndarray
    weights: np.ndarray
    title_keys: np.ndarray
    title_weights: np.ndarray

    @classmethod
    def of(cls, vector: dict[str, float], title: dict[str, float] | None = None) -> Packed:
        title = title or {}
        return cls(
            np.fromiter(map(term_key, vector), np.int64, len(vector)),
            np.fromiter(vector.values(), np.float64, len(vector)),
            np.fromiter(map(term_key, title), np.int64, len(title)),
            np.fromiter(title.values(), np.float64, len(title)),
        )

    def to_bytes(self) -> bytes:
        """Stored beside the JSON vector, so a candidate is read without parsing JSON:
        the vector's length, its keys, the title's keys, then both sets of weights."""
        size = np.array([len(self.keys)], np.int64)
        keys = np.concatenate([size, self.keys, self.title_keys]).astype("<i8")
        return (
            keys.tobytes()
            + np.concatenate([self.weights, self.title_weights]).astype("<f8").tobytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Packed:
        size = int.from_bytes(data[:8], "little")
        count = (len(data) // 8 - 1) // 2  # vector and title terms
        keys = np.frombuffer(data, "<i8", count, 8)
        weights = np.frombuffer(data, "<f8", count, 8 * (1 + count))
        return cls(keys[:size], weights[:size], keys[size:], weights[size:])


def story_scores(mine: Packed, others: list[Packed], params: DedupParams) -> list[float]:
    """`story_score` of a newcomer with each of `others` (articles or story centroids):
    the cosine of their vectors plus `story_title` times the title overlap: the mean over
    both sides of the title weight (see `story_vector`) found among the other side's terms.
    Write-ups of one event name it in their titles, and each title's words recur in the
    other text even when the texts' wording differs; two reports that share only a place or
    a genre share little of it."""
    return _scores(mine, others, params.story_title)


def cosines(query: dict[str, float], others: list[Packed]) -> list[float]:
    """Cosines of a unit-length sparse vector with many (`story_scores` without titles)."""
    return _scores(Packed.of(query), others, 0.0)


def _scores(mine: Packed, others: list[Packed], title_weight: float) -> list[float]:
    """Cosines plus `title_weight` times the title overlaps, in a few array operations (the
    many candidates of a story share most terms, and term-by-term Python cost 10 µs each).
    Each sum runs in the other vector's stored order, so no result depends on the process."""
    n = len(others)
    if not len(mine.keys) or not n:
        return [0.0] * n
    # Their vectors' terms, then their titles' words, looked up among my terms in one pass:
    # a vector term found adds its weight times mine, a title word found its own weight.
    groups = [other.keys for other in others]
    weights = [other.weights for other in others]
    if title_weight:
        groups += [other.title_keys for other in others]
        weights += [other.title_weights for other in others]
    sizes = [len(group) for group in groups]
    theirs = np.concatenate(groups)
    owner = np.arange(len(groups)).repeat(sizes)
    at, hit = _lookup(mine.keys, theirs)
    factor = mine.weights[at]
    vector = sum(sizes[:n])
    factor[vector:] = 1.0
    sums = np.bincount(owner[hit], (np.concatenate(weights) * factor)[hit], len(groups))
    if not title_weight:
        return sums.tolist()
    # My title words among their vector terms.
    at, hit = _lookup(mine.title_keys, theirs[:vector])
    share = np.bincount(owner[:vector][hit], mine.title_weights[at[hit]], n)
    return (sums[:n] + title_weight * (share + sums[n:]) / 2).tolist()


def _lookup(table: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of `keys` sits in `table`, and which of them are there. The keys are
    hashes already, so their low bits index a table of places, 32 or more per key of
    `table`, in a few array operations (a binary search, mispredicting its branches, took
    three times as long); the few keys that lose their place to another are compared one
    by one (one in 64 of them, so one or two of a story vector's 150)."""
    if not len(table):
        return np.zeros(len(keys), np.intp), np.zeros(len(keys), bool)
    mask = (1 << (32 * len(table)).bit_length()) - 1
    slots = table & mask
    index = np.arange(len(table))
    places = np.zeros(mask + 1, np.intp)
    places[slots] = index  # of keys that share a slot, one takes it
    at = places[keys & mask]
    hit = table[at] == keys
    for lost in np.flatnonzero(places[slots] != index).tolist():
        same = keys == table[lost]
        at[same] = lost
        hit |= same
    return at, hit


def _read_vector(
    vector: str, title: str, packed: bytes | None
) -> tuple[dict[str, float], dict[str, float]]:
    """A stored story vector and title weights: their terms (one a line) with the weights
    of `packed`, or the JSON older rows hold. Writing terms and arrays, not JSON, halved
    the bytes of a document and the time to store it."""
    if vector.startswith("{"):
        return json.loads(vector), json.loads(title)
    if packed is None:  # no story terms
        return {}, {}
    arrays = Packed.from_bytes(packed)
    terms, heads = vector.split("\n") if vector else [], title.split("\n") if title else []
    return (
        dict(zip(terms, arrays.weights.tolist(), strict=True)),
        dict(zip(heads, arrays.title_weights.tolist(), strict=True)),
    )


def _days_apart(day: str | None, other: str | None) -> int | None:
    if not day or not other:
        return None
    return abs((date.fromisoformat(day) - date.fromisoformat(other)).days)


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
    return {term: w / norm for term, w in vector.items()}


def _summed(vectors: list[dict[str, float]], keep: int | None = None) -> dict[str, float]:
    """Term-wise sum, heaviest first, terms that cancel out dropped, `keep` at most."""
    total: Counter[str] = Counter()
    for vector in vectors:
        total.update(vector)
    ranked = sorted(((t, w) for t, w in total.items() if w > 1e-9), key=lambda tw: (-tw[1], tw[0]))
    return dict(ranked[:keep])
