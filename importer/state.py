"""How far each import source was read, kept in the archive beside the articles it gave.

The position is written in the same transaction as the articles read before it, so an
import killed at any moment resumes exactly after the last articles it archived: nothing
is loaded twice and nothing is skipped. A source read to its end is marked done, so the
same file imported again adds nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from indexer.archive_base import ArchiveStore


@dataclass
class SourceState:
    """One source's row: where to resume and what was counted so far."""

    source: str
    kind: str
    size: int | None = None
    position: int = 0
    done: bool = False
    referenced: bool = False
    counts: dict[str, int] = field(default_factory=dict)

    def add_counts(self, before: dict[str, int], run: dict[str, int]) -> None:
        """The counts of every run: those saved `before` this run, plus this `run`'s."""
        self.counts = {k: before.get(k, 0) + run.get(k, 0) for k in {*before, *run}}


class ImportLog:
    """The `imports` table of one archive."""

    def __init__(self, archive: ArchiveStore) -> None:
        self.archive = archive

    def get(self, source: str, kind: str, size: int | None = None) -> SourceState:
        """The saved state of `source`, or a fresh one. A file whose size changed since it
        was finished is read again from where it stopped (appended records) or, when it
        shrank, from the start (every write is idempotent, so that only costs time)."""
        row = self.archive.import_state(source)
        if row is None:
            return SourceState(source, kind, size)
        state = SourceState(source, kind, row[0], row[1], bool(row[2]), bool(row[3]))
        state.counts = json.loads(row[4])
        if size is not None and state.size is not None and size != state.size:
            state.done = False
            if size < state.position:
                state.position, state.counts = 0, {}
            state.size = size
        return state

    def save(self, state: SourceState) -> None:
        """Write the state; call inside the transaction that holds the records before it."""
        self.archive.save_import_state(
            (state.source, state.kind, state.size, state.position, state.done,
             state.referenced, json.dumps(state.counts))
        )  # fmt: skip


def referenced_sources(archive: ArchiveStore) -> set[str]:
    """Sources that archived records point into (read by `/article/ID/raw` and
    `reextract`): only these are ever opened from an archive row. Works on an archive that
    never imported anything (and may be read-only) without creating the table."""
    return archive.referenced_sources()


def count(counts: dict[str, int], key: str, n: int = 1) -> None:
    counts[key] = counts.get(key, 0) + n


def summary(counts: dict[str, Any], order: tuple[str, ...]) -> str:
    """'3 archived, 2 skipped: not HTML' style line of the counts, known keys first."""
    keys = [k for k in order if counts.get(k)] + sorted(k for k in counts if k not in order)
    return ", ".join(f"{counts[k]} {k}" for k in keys if counts.get(k))
