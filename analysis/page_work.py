"""Everything done to one fetched page that needs only the page: extraction, the archive
record, its topic tags, its dedup fingerprint and its row of the embedded search index.

It runs in the extraction worker processes (or in the crawl process with one worker), so
the crawl process, which also drives Scrapy, is left with the archive and index lookups.
Everything here is plain data, so it pickles to and from the workers.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache

from langdetect.detector_factory import init_factory

from analysis.extract import ExtractionError, ExtractOptions, extract_article
from analysis.items import PageItem
from analysis.records import build_article
from arshif.arabic import analyze, terms_of, tokens
from arshif.dedup import DedupParams, Prepared, prepare_words
from arshif.record import Article
from indexer.documents import Columns, columns
from indexer.topics import Topics, load_topics


@dataclass(frozen=True)
class PageWork:
    """What to do to each page of a crawl. `topics`: the topic rules' path ("" for the
    default ones), None when tagging is off; `dedup`: the archive's fingerprint settings,
    None when dedup is off; `search`: make the embedded index's row; `budget`: seconds a
    page may take (ARSHIF_EXTRACT_TIMEOUT), 0 for no limit."""

    options: ExtractOptions
    domains: Sequence[str] = ()
    topics: str | None = None
    dedup: DedupParams | None = None
    stories: bool = True
    search: bool = False
    budget: float = 0.0


@dataclass(frozen=True)
class PageResult:
    """The record, or why the page has none."""

    article: Article | None
    skip_reason: str | None = None
    topics: list[str] | None = None
    prepared: Prepared | None = None
    search_columns: Columns | None = None  # indexer.documents.columns of the record


@lru_cache(maxsize=4)
def _topics(path: str) -> Topics:
    """Rules are read once per process (a worker serves many pages)."""
    return load_topics(path or None)


def page_record(item: PageItem, options: ExtractOptions, domains: Sequence[str]) -> Article:
    """The archive record of one fetched page; raises ExtractionError when it holds none.
    Shared by the crawl and `arshif reextract`, so both give a page the same record."""
    fields = extract_article(
        item.body, item.url, header_encoding=item.header_encoding, options=options
    )
    return build_article(
        fields,
        url=item.url,
        outlet=item.outlet,
        fetched_at=item.fetched_at,
        status=item.status,
        warc_file=item.warc_file,
        warc_offset=item.warc_offset,
        domains=domains,
    )


class PageTimeout(BaseException):
    """A page's work ran past its budget. A BaseException, so that no library's (or the
    extraction boundary's) `except Exception` can take it for an error of its own."""


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise PageTimeout in the code run inside once `seconds` have passed.

    A real-time timer signal (SIGALRM), so it stops pure Python and regular expressions
    (which check for signals while they backtrack) wherever they are. Signals reach only the
    main thread, where the pages are worked on: the main thread of each worker process, or
    of the crawl process with one worker (Twisted's reactor; nothing else there uses the
    timer). Elsewhere, or with `seconds` 0, there is no limit."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: object) -> None:
        raise PageTimeout

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def warm_up() -> None:
    """Load now what the first page would load on its own: langdetect's profiles and
    datasketch (imported by arshif.dedup on first use, seconds of loading). Not on a page's
    budget: a timeout that struck an import would leave it to be done again, and again."""
    import datasketch  # noqa: F401

    init_factory()


def process_page(item: PageItem, work: PageWork) -> PageResult:
    """The page's result; a page that takes longer than `work.budget` has none, with the
    reason 'timeout' (counted as arshif/drop/extract/timeout; its WARC copy is kept)."""
    rules = None if work.topics is None else _topics(work.topics)  # once, outside the budget
    try:
        with time_budget(work.budget):
            return _process_page(item, work, rules)
    except PageTimeout:
        return PageResult(None, f"timeout (extraction took over {work.budget:g} s)")


def _process_page(item: PageItem, work: PageWork, rules: Topics | None) -> PageResult:
    try:
        article = page_record(item, work.options, work.domains)
    except ExtractionError as exc:
        return PageResult(None, exc.reason)
    topics = None if rules is None else rules.tag_article(article)
    prepared, search = analysed(article, work.dedup, work.stories, work.search)
    return PageResult(article, topics=topics, prepared=prepared, search_columns=search)


def analysed(
    article: Article, dedup: DedupParams | None, stories: bool, search: bool
) -> tuple[Prepared | None, Columns | None]:
    """The record's dedup fingerprint (with `dedup`'s settings) and its search index row
    (with `search`), from one split and analysis of its text."""
    if dedup is None and not search:
        return None, None
    words = tokens(article.text)
    title_terms = analyze(article.title)
    prepared = (
        None
        if dedup is None
        else prepare_words(dedup, words, title_terms, terms_of(words), stories=stories)
    )
    row = columns(article.title, article.lead, article.text, words, title_terms) if search else None
    return prepared, row
