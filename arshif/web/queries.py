"""What the web page needs beyond the search index: the values filters may name, an
article's near-duplicates and story mates, and the raw page from the WARC archive.

Counts, facets and the coverage chart come from the search backend's own aggregations
(`indexer.search.SearchIndex`); nothing here reads a backend's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawler.warc_objects import open_record
from indexer.archive_base import ArchiveStore


def known_values(archive: ArchiveStore) -> dict[str, set[str]]:
    """Outlets and languages present in the archive: what a filter may name."""
    return {"outlet": archive.distinct("outlet"), "language": archive.distinct("language")}


@dataclass(frozen=True)
class Related:
    id: str
    title: str
    outlet: str
    published: str | None


def _related(
    archive: ArchiveStore, column: str, value: str | None, exclude: set[str]
) -> list[Related]:
    if not value:
        return []
    return [Related(*row) for row in archive.members(column, value) if row[0] not in exclude]


def near_duplicates(archive: ArchiveStore, article_id: str, cluster: str | None) -> list[Related]:
    """The other articles of the same duplicate cluster."""
    return _related(archive, "dup_cluster", cluster, {article_id})


def story_mates(
    archive: ArchiveStore, article_id: str, story: str | None, exclude: set[str]
) -> list[Related]:
    """Other articles of the same story that are not already near-duplicates."""
    return _related(archive, "story_id", story, {article_id, *exclude})


def cluster_sizes(archive: ArchiveStore, ids: list[str]) -> dict[str, list[Related]]:
    """For each hit id, the other members of its duplicate cluster."""
    out: dict[str, list[Related]] = {}
    for article_id in ids:
        article = archive.get(article_id)
        out[article_id] = near_duplicates(archive, article_id, article and article.dup_cluster)
    return out


@dataclass(frozen=True)
class RawPage:
    url: str
    content_type: str
    body: bytes


def read_raw(warc_folder: Path, warc_file: str, offset: int) -> RawPage | None:
    """The response record at `offset` of one WARC file; None if it is missing or damaged.
    Only a plain file name inside the WARC folder is opened, else the object store's copy
    (crawler/warc_objects.py)."""
    fh = open_record(warc_folder, warc_file, offset)
    if fh is None:
        return None
    with fh:
        try:
            for record in ArchiveIterator(fh):
                if record.rec_type != "response":
                    return None
                return RawPage(
                    url=record.rec_headers.get_header("WARC-Target-URI") or "",
                    content_type=record.http_headers.get_header("Content-Type")
                    or "text/html; charset=utf-8",
                    body=record.content_stream().read(),
                )
        except (ArchiveLoadFailed, EOFError, OSError, ValueError):  # a damaged record
            return None
    return None
