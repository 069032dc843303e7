"""The archive's one interface, and which backend a data folder uses.

SQLite (indexer/archive.py, the default: one file in the data folder) and PostgreSQL
(indexer/archive_pg.py, `ARSHIF_DATABASE_URL=postgresql://…`, for several machines writing
to one archive) implement the same methods with the same meaning; tests/test_archive_contract.py
runs one suite against both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from arshif.record import Article
from indexer.filters import Filters

POLL_COLUMNS = (
    "interval_seconds", "last_listing", "previous_listing", "pending_run", "new_per_hour",
    "last_new", "skipped",
)  # fmt: skip
# `arshif stats`' counts, in SQL both backends read alike; `{topics}` is each one's way of
# reading a JSON list of topics as rows (`t.value`).
SUMMARY = {
    "undated": "SELECT 'undated', count(*) FROM articles WHERE published IS NULL",
    "by_outlet": "SELECT outlet, count(*) AS n FROM articles GROUP BY outlet ORDER BY n DESC, outlet",
    "by_topic": "SELECT t.value AS topic, count(*) AS n FROM articles, {topics} "
    "GROUP BY topic ORDER BY n DESC, topic",
    "by_day": "SELECT substr(published, 1, 10) AS day, count(*) FROM articles "
    "WHERE published IS NOT NULL GROUP BY day ORDER BY day DESC LIMIT {days}",
    "by_language": "SELECT coalesce(language, 'unknown') AS lang, count(*) AS n FROM articles "
    "GROUP BY lang ORDER BY n DESC, lang",
    "by_index_state": "SELECT index_state, count(*) FROM articles GROUP BY index_state "
    "ORDER BY index_state",
}
# Written for SQLite (`?`); the PostgreSQL archive reads them through `pg_where`.
SET_TOPICS = "UPDATE articles SET topics = ?, index_state = 'pending', updated_at = ? WHERE id = ?"
DAY_OUTLET_COUNTS = (
    "SELECT substr(a.published, 1, 10) AS day, a.outlet, count(*) FROM articles a "
    "WHERE {where} AND a.published IS NOT NULL GROUP BY day, a.outlet"
)
DUPLICATES = (
    "SELECT outlet, count(*) AS n, count(dup_of) AS d FROM articles "
    "GROUP BY outlet ORDER BY d DESC, outlet"
)


def summarize(rows: Callable[[str], list[Any]], topics: str, days: int) -> dict[str, Any]:
    """`ArchiveStore.summary` from a backend's `rows(sql)` and its `{topics}` expression."""
    found: dict[str, Any] = {
        name: {str(key): n for key, n in rows(sql.format(topics=topics, days=int(days)))}
        for name, sql in SUMMARY.items()
    }
    found["undated"] = found["undated"]["undated"]
    found["duplicates_by_outlet"] = rows(DUPLICATES)
    return found


class ArchiveStore(ABC):
    """The system of record: articles, the URLs seen, the indexing outbox, crawl runs."""

    @abstractmethod
    def close(self) -> None:
        """Commit an open group (see `begin`) and let the connection go."""

    @abstractmethod
    def begin(self) -> None:
        """Open a group: the writes until `commit` become durable together."""

    @abstractmethod
    def commit(self) -> None:
        """Commit the open group, if any."""

    @abstractmethod
    def rollback(self) -> None:
        """Undo the open group, if any."""

    @abstractmethod
    def in_group(self) -> bool:
        """Whether a group is open (a failed write may have ended it)."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[Any]:
        """One atomic write step (a savepoint inside a group)."""

    @abstractmethod
    def upsert(self, article: Article) -> bool:
        """Insert or update by id (back to the outbox); True if new. Records both URLs."""

    @abstractmethod
    def get(self, article_id: str) -> Article | None: ...

    @abstractmethod
    def has_article(self, article_id: str) -> bool: ...

    @abstractmethod
    def iter_articles(self, filters: Filters | None = None, batch: int = 500) -> Iterator[Article]:
        """Every matching article in archive order, in constant memory."""

    @abstractmethod
    def count(self, filters: Filters | None = None) -> int: ...

    @abstractmethod
    def pending(self, limit: int) -> list[Article]:
        """The outbox: articles not acknowledged by an index since their last write."""

    @abstractmethod
    def pending_count(self) -> int: ...

    @abstractmethod
    def mark_indexed(self, ids: Sequence[str], backend: str) -> None: ...

    @abstractmethod
    def mark_all_indexed(self, backend: str) -> None: ...

    @abstractmethod
    def requeue_all(self) -> None: ...

    @abstractmethod
    def mark_seen(self, url: str, article_id: str | None, status: str) -> None:
        """Record a fetched URL; a later sighting keeps the known article."""

    @abstractmethod
    def has_url(self, url: str) -> bool: ...

    @abstractmethod
    def url_article(self, url: str) -> str | None: ...

    @abstractmethod
    def start_run(self, outlet: str, **info: Any) -> int: ...

    @abstractmethod
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
    ) -> None: ...

    @abstractmethod
    def runs(self, limit: int = 20) -> list[dict[str, Any]]:
        """The latest crawl runs, newest first, `errors` and `info` decoded."""

    # Adaptive listing intervals (schedules/polling.py): table `listing_polls`, one row per
    # schedule and outlet, with the columns of POLL_COLUMNS; made on first write.

    @abstractmethod
    def poll_states(self, schedule: str) -> dict[str, dict[str, Any]]:
        """Each outlet's listing state under one schedule, by outlet (POLL_COLUMNS)."""

    @abstractmethod
    def save_poll_state(self, schedule: str, outlet: str, state: dict[str, Any]) -> None:
        """Insert or replace one outlet's listing state (POLL_COLUMNS)."""

    # What the web page, stats, search indexes and imports ask beyond articles: each
    # backend answers with its own SQL, so no caller reaches into a backend's tables.

    @abstractmethod
    def distinct(self, column: str) -> set[str]:
        """The values of `outlet` or `language` present in the archive."""

    @abstractmethod
    def members(self, column: str, value: str) -> list[tuple[str, str, str, str | None]]:
        """(id, title, outlet, published) of one `dup_cluster` or `story_id`, oldest first."""

    @abstractmethod
    def summary(self, days: int) -> dict[str, Any]:
        """Counts for `arshif stats`: undated, by_outlet, by_topic, by_day (the latest
        `days` dates), by_language, by_index_state and duplicates_by_outlet."""

    @abstractmethod
    def outlet_runs(self, outlet: str, limit: int) -> list[dict[str, Any]]:
        """One outlet's latest finished crawl runs, newest first (as `runs`)."""

    @abstractmethod
    def run_outlets(self) -> list[str]:
        """Every outlet with a crawl run."""

    @abstractmethod
    def outbox_batches(self, pending_only: bool, batch: int) -> Iterator[list[Any]]:
        """Batches of (pk, updated_at, Article) in archive order, one pass. With
        `pending_only` a batch is this reader's alone until the next is asked for: on
        PostgreSQL its rows stay locked (FOR UPDATE SKIP LOCKED), so several indexers
        draining one outbox take disjoint batches."""

    @abstractmethod
    def representatives(
        self, ids: set[str], clusters: list[str]
    ) -> tuple[set[str], dict[str, str]]:
        """Which of `ids` and of their clusters' other members `--dedup` keeps, and those
        other members with their cluster (indexer/documents.py)."""

    @abstractmethod
    def acknowledge(self, rows: Sequence[tuple[str, str]], backend: str) -> None:
        """Mark indexed the rows still at the version sent (id, updated_at)."""

    @abstractmethod
    def saved_searches(self) -> list[tuple[int, str, str, str]]:
        """(id, name, query, created) of the saved searches, newest first."""

    @abstractmethod
    def save_search(self, name: str, query: str, created: str) -> int: ...

    @abstractmethod
    def delete_saved_search(self, saved_id: int) -> None: ...

    @abstractmethod
    def import_state(self, source: str) -> tuple[Any, ...] | None:
        """(size, position, done, referenced, counts) saved for an import source."""

    @abstractmethod
    def save_import_state(self, row: tuple[Any, ...]) -> None:
        """Write (source, kind, size, position, done, referenced, counts JSON)."""

    @abstractmethod
    def referenced_sources(self) -> set[str]:
        """Import sources that archived records point into."""

    @abstractmethod
    def referenced_records(self, source: str) -> list[tuple[str, int]]:
        """(outlet, offset) of the articles pointing into one source, in file order."""

    @abstractmethod
    def set_topics(self, updates: Sequence[tuple[str, str]], stamp: str) -> None:
        """Write (id, topics JSON) and send those articles back to the outbox (a re-tag)."""

    @abstractmethod
    def day_outlet_counts(self, filters: Filters) -> list[tuple[str, str, int]]:
        """(day, outlet, articles) of the dated articles the filters keep."""

    # Scheduled runs (schedules/history.py): one row per run of a schedule.

    @abstractmethod
    def start_schedule_run(self, schedule: str, outlets: list[str], log_file: str | None,
                           pid: int, status: str = "running") -> int:  # fmt: skip
        """A new run; with another status than 'running' it ends as it starts (skipped)."""

    @abstractmethod
    def end_schedule_run(self, run_id: int, status: str, totals: dict[str, Any]) -> None:
        """End a run with its pages, new_articles, duplicates, errors and detail."""

    @abstractmethod
    def schedule_runs(
        self, limit: int, schedule: str | None = None, run_id: int | None = None
    ) -> list[dict[str, Any]]:
        """The latest runs, newest first, with `outlets` and `errors` decoded."""

    @abstractmethod
    def running_schedule_runs(self) -> list[tuple[int, int | None]]:
        """(id, scheduler pid) of the runs still marked running."""

    @abstractmethod
    def last_schedule_runs(self) -> list[int]:
        """Each schedule's latest run that was not skipped or missed."""

    @abstractmethod
    def schedule_crawl_runs(self, run_id: int) -> list[dict[str, Any]]:
        """The crawl runs tagged with a schedule run (`info.schedule_run`), as `runs`."""

    # What crawls keep between runs (crawler/conditional.py, crawler/discovery.py).

    @abstractmethod
    def listing_validators(self) -> dict[str, tuple[str | None, str | None]]:
        """url -> (ETag, Last-Modified) saved by the last finished crawls."""

    @abstractmethod
    def save_listing_validators(self, fresh: dict[str, tuple[str | None, str | None]]) -> None: ...

    @abstractmethod
    def remember_listing(self, outlet: str, url: str, kind: str) -> None:
        """Keep a feed or sitemap found for an outlet (`kind`: feed | sitemap)."""

    @abstractmethod
    def remembered_listings(self, outlet: str) -> list[tuple[str, str]]:
        """(kind, url) found for an outlet by earlier crawls, latest first."""

    def __enter__(self) -> ArchiveStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def has_archive(home: Path) -> bool:
    """Whether `open_archive` finds an archive rather than starting one: PostgreSQL is
    configured, or the data folder holds the SQLite file."""
    from arshif.config import archive_path
    from arshif.credentials import has_secret

    return has_secret("ARSHIF_DATABASE_URL") or archive_path(home).exists()


def open_archive(home: Path) -> ArchiveStore:
    """The archive of a data folder: PostgreSQL when ARSHIF_DATABASE_URL (or _FILE) is set,
    else the SQLite file in the folder."""
    from arshif.credentials import read_secret

    url = read_secret("ARSHIF_DATABASE_URL")
    if url:
        from indexer.archive_pg import PgArchive

        return PgArchive(url)
    from arshif.config import archive_path
    from indexer.archive import Archive

    return Archive(archive_path(home))
