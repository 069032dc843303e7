"""Saved searches, kept in the archive itself (`ArchiveStore.saved_searches`), so they travel with
the data folder and every `arshif serve` over it shows the same list. A saved search is a
name and the query string of the page (its permalink)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from indexer.archive_base import ArchiveStore

MAX_NAME = 200


@dataclass(frozen=True)
class Saved:
    id: int
    name: str
    query: str  # the page's query string, without "?"
    created: str


def saved(archive: ArchiveStore) -> list[Saved]:
    """Every saved search, newest first (none before the first is saved)."""
    return [Saved(*row) for row in archive.saved_searches()]


def save(archive: ArchiveStore, name: str, query: str) -> int:
    """Keep a search under `name`; returns its id."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    return archive.save_search(name[:MAX_NAME], query, created)


def delete(archive: ArchiveStore, saved_id: int) -> None:
    archive.delete_saved_search(saved_id)
