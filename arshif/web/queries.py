"""What the web page needs beyond `search()`: facet counts, coverage per day and outlet,
an article's near-duplicates and story mates, and the raw page from the WARC archive.

Counts come from the archive itself (the system of record) joined to the embedded FTS
index when there is a query; on Elasticsearch the backend's own facets and matches are used.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from crawler.warc_objects import open_record
from indexer.archive import Archive
from indexer.filters import Filters
from indexer.fts import TABLE, match_expression
from indexer.search import parse_query

FACETS = ("outlet", "topics", "language", "month")


def _source(text: str | None, filters: Filters) -> tuple[str, list[Any]]:
    """FROM ... WHERE ... over the articles matching the query (if any) and filters."""
    where, params = filters.where("a")
    if not text:
        return f"FROM articles a WHERE {where}", params
    return (
        f"FROM {TABLE} JOIN articles a ON a.pk = {TABLE}.rowid WHERE {TABLE} MATCH ? AND {where}",
        [match_expression(parse_query(text)), *params],
    )


def _grouped(archive: Archive, key: str, text: str | None, filters: Filters) -> dict[str, int]:
    source, params = _source(text, filters)
    if key == "topics":
        source = source.replace(" WHERE ", ", json_each(a.topics) t WHERE ", 1)
        column = "t.value"
    elif key == "month":
        source += " AND a.published IS NOT NULL"
        column = "substr(a.published, 1, 7)"
    elif key == "language":
        column = "coalesce(a.language, 'unknown')"
    else:
        column = "a.outlet"
    rows = archive.db.execute(
        f"SELECT {column} AS k, count(*) AS n {source} GROUP BY k ORDER BY n DESC, k", params
    )
    return {str(k): n for k, n in rows}


def sqlite_facets(
    archive: Archive, text: str | None, filters: Filters
) -> dict[str, dict[str, int]]:
    """Counts per outlet, topic, language and month. Each facet ignores its own filter
    (outlets for the outlet facet, ...), so the other choices stay visible with their counts."""
    return {
        "outlet": _grouped(archive, "outlet", text, replace(filters, outlets=())),
        "topics": _grouped(archive, "topics", text, replace(filters, topics=())),
        "language": _grouped(archive, "language", text, replace(filters, languages=())),
        "month": _grouped(archive, "month", text, filters),
    }


def sqlite_coverage(
    archive: Archive, text: str | None, filters: Filters
) -> dict[str, dict[str, int]]:
    """{day: {outlet: articles}} for dated matches, days in order."""
    source, params = _source(text, filters)
    rows = archive.db.execute(
        f"SELECT substr(a.published, 1, 10) AS day, a.outlet, count(*) {source} "
        "AND a.published IS NOT NULL GROUP BY day, a.outlet ORDER BY day, a.outlet",
        params,
    )
    table: dict[str, dict[str, int]] = {}
    for day, outlet, n in rows:
        table.setdefault(day, {})[outlet] = n
    return table


def backend_coverage(index: Any, text: str | None, filters: Filters) -> dict[str, dict[str, int]]:
    """The same table from another backend's matches (streamed, constant memory)."""
    counts: Counter[tuple[str, str]] = Counter()
    for article in index.iter_matches(text, filters):
        if article.published:
            counts[(article.published[:10], article.outlet)] += 1
    table: dict[str, dict[str, int]] = {}
    for (day, outlet), n in sorted(counts.items()):
        table.setdefault(day, {})[outlet] = n
    return table


def known_values(archive: Archive) -> dict[str, set[str]]:
    """Outlets and languages present in the archive: what a filter may name."""
    db = archive.db
    return {
        "outlet": {r[0] for r in db.execute("SELECT DISTINCT outlet FROM articles")},
        "language": {r[0] for r in db.execute("SELECT DISTINCT language FROM articles") if r[0]},
    }


@dataclass(frozen=True)
class Related:
    id: str
    title: str
    outlet: str
    published: str | None


def _related(archive: Archive, column: str, value: str | None, exclude: set[str]) -> list[Related]:
    if not value:
        return []
    rows = archive.db.execute(
        f"SELECT id, coalesce(title, ''), outlet, published FROM articles WHERE {column} = ? "
        "ORDER BY coalesce(published, '~'), pk",
        (value,),
    )
    return [Related(*row) for row in rows if row[0] not in exclude]


def near_duplicates(archive: Archive, article_id: str, cluster: str | None) -> list[Related]:
    """The other articles of the same duplicate cluster."""
    return _related(archive, "dup_cluster", cluster, {article_id})


def story_mates(
    archive: Archive, article_id: str, story: str | None, exclude: set[str]
) -> list[Related]:
    """Other articles of the same story that are not already near-duplicates."""
    return _related(archive, "story_id", story, {article_id, *exclude})


def cluster_sizes(archive: Archive, ids: list[str]) -> dict[str, list[Related]]:
    """For each hit id, the other members of its duplicate cluster."""
    out: dict[str, list[Related]] = {}
    for article_id in ids:
        row = archive.db.execute(
            "SELECT dup_cluster FROM articles WHERE id = ?", (article_id,)
        ).fetchone()
        out[article_id] = near_duplicates(archive, article_id, row[0] if row else None)
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
