"""`arshif import FILE.warc.gz | URL`: pages of WARC files written by others (Common
Crawl's CC-NEWS, Heritrix, wget, browsertrix) archived as a crawl archives them.

Response records whose host belongs to a catalogue outlet (or any host, `any_host`) go
through the crawl's own page work (analysis/page_work.py: extraction, dates, language,
dedup fingerprint) and, when the page is Arabic, into the archive with its topics and dedup
fields. The record stays where it is, named by its source and offset (both `/article/ID/raw`
and `reextract` read it there), or is copied into Arshif's WARC store (`copy`, and always
for a file gzipped whole, where no record starts at a byte of the file).

Every other record is counted and skipped. A record cut short (a truncated download, a
wrong Content-Length) ends the file there with a message; everything before it is kept.
The position of the first record not yet handled is saved with each group of articles, so
a killed import resumes there and a finished file imported again adds nothing.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastwarc.warc import ArchiveIterator, WarcRecordType
from w3lib.encoding import http_content_type_encoding

from analysis.extract import ExtractOptions
from analysis.items import PageItem
from analysis.page_work import PageResult, PageWork, process_page
from arshif.dedup import DedupParams
from crawler.outlets import Outlet
from crawler.warc import WarcStore
from importer.hosts import OutletHosts, url_host
from importer.load import Loader
from importer.sources import head_of, open_source, referable, source_key
from importer.state import SourceState, count

logger = logging.getLogger(__name__)

HTML_TYPES = ("text/html", "application/xhtml+xml")
ORDER = ("records", "matched", "archived", "new", "updated")  # how the counts are shown


@dataclass(frozen=True)
class WarcOptions:
    """`any_host`: every host, the outlet named after it; `copy`: into Arshif's WARC store;
    `since`/`until`: the page's date, else its WARC-Date, in this range (inclusive)."""

    any_host: bool = False
    copy: bool = False
    since: date | None = None
    until: date | None = None
    language: str = "ar"


@dataclass
class WarcReport:
    counts: dict[str, int] = field(default_factory=dict)  # this run
    already_done: bool = False
    resumed_at: int = 0  # byte offset this run started from
    stopped: str | None = None  # why the file ended early
    copied: bool = False


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _cut_short(record: Any, position: int, read: int) -> str | None:
    """Why the file ends at this record, when fewer bytes came than it declares: the file
    was cut (a truncated download) or the record's Content-Length is wrong."""
    if read >= record.content_length:
        return None
    return f"record at offset {position} is cut short ({read} of {record.content_length} bytes)"


class WarcImport:
    """Imports WARC sources into one archive through `loader`."""

    def __init__(
        self,
        loader: Loader,
        hosts: OutletHosts,
        options: WarcOptions,
        store: WarcStore,
        pool: Executor | None = None,
        window: int = 8,
    ) -> None:
        """`pool`: processes for the page work (as a crawl's extraction workers), with up
        to `window` pages in flight; None does it in this process."""
        self.loader = loader
        self.pool = pool
        self.window = window
        self._pending: deque[tuple[PageItem, Future[PageResult]]] = deque()
        self.hosts = hosts
        self.options = options
        self.store = store
        dedup = loader.dedup
        self._params: DedupParams | None = dedup.params if dedup is not None else None
        self._works: dict[str, PageWork] = {}

    def work(self, outlet: Outlet | None, host: str) -> PageWork:
        """The crawl's page work for an outlet (or a bare host), made once each."""
        key = outlet.id if outlet else host
        work = self._works.get(key)
        if work is None:
            options = (
                ExtractOptions(drop_selectors=outlet.drop_selectors, founded=outlet.founded)
                if outlet
                else ExtractOptions()
            )
            domains = outlet.domains if outlet else (host,)
            work = self._works[key] = PageWork(options, domains=domains, dedup=self._params)
        return work

    def run(
        self, source: str, progress: Callable[[int, int | None, dict[str, int]], None] | None = None
    ) -> WarcReport:
        """Import one source (path or URL). `progress(position, size, counts)`."""
        key = source_key(source)
        state = self.loader.log.get(key, "warc")
        report = WarcReport(already_done=state.done, resumed_at=state.position)
        if state.done:
            return report
        before = dict(state.counts)
        counts = report.counts
        seekable = referable(head_of(source))
        copy = self.options.copy or not seekable
        report.copied = not seekable
        # A file gzipped whole has no record offsets: it resumes by skipping the records
        # handled before, counted.
        skip = 0 if seekable else state.counts.get("records", 0)
        last_tick = time.monotonic()
        with open_source(source, state.position if seekable else 0) as (stream, size):
            state.size = size
            position = state.position
            records = ArchiveIterator(stream, parse_http=False)
            try:
                for record in records:
                    if skip:
                        skip -= 1
                        continue
                    position = record.stream_pos if seekable else stream.tell()
                    if self.loader.due():
                        self._drain(0, copy, counts, state)
                        self._save(state, before, counts, position)
                    if progress and time.monotonic() - last_tick > 0.2:
                        progress(position, size, counts)
                        last_tick = time.monotonic()
                    count(counts, "records")
                    outcome = self._record(record, key, position, counts)
                    if outcome is None and not record.is_frozen:  # a skipped record
                        outcome = _cut_short(record, position, record.consume())
                    if isinstance(outcome, str):
                        report.stopped = outcome
                        break
                    if outcome is not None:
                        self._pending.append((outcome[0], self._submit(*outcome)))
                        self._drain(self.window, copy, counts, state)
            except (OSError, ValueError) as exc:  # FastWARC: an unreadable record header
                report.stopped = f"unreadable record after offset {position}: {exc}"
            self._drain(0, copy, counts, state)
            if report.stopped:
                self._save(state, before, counts, position)
            else:
                self._save(state, before, counts, size or stream.tell(), done=True)
        if progress:
            progress(state.position, size, counts)
        return report

    def _submit(self, item: PageItem, work: PageWork) -> Future[PageResult]:
        if self.pool is not None:
            return self.pool.submit(process_page, item, work)
        done: Future[PageResult] = Future()
        done.set_result(process_page(item, work))
        return done

    def _drain(self, keep: int, copy: bool, counts: dict[str, int], state: SourceState) -> None:
        """Archive the oldest pages in flight, in file order, until `keep` are left."""
        while len(self._pending) > keep:
            item, future = self._pending.popleft()
            self._archive(item, future.result(), copy, counts, state)

    def _record(
        self, record: Any, key: str, position: int, counts: dict[str, int]
    ) -> str | tuple[PageItem, PageWork] | None:
        """Sort one record: the page to work on, why the file must end here, or None
        (counted and skipped)."""
        kind = record.record_type
        if kind != WarcRecordType.response:
            count(counts, f"skipped: {kind} record")
            return None
        headers = record.headers
        url = headers.get("WARC-Target-URI") or ""
        outlet = self.hosts.match(url)
        host = url_host(url)
        if outlet is None and not (self.options.any_host and host):
            count(counts, "skipped: other host")
            return None
        warc_date = headers.get("WARC-Date") or ""
        since = self.options.since
        day = _date(warc_date)
        if since and day and day < since:  # fetched before the range: published before too
            count(counts, "skipped: before --since")
            return None
        record.freeze()
        reader = record.reader
        problem = _cut_short(record, position, len(reader.read()))
        if problem:
            return problem
        reader.seek(0)
        try:
            record.parse_http(auto_decode="all")
        except (OSError, ValueError):
            count(counts, "skipped: unreadable HTTP")
            return None
        http = record.http_headers
        status = http.status_code or 0
        if status != 200:
            count(counts, "skipped: not 200")
            return None
        content_type = http.get("Content-Type") or ""
        if not content_type.lower().startswith(HTML_TYPES):
            count(counts, "skipped: not HTML")
            return None
        count(counts, "matched")
        body = record.reader.read()
        item = PageItem(
            url=url,
            outlet=outlet.id if outlet else host,
            status=status,
            body=body,
            headers=http.to_dict(),
            request_headers={},
            fetched_at=warc_date,
            header_encoding=http_content_type_encoding(content_type),
            warc_file=key,
            warc_offset=position,
        )
        return item, self.work(outlet, host)

    def _archive(
        self,
        item: PageItem,
        result: PageResult,
        copy: bool,
        counts: dict[str, int],
        state: SourceState,
    ) -> None:
        """Archive one worked page, unless it holds no Arabic article in the range."""
        article = result.article
        if article is None:
            count(counts, f"skipped: {result.skip_reason or 'no article'}")
            return
        if (article.language or "") != self.options.language:
            count(counts, "skipped: not Arabic")
            return
        since, until = self.options.since, self.options.until
        day = _date(article.published) or _date(item.fetched_at)
        if (since and day and day < since) or (until and day and day > until):
            count(counts, "skipped: outside the dates")
            return
        if copy:
            article.warc_file, article.warc_offset = self.store.write(
                item.url, item.status, item.headers, item.body, {}, item.outlet
            )
        else:
            state.referenced = True
        self.loader.add(article, counts, prepared=result.prepared)
        count(counts, "archived")

    def _save(
        self,
        state: SourceState,
        before: dict[str, int],
        counts: dict[str, int],
        position: int,
        done: bool = False,
    ) -> None:
        state.add_counts(before, counts)
        state.position, state.done = position, done
        self.loader.checkpoint(state)
