"""Everything done to one fetched page that needs only the page: extraction, the archive
record, its topic tags, its dedup fingerprint and its row of the embedded search index.

It runs in the extraction worker processes (or in the crawl process with one worker), so
the crawl process, which also drives Scrapy, is left with the archive and index lookups.
Everything here is plain data, so it pickles to and from the workers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from arshif.arabic import analyze, terms_of, tokens
from arshif.dedup import DedupParams, Prepared, prepare_words
from arshif.record import Article
from crawler.extract import ExtractionError, ExtractOptions, extract_article
from crawler.items import PageItem
from crawler.records import build_article
from indexer.documents import Columns, columns
from indexer.topics import Topics, load_topics


@dataclass(frozen=True)
class PageWork:
    """What to do to each page of a crawl. `topics`: the topic rules' path ("" for the
    default ones), None when tagging is off; `dedup`: the archive's fingerprint settings,
    None when dedup is off; `search`: make the embedded index's row."""

    options: ExtractOptions
    domains: Sequence[str] = ()
    topics: str | None = None
    dedup: DedupParams | None = None
    stories: bool = True
    search: bool = False


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


def process_page(item: PageItem, work: PageWork) -> PageResult:
    try:
        article = page_record(item, work.options, work.domains)
    except ExtractionError as exc:
        return PageResult(None, exc.reason)
    topics = None if work.topics is None else _topics(work.topics).tag_article(article)
    if work.dedup is None and not work.search:
        return PageResult(article, topics=topics)
    # The text is split and analysed once, for both the fingerprint and the search row.
    words = tokens(article.text)
    title_terms, text_terms = analyze(article.title), terms_of(words)
    prepared = search = None
    if work.dedup is not None:
        prepared = prepare_words(work.dedup, words, title_terms, text_terms, stories=work.stories)
    if work.search:
        search = columns(article.title, article.lead, article.text, words, title_terms)
    return PageResult(article, topics=topics, prepared=prepared, search_columns=search)
