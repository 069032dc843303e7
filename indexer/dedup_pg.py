"""Near-duplicate clusters in the PostgreSQL archive, decided correctly by concurrent
writers on several machines.

Placing an article reads before it writes: "which earlier article does this copy?" then
"join its cluster, or start one". Two workers placing two copies of one story at the same
moment would each find nothing and start two clusters. So the decision runs under one
advisory lock (`PgArchive.advisory_lock`), held to the end of its transaction: placements
queue for it, each sees every placement committed before it, and the clusters come out as
one process placing the same articles would make them. The rules are those of
indexer/dedup_store.py (exact content hash first, then the nearest MinHash LSH candidate
passing `Fingerprinter.is_near_dup`, earliest placed on ties), and so is story grouping:
a newcomer that copies nothing joins the story whose centroid scores best within the date
window (story vectors, their heaviest terms by day, document frequencies and centroids in
tables of the same names). Placements are serialised, so no centroid is cached between
them: each is read as the last placement, on whichever machine, left it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from arshif.dedup import (
    DedupParams,
    Fingerprint,
    Prepared,
    day_of,
    fingerprinter,
    prepare,
    story_vector,
)
from arshif.fingerprints import content_hash
from arshif.record import Article
from indexer.archive_base import ArchiveStore
from indexer.archive_pg import PgArchive
from indexer.dedup_store import (
    CANDIDATES,
    POSTINGS,
    Candidate,
    Match,
    Packed,
    _days_apart,
    _summed,
    _unit,
    story_scores,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dedup_params (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_docs (
    doc          BIGSERIAL PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    content_hash TEXT,
    signature    BYTEA,
    size         INTEGER NOT NULL DEFAULT 0,
    dup_cluster  TEXT NOT NULL,
    dup_of       TEXT
);
ALTER TABLE dedup_docs ADD COLUMN IF NOT EXISTS day TEXT;
ALTER TABLE dedup_docs ADD COLUMN IF NOT EXISTS vector TEXT NOT NULL DEFAULT '{}';
ALTER TABLE dedup_docs ADD COLUMN IF NOT EXISTS title TEXT NOT NULL DEFAULT '{}';
ALTER TABLE dedup_docs ADD COLUMN IF NOT EXISTS story_id TEXT;
CREATE INDEX IF NOT EXISTS dedup_docs_hash ON dedup_docs (content_hash);
CREATE INDEX IF NOT EXISTS dedup_docs_cluster ON dedup_docs (dup_cluster);
CREATE INDEX IF NOT EXISTS dedup_docs_story ON dedup_docs (story_id);
CREATE TABLE IF NOT EXISTS dedup_lsh (
    bucket BIGINT NOT NULL, doc BIGINT NOT NULL, PRIMARY KEY (bucket, doc)
);
CREATE TABLE IF NOT EXISTS dedup_terms (
    term TEXT NOT NULL, day TEXT NOT NULL, doc BIGINT NOT NULL,
    weight DOUBLE PRECISION NOT NULL DEFAULT 0,
    PRIMARY KEY (term, day, doc)
);
CREATE TABLE IF NOT EXISTS dedup_df (term TEXT PRIMARY KEY, df BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS dedup_stories (
    story_id TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    centroid TEXT NOT NULL,
    title    TEXT NOT NULL
)
"""
LOCK = "arshif:dup_cluster"
_STORY = "coalesce(story_id, dup_cluster)"  # rows adopted by `migrate` may have none
# The latest POSTINGS documents of one heavy term within the window (and, when any article
# was placed without a day, among the undated), each scoring its weight times the term's.
_LATEST = (
    "SELECT doc, weight * %s AS part FROM (SELECT t.doc, t.weight FROM dedup_terms t "
    "WHERE t.term = %s AND t.day BETWEEN %s AND %s AND t.doc != %s "
    "ORDER BY t.day DESC, t.doc DESC LIMIT %s) AS p"
)
_UNDATED = (
    "SELECT doc, weight * %s AS part FROM (SELECT t.doc, t.weight FROM dedup_terms t "
    "WHERE t.term = %s AND t.day = '' AND t.doc != %s ORDER BY t.doc DESC LIMIT %s) AS p"
)


@dataclass(frozen=True)
class Placement:
    content_hash: str | None
    dup_cluster: str
    dup_of: str | None
    story_id: str
    kind: str  # new, exact, near, unchanged
    similarity: float | None = None


class PgClusters:
    """Assigns `dup_cluster`, `dup_of` and `story_id` in the PostgreSQL archive."""

    def __init__(
        self, archive: PgArchive, params: DedupParams | None = None, *, stories: bool = True
    ) -> None:
        self.archive = archive
        self.stories = stories  # off: near-duplicates only, each cluster its own story
        with archive.advisory_lock(LOCK):
            conn = archive.conn
            conn.execute(_SCHEMA)
            row = conn.execute("SELECT value FROM dedup_params WHERE key = 'params'").fetchone()
            if row is None:
                params = params or DedupParams()
                conn.execute("INSERT INTO dedup_params VALUES ('params', %s)", (params.to_json(),))
            elif params is not None and DedupParams.from_json(row[0]) != params:
                raise ValueError(f"this archive's fingerprints use other settings ({row[0]})")
            else:
                params = DedupParams.from_json(row[0])
        self.params = params
        self.fingerprinter = fingerprinter(params)

    def place(self, article: Article, prepared: Prepared | None = None) -> Placement:
        """`add` an archive record (undated: its fetch day stands in for the story window)
        and write the placement onto it (the crawl's dedup stage, as DedupIndex.place)."""
        result = self.add(
            article.id, article.title or "", article.text or "",
            article.published or article.fetched_at, prepared,
        )  # fmt: skip
        article.content_hash = result.content_hash
        article.dup_cluster, article.dup_of = result.dup_cluster, result.dup_of
        article.story_id = result.story_id
        return result

    def keep(self, article: Article, prepared: Prepared | None = None) -> None:
        """Fingerprint a record that brings its own assignment and keep that assignment
        (as DedupIndex.keep: a record moved from another archive stays as it came)."""
        self.add(
            article.id, article.title or "", article.text or "",
            article.published or article.fetched_at, prepared,
        )  # fmt: skip
        if article.dup_cluster and article.story_id:
            with self.archive.transaction() as conn:
                conn.execute(
                    "UPDATE dedup_docs SET dup_cluster = %s, dup_of = %s, story_id = %s "
                    "WHERE id = %s",
                    (article.dup_cluster, article.dup_of, article.story_id, article.id),
                )

    def add(
        self,
        article_id: str,
        title: str,
        text: str,
        published: str | None = None,
        prepared: Prepared | None = None,
    ) -> Placement:
        """Place one article (the rules of DedupIndex.add) and write its cluster and story
        onto its archive row (if archived)."""
        if prepared and (
            prepared.params != self.params or (self.stories and prepared.counts is None)
        ):
            prepared = None  # made with other settings
        digest = prepared.content_hash if prepared else content_hash(text)
        with self.archive.advisory_lock(LOCK):
            conn = self.archive.conn
            row = conn.execute(
                f"SELECT doc, content_hash, dup_cluster, dup_of, {_STORY} FROM dedup_docs "
                "WHERE id = %s",
                (article_id,),
            ).fetchone()
            if row and row[1] == digest:
                return Placement(digest, row[2], row[3], row[4], "unchanged")
            if row:
                self._remove(row[0])
            if prepared is None:
                prepared = prepare(self.params, title, text, stories=self.stories)
            fp = prepared.fingerprint
            kind, dup_of, similarity = "new", self._exact(digest), 1.0
            if dup_of:
                kind = "exact"
            elif fp is not None:
                dup_of, similarity = self._nearest(fp)
                kind = "near" if dup_of else "new"
            day = day_of(published) if self.stories else None
            vector: dict[str, float] = {}
            heads: dict[str, float] = {}
            if self.stories and prepared.counts:
                vector, heads = self._vector(prepared.counts, prepared.title)
            joined = None
            if dup_of:
                query = f"SELECT dup_cluster, {_STORY} FROM dedup_docs WHERE id = %s"
                cluster, story = conn.execute(query, (dup_of,)).fetchone()
            else:
                cluster, similarity = article_id, None
                joined = self._story(vector, heads, day)
                story = joined or article_id
            doc = self._store(
                article_id, digest, fp, day, (vector, heads), (cluster, dup_of, story)
            )
            if joined:
                self._join(joined, doc, vector, heads)
            conn.execute(
                "UPDATE articles SET dup_cluster = %s, dup_of = %s, content_hash = %s, "
                "story_id = %s, index_state = 'pending' WHERE id = %s",
                (cluster, dup_of, digest, story, article_id),
            )
        return Placement(digest, cluster, dup_of, story, kind, similarity)

    def adopt(self, rows: list[tuple[Any, ...]]) -> None:
        """Index articles that bring their own cluster and story (an archive migrated from
        SQLite), in archive order: each gets its fingerprint, its story vector (IDF counted
        as the crawls counted it) and its heaviest terms by day, and each story of several
        write-ups its centroid, so later articles join migrated clusters and stories.
        `rows`: (id, title, text, dup_cluster, dup_of, story_id, published or fetched)."""
        members: dict[str, list[tuple[dict[str, float], dict[str, float]]]] = {}
        with self.archive.advisory_lock(LOCK):
            for article_id, title, text, cluster, dup_of, story, published in rows:
                prepared = prepare(self.params, title or "", text or "", stories=self.stories)
                fp = prepared.fingerprint
                vector: dict[str, float] = {}
                heads: dict[str, float] = {}
                if prepared.counts:
                    vector, heads = self._vector(prepared.counts, prepared.title)
                day = day_of(published) if self.stories else None
                cluster = cluster or article_id
                story = story or cluster
                self._store(
                    article_id, prepared.content_hash, fp, day, (vector, heads),
                    (cluster, dup_of, story),
                )  # fmt: skip
                if vector and dup_of is None:
                    members.setdefault(story, []).append((vector, heads))
            keep = self.params.story_terms
            for story, parts in members.items():
                if len(parts) > 1:
                    vectors, titles = [v for v, _ in parts], [h for _, h in parts]
                    self._write_story(story, len(parts), _summed(vectors, keep), _summed(titles))

    def _store(
        self,
        article_id: str,
        digest: str | None,
        fp: Fingerprint | None,
        day: str | None,
        story_vector: tuple[dict[str, float], dict[str, float]],
        placed: tuple[str, str | None, str],
    ) -> int:
        """Write one placed document: its row (fingerprint, story vector, cluster, story),
        its LSH buckets and its heaviest terms by day; returns its doc number."""
        vector, heads = story_vector
        cluster, dup_of, story = placed
        with self.archive.conn.cursor() as cur:
            doc = cur.execute(
                "INSERT INTO dedup_docs (id, content_hash, signature, size, day, vector, title, "
                "dup_cluster, dup_of, story_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "RETURNING doc",
                (article_id, digest, fp.to_bytes() if fp else None, fp.size if fp else 0, day,
                 json.dumps(vector, ensure_ascii=False), json.dumps(heads, ensure_ascii=False),
                 cluster, dup_of, story),
            ).fetchone()[0]  # fmt: skip
            if fp is not None:
                cur.executemany(
                    "INSERT INTO dedup_lsh (bucket, doc) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    [(b, doc) for b in self.fingerprinter.buckets(fp)],
                )
            if vector and not day:
                cur.execute(
                    "INSERT INTO dedup_params VALUES ('undated', 'yes') ON CONFLICT DO NOTHING"
                )
            cur.executemany(
                "INSERT INTO dedup_terms (term, day, doc, weight) VALUES (%s, %s, %s, %s)",
                [(term, day or "", doc, vector[term]) for term in self._probes(vector)],
            )
        return int(doc)

    # ------------------------------------------------------------------ stories

    def _vector(
        self, counts: Counter[str], title: frozenset[str]
    ) -> tuple[dict[str, float], dict[str, float]]:
        """The story vector and title weights, IDF from the documents so far; counts this
        one in (as DedupIndex._vector)."""
        conn = self.archive.conn
        docs = conn.execute("SELECT coalesce(max(doc), 0) FROM dedup_docs").fetchone()[0]
        df = dict(
            conn.execute(
                "INSERT INTO dedup_df (term, df) SELECT unnest(%s::text[]), 1 "
                "ON CONFLICT (term) DO UPDATE SET df = dedup_df.df + 1 RETURNING term, df - 1",
                (sorted(counts),),
            ).fetchall()
        )
        return story_vector(counts, title, df, docs, self.params)

    def _probes(self, vector: dict[str, float]) -> list[str]:
        return list(vector)[: self.params.story_probes]

    def _window(self, day: str) -> tuple[str, str]:
        center = date.fromisoformat(day)
        span = timedelta(days=self.params.story_days)
        return (center - span).isoformat(), (center + span).isoformat()

    def _undated(self) -> bool:
        query = "SELECT 1 FROM dedup_params WHERE key = 'undated'"
        return self.archive.conn.execute(query).fetchone() is not None

    def _story_candidates(
        self, vector: dict[str, float], day: str | None, exclude: int = 0
    ) -> list[Candidate]:
        """The articles sharing most heavy terms with `vector` near `day` (as
        DedupIndex._story_candidates)."""
        probes = self._probes(vector)
        if not probes:
            return []
        first, last = self._window(day) if day else ("0", "9")
        undated = self._undated()
        selects: list[str] = []
        values: list[Any] = []
        for term in probes:
            selects.append(_LATEST)
            values += (vector[term], term, first, last, exclude, POSTINGS)
            if undated:
                selects.append(_UNDATED)
                values += (vector[term], term, exclude, POSTINGS)
        rows = self.archive.conn.execute(
            f"SELECT d.doc, d.content_hash, d.id, {_STORY}, d.day, d.dup_of FROM dedup_docs d "
            f"WHERE d.doc IN (SELECT doc FROM ({' UNION ALL '.join(selects)}) AS u "
            "GROUP BY doc ORDER BY sum(part) DESC, doc LIMIT %s) ORDER BY d.doc",
            [*values, CANDIDATES],
        ).fetchall()
        return [Candidate(*row) for row in rows]

    def _story(
        self, vector: dict[str, float], title: dict[str, float], day: str | None
    ) -> str | None:
        """The story whose centroid scores best, if it passes the bar for the days between
        the newcomer and the story's nearest candidate (as DedupIndex._story)."""
        if not vector:
            return None
        candidates = self._story_candidates(vector, day)
        gaps: dict[str, int | None] = {}
        for c in candidates:
            gap, known = _days_apart(day, c.day), gaps.get(c.story)
            gaps[c.story] = gap if known is None else known if gap is None else min(known, gap)
        views = self._centroids(candidates)
        stories = list(views)
        scores = story_scores(
            Packed.of(vector, title), [views[story] for story in stories], self.params
        )
        best: tuple[float, str] | None = None
        for story, score in zip(stories, scores, strict=True):
            if score >= self.params.story_bar(gaps[story]) and (best is None or score > best[0]):
                best = (score, story)
        return best[1] if best else None

    def _centroids(self, candidates: list[Candidate]) -> dict[str, Packed]:
        """Each candidate story's centroid, or for a story of one write-up its vector."""
        stories = list(dict.fromkeys(c.story for c in candidates))
        found: dict[str, Packed] = {}
        rows = self.archive.conn.execute(
            "SELECT story_id, size, centroid, title FROM dedup_stories WHERE story_id = ANY(%s)",
            (stories,),
        ).fetchall()
        centroids = {}
        for story, size, centroid, title in rows:
            heads = {term: w / size for term, w in json.loads(title).items()}
            centroids[story] = Packed.of(_unit(json.loads(centroid)), heads)
        for story in stories:  # in candidate order, as the SQLite index keeps them
            if story in centroids:
                found[story] = centroids[story]
        singles = [c for c in candidates if c.story not in found]
        singles.sort(key=lambda c: c.dup_of is not None)  # the write-up before its copies
        vectors = self._vectors_of([c.doc for c in singles])
        for c in singles:
            found.setdefault(c.story, vectors[c.doc])
        return found

    def _vectors_of(self, docs: list[int]) -> dict[int, Packed]:
        rows = self.archive.conn.execute(
            "SELECT doc, vector, title FROM dedup_docs WHERE doc = ANY(%s)", (docs,)
        ).fetchall()
        return {doc: Packed.of(json.loads(v), json.loads(t)) for doc, v, t in rows}

    def _join(
        self, story: str, doc: int, vector: dict[str, float], title: dict[str, float]
    ) -> None:
        """Add a write-up to its story's centroid. A story of one write-up has no row: its
        vector is the centroid."""
        conn = self.archive.conn
        row = conn.execute(
            "SELECT size, centroid, title FROM dedup_stories WHERE story_id = %s", (story,)
        ).fetchone()
        if row is None:
            row = conn.execute(
                f"SELECT 1, vector, title FROM dedup_docs WHERE {_STORY} = %s AND doc != %s "
                "AND dup_of IS NULL ORDER BY doc LIMIT 1",
                (story, doc),
            ).fetchone() or (0, "{}", "{}")
        size, centroid, heads = row[0], json.loads(row[1]), json.loads(row[2])
        keep = self.params.story_terms
        self._write_story(
            story, size + 1, _summed([centroid, vector], keep), _summed([heads, title])
        )

    def _write_story(
        self, story: str, size: int, centroid: dict[str, float], title: dict[str, float]
    ) -> None:
        conn = self.archive.conn
        if size < 2:
            conn.execute("DELETE FROM dedup_stories WHERE story_id = %s", (story,))
            return
        conn.execute(
            "INSERT INTO dedup_stories (story_id, size, centroid, title) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (story_id) DO UPDATE SET "
            "size = EXCLUDED.size, centroid = EXCLUDED.centroid, title = EXCLUDED.title",
            (story, size, json.dumps(centroid, ensure_ascii=False),
             json.dumps(title, ensure_ascii=False)),
        )  # fmt: skip

    def _remove(self, doc: int) -> None:
        """Take a document out: its share of its story's centroid, its buckets and terms."""
        conn = self.archive.conn
        day, vector, title, dup_of, story = conn.execute(
            f"SELECT day, vector, title, dup_of, {_STORY} FROM dedup_docs WHERE doc = %s", (doc,)
        ).fetchone()
        row = conn.execute(
            "SELECT size, centroid, title FROM dedup_stories WHERE story_id = %s", (story,)
        ).fetchone()
        if row and dup_of is None:
            minus = {t: -w for t, w in json.loads(vector).items()}
            heads = {t: -w for t, w in json.loads(title).items()}
            self._write_story(
                story,
                row[0] - 1,
                _summed([json.loads(row[1]), minus], self.params.story_terms),
                _summed([json.loads(row[2]), heads]),
            )
        conn.execute("DELETE FROM dedup_lsh WHERE doc = %s", (doc,))
        conn.execute("DELETE FROM dedup_terms WHERE doc = %s", (doc,))
        conn.execute("DELETE FROM dedup_docs WHERE doc = %s", (doc,))

    # ------------------------------------------------------------------ reading

    def similar(self, article_id: str, limit: int = 20) -> list[Match]:
        """Near-duplicates (same cluster, or sharing an LSH bucket and passing the test)
        and story mates (same story, or passing the story bar on their own), most similar
        first, as DedupIndex.similar. Raises KeyError for an id not placed."""
        conn = self.archive.conn
        row = conn.execute(
            f"SELECT doc, signature, size, day, vector, title, dup_cluster, {_STORY} "
            "FROM dedup_docs WHERE id = %s",
            (article_id,),
        ).fetchone()
        if row is None:
            raise KeyError(article_id)
        doc, signature, size, day, vector_json, title_json, cluster, story = row
        matches: dict[str, Match] = {}
        if signature is not None:
            fp = Fingerprint.from_bytes(bytes(signature), size)
            rows = conn.execute(
                "SELECT doc, id, signature, size, dup_cluster = %s FROM dedup_docs "
                "WHERE signature IS NOT NULL AND doc != %s AND (dup_cluster = %s OR doc IN "
                "(SELECT doc FROM dedup_lsh WHERE bucket = ANY(%s))) ORDER BY doc",
                (cluster, doc, cluster, self.fingerprinter.buckets(fp)),
            ).fetchall()
            for _, other_id, other_sig, other_size, same_cluster in rows:
                other = Fingerprint.from_bytes(bytes(other_sig), other_size)
                is_dup, similarity = self.fingerprinter.is_near_dup(fp, other)
                if is_dup or same_cluster:
                    matches[other_id] = Match(other_id, "near_dup", round(similarity, 3))
        vector, title = json.loads(vector_json), json.loads(title_json)
        mates = [
            Candidate(*r)
            for r in conn.execute(
                f"SELECT doc, content_hash, id, {_STORY}, day, dup_of FROM dedup_docs "
                f"WHERE {_STORY} = %s AND doc != %s ORDER BY doc",
                (story, doc),
            )
        ]
        others = [*mates, *self._story_candidates(vector, day, exclude=doc)]
        views = self._vectors_of([c.doc for c in others])
        scores = story_scores(Packed.of(vector, title), [views[c.doc] for c in others], self.params)
        for c, score in zip(others, scores, strict=True):
            bar = self.params.story_bar(_days_apart(day, c.day))
            if c.id not in matches and (c.story == story or score >= bar):
                matches[c.id] = Match(c.id, "story", round(score, 3))
        ranked = sorted(matches.values(), key=lambda m: (m.relation != "near_dup", -m.similarity))
        return ranked[:limit]

    def _exact(self, digest: str | None) -> str | None:
        if digest is None:
            return None
        row = self.archive.conn.execute(
            "SELECT id FROM dedup_docs WHERE content_hash = %s ORDER BY doc LIMIT 1", (digest,)
        ).fetchone()
        return row[0] if row else None

    def _nearest(self, fp: Fingerprint) -> tuple[str | None, float | None]:
        rows = self.archive.conn.execute(
            "SELECT d.doc, d.id, d.signature, d.size FROM dedup_docs d WHERE d.doc IN "
            "(SELECT doc FROM dedup_lsh WHERE bucket = ANY(%s)) ORDER BY d.doc",
            (self.fingerprinter.buckets(fp),),
        ).fetchall()
        best: tuple[float, int, str] | None = None
        for doc, article_id, signature, size in rows:
            other = Fingerprint.from_bytes(bytes(signature), size)
            is_dup, similarity = self.fingerprinter.is_near_dup(fp, other)
            if is_dup and (best is None or (-similarity, doc) < (-best[0], best[1])):
                best = (similarity, doc, article_id)
        return (best[2], best[0]) if best else (None, None)


def dedup_index_for(archive: ArchiveStore, *, stories: bool = True) -> Any:
    """The near-duplicate index of an archive: this one on PostgreSQL, else the SQLite one
    (indexer/dedup_store.py); both `place` an article the same way."""
    if isinstance(archive, PgArchive):
        return PgClusters(archive, stories=stories)
    from indexer.dedup_store import DedupIndex

    return DedupIndex.for_archive(archive, stories=stories)  # type: ignore[arg-type]
