"""The PostgreSQL archive's small tables beside the articles, twins of
indexer/state_sqlite.py: saved searches, import positions, scheduled runs, listing
validators (conditional GET) and discovered listings. They are made by the
archive's migrations (indexer/archive_pg.py), so reads never need to create them."""

from __future__ import annotations

import json
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
CREATE INDEX articles_warc_file ON articles (warc_file);
CREATE TABLE schedule_runs (
    id           BIGSERIAL PRIMARY KEY,
    schedule     TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    status       TEXT NOT NULL,
    outlets      JSONB NOT NULL DEFAULT '[]',
    pages        BIGINT NOT NULL DEFAULT 0,
    new_articles BIGINT NOT NULL DEFAULT 0,
    duplicates   BIGINT NOT NULL DEFAULT 0,
    errors       JSONB NOT NULL DEFAULT '{}',
    detail       TEXT NOT NULL DEFAULT '',
    log_file     TEXT,
    pid          BIGINT
);
CREATE INDEX crawl_runs_schedule_run ON crawl_runs ((info->>'schedule_run'));
CREATE TABLE listing_validators (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    saved_at      TEXT NOT NULL
);
CREATE TABLE discovered_listings (
    outlet   TEXT NOT NULL,
    url      TEXT NOT NULL,
    kind     TEXT NOT NULL,
    found_at TEXT NOT NULL,
    PRIMARY KEY (outlet, url)
)
"""

_SCHEDULE_COLUMNS = (
    "id, schedule, started_at, ended_at, status, outlets, pages, new_articles, duplicates, "
    "errors, detail, log_file"
)

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

    # ------------------------------------------------------------------ scheduled runs

    def start_schedule_run(self, schedule: str, outlets: list[str], log_file: str | None,
                           pid: int, status: str = "running") -> int:  # fmt: skip
        from indexer.archive import now

        stamp = now()
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO schedule_runs (schedule, started_at, ended_at, status, outlets, "
                "log_file, pid) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
                (schedule, stamp, None if status == "running" else stamp, status,
                 json.dumps(outlets), log_file, pid),
            ).fetchone()  # fmt: skip
        return int(row[0])

    def end_schedule_run(self, run_id: int, status: str, totals: dict[str, Any]) -> None:
        from indexer.archive import now

        with self.transaction() as conn:
            conn.execute(
                "UPDATE schedule_runs SET ended_at = %s, status = %s, pages = %s, "
                "new_articles = %s, duplicates = %s, errors = %s, detail = %s WHERE id = %s",
                (now(), status, totals["pages"], totals["new_articles"], totals["duplicates"],
                 json.dumps(totals["errors"]), totals["detail"], run_id),
            )  # fmt: skip

    def schedule_runs(
        self, limit: int, schedule: str | None = None, run_id: int | None = None
    ) -> list[dict[str, Any]]:
        where, params = "TRUE", []
        if schedule is not None:
            where, params = "schedule = %s", [schedule]
        if run_id is not None:
            where, params = "id = %s", [run_id]
        cursor = self._conn.execute(
            f"SELECT {_SCHEDULE_COLUMNS} FROM schedule_runs WHERE {where} "
            "ORDER BY id DESC LIMIT %s",
            [*params, limit],
        )
        names = [c.name for c in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def running_schedule_runs(self) -> list[tuple[int, int | None]]:
        query = "SELECT id, pid FROM schedule_runs WHERE status = 'running'"
        return [(row[0], row[1]) for row in self._conn.execute(query)]

    def last_schedule_runs(self) -> list[int]:
        rows = self._conn.execute(
            "SELECT max(id) FROM schedule_runs WHERE status NOT IN ('skipped', 'missed') "
            "GROUP BY schedule"
        )
        return [row[0] for row in rows]

    def schedule_crawl_runs(self, run_id: int) -> list[dict[str, Any]]:
        return self._runs("info->>'schedule_run' = %s", (str(run_id),), None)

    # ------------------------------------------------------------------ crawl state

    def listing_validators(self) -> dict[str, tuple[str | None, str | None]]:
        rows = self._conn.execute("SELECT url, etag, last_modified FROM listing_validators")
        return {url: (etag, modified) for url, etag, modified in rows}

    def save_listing_validators(self, fresh: dict[str, tuple[str | None, str | None]]) -> None:
        from indexer.archive import now

        stamp = now()
        with self.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO listing_validators VALUES (%s, %s, %s, %s) ON CONFLICT (url) "
                "DO UPDATE SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, "
                "saved_at = EXCLUDED.saved_at",
                [(url, etag, modified, stamp) for url, (etag, modified) in fresh.items()],
            )

    def remember_listing(self, outlet: str, url: str, kind: str) -> None:
        from indexer.archive import now

        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO discovered_listings VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (outlet, url) DO UPDATE SET kind = EXCLUDED.kind, "
                "found_at = EXCLUDED.found_at",
                (outlet, url, kind, now()),
            )

    def remembered_listings(self, outlet: str) -> list[tuple[str, str]]:
        rows = self._conn.execute(
            "SELECT kind, url FROM discovered_listings WHERE outlet = %s ORDER BY found_at DESC",
            (outlet,),
        )
        return [(kind, url) for kind, url in rows]
