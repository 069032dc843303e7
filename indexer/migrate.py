"""`arshif migrate --to postgresql://…`: move an SQLite archive into PostgreSQL, checked.

Rows go through COPY into temporary staging tables, then `INSERT … SELECT … ON CONFLICT DO
NOTHING` (COPY itself cannot skip rows already there), all in one transaction: a failed or
interrupted migration leaves the target as it was, and running it again is harmless. The
tables beside the articles (saved searches, import positions, scheduled runs, listing
validators, discovered listings) move too, when the archive has them. The check at the end
counts, for each table, the source rows present in the target; any shortfall rolls
everything back. The near-duplicate and story index is rebuilt from the articles' text,
keeping each article's cluster and story as the SQLite archive decided them.
"""

from __future__ import annotations

from collections.abc import Callable

from arshif.record import FIELDS
from indexer.archive import Archive
from indexer.archive_base import POLL_COLUMNS
from indexer.archive_pg import PgArchive
from indexer.dedup_pg import PgClusters
from indexer.state_sqlite import SCHEDULE_COLUMNS

_EXTRA = ("index_state", "indexed_at", "indexed_by", "archived_at", "updated_at")
ARTICLE_COLUMNS = (*FIELDS, *_EXTRA)
URL_COLUMNS = ("url", "article_id", "status", "seen_at")
RUN_COLUMNS = (
    "id", "outlet", "started_at", "ended_at", "status", "pages", "new_articles", "skipped",
    "errors", "info",
)  # fmt: skip
# table, its columns, its key, and the order that keeps archive order
TABLES = (
    ("articles", ARTICLE_COLUMNS, "id", "pk"),
    ("urls", URL_COLUMNS, "url", "url"),
    ("crawl_runs", RUN_COLUMNS, "id", "id"),
    # The tables beside the articles (indexer/state_sqlite.py), when the archive made them.
    ("saved_searches", ("id", "name", "query", "created"), "id", "id"),
    ("imports", ("source", "kind", "size", "position", "done", "referenced", "counts",
                 "updated_at"), "source", "source"),
    ("schedule_runs", (*SCHEDULE_COLUMNS, "pid"), "id", "id"),
    ("listing_validators", ("url", "etag", "last_modified", "saved_at"), "url", "url"),
    ("discovered_listings", ("outlet", "url", "kind", "found_at"), "outlet, url", "outlet, url"),
    ("listing_polls", ("schedule", "outlet", *POLL_COLUMNS, "updated_at"), "schedule, outlet",
     "schedule, outlet"),
)  # fmt: skip
SERIALS = ("crawl_runs", "saved_searches", "schedule_runs")  # their ids continue after the copy


class MigrationError(Exception):
    """The target does not hold every source row; nothing was committed."""


def migrate(
    source: Archive, target: PgArchive, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Copy every row; returns the source count of each table (all checked present)."""
    counts: dict[str, int] = {}
    conn = target.conn
    with target.transaction():
        for table, columns, key, order in TABLES:
            if not source.has_table(table):
                continue
            names = ", ".join(columns)
            conn.execute(
                f"CREATE TEMP TABLE stage_{table} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            with conn.cursor().copy(f"COPY stage_{table} ({names}) FROM STDIN") as copy:
                rows = source.db.execute(f"SELECT {names} FROM {table} ORDER BY {order}")
                for row in rows:
                    copy.write_row(row)
                    if progress and table == "articles":
                        progress(1)
            conflict = "" if table in SERIALS else f"({key})"
            conn.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM stage_{table} "
                f"ORDER BY {'pk' if table == 'articles' else key} ON CONFLICT {conflict} DO NOTHING"
            )
            counts[table] = source.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            present = conn.execute(
                f"SELECT count(*) FROM stage_{table} s WHERE EXISTS (SELECT 1 FROM {table} t "
                f"WHERE ({_prefixed('t', key)}) = ({_prefixed('s', key)}))"
            ).fetchone()[0]
            if present != counts[table]:
                raise MigrationError(
                    f"{table}: {counts[table]} rows in the SQLite archive, {present} of them "
                    "in PostgreSQL after the copy; nothing was committed"
                )
        for table in SERIALS:
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
            )
        _adopt_clusters(target)
    return counts


def _prefixed(alias: str, key: str) -> str:
    return ", ".join(f"{alias}.{name.strip()}" for name in key.split(","))


def _adopt_clusters(target: PgArchive) -> None:
    """Fill the near-duplicate and story index from the articles not in it, keeping their
    clusters and stories (PgClusters.adopt)."""
    index = PgClusters(target)  # its tables first
    rows = target.conn.execute(
        "SELECT a.id, a.title, a.text, a.dup_cluster, a.dup_of, a.story_id, "
        "coalesce(a.published, a.fetched_at) FROM articles a "
        "WHERE NOT EXISTS (SELECT 1 FROM dedup_docs d WHERE d.id = a.id) ORDER BY a.pk"
    ).fetchall()
    index.adopt(rows)
