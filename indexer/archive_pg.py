"""The archive in PostgreSQL (`ARSHIF_DATABASE_URL=postgresql://…`), for several machines
writing to one archive; the same interface and meaning as the SQLite archive
(indexer/archive_base.py).

psycopg 3 over a psycopg-pool pool, one per process and DSN, opened on first use (never
before a fork: a pool's connections cannot cross one). Connections are autocommit; every
write is an explicit transaction, and a group (`begin` … `commit`) nests them as savepoints,
as SQLite's does. Concurrent writers stay correct by construction: an article is one row per
id (`INSERT … ON CONFLICT`), a URL one row per URL, and decisions that read before they
write take an advisory lock (`advisory_lock`). Timestamps and list fields are stored as the
SQLite archive stores them (ISO text, JSON text), so rows move between the two unchanged.
"""

from __future__ import annotations

import json
import re
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from arshif.credentials import redact_url
from arshif.record import FIELDS, LIST_FIELDS, Article
from indexer.archive import ArchiveError, now, row_to_article
from indexer.archive_base import DAY_OUTLET_COUNTS, POLL_COLUMNS, SET_TOPICS, summarize
from indexer.filters import Filters
from indexer.state_pg import TABLES as STATE_TABLES
from indexer.state_pg import PgState

# One entry per schema version (the list index + 1); shipped entries are never edited.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE articles (
        pk            BIGSERIAL PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        url           TEXT NOT NULL,
        canonical_url TEXT NOT NULL,
        outlet        TEXT NOT NULL,
        title         TEXT,
        text          TEXT,
        lead          TEXT,
        authors       TEXT NOT NULL DEFAULT '[]',
        published     TEXT,
        modified      TEXT,
        language      TEXT,
        language_prob DOUBLE PRECISION,
        image         TEXT,
        section       TEXT,
        tags          TEXT NOT NULL DEFAULT '[]',
        page_type     TEXT,
        fetched_at    TEXT,
        http_status   BIGINT,
        encoding      TEXT,
        warc_file     TEXT,
        warc_offset   BIGINT,
        content_hash  TEXT,
        dup_cluster   TEXT,
        dup_of        TEXT,
        story_id      TEXT,
        topics        TEXT NOT NULL DEFAULT '[]',
        index_state   TEXT NOT NULL DEFAULT 'pending'
                      CHECK (index_state IN ('pending', 'indexed')),
        indexed_at    TEXT,
        indexed_by    TEXT,
        archived_at   TEXT NOT NULL,
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX articles_outlet ON articles (outlet);
    CREATE INDEX articles_published ON articles (published);
    CREATE INDEX articles_language ON articles (language);
    CREATE INDEX articles_index_state ON articles (index_state, updated_at);
    CREATE INDEX articles_dup_cluster ON articles (dup_cluster);
    CREATE INDEX articles_content_hash ON articles (content_hash);
    CREATE TABLE urls (
        url        TEXT PRIMARY KEY,
        article_id TEXT REFERENCES articles (id) ON DELETE SET NULL,
        status     TEXT NOT NULL,
        seen_at    TEXT NOT NULL
    );
    CREATE INDEX urls_article ON urls (article_id);
    CREATE TABLE crawl_runs (
        id           BIGSERIAL PRIMARY KEY,
        outlet       TEXT NOT NULL,
        started_at   TEXT NOT NULL,
        ended_at     TEXT,
        status       TEXT NOT NULL,
        pages        BIGINT NOT NULL DEFAULT 0,
        new_articles BIGINT NOT NULL DEFAULT 0,
        skipped      BIGINT NOT NULL DEFAULT 0,
        errors       JSONB NOT NULL DEFAULT '{}',
        info         JSONB NOT NULL DEFAULT '{}'
    )
    """,
    STATE_TABLES,
    # 3: the scheduler's adaptive listing intervals (schedules/polling.py)
    """
    CREATE TABLE IF NOT EXISTS listing_polls (
        schedule         TEXT NOT NULL,
        outlet           TEXT NOT NULL,
        interval_seconds DOUBLE PRECISION NOT NULL,
        last_listing     TEXT,
        previous_listing TEXT,
        pending_run      BIGINT,
        new_per_hour     DOUBLE PRECISION,
        last_new         BIGINT,
        skipped          BIGINT NOT NULL DEFAULT 0,
        updated_at       TEXT NOT NULL,
        PRIMARY KEY (schedule, outlet)
    )
    """,
)

_SAVE_POLL = (
    f"INSERT INTO listing_polls (schedule, outlet, {', '.join(POLL_COLUMNS)}, updated_at) "
    f"VALUES (%s, %s, {', '.join(['%s'] * len(POLL_COLUMNS))}, %s) "
    "ON CONFLICT (schedule, outlet) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in (*POLL_COLUMNS, "updated_at"))
)

_SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS arshif_schema (version INTEGER NOT NULL)"
_MIGRATE_LOCK = 0x41525348  # "ARSH": one process migrates, the others wait for it

_COLUMNS = ", ".join(f"a.{name}" for name in FIELDS)
_RUN_COLUMNS = (
    "id, outlet, started_at, ended_at, status, pages, new_articles, skipped, errors, info"
)

_INSERT_ARTICLE = (
    f"INSERT INTO articles ({', '.join(FIELDS)}, archived_at, updated_at) "
    f"VALUES ({', '.join(['%s'] * len(FIELDS))}, %s, %s) "
    "ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in FIELDS if name != "id")
    + ", index_state = 'pending', updated_at = EXCLUDED.updated_at "
    "RETURNING (xmax = 0) AS inserted"
)
_MARK_SEEN = (
    "INSERT INTO urls (url, article_id, status, seen_at) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (url) DO UPDATE SET "
    "article_id = coalesce(EXCLUDED.article_id, urls.article_id), "
    "status = EXCLUDED.status, seen_at = EXCLUDED.seen_at"
)

_POOLS: dict[str, ConnectionPool] = {}
_POOLS_LOCK = threading.Lock()


def pool_for(url: str) -> ConnectionPool:
    """This process's pool for one database, opened (and checked) on first use."""
    with _POOLS_LOCK:
        pool = _POOLS.get(url)
        if pool is None:
            pool = ConnectionPool(
                url, min_size=1, max_size=8, open=False, kwargs={"autocommit": True}
            )
            try:
                pool.open(wait=True, timeout=15)
            except psycopg.pool.PoolTimeout as exc:  # type: ignore[attr-defined]
                pool.close()
                raise ArchiveError(
                    f"cannot connect to the archive database {redact_url(url)}; check "
                    "ARSHIF_DATABASE_URL and that PostgreSQL is running"
                ) from exc
            _POOLS[url] = pool
        return pool


def pg_where(sql: str) -> str:
    """A condition written for SQLite (indexer/filters.py) in PostgreSQL's dialect: `%s`
    placeholders, JSON lists through json_array_elements_text, TRUE for "1"."""
    if sql == "1":
        return "TRUE"
    sql = re.sub(r"json_each\(([\w.]+)\)", r"json_array_elements_text(\1::json) AS j(value)", sql)
    return sql.replace("?", "%s")


def _values(article: Article) -> list[Any]:
    return [
        json.dumps(list(getattr(article, n)), ensure_ascii=False)
        if n in LIST_FIELDS
        else getattr(article, n)
        for n in FIELDS
    ]


class PgArchive(PgState):
    """One user's handle on the PostgreSQL archive: one pooled connection, held until
    `close`. Not shared across threads, like the SQLite archive."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.path = redact_url(url)  # what messages name
        self.read_only = False
        self._pool = pool_for(url)
        self._conn = self._pool.getconn()
        self._group: Any = None
        try:
            self._migrate()
        except BaseException:
            self._pool.putconn(self._conn)
            raise

    def _migrate(self) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATE_LOCK,))
            self._conn.execute(_SCHEMA_TABLE)
            row = self._conn.execute("SELECT max(version) FROM arshif_schema").fetchone()
            version = row[0] or 0
            if version > len(MIGRATIONS):
                raise ArchiveError(
                    f"the archive database was written by a newer Arshif (schema {version}, "
                    f"this one reads up to {len(MIGRATIONS)}); upgrade Arshif"
                )
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                self._conn.execute(script)
                self._conn.execute("INSERT INTO arshif_schema VALUES (%s)", (number,))

    @property
    def conn(self) -> psycopg.Connection[Any]:
        return self._conn

    def close(self) -> None:
        if self._conn is None:
            return
        self.commit()
        self._pool.putconn(self._conn)
        self._conn = None  # type: ignore[assignment]

    def begin(self) -> None:
        if self._group is None:
            self._group = self._conn.transaction()
            self._group.__enter__()

    def commit(self) -> None:
        group, self._group = self._group, None
        if group is not None:
            group.__exit__(None, None, None)

    def rollback(self) -> None:
        """Undo the open group (after a failed write the connection cannot go on with it)."""
        group, self._group = self._group, None
        if group is not None:
            group.__exit__(psycopg.Rollback, psycopg.Rollback(), None)

    def in_group(self) -> bool:
        return self._group is not None

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        with self._conn.transaction():
            yield self._conn

    @contextmanager
    def advisory_lock(self, name: str) -> Iterator[None]:
        """A lock every writer of this database respects, held to the end of the enclosing
        transaction: around decisions that read before they write (a duplicate cluster)."""
        key = zlib.crc32(name.encode()) - 2**31
        with self.transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            yield

    # ------------------------------------------------------------------ articles

    def upsert(self, article: Article) -> bool:
        stamp = now()
        with self.transaction() as conn:
            inserted = conn.execute(_INSERT_ARTICLE, [*_values(article), stamp, stamp]).fetchone()
            for url in dict.fromkeys((article.url, article.canonical_url)):
                conn.execute(_MARK_SEEN, (url, article.id, "archived", stamp))
        return bool(inserted[0])

    def get(self, article_id: str) -> Article | None:
        row = self._conn.execute(
            f"SELECT {_COLUMNS} FROM articles a WHERE a.id = %s", (article_id,)
        ).fetchone()
        return row_to_article(row) if row else None

    def distinct(self, column: str) -> set[str]:
        if column not in ("outlet", "language"):
            raise ValueError(f"no distinct values of {column!r}")
        rows = self._conn.execute(f"SELECT DISTINCT {column} FROM articles")
        return {row[0] for row in rows if row[0] is not None}

    def members(self, column: str, value: str) -> list[tuple[str, str, str, str | None]]:
        if column not in ("dup_cluster", "story_id"):
            raise ValueError(f"no members by {column!r}")
        return self._conn.execute(
            f"SELECT id, coalesce(title, ''), outlet, published FROM articles "
            f"WHERE {column} = %s ORDER BY coalesce(published, '~'), pk",
            (value,),
        ).fetchall()

    def summary(self, days: int) -> dict[str, Any]:
        return summarize(
            lambda sql: self._conn.execute(sql).fetchall(),
            "json_array_elements_text(articles.topics::json) AS t(value)",
            days,
        )

    def set_topics(self, updates: Sequence[tuple[str, str]], stamp: str) -> None:
        with self.transaction() as conn, conn.cursor() as cur:
            cur.executemany(
                pg_where(SET_TOPICS), [(new, stamp, article_id) for article_id, new in updates]
            )

    def day_outlet_counts(self, filters: Filters) -> list[tuple[str, str, int]]:
        where, params = filters.where("a")
        query = pg_where(DAY_OUTLET_COUNTS.format(where=pg_where(where)))
        return self._conn.execute(query, params).fetchall()

    def has_article(self, article_id: str) -> bool:
        query = "SELECT 1 FROM articles WHERE id = %s"
        return self._conn.execute(query, (article_id,)).fetchone() is not None

    def iter_articles(self, filters: Filters | None = None, batch: int = 500) -> Iterator[Article]:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        where, params = (filters or Filters()).where("a")
        last = 0
        while True:
            rows = self._conn.execute(
                f"SELECT a.pk, {_COLUMNS} FROM articles a WHERE {pg_where(where)} "
                "AND a.pk > %s ORDER BY a.pk LIMIT %s",
                [*params, last, batch],
            ).fetchall()
            for row in rows:
                yield row_to_article(row[1:])
            if len(rows) < batch:
                return
            last = rows[-1][0]

    def count(self, filters: Filters | None = None) -> int:
        where, params = (filters or Filters()).where("a")
        query = f"SELECT count(*) FROM articles a WHERE {pg_where(where)}"
        return self._conn.execute(query, params).fetchone()[0]

    # ------------------------------------------------------------------ outbox

    def pending(self, limit: int) -> list[Article]:
        rows = self._conn.execute(
            f"SELECT {_COLUMNS} FROM articles a WHERE a.index_state = 'pending' "
            "ORDER BY a.updated_at, a.pk LIMIT %s",
            (limit,),
        ).fetchall()
        return [row_to_article(row) for row in rows]

    def pending_count(self) -> int:
        query = "SELECT count(*) FROM articles WHERE index_state = 'pending'"
        return self._conn.execute(query).fetchone()[0]

    def mark_indexed(self, ids: Sequence[str], backend: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE articles SET index_state = 'indexed', indexed_at = %s, indexed_by = %s "
                "WHERE id = ANY(%s)",
                (now(), backend, list(ids)),
            )

    def mark_all_indexed(self, backend: str) -> None:
        with self.transaction() as conn:
            conn.execute(
                "UPDATE articles SET index_state = 'indexed', indexed_at = %s, indexed_by = %s",
                (now(), backend),
            )

    def requeue_all(self) -> None:
        with self.transaction() as conn:
            conn.execute("UPDATE articles SET index_state = 'pending', indexed_at = NULL")

    def outbox_batches(self, pending_only: bool, batch: int) -> Iterator[list[Any]]:
        """Pending batches are claimed: each is read FOR UPDATE SKIP LOCKED in a
        transaction that ends when the next batch is asked for (or the reader stops), so
        another indexer draining at the same time skips these rows and takes the next
        ones. A full read (a rebuild) locks nothing."""
        state, lock = ("AND a.index_state = 'pending'", "FOR UPDATE SKIP LOCKED")
        if not pending_only:
            state = lock = ""
        query = (
            f"SELECT a.pk, a.updated_at, {_COLUMNS} FROM articles a WHERE a.pk > %s {state} "
            f"ORDER BY a.pk LIMIT %s {lock}"
        )
        last = 0
        while True:
            with self.transaction() as conn:
                found = conn.execute(query, (last, batch)).fetchall()
                if found:
                    yield [(r[0], r[1], row_to_article(r[2:])) for r in found]
            if len(found) < batch:
                return
            last = found[-1][0]

    def representatives(
        self, ids: set[str], clusters: list[str]
    ) -> tuple[set[str], dict[str, str]]:
        """Which of `ids` and of their clusters' other members `--dedup` keeps, and those
        other members with their cluster (see indexer/es.py `_representatives`)."""
        members = dict(
            self._conn.execute(
                "SELECT id, dup_cluster FROM articles WHERE dup_cluster = ANY(%s)", (clusters,)
            ).fetchall()
        )
        where, params = Filters(dedup=True).where("a")
        rows = self._conn.execute(
            f"SELECT a.id FROM articles a WHERE a.id = ANY(%s) AND {pg_where(where)}",
            [sorted(ids | set(members)), *params],
        ).fetchall()
        return {r[0] for r in rows}, {i: c for i, c in members.items() if i not in ids}

    def acknowledge(self, rows: Sequence[tuple[str, str]], backend: str) -> None:
        """Mark indexed the rows still at the version sent (id, updated_at)."""
        with self.transaction() as conn:
            conn.execute(
                "UPDATE articles a SET index_state = 'indexed', indexed_at = %s, indexed_by = %s "
                "FROM unnest(%s::text[], %s::text[]) AS v(id, updated_at) "
                "WHERE a.id = v.id AND a.updated_at = v.updated_at",
                (now(), backend, [r[0] for r in rows], [r[1] for r in rows]),
            )

    # ------------------------------------------------------------------ URLs

    def mark_seen(self, url: str, article_id: str | None, status: str) -> None:
        with self.transaction() as conn:
            conn.execute(_MARK_SEEN, (url, article_id, status, now()))

    def has_url(self, url: str) -> bool:
        query = "SELECT 1 FROM urls WHERE url = %s"
        return self._conn.execute(query, (url,)).fetchone() is not None

    def url_article(self, url: str) -> str | None:
        row = self._conn.execute("SELECT article_id FROM urls WHERE url = %s", (url,)).fetchone()
        return row[0] if row else None

    # ------------------------------------------------------------------ crawl runs

    def start_run(self, outlet: str, **info: Any) -> int:
        with self.transaction() as conn:
            row = conn.execute(
                "INSERT INTO crawl_runs (outlet, started_at, status, info) "
                "VALUES (%s, %s, 'running', %s) RETURNING id",
                (outlet, now(), json.dumps(info, ensure_ascii=False, default=str)),
            ).fetchone()
        return row[0]

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
        with self.transaction() as conn:
            cursor = conn.execute(
                "UPDATE crawl_runs SET ended_at = %s, status = %s, pages = %s, "
                "new_articles = %s, skipped = %s, errors = %s, info = info || %s::jsonb "
                "WHERE id = %s",
                (now(), status, pages, new_articles, skipped, json.dumps(errors),
                 json.dumps(info or {}, ensure_ascii=False, default=str), run_id),
            )  # fmt: skip
            if cursor.rowcount != 1:
                raise ArchiveError(f"no crawl run {run_id} in {self.path}")

    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        return self._runs("TRUE", (), limit)

    def outlet_runs(self, outlet: str, limit: int) -> list[dict[str, Any]]:
        return self._runs("outlet = %s AND ended_at IS NOT NULL", (outlet,), limit)

    def run_outlets(self) -> list[str]:
        return [row[0] for row in self._conn.execute("SELECT DISTINCT outlet FROM crawl_runs")]

    def _runs(self, where: str, params: Sequence[Any], limit: int | None) -> list[dict[str, Any]]:
        cursor = self._conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM crawl_runs WHERE {where} ORDER BY id DESC LIMIT %s",
            (*params, limit),
        )
        names = [c.name for c in cursor.description or ()]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    # ------------------------------------------------------------------ listing intervals

    def poll_states(self, schedule: str) -> dict[str, dict[str, Any]]:
        rows = self._conn.execute(
            f"SELECT outlet, {', '.join(POLL_COLUMNS)} FROM listing_polls WHERE schedule = %s",
            (schedule,),
        ).fetchall()
        return {row[0]: dict(zip(POLL_COLUMNS, row[1:], strict=True)) for row in rows}

    def save_poll_state(self, schedule: str, outlet: str, state: dict[str, Any]) -> None:
        values = [state[name] for name in POLL_COLUMNS]
        with self.transaction() as conn:
            conn.execute(_SAVE_POLL, [schedule, outlet, *values, now()])
