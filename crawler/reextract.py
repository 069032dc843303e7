"""Rebuild extracted fields from the raw WARC archive, without fetching anything.

When extraction improves, the whole archive can be brought up to date from what was kept;
pages that failed extraction before are tried again too.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from w3lib.encoding import http_content_type_encoding

from analysis.extract import ExtractionError, ExtractOptions
from analysis.items import PageItem
from analysis.page_work import page_record
from arshif.config import warc_dir
from crawler.outlets import Outlet
from crawler.warc import WarcResponse, iter_responses
from crawler.warc_objects import WarcBucket
from importer.sources import referenced_pages
from indexer.archive_base import ArchiveStore
from indexer.dedup_pg import dedup_index_for
from indexer.topics import Topics

logger = logging.getLogger(__name__)


@dataclass
class ReextractReport:
    pages: int = 0
    updated: int = 0
    new: int = 0
    failed: dict[str, int] = field(default_factory=dict)


def reextract(
    archive: ArchiveStore,
    home: Path,
    outlets: dict[str, Outlet],
    *,
    only_outlet: str | None = None,
    progress: Callable[[int], None] | None = None,
    topics: Topics | None = None,
) -> ReextractReport:
    """Re-run extraction on every archived response in the WARC files of `home`, and on
    the records imported in place (read where they are); with `topics`, tag the fresh text
    (else the rebuilt record would carry no topics)."""
    report = ReextractReport()
    dedup = dedup_index_for(archive)
    for pages in (archived_responses(home), referenced_pages(archive, only_outlet)):
        for page in pages:
            if only_outlet and page.outlet != only_outlet:
                continue
            report.pages += 1
            outlet = outlets.get(page.outlet)
            options = ExtractOptions.for_outlet(outlet) if outlet else ExtractOptions()
            content_type = next(
                (v for k, v in page.headers.items() if k.lower() == "content-type"), ""
            )
            item = PageItem(
                url=page.url,
                outlet=page.outlet,
                status=page.status,
                body=page.body,
                headers=page.headers,
                request_headers={},
                fetched_at=page.date,
                header_encoding=http_content_type_encoding(content_type),
                warc_file=page.warc_file,
                warc_offset=page.offset,
            )
            try:
                article = page_record(item, options, outlet.domains if outlet else ())
            except ExtractionError as exc:
                report.failed[exc.reason] = report.failed.get(exc.reason, 0) + 1
                logger.info("Re-extraction of %s failed: %s", page.url, exc.reason)
                continue
            dedup.place(article)  # fresh fields would otherwise lose cluster and story
            if topics is not None:
                article.topics = topics.tag_article(article)
            if archive.upsert(article):
                report.new += 1
            else:
                report.updated += 1
            if progress:
                progress(1)
    return report


def archived_responses(home: Path) -> Iterator[WarcResponse]:
    """Every archived response: this machine's WARC files, then, with ARSHIF_WARC_URL, the
    bucket's (each downloaded to a temporary file, read, and deleted)."""
    folder = warc_dir(home)
    local = sorted(folder.glob("*.warc.gz"))
    for path in local:
        yield from iter_responses(path)
    bucket = WarcBucket.from_env()
    if bucket is None:
        return
    here = {path.name for path in local}
    with tempfile.TemporaryDirectory(prefix="arshif-warc-") as tmp:
        for name in bucket.names():
            if name in here:
                continue
            copy = Path(tmp) / name
            bucket.download(name, copy)
            yield from iter_responses(copy, bucket.url(name))
            copy.unlink()
