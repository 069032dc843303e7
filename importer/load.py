"""Writes imported articles as the crawl writes them, in groups that also save the source's
position: dedup placement (exact copies, near-duplicates, stories), topic tags, the archive
row and its outbox entry (the search index drains it, as after a crawl).

A group is one transaction: its articles and the position after them commit together, so
a killed import loses at most the group it was in, and resumes right before it.
"""

from __future__ import annotations

import time

from arshif.dedup import Prepared
from arshif.record import Article
from importer.state import ImportLog, SourceState, count
from indexer.archive_base import ArchiveStore
from indexer.dedup_pg import dedup_index_for
from indexer.topics import Topics


class Loader:
    """Archives the articles of one import, `group` at a time (or every `seconds`)."""

    def __init__(
        self,
        archive: ArchiveStore,
        topics: Topics | None,
        *,
        dedup: bool = True,
        group: int = 500,
        seconds: float = 2.0,
    ) -> None:
        self.archive = archive
        self.log = ImportLog(archive)
        self.topics = topics
        self.dedup = dedup_index_for(archive) if dedup else None
        self.group, self.seconds = group, seconds
        self._pending = 0
        self._since = time.monotonic()

    def add(
        self,
        article: Article,
        counts: dict[str, int],
        *,
        prepared: Prepared | None = None,
        topics: list[str] | None = None,
        keep: bool = False,
    ) -> bool:
        """Archive one article; True if it is new. `keep`: the record brings its own dedup
        fields and topics (an Arshif export moving between archives) and keeps them; it is
        still fingerprinted, so later articles can join its cluster and story."""
        self.archive.begin()
        with self.archive.transaction():
            if self.dedup is not None:
                if keep:
                    self.dedup.keep(article, prepared)
                else:
                    self.dedup.place(article, prepared)
            if not keep and self.topics is not None:
                article.topics = topics if topics is not None else self.topics.tag_article(article)
            is_new = self.archive.upsert(article)
        count(counts, "new" if is_new else "updated")
        self._pending += 1
        return is_new

    def due(self) -> bool:
        """Whether the open group is full or old enough to commit."""
        return self._pending >= self.group or (
            self._pending > 0 and time.monotonic() - self._since >= self.seconds
        )

    def checkpoint(self, state: SourceState) -> None:
        """Save `state` (the position after every article added so far) and commit the
        group with it."""
        self.archive.begin()
        self.log.save(state)
        self.archive.commit()
        self._pending = 0
        self._since = time.monotonic()
