"""The crawl's duplicate-request filter: fingerprints in a throwaway SQLite file.

Scrapy's default filter keeps every fingerprint in a Python set (memory grows with the
crawl) and, with a JOBDIR, appends them to `requests.seen`, which a resumed crawl reloads: a
request that was in flight when the crawl stopped would then be 'seen' forever and its
article lost. Here the fingerprints go to `seen.sqlite` in the job folder (or a temporary
file without one), so memory stays flat however many requests a crawl makes, and the file
belongs to one run only: it is emptied when a crawl starts (a resumed crawl re-reads its
feeds and asks the archive, not a stale seen-file, what is still missing) and deleted when
it ends. The archive is the memory of what was fetched; this filter only stops repeats
within a run.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.dupefilters import RFPDupeFilter
from scrapy.utils.job import job_dir
from scrapy.utils.request import RequestFingerprinterProtocol

SEEN_FILE = "seen.sqlite"
# New fingerprints per transaction: one commit per batch keeps the per-request cost to one
# indexed INSERT; SQLite's page cache (CACHE_KIB) bounds what an open batch holds in memory.
BATCH = 1000
CACHE_KIB = 2048


class DiskDupeFilter(RFPDupeFilter):
    def __init__(
        self,
        path: str | Path | None = None,
        debug: bool = False,
        *,
        fingerprinter: RequestFingerprinterProtocol | None = None,
    ) -> None:
        # The parent gets no path: it must neither read nor write `requests.seen`.
        super().__init__(None, debug, fingerprinter=fingerprinter)
        self.folder = Path(path) if path else None
        self.path: Path | None = None
        self.db: sqlite3.Connection | None = None
        self.pending = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(
            job_dir(crawler.settings),
            debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )

    def open(self) -> None:
        self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self.db is not None:
            return self.db
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self.path = self.folder / SEEN_FILE
            _remove(self.path)  # left by a killed run: its fingerprints are not this run's
        else:
            fd, name = tempfile.mkstemp(prefix="arshif-seen-", suffix=".sqlite")
            os.close(fd)
            self.path = Path(name)
            _remove(self.path)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        # A throwaway file: no journal and no fsync; a crash just leaves a file to remove.
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        db.execute("CREATE TABLE seen (fp BLOB PRIMARY KEY) WITHOUT ROWID")
        db.execute("BEGIN")
        self.db = db
        return db

    def request_seen(self, request: Request) -> bool:
        db = self._connect()
        cursor = db.execute(
            "INSERT OR IGNORE INTO seen (fp) VALUES (?)", (self._fingerprint(request),)
        )
        if cursor.rowcount == 0:
            return True
        self.pending += 1
        if self.pending >= BATCH:
            db.execute("COMMIT")
            db.execute("BEGIN")
            self.pending = 0
        return False

    def count(self) -> int:
        """How many distinct requests this run has seen."""
        return self._connect().execute("SELECT count(*) FROM seen").fetchone()[0]

    def close(self, reason: str) -> None:
        if self.db is not None:
            with contextlib.suppress(sqlite3.Error):
                self.db.execute("COMMIT")
            self.db.close()
            self.db = None
        if self.path is not None:
            _remove(self.path)


def _remove(path: Path) -> None:
    for stale in (path, path.with_name(path.name + "-journal")):
        stale.unlink(missing_ok=True)
