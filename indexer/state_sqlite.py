"""The SQLite archive's small tables beside the articles: saved searches, import positions,
scheduled runs, listing validators and discovered listings (and their twins in
indexer/state_pg.py). Each table is made on first write, so
an archive that never used one (and may be read-only) is read without creating it."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from indexer.archive_base import ArchiveStore

SAVED_SEARCHES = """CREATE TABLE IF NOT EXISTS saved_searches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created TEXT NOT NULL
)"""
IMPORTS = """
CREATE TABLE IF NOT EXISTS imports (
    source     TEXT PRIMARY KEY,          -- absolute path or http(s) URL
    kind       TEXT NOT NULL,             -- jsonl | warc
    size       INTEGER,                   -- bytes, when known, to notice a changed file
    position   INTEGER NOT NULL DEFAULT 0, -- byte offset of the first record not yet handled
    done       INTEGER NOT NULL DEFAULT 0,
    referenced INTEGER NOT NULL DEFAULT 0, -- archived records point into this source
    counts     TEXT NOT NULL DEFAULT '{}', -- JSON {what: n}, over every run
    updated_at TEXT NOT NULL
) STRICT
"""
SCHEDULE_RUNS = """
CREATE TABLE IF NOT EXISTS schedule_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule     TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    status       TEXT NOT NULL,             -- running, finished, interrupted, timeout, ...
    outlets      TEXT NOT NULL DEFAULT '[]', -- JSON list
    pages        INTEGER NOT NULL DEFAULT 0,
    new_articles INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
    errors       TEXT NOT NULL DEFAULT '{}', -- JSON {kind: count}
    detail       TEXT NOT NULL DEFAULT '',
    log_file     TEXT,
    pid          INTEGER                    -- the scheduler process that ran it
) STRICT
"""
LISTING_VALIDATORS = """
CREATE TABLE IF NOT EXISTS listing_validators (
    url           TEXT PRIMARY KEY,
    etag          TEXT,
    last_modified TEXT,
    saved_at      TEXT NOT NULL
) STRICT, WITHOUT ROWID
"""
DISCOVERED_LISTINGS = """
CREATE TABLE IF NOT EXISTS discovered_listings (
    outlet   TEXT NOT NULL,
    url      TEXT NOT NULL,
    kind     TEXT NOT NULL,   -- feed | sitemap
    found_at TEXT NOT NULL,
    PRIMARY KEY (outlet, url)
) STRICT, WITHOUT ROWID
"""
SCHEDULE_COLUMNS = (
    "id", "schedule", "started_at", "ended_at", "status", "outlets", "pages", "new_articles",
    "duplicates", "errors", "detail", "log_file",
)  # fmt: skip


class SqliteState(ArchiveStore):
    """Mixed into indexer/archive.py's Archive (which supplies `_conn` and `transaction`)."""

    _conn: sqlite3.Connection

    def has_table(self, name: str) -> bool:
        query = "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?"
        return self._conn.execute(query, (name,)).fetchone() is not None

    # ------------------------------------------------------------------ saved searches

    def saved_searches(self) -> list[tuple[int, str, str, str]]:
        if not self.has_table("saved_searches"):
            return []
        query = "SELECT id, name, query, created FROM saved_searches ORDER BY id DESC"
        return self._conn.execute(query).fetchall()

    def save_search(self, name: str, query: str, created: str) -> int:
        with self.transaction() as db:
            db.execute(SAVED_SEARCHES)
            cursor = db.execute(
                "INSERT INTO saved_searches (name, query, created) VALUES (?, ?, ?)",
                (name, query, created),
            )
        return int(cursor.lastrowid or 0)

    def delete_saved_search(self, saved_id: int) -> None:
        if self.has_table("saved_searches"):
            with self.transaction() as db:
                db.execute("DELETE FROM saved_searches WHERE id = ?", (saved_id,))

    # ------------------------------------------------------------------ import positions

    def import_state(self, source: str) -> tuple[Any, ...] | None:
        if not self.has_table("imports"):
            return None
        return self._conn.execute(
            "SELECT size, position, done, referenced, counts FROM imports WHERE source = ?",
            (source,),
        ).fetchone()

    def save_import_state(self, row: tuple[Any, ...]) -> None:
        from indexer.archive import now

        with self.transaction() as db:
            db.execute(IMPORTS)
            db.execute(
                "INSERT INTO imports (source, kind, size, position, done, referenced, counts, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET "
                "kind = excluded.kind, size = excluded.size, position = excluded.position, "
                "done = excluded.done, referenced = excluded.referenced, "
                "counts = excluded.counts, updated_at = excluded.updated_at",
                (*row, now()),
            )

    def referenced_sources(self) -> set[str]:
        if not self.has_table("imports"):
            return set()
        rows = self._conn.execute("SELECT source FROM imports WHERE referenced = 1")
        return {row[0] for row in rows}

    def referenced_records(self, source: str) -> list[tuple[str, int]]:
        return self._conn.execute(
            "SELECT outlet, warc_offset FROM articles WHERE warc_file = ? "
            "AND warc_offset IS NOT NULL ORDER BY warc_offset",
            (source,),
        ).fetchall()

    # ------------------------------------------------------------------ scheduled runs

    def start_schedule_run(self, schedule: str, outlets: list[str], log_file: str | None,
                           pid: int, status: str = "running") -> int:  # fmt: skip
        from indexer.archive import now

        stamp = now()
        with self.transaction() as db:
            db.execute(SCHEDULE_RUNS)
            cursor = db.execute(
                "INSERT INTO schedule_runs (schedule, started_at, ended_at, status, outlets, "
                "log_file, pid) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (schedule, stamp, None if status == "running" else stamp, status,
                 json.dumps(outlets), log_file, pid),
            )  # fmt: skip
        return int(cursor.lastrowid or 0)

    def end_schedule_run(self, run_id: int, status: str, totals: dict[str, Any]) -> None:
        from indexer.archive import now

        with self.transaction() as db:
            db.execute(
                "UPDATE schedule_runs SET ended_at = ?, status = ?, pages = ?, new_articles = ?, "
                "duplicates = ?, errors = ?, detail = ? WHERE id = ?",
                (now(), status, totals["pages"], totals["new_articles"], totals["duplicates"],
                 json.dumps(totals["errors"]), totals["detail"], run_id),
            )  # fmt: skip

    def schedule_runs(
        self, limit: int, schedule: str | None = None, run_id: int | None = None
    ) -> list[dict[str, Any]]:
        if not self.has_table("schedule_runs"):
            return []
        where, params = "1 = 1", []
        if schedule is not None:
            where, params = "schedule = ?", [schedule]
        if run_id is not None:
            where, params = "id = ?", [run_id]
        rows = self._conn.execute(
            f"SELECT {', '.join(SCHEDULE_COLUMNS)} FROM schedule_runs WHERE {where} "
            "ORDER BY id DESC LIMIT ?",
            [*params, limit],
        ).fetchall()
        runs = [dict(zip(SCHEDULE_COLUMNS, row, strict=True)) for row in rows]
        for run in runs:
            run["outlets"] = json.loads(run["outlets"])
            run["errors"] = json.loads(run["errors"])
        return runs

    def running_schedule_runs(self) -> list[tuple[int, int | None]]:
        if not self.has_table("schedule_runs"):
            return []
        query = "SELECT id, pid FROM schedule_runs WHERE status = 'running'"
        return self._conn.execute(query).fetchall()

    def last_schedule_runs(self) -> list[int]:
        if not self.has_table("schedule_runs"):
            return []
        rows = self._conn.execute(
            "SELECT max(id) FROM schedule_runs WHERE status NOT IN ('skipped', 'missed') "
            "GROUP BY schedule"
        )
        return [row[0] for row in rows]

    def schedule_crawl_runs(self, run_id: int) -> list[dict[str, Any]]:
        return self._runs("json_extract(info, '$.schedule_run') = ?", (run_id,), -1)

    # ------------------------------------------------------------------ crawl state

    def listing_validators(self) -> dict[str, tuple[str | None, str | None]]:
        if not self.has_table("listing_validators"):
            return {}
        rows = self._conn.execute("SELECT url, etag, last_modified FROM listing_validators")
        return {url: (etag, modified) for url, etag, modified in rows}

    def save_listing_validators(self, fresh: dict[str, tuple[str | None, str | None]]) -> None:
        from indexer.archive import now

        stamp = now()
        with self.transaction() as db:
            db.execute(LISTING_VALIDATORS)
            db.executemany(
                "INSERT INTO listing_validators VALUES (?, ?, ?, ?) ON CONFLICT (url) DO UPDATE "
                "SET etag = excluded.etag, last_modified = excluded.last_modified, "
                "saved_at = excluded.saved_at",
                [(url, etag, modified, stamp) for url, (etag, modified) in fresh.items()],
            )

    def remember_listing(self, outlet: str, url: str, kind: str) -> None:
        from indexer.archive import now

        with self.transaction() as db:
            db.execute(DISCOVERED_LISTINGS)
            db.execute(
                "INSERT INTO discovered_listings VALUES (?, ?, ?, ?) ON CONFLICT (outlet, url) "
                "DO UPDATE SET kind = excluded.kind, found_at = excluded.found_at",
                (outlet, url, kind, now()),
            )

    def remembered_listings(self, outlet: str) -> list[tuple[str, str]]:
        if not self.has_table("discovered_listings"):
            return []
        rows = self._conn.execute(
            "SELECT kind, url FROM discovered_listings WHERE outlet = ? ORDER BY found_at DESC",
            (outlet,),
        )
        return [(kind, url) for kind, url in rows]
