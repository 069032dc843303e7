"""Writes imported articles as the crawl writes them, in groups that also save the source's
position: dedup placement (exact copies, near-duplicates, stories), topic tags, the archive
row and its outbox entry (the search index drains it, as after a crawl).

A group is one transaction: its articles and the position after them commit together, so
a killed import loses at most the group it was in, and resumes right before it.

With an index writer, the loader also indexes what it archived every `index_every`
articles, with the search rows the record workers made (no second analysis); the outbox
acknowledges them at that commit, and a kill before it leaves them pending, indexed later.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from arshif.dedup import Prepared
from arshif.record import Article
from importer.record_work import RecordWork
from importer.state import ImportLog, SourceState, count
from indexer.archive_base import ArchiveStore
from indexer.dedup_pg import dedup_index_for
from indexer.documents import Columns
from indexer.topics import Topics

if TYPE_CHECKING:
    from indexer.embedded import Writer


class Loader:
    """Archives the articles of one import, `group` at a time (or every `seconds`)."""

    def __init__(
        self,
        archive: ArchiveStore,
        topics: Topics | None,
        *,
        dedup: bool = True,
        stories: bool = True,
        group: int = 500,
        seconds: float = 2.0,
        writer: Writer | None = None,
        index_every: int = 5000,
    ) -> None:
        self.archive = archive
        self.log = ImportLog(archive)
        self.topics = topics
        self.dedup = dedup_index_for(archive, stories=stories) if dedup else None
        self.group, self.seconds = group, seconds
        self._pending = 0
        self._since = time.monotonic()
        self.writer, self.index_every = writer, index_every
        self._rows: dict[str, Columns] = {}  # search rows of what is archived, not indexed

    def record_work(self, topics: str | None = "", outlets: str | None = None) -> RecordWork:
        """What the record workers do for this loader: tag (with the rules at `topics`,
        when this loader tags), fingerprint with its dedup settings, and make search rows
        when it indexes."""
        dedup = self.dedup
        return RecordWork(
            outlets=outlets,
            topics=topics if self.topics is not None else None,
            dedup=dedup.params if dedup is not None else None,
            stories=dedup.stories if dedup is not None else True,
            search=self.writer is not None,
        )

    def add(
        self,
        article: Article,
        counts: dict[str, int],
        *,
        prepared: Prepared | None = None,
        topics: list[str] | None = None,
        keep: bool = False,
        search_columns: Columns | None = None,
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
        if self.writer is not None and search_columns is not None:
            self._rows[article.id] = search_columns
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
        if len(self._rows) >= self.index_every:
            self.index()

    def index(self) -> int:
        """Index and acknowledge what is archived and pending (with the rows made for it);
        returns the number indexed."""
        if self.writer is None:
            return 0
        rows, self._rows = self._rows, {}
        # One commit for all of them: a commit waits for tantivy to write its segment.
        return self.writer.drain(max(len(rows), 2000), analyse=lambda _: rows)
