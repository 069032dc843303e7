"""The PostgreSQL archive's small tables beside the articles, twins of
indexer/state_sqlite.py: saved searches and import positions. They are made by the
archive's migrations (indexer/archive_pg.py), so reads never need to create them."""

from __future__ import annotations

from typing import Any

import psycopg

from indexer.archive_base import ArchiveStore

# Schema version 2 (see archive_pg.MIGRATIONS).
TABLES = """
CREATE TABLE saved_searches (
    id      BIGSERIAL PRIMARY KEY,
    name    TEXT NOT NULL,
    query   TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE imports (
    source     TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    size       BIGINT,
    position   BIGINT NOT NULL DEFAULT 0,
    done       BOOLEAN NOT NULL DEFAULT FALSE,
    referenced BOOLEAN NOT NULL DEFAULT FALSE,
    counts     TEXT NOT NULL DEFAULT '{}',
    updated_at TEXT NOT NULL
);
CREATE INDEX articles_warc_file ON articles (warc_file)
"""

_SAVE_IMPORT = (
    "INSERT INTO imports (source, kind, size, position, done, referenced, counts, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET "
    "kind = EXCLUDED.kind, size = EXCLUDED.size, position = EXCLUDED.position, "
    "done = EXCLUDED.done, referenced = EXCLUDED.referenced, counts = EXCLUDED.counts, "
    "updated_at = EXCLUDED.updated_at"
)


class PgState(ArchiveStore):
    """Mixed into indexer/archive_pg.py's PgArchive (which supplies `_conn`)."""

    _conn: psycopg.Connection[Any]

    # ------------------------------------------------------------------ saved searches

    def saved_searches(self) -> list[tuple[int, str, str, str]]:
        query = "SELECT id, name, query, created FROM saved_searches ORDER BY id DESC"
        return self._conn.execute(query).fetchall()

    def save_search(self, name: str, query: str, created: str) -> int:
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO saved_searches (name, query, created) VALUES (%s, %s, %s) "
                "RETURNING id",
                (name, query, created),
            ).fetchone()
        return int(row[0])

    def delete_saved_search(self, saved_id: int) -> None:
        with self.transaction() as conn:
            conn.execute("DELETE FROM saved_searches WHERE id = %s", (saved_id,))

    # ------------------------------------------------------------------ import positions

    def import_state(self, source: str) -> tuple[Any, ...] | None:
        return self._conn.execute(
            "SELECT size, position, done, referenced, counts FROM imports WHERE source = %s",
            (source,),
        ).fetchone()

    def save_import_state(self, row: tuple[Any, ...]) -> None:
        from indexer.archive import now

        source, kind, size, position, done, referenced, counts = row
        with self.transaction() as conn:
            conn.execute(
                _SAVE_IMPORT,
                (source, kind, size, position, bool(done), bool(referenced), counts, now()),
            )

    def referenced_sources(self) -> set[str]:
        rows = self._conn.execute("SELECT source FROM imports WHERE referenced")
        return {row[0] for row in rows}

    def referenced_records(self, source: str) -> list[tuple[str, int]]:
        return self._conn.execute(
            "SELECT outlet, warc_offset FROM articles WHERE warc_file = %s "
            "AND warc_offset IS NOT NULL ORDER BY warc_offset",
            (source,),
        ).fetchall()
