"""The archive database: the system of record for every article, and the indexing outbox.

An article is durable here before any search index sees it. Each row carries an
`index_state` ('pending' until a backend acknowledges it), so an index that is down or slow
loses nothing and catches up by draining the outbox. SQLite in WAL mode lets the crawler
write while searches and exports read; every write is one transaction, so a crash
mid-write leaves the previous state, never half a row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arshif.record import FIELDS, LIST_FIELDS, Article
from arshif.storage import READ_ONLY, storage_problem
from indexer.archive_base import DAY_OUTLET_COUNTS, POLL_COLUMNS, SET_TOPICS, summarize
from indexer.filters import Filters
from indexer.state_sqlite import SqliteState

APPLICATION_ID = 0x41525348  # "ARSH": marks the file as an Arshif archive
SCHEMA_VERSION = 1

# One entry per schema version; a database at version N runs the entries after N.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE articles (
        pk            INTEGER PRIMARY KEY AUTOINCREMENT,  -- stable rowid, shared with the FTS index
        id            TEXT NOT NULL UNIQUE,
        url           TEXT NOT NULL,
        canonical_url TEXT NOT NULL,
        outlet        TEXT NOT NULL,
        title         TEXT,
        text          TEXT,
        lead          TEXT,
        authors       TEXT NOT NULL DEFAULT '[]',  -- JSON list
        published     TEXT,
        modified      TEXT,
        language      TEXT,
        language_prob REAL,
        image         TEXT,
        section       TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',  -- JSON list
        page_type     TEXT,
        fetched_at    TEXT,
        http_status   INTEGER,
        encoding      TEXT,
        warc_file     TEXT,
        warc_offset   INTEGER,
        content_hash  TEXT,
        dup_cluster   TEXT,
        dup_of        TEXT,
        story_id      TEXT,
        topics        TEXT NOT NULL DEFAULT '[]',  -- JSON list
        index_state   TEXT NOT NULL DEFAULT 'pending'
                      CHECK (index_state IN ('pending', 'indexed')),
        indexed_at    TEXT,
        indexed_by    TEXT,
        archived_at   TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    ) STRICT;
    CREATE INDEX articles_outlet ON articles (outlet);
    CREATE INDEX articles_published ON articles (published);
    CREATE INDEX articles_language ON articles (language);
    CREATE INDEX articles_index_state ON articles (index_state, updated_at);

    CREATE TABLE urls (
        url        TEXT PRIMARY KEY,
        article_id TEXT REFERENCES articles (id) ON DELETE SET NULL,
        status     TEXT NOT NULL,
        seen_at    TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX urls_article ON urls (article_id);

    CREATE TABLE crawl_runs (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        outlet       TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        ended_at     TEXT,
        status       TEXT NOT NULL,
        pages        INTEGER NOT NULL DEFAULT 0,
        new_articles INTEGER NOT NULL DEFAULT 0,
        skipped      INTEGER NOT NULL DEFAULT 0,
        errors       TEXT NOT NULL DEFAULT '{}',  -- JSON {kind: count}
        info         TEXT NOT NULL DEFAULT '{}'   -- JSON of start_run(**info)
    ) STRICT;
    """,
)
assert len(_MIGRATIONS) == SCHEMA_VERSION

ARTICLE_COLUMNS = ", ".join(f"a.{name}" for name in FIELDS)
_RUN_COLUMNS = (
    "id",
    "outlet",
    "started_at",
    "ended_at",
    "status",
    "pages",
    "new_articles",
    "skipped",
    "errors",
    "info",
)


_POLLS_SCHEMA = """
CREATE TABLE IF NOT EXISTS listing_polls (
    schedule         TEXT NOT NULL,
    outlet           TEXT NOT NULL,
    interval_seconds REAL NOT NULL,
    last_listing     TEXT,
    previous_listing TEXT,
    pending_run      INTEGER,
    new_per_hour     REAL,
    last_new         INTEGER,
    skipped          INTEGER NOT NULL DEFAULT 0,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (schedule, outlet)
) STRICT, WITHOUT ROWID
"""


class ArchiveError(Exception):
    """The archive cannot be opened or used; the message says what to do."""


def now() -> str:
    """Timestamps as ISO 8601 UTC, sortable as text."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def row_to_article(row: Sequence[Any]) -> Article:
    """An Article from a row selected with ARTICLE_COLUMNS (list fields decoded)."""
    data = dict(zip(FIELDS, row, strict=True))
    for name in LIST_FIELDS:
        data[name] = json.loads(data[name])
    return Article(**data)


def _article_values(article: Article) -> list[Any]:
    return [
        json.dumps(list(value), ensure_ascii=False) if name in LIST_FIELDS else value
        for name, value in zip(FIELDS, (getattr(article, n) for n in FIELDS), strict=True)
    ]


class Archive(SqliteState):
    """One Arshif archive database file. Not shared across threads; open one per user."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ArchiveError(
                f"cannot create the archive folder {self.path.parent}: {exc.strerror}; "
                "choose a writable data folder with --data-dir or ARSHIF_HOME"
            ) from exc
        self.read_only = False
        try:
            # Autocommit mode: transactions are explicit (see `transaction`), never implicit.
            self._conn = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from exc
        try:
            self._open()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if storage_problem(exc) != READ_ONLY or not self._settled():
                raise self._open_error(exc) from exc
            self._open_read_only(exc)
        except ArchiveError:
            self._conn.close()
            raise

    def _settled(self) -> bool:
        """Whether the file alone holds the whole archive: it exists and no write-ahead log
        beside it holds changes (the last writer closed, or none is writing)."""
        wal = self.path.with_name(self.path.name + "-wal")
        return self.path.is_file() and (not wal.exists() or wal.stat().st_size == 0)

    def _open_read_only(self, cause: sqlite3.DatabaseError) -> None:
        """Read an archive this user cannot write (a read-only mount, another user's folder):
        SQLite's WAL mode writes beside the database even to read, unless it is told the
        file cannot change. Searches, stats and exports work; any write fails as read-only."""
        uri = f"{self.path.resolve().as_uri()}?mode=ro&immutable=1"
        try:
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None)
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            app_id = self._conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError:
            raise self._open_error(cause) from cause
        if app_id != APPLICATION_ID or version != SCHEMA_VERSION:
            self._conn.close()
            raise self._open_error(cause) from cause  # to check or migrate it, it must be written
        self.read_only = True

    def _open(self) -> None:
        conn = self._conn
        conn.execute("PRAGMA busy_timeout = 30000")
        conn.execute("PRAGMA foreign_keys = ON")
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        has_tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0] > 0
        if app_id != APPLICATION_ID and (app_id != 0 or has_tables):
            raise ArchiveError(
                f"{self.path} is an SQLite database but not an Arshif archive; "
                "point --data-dir / ARSHIF_HOME at another folder or move the file away"
            )
        if version > SCHEMA_VERSION:
            raise ArchiveError(
                f"{self.path} was written by a newer Arshif (schema {version}, this one "
                f"reads up to {SCHEMA_VERSION}); upgrade Arshif to open it"
            )
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() != "wal":
            raise ArchiveError(
                f"{self.path}: SQLite cannot use WAL mode here (network file system?); "
                "keep the data folder on a local disk"
            )
        conn.execute("PRAGMA synchronous = NORMAL")
        # 32 MB of page cache (SQLite's default is 2 MB): the inner pages of the dedup
        # index stay in memory as the archive grows, instead of a file system read each.
        conn.execute("PRAGMA cache_size = -32768")
        if version < SCHEMA_VERSION:
            with self.transaction():
                # Read again under the write lock: another process may have just migrated.
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                for script in _MIGRATIONS[version:]:
                    for statement in script.split(";\n"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _open_error(self, exc: sqlite3.DatabaseError) -> ArchiveError:
        message = str(exc)
        if "not a database" in message:
            return ArchiveError(
                f"{self.path} is not an SQLite database, so not an Arshif archive; "
                "point --data-dir / ARSHIF_HOME at another folder or move the file away"
            )
        if storage_problem(exc) == READ_ONLY:
            return ArchiveError(
                f"cannot write the archive {self.path} ({message}); check the file and "
                "folder permissions or choose another folder with --data-dir / ARSHIF_HOME"
            )
        return ArchiveError(f"cannot open the archive {self.path}: {message}")

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for a search backend that lives in the same database file."""
        return self._conn

    def close(self) -> None:
        """Close the connection; a group still open (see `begin`) is committed first."""
        self.commit()
        self._conn.close()

    def begin(self) -> None:
        """Open a group transaction, unless one is open: the `transaction`s inside it become
        savepoints, and only `commit` makes them durable (one commit for many writes)."""
        if not self._conn.in_transaction:
            self._conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        """Commit the open group transaction, if any."""
        if self._conn.in_transaction:
            self._conn.execute("COMMIT")

    def rollback(self) -> None:
        """Undo the open group transaction, if any."""
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def in_group(self) -> bool:
        return self._conn.in_transaction

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write step. Used inside another transaction it becomes a savepoint, so
        callers can group writes (an article, its URLs, its index entry) and still have a
        failed inner step undo only itself.

        BEGIN IMMEDIATE takes the write lock up front: a reader turning writer mid-way
        would fail with SQLITE_BUSY instead of waiting for the busy timeout."""
        conn = self._conn
        nested = conn.in_transaction
        conn.execute("SAVEPOINT step" if nested else "BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if not conn.in_transaction:  # SQLite already rolled everything back itself
                raise
            if nested:
                conn.execute("ROLLBACK TO step")
                conn.execute("RELEASE step")
            else:
                conn.execute("ROLLBACK")
            raise
        conn.execute("RELEASE step" if nested else "COMMIT")

    # ------------------------------------------------------------------ articles

    def upsert(self, article: Article) -> bool:
        """Insert or update by id; returns True if the article is new. An update sends the
        article back to the outbox ('pending') so every index sees the new version. The
        article's URLs are recorded as seen in the same transaction."""
        stamp = now()
        values = _article_values(article)
        with self.transaction() as conn:
            exists = conn.execute("SELECT 1 FROM articles WHERE id = ?", (article.id,)).fetchone()
            if exists:
                assignments = ", ".join(f"{name} = ?" for name in FIELDS)
                conn.execute(
                    f"UPDATE articles SET {assignments}, index_state = 'pending', "
                    "updated_at = ? WHERE id = ?",
                    [*values, stamp, article.id],
                )
            else:
                conn.execute(
                    f"INSERT INTO articles ({', '.join(FIELDS)}, archived_at, updated_at) "
                    f"VALUES ({', '.join('?' * len(FIELDS))}, ?, ?)",
                    [*values, stamp, stamp],
                )
            for url in dict.fromkeys((article.url, article.canonical_url)):
                self.mark_seen(url, article.id, "archived")
        return not exists

    def get(self, article_id: str) -> Article | None:
        row = self._conn.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.id = ?", (article_id,)
        ).fetchone()
        return row_to_article(row) if row else None

    def distinct(self, column: str) -> set[str]:
        """The values of an indexed column (`outlet` or `language`), skipping from one to the
        next in its index: a few lookups per value, where DISTINCT reads every row's entry."""
        if column not in ("outlet", "language"):
            raise ValueError(f"no distinct values of {column!r}")
        rows = self._conn.execute(
            f"WITH RECURSIVE v(x) AS (SELECT min({column}) FROM articles UNION ALL "
            f"SELECT (SELECT min({column}) FROM articles WHERE {column} > x) FROM v "
            "WHERE x IS NOT NULL) SELECT x FROM v WHERE x IS NOT NULL"
        )
        return {row[0] for row in rows}

    def members(self, column: str, value: str) -> list[tuple[str, str, str, str | None]]:
        """(id, title, outlet, published) of the articles of one duplicate cluster
        (`dup_cluster`) or story (`story_id`), oldest first, undated last."""
        if column not in ("dup_cluster", "story_id"):
            raise ValueError(f"no members by {column!r}")
        return self._conn.execute(
            f"SELECT id, coalesce(title, ''), outlet, published FROM articles WHERE {column} = ? "
            "ORDER BY coalesce(published, '~'), pk",
            (value,),
        ).fetchall()

    def summary(self, days: int) -> dict[str, Any]:
        return summarize(
            lambda sql: self._conn.execute(sql).fetchall(),
            "json_each(articles.topics) t",
            days,
        )

    def set_topics(self, updates: Sequence[tuple[str, str]], stamp: str) -> None:
        with self.transaction() as db:
            db.executemany(SET_TOPICS, [(new, stamp, article_id) for article_id, new in updates])

    def day_outlet_counts(self, filters: Filters) -> list[tuple[str, str, int]]:
        where, params = filters.where("a")
        return self._conn.execute(DAY_OUTLET_COUNTS.format(where=where), params).fetchall()

    def has_article(self, article_id: str) -> bool:
        """For the crawler: an article with this id (from the canonical URL) is archived."""
        query = "SELECT 1 FROM articles WHERE id = ?"
        return self._conn.execute(query, (article_id,)).fetchone() is not None

    def iter_articles(self, filters: Filters | None = None, batch: int = 500) -> Iterator[Article]:
        """Every matching article in archive order, in constant memory: keyset pages by rowid
        (each page a short read), so no OFFSET rescans and no long-held read snapshot."""
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        where, params = (filters or Filters()).where("a")
        yield from self.keyset_articles(f"FROM articles a WHERE {where}", params, batch)

    def keyset_articles(
        self, from_where: str, params: Sequence[Any], batch: int = 500
    ) -> Iterator[Article]:
        """Articles selected by `FROM … WHERE …` (the articles table aliased `a`), in archive
        order, read in keyset pages by rowid; shared by filtered listings and search exports."""
        last = 0
        while True:
            rows = self._conn.execute(
                f"SELECT a.pk, {ARTICLE_COLUMNS} {from_where} AND a.pk > ? ORDER BY a.pk LIMIT ?",
                [*params, last, batch],
            ).fetchall()
            for row in rows:
                yield row_to_article(row[1:])
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def count(self, filters: Filters | None = None) -> int:
        where, params = (filters or Filters()).where("a")
        return self._conn.execute(
            f"SELECT count(*) FROM articles a WHERE {where}", params
        ).fetchone()[0]

    # ------------------------------------------------------------------ outbox

    def pending(self, limit: int) -> list[Article]:
        """The outbox: articles no index has acknowledged since their last write, oldest first."""
        rows = self._conn.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM articles a WHERE a.index_state = 'pending' "
            "ORDER BY a.updated_at, a.pk LIMIT ?",
            (limit,),
        ).fetchall()
        return [row_to_article(row) for row in rows]

    def pending_count(self) -> int:
        query = "SELECT count(*) FROM articles WHERE index_state = 'pending'"
        return self._conn.execute(query).fetchone()[0]

    def mark_indexed(self, ids: Sequence[str], backend: str) -> None:
        """Acknowledge articles as indexed by `backend`. The ids travel as one JSON
        parameter, so any number fits in one statement."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE articles SET index_state = 'indexed', indexed_at = ?, indexed_by = ? "
                "WHERE id IN (SELECT value FROM json_each(?))",
                (now(), backend, json.dumps(list(ids))),
            )

    def acknowledge(self, rows: Sequence[tuple[str, str]], backend: str) -> None:
        """Mark indexed only the rows still at the version sent (id, updated_at): an article
        updated while its batch was in flight stays pending and is sent again."""
        if not rows:
            return
        with self.transaction() as db:
            db.execute(
                "UPDATE articles SET index_state = 'indexed', indexed_at = ?, indexed_by = ? "
                "WHERE (id, updated_at) IN (SELECT json_extract(value, '$[0]'), "
                "json_extract(value, '$[1]') FROM json_each(?))",
                (now(), backend, json.dumps(list(rows))),
            )

    def outbox_batches(self, pending_only: bool, batch: int) -> Iterator[list[Any]]:
        """One writer at a time holds an SQLite archive, so the pages need no lock."""
        state = "AND a.index_state = 'pending'" if pending_only else ""
        last = 0
        while True:
            found = self._conn.execute(
                f"SELECT a.pk, a.updated_at, {ARTICLE_COLUMNS} FROM articles a "
                f"WHERE a.pk > ? {state} ORDER BY a.pk LIMIT ?",
                (last, batch),
            ).fetchall()
            if found:
                yield [(r[0], r[1], row_to_article(r[2:])) for r in found]
            if len(found) < batch:
                return
            last = found[-1][0]

    def representatives(
        self, ids: set[str], clusters: list[str]
    ) -> tuple[set[str], dict[str, str]]:
        members = dict(
            self._conn.execute(
                "SELECT id, dup_cluster FROM articles WHERE dup_cluster IN "
                "(SELECT value FROM json_each(?))",
                (json.dumps(clusters),),
            ).fetchall()
        )
        where, params = Filters(dedup=True).where("a")
        reps = {
            row[0]
            for row in self._conn.execute(
                "SELECT a.id FROM articles a WHERE a.id IN (SELECT value FROM json_each(?)) "
                f"AND {where}",
                [json.dumps(sorted(ids | set(members))), *params],
            )
        }
        return reps, {i: c for i, c in members.items() if i not in ids}

    def pending_rows(self, limit: int) -> list[tuple[int, str, Article]]:
        """The outbox as (rowid, updated_at, article), oldest first: the version an index
        acknowledges with `acknowledge`."""
        rows = self._conn.execute(
            f"SELECT a.pk, a.updated_at, {ARTICLE_COLUMNS} FROM articles a "
            "WHERE a.index_state = 'pending' ORDER BY a.updated_at, a.pk LIMIT ?",
            (limit,),
        ).fetchall()
        return [(r[0], r[1], row_to_article(r[2:])) for r in rows]

    def mark_all_indexed(self, backend: str) -> None:
        """Acknowledge the whole archive, after a backend re-indexed all of it."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE articles SET index_state = 'indexed', indexed_at = ?, indexed_by = ?",
                (now(), backend),
            )

    def requeue_all(self) -> None:
        """Put every article back in the outbox, for an index that starts empty."""
        with self.transaction() as conn:
            conn.execute("UPDATE articles SET index_state = 'pending', indexed_at = NULL")

    # ------------------------------------------------------------------ URLs

    def mark_seen(self, url: str, article_id: str | None, status: str) -> None:
        """Record a fetched URL: the article it holds (several URLs may share one) and a
        status such as 'archived' or 'skipped:<reason>'. A later sighting updates the status
        but keeps the known article."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO urls (url, article_id, status, seen_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET "
                "article_id = coalesce(excluded.article_id, urls.article_id), "
                "status = excluded.status, seen_at = excluded.seen_at",
                (url, article_id, status, now()),
            )

    def has_url(self, url: str) -> bool:
        """The crawler's "don't fetch again": this URL was archived or seen and skipped."""
        return self._conn.execute("SELECT 1 FROM urls WHERE url = ?", (url,)).fetchone() is not None

    def url_article(self, url: str) -> str | None:
        """The id of the article archived under this URL, if any."""
        row = self._conn.execute("SELECT article_id FROM urls WHERE url = ?", (url,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------ crawl runs

    def start_run(self, outlet: str, **info: Any) -> int:
        with self.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO crawl_runs (outlet, started_at, status, info) "
                "VALUES (?, ?, 'running', ?)",
                (outlet, now(), json.dumps(info, ensure_ascii=False, default=str)),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        pages: int,
        new_articles: int,
        skipped: int,
        errors: dict[str, int],
        info: dict[str, Any] | None = None,
    ) -> None:
        """End a run; `info` adds to the run's info (counts only known at the end)."""
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE crawl_runs SET ended_at = ?, status = ?, pages = ?, new_articles = ?, "
                "skipped = ?, errors = ?, info = json_patch(info, ?) WHERE id = ?",
                (now(), status, pages, new_articles, skipped, json.dumps(errors),
                 json.dumps(info or {}, ensure_ascii=False, default=str), run_id),
            )  # fmt: skip
            if cursor.rowcount != 1:
                raise ArchiveError(f"no crawl run {run_id} in {self.path}")

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest crawl runs, newest first, with `errors` and `info` decoded."""
        return self._runs("1", (), limit)

    def outlet_runs(self, outlet: str, limit: int) -> list[dict[str, Any]]:
        return self._runs("outlet = ? AND ended_at IS NOT NULL", (outlet,), limit)

    def run_outlets(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT DISTINCT outlet FROM crawl_runs")]

    def _runs(self, where: str, params: Sequence[Any], limit: int) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM crawl_runs WHERE {where} "
            "ORDER BY id DESC LIMIT ?",
            (*params, limit),
        ).fetchall()
        runs = [dict(zip(_RUN_COLUMNS, row, strict=True)) for row in rows]
        for run in runs:
            run["errors"] = json.loads(run["errors"])
            run["info"] = json.loads(run["info"])
        return runs

    # ------------------------------------------------------------------ listing intervals

    def poll_states(self, schedule: str) -> dict[str, dict[str, Any]]:
        exists = self._conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE name = 'listing_polls'"
        ).fetchone()
        if not exists:  # nothing saved yet (and a read-only archive stays unwritten)
            return {}
        rows = self._conn.execute(
            f"SELECT outlet, {', '.join(POLL_COLUMNS)} FROM listing_polls WHERE schedule = ?",
            (schedule,),
        ).fetchall()
        return {row[0]: dict(zip(POLL_COLUMNS, row[1:], strict=True)) for row in rows}

    def save_poll_state(self, schedule: str, outlet: str, state: dict[str, Any]) -> None:
        values = [state[name] for name in POLL_COLUMNS]
        with self.transaction() as conn:
            conn.execute(_POLLS_SCHEMA)
            conn.execute(
                f"INSERT OR REPLACE INTO listing_polls (schedule, outlet, "
                f"{', '.join(POLL_COLUMNS)}, updated_at) "
                f"VALUES (?, ?, {', '.join('?' * len(POLL_COLUMNS))}, ?)",
                [schedule, outlet, *values, now()],
            )
