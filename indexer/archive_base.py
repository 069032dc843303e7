"""The archive's one interface, and which backend a data folder uses.

SQLite (indexer/archive.py, the default: one file in the data folder) and PostgreSQL
(indexer/archive_pg.py, `ARSHIF_DATABASE_URL=postgresql://…`, for several machines writing
to one archive) implement the same methods with the same meaning; tests/test_archive_contract.py
runs one suite against both.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from arshif.record import Article
from indexer.filters import Filters

POLL_COLUMNS = (
    "interval_seconds", "last_listing", "previous_listing", "pending_run", "new_per_hour",
    "last_new", "skipped",
)  # fmt: skip


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

    @abstractmethod
    def crawl_outcomes(self, schedule_run: int) -> dict[str, tuple[str, int]]:
        """The crawls of one schedule run (tagged `schedule_run` in their info), by outlet:
        the latest one's status and new articles."""

    def __enter__(self) -> ArchiveStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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
