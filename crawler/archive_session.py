"""One archive connection for all of a crawl's pipeline stages, committing in groups.

A commit per stage per article (dedup placement, the article row, a skipped URL) cost the
crawl process more than the writes themselves, and separate connections could not share a
transaction. The stages now write through one connection: each write is a savepoint inside
a group transaction committed every ARSHIF_COMMIT_ITEMS writes or ARSHIF_COMMIT_SECONDS,
and whenever a stage closes. A crawl killed mid-group loses only that group's rows; their
pages are already in the WARC files, and as the URLs were not recorded as archived, the
next crawl fetches them again, so nothing is lost or archived twice.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from scrapy.crawler import Crawler
from twisted.internet.task import LoopingCall

from arshif.config import archive_path
from arshif.storage import storage_message
from indexer.archive_base import ArchiveStore, open_archive
from indexer.archive_pg import PgArchive

logger = logging.getLogger(__name__)

_SESSIONS: dict[Path, ArchiveSession] = {}


class ArchiveSession:
    """Shared by every stage and extension of every crawler in this process that writes
    to one archive: a second connection writing while this one holds a group would wait
    on SQLite's lock in the reactor thread, the thread that must commit the group."""

    def __init__(self, db_path: Path, group_items: int = 64, group_seconds: float = 1.0) -> None:
        if group_items < 1 or group_seconds <= 0:
            raise ValueError("a commit group needs at least 1 item and a positive time")
        self.db_path = db_path
        self.group_items = group_items
        self.group_seconds = group_seconds
        self.archive: ArchiveStore | None = None
        self._holders = 0
        self._pending = 0
        self._timer: LoopingCall | None = None

    @classmethod
    def of(cls, crawler: Crawler) -> ArchiveSession:
        """The session of the crawler's archive, made on first use from its settings."""
        settings = crawler.settings
        path = archive_path(Path(settings["ARSHIF_HOME"]))
        session = _SESSIONS.get(path)
        if session is None:
            session = _SESSIONS[path] = cls(
                path,
                settings.getint("ARSHIF_COMMIT_ITEMS", 64),
                settings.getfloat("ARSHIF_COMMIT_SECONDS", 1.0),
            )
        return session

    def acquire(self) -> ArchiveStore:
        """Open the connection (first holder) and return it; pair with `release`."""
        if self.archive is None:
            self.archive = open_archive(self.db_path.parent)  # PostgreSQL when configured
            if isinstance(self.archive, PgArchive):
                # Other machines write too: a step commits at once, so the dedup stage's
                # advisory lock (indexer/dedup_pg.py) is held for one placement, not a group.
                self.group_items = 1
            self._timer = LoopingCall(self._flush_logged)
            self._timer.start(self.group_seconds, now=False)
        self._holders += 1
        return self.archive

    def release(self) -> None:
        """Commit what is pending; the last holder also closes the connection."""
        self._flush_logged()
        self._holders -= 1
        if self._holders <= 0 and self.archive is not None:
            if self._timer is not None and self._timer.running:
                self._timer.stop()
            self.archive.close()
            self.archive = None  # the session stays registered: holders keep it

    @contextmanager
    def held(self) -> Iterator[ArchiveStore]:
        """`acquire` for the length of a block, for one-off writers (the run record)."""
        archive = self.acquire()
        try:
            yield archive
        finally:
            self.release()

    @contextmanager
    def write(self) -> Iterator[ArchiveStore]:
        """One atomic write step inside the open group (a failed step undoes only itself)."""
        archive = self.archive
        if archive is None:
            raise RuntimeError("the archive session is not open")
        archive.begin()
        try:
            with archive.transaction():
                yield archive
        except BaseException:
            if self._pending and not archive.in_group():
                # SQLite rolled the whole group back (a full disk, say): those pages are in
                # the WARC files and will be fetched again by the next crawl.
                logger.error(
                    "%d archive writes of this group were rolled back; the next crawl "
                    "fetches their pages again",
                    self._pending,
                )
                self._pending = 0
            raise
        self._pending += 1
        if self._pending >= self.group_items:
            self.flush()

    def flush(self) -> None:
        """Commit the open group, if any. A failed commit (a full disk, say) rolls the group
        back: its pages are in the WARC files, and as their URLs are not recorded as
        archived, the next crawl fetches them again."""
        pending, self._pending = self._pending, 0
        if self.archive is None:
            return
        try:
            self.archive.commit()
        except (OSError, sqlite3.Error, psycopg.Error):
            self.archive.rollback()
            logger.error(
                "%d archive writes could not be committed; the next crawl fetches their "
                "pages again",
                pending,
            )
            raise

    def _flush_logged(self) -> None:
        """`flush` where no caller can handle the error (the timer, a closing stage)."""
        try:
            self.flush()
        except (OSError, sqlite3.Error, psycopg.Error) as exc:
            message = storage_message(exc, self.db_path.parent)
            logger.error("Archive commit failed: %s", message or exc)
