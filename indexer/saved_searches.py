"""Saved searches, kept in the archive itself (table `saved_searches`), so they travel with
the data folder and every `arshif serve` over it shows the same list. A saved search is a
name and the query string of the page (its permalink)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from indexer.archive import Archive

MAX_NAME = 200
_TABLE = """CREATE TABLE IF NOT EXISTS saved_searches (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created TEXT NOT NULL
)"""


@dataclass(frozen=True)
class Saved:
    id: int
    name: str
    query: str  # the page's query string, without "?"
    created: str


def _exists(archive: Archive) -> bool:
    row = archive.db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'saved_searches'"
    ).fetchone()
    return row is not None


def saved(archive: Archive) -> list[Saved]:
    """Every saved search, newest first (none before the first is saved)."""
    if not _exists(archive):
        return []
    rows = archive.db.execute(
        "SELECT id, name, query, created FROM saved_searches ORDER BY id DESC"
    )
    return [Saved(*row) for row in rows]


def save(archive: Archive, name: str, query: str) -> int:
    """Keep a search under `name`; returns its id."""
    with archive.transaction() as db:
        db.execute(_TABLE)
        cursor = db.execute(
            "INSERT INTO saved_searches (name, query, created) VALUES (?, ?, ?)",
            (name[:MAX_NAME], query, datetime.now(UTC).isoformat(timespec="seconds")),
        )
    return int(cursor.lastrowid or 0)


def delete(archive: Archive, saved_id: int) -> None:
    if _exists(archive):
        with archive.transaction() as db:
            db.execute("DELETE FROM saved_searches WHERE id = ?", (saved_id,))
