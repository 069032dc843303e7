"""Near-duplicate clusters in the PostgreSQL archive, decided correctly by concurrent
writers on several machines.

Placing an article reads before it writes: "which earlier article does this copy?" then
"join its cluster, or start one". Two workers placing two copies of one story at the same
moment would each find nothing and start two clusters. So the decision runs under one
advisory lock (`PgArchive.advisory_lock`), held to the end of its transaction: placements
queue for it, each sees every placement committed before it, and the clusters come out as
one process placing the same articles would make them. The rules are those of
indexer/dedup_store.py (exact content hash first, then the nearest MinHash LSH candidate
passing `Fingerprinter.is_near_dup`, earliest placed on ties); story grouping is not
ported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from arshif.dedup import DedupParams, Fingerprint, Prepared, fingerprinter, prepare
from arshif.fingerprints import content_hash
from arshif.record import Article
from indexer.archive_base import ArchiveStore
from indexer.archive_pg import PgArchive
from indexer.dedup_store import Match

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
CREATE INDEX IF NOT EXISTS dedup_docs_hash ON dedup_docs (content_hash);
CREATE TABLE IF NOT EXISTS dedup_lsh (
    bucket BIGINT NOT NULL, doc BIGINT NOT NULL, PRIMARY KEY (bucket, doc)
)
"""
LOCK = "arshif:dup_cluster"


@dataclass(frozen=True)
class Placement:
    content_hash: str | None
    dup_cluster: str
    dup_of: str | None
    kind: str  # new, exact, near, unchanged
    similarity: float | None = None

    @property
    def story_id(self) -> str:
        return self.dup_cluster


class PgClusters:
    """Assigns `dup_cluster` and `dup_of` in the PostgreSQL archive."""

    def __init__(self, archive: PgArchive, params: DedupParams | None = None) -> None:
        self.archive = archive
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
        """`add` an archive record and write the placement onto it (the crawl's dedup
        stage, as DedupIndex.place); each cluster is its own story here."""
        result = self.add(article.id, article.title or "", article.text or "", prepared)
        article.content_hash = result.content_hash
        article.dup_cluster, article.dup_of = result.dup_cluster, result.dup_of
        article.story_id = result.story_id
        return result

    def add(
        self, article_id: str, title: str, text: str, prepared: Prepared | None = None
    ) -> Placement:
        """Place one article and write its cluster onto its archive row (if archived)."""
        if prepared is None or prepared.params != self.params:
            prepared = prepare(self.params, title, text, stories=False)
        digest = prepared.content_hash or content_hash(text)
        fp = prepared.fingerprint
        with self.archive.advisory_lock(LOCK):
            conn = self.archive.conn
            row = conn.execute(
                "SELECT content_hash, dup_cluster, dup_of FROM dedup_docs WHERE id = %s",
                (article_id,),
            ).fetchone()
            if row and row[0] == digest:
                return Placement(digest, row[1], row[2], "unchanged")
            if row:
                conn.execute("DELETE FROM dedup_docs WHERE id = %s", (article_id,))
            kind, dup_of, similarity = "new", self._exact(digest), 1.0
            if dup_of:
                kind = "exact"
            elif fp is not None:
                dup_of, similarity = self._nearest(fp)
                kind = "near" if dup_of else "new"
            if dup_of:
                query = "SELECT dup_cluster FROM dedup_docs WHERE id = %s"
                cluster = conn.execute(query, (dup_of,)).fetchone()[0]
            else:
                cluster, similarity = article_id, None
            doc = conn.execute(
                "INSERT INTO dedup_docs (id, content_hash, signature, size, dup_cluster, dup_of) "
                "VALUES (%s, %s, %s, %s, %s, %s) RETURNING doc",
                (article_id, digest, fp.to_bytes() if fp else None, fp.size if fp else 0,
                 cluster, dup_of),
            ).fetchone()[0]  # fmt: skip
            if fp is not None:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO dedup_lsh (bucket, doc) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        [(b, doc) for b in self.fingerprinter.buckets(fp)],
                    )
            conn.execute(
                "UPDATE articles SET dup_cluster = %s, dup_of = %s, content_hash = %s, "
                "index_state = 'pending' WHERE id = %s",
                (cluster, dup_of, digest, article_id),
            )
        return Placement(digest, cluster, dup_of, kind, similarity)

    def similar(self, article_id: str, limit: int = 20) -> list[Match]:
        """Near-duplicates (same cluster, or sharing an LSH bucket and passing the test),
        most similar first, as DedupIndex.similar. Raises KeyError for an id not placed."""
        conn = self.archive.conn
        row = conn.execute(
            "SELECT doc, signature, size, dup_cluster FROM dedup_docs WHERE id = %s",
            (article_id,),
        ).fetchone()
        if row is None:
            raise KeyError(article_id)
        doc, signature, size, cluster = row
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
        ranked = sorted(matches.values(), key=lambda m: -m.similarity)
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
        return PgClusters(archive)
    from indexer.dedup_store import DedupIndex

    return DedupIndex.for_archive(archive, stories=stories)  # type: ignore[arg-type]
