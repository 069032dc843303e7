"""The embedded search backend: a tantivy index in the data folder, fed from the archive's
outbox.

Documents hold our own analysis (`indexer.documents.columns`), split again on spaces by
tantivy's whitespace tokenizer: stems for words, normalised words (with positions) for
phrases and prefixes, so the index matches exactly what Elasticsearch's copy of the same
chain matches. Facet fields are raw and fast (aggregations read them column-wise); `pk` ties
each document to its archive row, where hits, snippets and exports are read from: the archive
stays the system of record, and the index stores no text.

One writer at a time (tantivy's lock file says so): whoever drains the outbox, a crawl's
index stage or `arshif index`, `search`, `serve`, `export` catching up when nobody else is.
A batch is acknowledged in the outbox only after the commit that holds it; a crash between
the two leaves it pending, and the next drain deletes each id before adding it again, so
nothing is lost and nothing doubles. Readers in any process get a new searcher per query,
after a reload, so they see each commit.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from threading import Lock
from typing import Any

import tantivy
from tantivy import FieldType, Occur, Order, Query

from arshif.record import Article
from indexer.archive import ARTICLE_COLUMNS, Archive, now, row_to_article
from indexer.documents import Columns, body, columns, representatives
from indexer.filters import Filters
from indexer.query import And, Match, Node, Not, Or, Parsed, Phrase, Prefix, Term
from indexer.search import (
    Hit,
    SearchQuery,
    SearchResult,
    Table,
    by_period,
    check_period,
    parse_optional,
    parse_query,
    ranked,
)
from indexer.snippets import snippet

logger = logging.getLogger(__name__)

FOLDER = "search-index-v2"  # a new schema gets a new folder, rebuilt from the archive
OLD_FTS_TABLE = "articles_fts"  # the SQLite FTS5 index of Arshif before tantivy
# Weighted fields a word is looked for in (stems, words): `title:` keeps the first only.
TEXT_FIELDS: tuple[tuple[str, str, float], ...] = (
    ("title", "title_words", 10.0),
    ("text", "text_words", 1.0),
)
# A foreign name's other spellings (`variants`, keys of arshif.variants) count for less than
# the spelling typed, so articles that write it rank first.
VARIANT_WEIGHT = 0.3
UNDATED_LAST = 2**62  # the `oldest` sort key of an undated article
FACET_SIZE = 1000
DAYS = 100_000  # buckets enough for every month (or day) of any archive
# The coverage chart's buckets by period: days counted from 1970-01-01, a Thursday, so
# weeks offset by 4 days start on Monday; months (and years) from the `month` field.
PERIOD_AGGS: dict[str, dict[str, Any]] = {
    "day": {"histogram": {"field": "day", "interval": 1, "min_doc_count": 1}},
    "week": {"histogram": {"field": "day", "interval": 7, "offset": 4, "min_doc_count": 1}},
    "month": {"terms": {"field": "month", "size": DAYS}},
    "year": {"terms": {"field": "month", "size": DAYS}},  # summed into years here
}
CACHED_AGGREGATES = 256  # per process: a page's parts asked again, the totals under a chart
WRITER_HEAP = 64_000_000
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")
EPOCH = date(1970, 1, 1)


class IndexBusy(Exception):
    """Another process holds the index's writer (a crawl indexing as it archives)."""


def schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    b.add_integer_field("pk", stored=True, indexed=True, fast=True)
    for stems, words, _ in TEXT_FIELDS:
        b.add_text_field(stems, tokenizer_name="whitespace", index_option="freq")
        b.add_text_field(words, tokenizer_name="whitespace", index_option="position")
    b.add_text_field("variants", tokenizer_name="whitespace", index_option="freq")
    for name in ("outlet", "topics", "language", "month"):
        b.add_text_field(name, tokenizer_name="raw", fast=True)
    for name in ("day", "newest", "oldest", "dup_rep"):
        b.add_integer_field(name, indexed=True, fast=True)
    return b.build()


SCHEMA = schema()
_READERS: dict[Path, tantivy.Index] = {}  # one open index per folder and process
_READERS_LOCK = Lock()
# (folder, commit, query text, filters, aggregations) -> result, newest last
_AGGREGATES: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()


def _dates(published: str | None) -> tuple[int | None, int | None]:
    """(the date as written, in days since 1970-01-01; POSIX seconds) of `published`."""
    found = _DAY.match(published or "")
    if not found:
        return None, None
    try:
        day = day_number(found.group(0))
        moment = datetime.fromisoformat(published or "")
    except ValueError:
        return None, None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return day, int(moment.timestamp())


def day_number(iso: str) -> int:
    return (date.fromisoformat(iso) - EPOCH).days


@lru_cache(maxsize=65_536)
def _iso_day(number: Any) -> str:
    return (EPOCH + timedelta(days=int(number))).isoformat()


def document(pk: int, article: Article, cols: Columns, representative: bool) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", article.id)
    doc.add_integer("pk", pk)
    for name, value in zip(
        ("title", "text", "title_words", "text_words", "variants"),
        (cols.title, cols.text, cols.title_words, cols.text_words, cols.variants),
        strict=True,
    ):
        doc.add_text(name, value)
    doc.add_text("outlet", article.outlet)
    for topic in article.topics:
        doc.add_text("topics", topic)
    if article.language:
        doc.add_text("language", article.language)
    day, moment = _dates(article.published)
    if day is not None:
        doc.add_integer("day", day)
        doc.add_text("month", (article.published or "")[:7])
    doc.add_integer("newest", moment if moment is not None else -UNDATED_LAST)
    doc.add_integer("oldest", moment if moment is not None else UNDATED_LAST)
    doc.add_integer("dup_rep", int(representative))
    return doc


# ---------------------------------------------------------------- queries


def _term(field: str, value: Any, option: str = "freq") -> Query:
    return Query.term_query(SCHEMA, field, value, index_option=option)


def _filter(query: Query) -> Query:
    """A condition that must hold but does not rank (an outlet's idf is no relevance)."""
    return Query.const_score_query(query, 0.0)


def _any(queries: Sequence[Query]) -> Query:
    if len(queries) == 1:
        return queries[0]
    return Query.boolean_query([(Occur.Should, q) for q in queries])


def _fields(field: str | None) -> tuple[tuple[str, str, float], ...]:
    return TEXT_FIELDS[:1] if field == "title" else TEXT_FIELDS


def translate(node: Node) -> Query:
    """The tantivy query of a parsed query's tree."""
    if isinstance(node, Term):
        fields = [Query.boost_query(_term(s, node.term), w) for s, _, w in _fields(node.field)]
        if node.variant and node.field is None:
            fields.append(Query.boost_query(_term("variants", node.variant), VARIANT_WEIGHT))
        return _any(fields)
    if isinstance(node, Phrase):
        return _any(
            [Query.boost_query(_phrase(f, node.words), w) for _, f, w in _fields(node.field)]
        )
    if isinstance(node, Prefix):
        pattern = re.escape(node.prefix) + ".*"
        return _any(
            [
                Query.boost_query(Query.regex_query(SCHEMA, words, pattern), w)
                for _, words, w in _fields(node.field)
            ]
        )
    if isinstance(node, Match):
        return _filter(_term("outlet" if node.field == "outlet" else "topics", node.value))
    if isinstance(node, Not):
        return _everything_but([translate(node.item)])
    if isinstance(node, Or):
        return _any([translate(item) for item in node.items])
    assert isinstance(node, And)
    must = [translate(i) for i in node.items if not isinstance(i, Not)]
    must_not = [translate(i.item) for i in node.items if isinstance(i, Not)]
    if not must:
        return _everything_but(must_not)
    return Query.boolean_query(
        [*((Occur.Must, q) for q in must), *((Occur.MustNot, q) for q in must_not)]
    )


def _phrase(field: str, words: tuple[str, ...]) -> Query:
    """Words in order; one word is that exact (unstemmed) form."""
    if len(words) == 1:
        return _term(field, words[0], "position")
    return Query.phrase_query(SCHEMA, field, list(words))


def _everything_but(excluded: Sequence[Query]) -> Query:
    return Query.boolean_query(
        [(Occur.Must, Query.all_query()), *((Occur.MustNot, q) for q in excluded)]
    )


def filter_queries(filters: Filters) -> list[Query]:
    """Conditions meaning exactly what `Filters.where` means in SQL."""
    out: list[Query] = []
    for field, values in (("outlet", filters.outlets), ("language", filters.languages)):
        if values:
            out.append(_any([_term(field, v) for v in values]))
    if filters.topics and filters.topic_mode == "all":
        out.extend(_term("topics", t) for t in filters.topics)
    elif filters.topics:
        out.append(_any([_term("topics", t) for t in filters.topics]))
    if filters.since or filters.until:
        since, until = (day_number(d) if d else None for d in (filters.since, filters.until))
        out.append(Query.range_query(SCHEMA, "day", FieldType.Integer, since, until))
    if filters.dedup:
        out.append(_term("dup_rep", 1))
    return [_filter(q) for q in out]


def build_query(parsed: Parsed | None, filters: Filters) -> Query:
    clauses = [translate(parsed.node)] if parsed else []
    clauses += filter_queries(filters)
    if not clauses:
        return Query.all_query()
    if len(clauses) == 1:
        return clauses[0]
    return Query.boolean_query([(Occur.Must, q) for q in clauses])


# ---------------------------------------------------------------- the index


class EmbeddedIndex:
    """The archive's embedded search index (implements `indexer.search.SearchIndex`)."""

    name = "tantivy"

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        self.path = archive.path.parent / FOLDER
        self.notices: list[str] = []  # what a migration did, for the command to say

    # ------------------------------------------------------------------ setup

    def exists(self) -> bool:
        return (self.path / "meta.json").is_file()

    def ensure(self) -> None:
        """Create the index if there is none: an archive made before it (an older Arshif,
        whose FTS5 index is dropped here) or a new schema starts from an empty index
        with the whole archive back in the outbox."""
        if self.exists() and not self._has_old_fts():
            return
        with self.archive.transaction() as db:  # one process creates it; others wait
            if self._has_old_fts():
                db.execute(f"DROP TABLE {OLD_FTS_TABLE}")
                self.notices.append(
                    "migrated the archive: the old SQLite FTS5 index was dropped; the "
                    f"search index is now {self.path} (every article is indexed again)"
                )
                logger.warning("%s", self.notices[-1])
            if not self.exists():
                self.path.mkdir(parents=True, exist_ok=True)
                tantivy.Index(SCHEMA, path=str(self.path))
                self.archive.requeue_all()

    def _has_old_fts(self) -> bool:
        query = "SELECT 1 FROM sqlite_schema WHERE name = ?"
        return self.archive.db.execute(query, (OLD_FTS_TABLE,)).fetchone() is not None

    def _reader(self) -> tantivy.Index | None:
        """This process's open index (None before the first drain), reloaded so a new
        searcher sees the latest commit of whichever process wrote it."""
        with _READERS_LOCK:
            index = _READERS.get(self.path)
            if index is None:
                if not self.exists():
                    return None
                index = _READERS[self.path] = _open_for_reading(self.path)
        index.reload()
        return index

    def _searcher(self) -> tantivy.Searcher | None:
        index = self._reader()
        return index.searcher() if index is not None else None

    # ------------------------------------------------------------------ writing

    def writer(self) -> Writer:
        """The index's one writer; raises IndexBusy while another process holds it."""
        self.ensure()
        return Writer(self)

    def drain(
        self,
        archive: Archive,
        batch: int = 2000,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Index every pending article, one commit and one acknowledgement per batch;
        returns the number acknowledged. Raises IndexBusy when another process writes."""
        if archive is not self.archive:
            raise ValueError("drain the archive this index was opened on")
        writer = self.writer()
        try:
            with analysers(archive.pending_count()) as analyse:
                return writer.drain(batch, progress, analyse)
        finally:
            writer.close()

    def catch_up(self, archive: Archive) -> None:
        """Drain before reading, unless another process is writing (its commits are read
        as they come) or the archive cannot be written (read-only: read what is there)."""
        if archive.read_only:
            return
        if self.exists() and not self._has_old_fts() and not archive.pending_count():
            return
        try:
            self.drain(archive)
        except IndexBusy:
            logger.info("another process is indexing; searching what it has committed")

    def rebuild(self, batch: int = 2000, progress: Callable[[int], None] | None = None) -> int:
        """Re-analyse the whole archive into the index in one commit (searches see the old
        index until it lands); returns the number of articles. Articles archived or changed
        while it runs stay pending."""
        writer = self.writer()
        try:
            with analysers(self.archive.count()) as analyse:
                return writer.rebuild(batch, progress, analyse)
        finally:
            writer.close()

    # ------------------------------------------------------------------ reading

    def count(self, text: str | None = None, filters: Filters | None = None) -> int:
        searcher = self._searcher()
        if searcher is None:
            return 0
        query = build_query(parse_optional(text), filters or Filters())
        return searcher.search(query, 1, count=True).count

    def search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.text)
        searcher = self._searcher()
        if searcher is None:
            return SearchResult(total=0, hits=[], page=query.page, limit=query.limit)
        tv_query = build_query(parsed, query.filters)
        start = (query.page - 1) * query.limit
        if query.sort == "relevance":
            found = searcher.search(tv_query, query.limit, count=True, offset=start)
        else:
            field, order = (
                ("newest", Order.Desc) if query.sort == "newest" else ("oldest", Order.Asc)
            )
            found = searcher.search(
                tv_query, query.limit, count=True, order_by_field=field, offset=start, order=order
            )
        addresses = [address for _, address in found.hits]
        pks = searcher.fast_field_values("pk", addresses)
        scores = [float(s) if query.sort == "relevance" else 0.0 for s, _ in found.hits]
        rows = _rows_by_pk(self.archive, pks)
        hits = [
            Hit(
                id=a.id,
                url=a.url,
                outlet=a.outlet,
                title=a.title or "",
                published=a.published,
                score=score,
                snippet=snippet(
                    body(a.lead, a.text),
                    parsed.terms,
                    prefixes=parsed.prefixes,
                    highlight=query.highlight,
                    html=query.html,
                ),
            )
            for pk, score in zip(pks, scores, strict=True)
            if (a := rows.get(pk)) is not None
        ]
        return SearchResult(total=found.count, hits=hits, page=query.page, limit=query.limit)

    def facets(self, text: str | None, filters: Filters) -> dict[str, dict[str, int]]:
        wanted = {
            "outlet": ("outlet", replace(filters, outlets=())),
            "topics": ("topics", replace(filters, topics=())),
            "language": ("language", replace(filters, languages=())),
        }
        out: dict[str, dict[str, int]] = {name: {} for name in (*wanted, "month")}
        # Facets whose filters are the same share one pass over the matches.
        groups: dict[Filters, dict[str, Any]] = {}
        for name, (field, own) in wanted.items():
            agg: dict[str, Any] = {"field": field, "size": FACET_SIZE}
            if name == "language":
                agg["missing"] = "unknown"
            groups.setdefault(own, {})[name] = {"terms": agg}
        groups.setdefault(filters, {})["month"] = {"terms": {"field": "month", "size": DAYS}}
        for group_filters, aggs in groups.items():
            result = self._aggregate(text, group_filters, aggs)
            for name, agg in (result or {}).items():
                out[name] = ranked({str(b["key"]): b["doc_count"] for b in agg["buckets"]})
        return out

    def coverage(self, text: str | None, filters: Filters, period: str = "day") -> Table:
        check_period(period)
        # Few outlets, each with its periods: cheaper than a bucket per period of outlets.
        aggs = {
            "outlet": {
                "terms": {"field": "outlet", "size": FACET_SIZE},
                "aggs": {"period": PERIOD_AGGS[period]},
            }
        }
        result = self._aggregate(text, filters, aggs)
        if result is None:
            return {}
        table: Table = {}
        for outlet in result["outlet"]["buckets"]:
            for b in outlet["period"]["buckets"]:
                key = _iso_day(b["key"]) if isinstance(b["key"], float | int) else b["key"]
                table.setdefault(key, {})[outlet["key"]] = b["doc_count"]
        if period in ("month", "year"):  # keys are months: their first days, or years'
            table = by_period({f"{m}-01": row for m, row in table.items()}, period)
        return {key: dict(sorted(table[key].items())) for key in sorted(table)}

    def span(self, text: str | None, filters: Filters) -> tuple[str, str] | None:
        result = self._aggregate(text, filters, {"day": {"stats": {"field": "day"}}})
        if not result or not result["day"]["count"]:
            return None
        return _iso_day(result["day"]["min"]), _iso_day(result["day"]["max"])

    def _aggregate(
        self, text: str | None, filters: Filters, aggs: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The engine's aggregation of the matches, None without an index. Results are kept
        per commit of the index, so a page's parts asked again (the chart's totals under
        every query, the facets of a query the API just answered) cost nothing."""
        generation = self._generation()
        searcher = self._searcher()
        if searcher is None or generation is None:
            return None
        key = (self.path, generation, text, filters, json.dumps(aggs, sort_keys=True))
        with _READERS_LOCK:
            if key in _AGGREGATES:
                _AGGREGATES.move_to_end(key)
                return _AGGREGATES[key]
        result = searcher.aggregate(build_query(parse_optional(text), filters), aggs)
        with _READERS_LOCK:
            _AGGREGATES[key] = result
            while len(_AGGREGATES) > CACHED_AGGREGATES:
                _AGGREGATES.popitem(last=False)
        return result

    def _generation(self) -> tuple[int, int, int] | None:
        """Which commit the index is at: tantivy replaces meta.json at every commit. Read
        before the searcher, so a commit in between only makes a later lookup miss."""
        try:
            meta = (self.path / "meta.json").stat()
        except FileNotFoundError:
            return None
        return meta.st_mtime_ns, meta.st_size, meta.st_ino

    def iter_matches(
        self, text: str | None = None, filters: Filters | None = None, batch: int = 500
    ) -> Iterator[Article]:
        """Every match in archive order: keyset pages by `pk` over the index, each page's
        articles read from the archive."""
        query = build_query(parse_optional(text), filters or Filters())
        last = 0
        while True:
            searcher = self._searcher()
            if searcher is None:
                return
            after = Query.range_query(SCHEMA, "pk", FieldType.Integer, last + 1, None)
            page = Query.boolean_query([(Occur.Must, query), (Occur.Must, after)])
            found = searcher.search(page, batch, count=False, order_by_field="pk", order=Order.Asc)
            pks = searcher.fast_field_values("pk", [a for _, a in found.hits])
            rows = _rows_by_pk(self.archive, pks)
            yield from (rows[pk] for pk in pks if pk in rows)
            if len(pks) < batch:
                return
            last = pks[-1]


class Writer:
    """The index's one writer, held by whoever drains the outbox. Articles are added with
    `put` and become visible and acknowledged at `commit`."""

    def __init__(self, index: EmbeddedIndex) -> None:
        self.index = index
        self.archive = index.archive
        try:
            self._writer = tantivy.Index.open(str(index.path)).writer(WRITER_HEAP, 1)
        except ValueError as exc:
            if "LockBusy" in str(exc):
                raise IndexBusy(
                    f"another process is writing the search index {index.path}"
                ) from None
            raise _os_error(exc, index.path) or exc from None
        self._sent: list[tuple[str, str]] = []  # (id, updated_at) added since the last commit
        # The `--dedup` flag of each article added since the last commit (None: untracked,
        # in a rebuild, which gives every article its final flag as it comes).
        self._flags: dict[str, bool] | None = {}

    def put(
        self,
        rows: Sequence[tuple[int, str, Article]],
        analysed: Mapping[str, Columns] | None = None,
    ) -> None:
        """Add (or replace) articles given as (archive rowid, updated_at, article), and
        re-flag their duplicate clusters' other members for `--dedup`. `analysed`: columns
        already made (a crawl's workers make them), by article id."""
        analysed = analysed or {}
        reps, siblings = representatives(self.archive, [a for _, _, a in rows])
        for pk, _, article in rows:
            cols = analysed.get(article.id) or columns(article.title, article.lead, article.text)
            self._add(pk, article, cols, article.id in reps)
        if self._flags is not None:
            for pk, article in _rows_by_id(self.archive, self._flag_changes(siblings, reps)):
                self._add(pk, article, columns(article.title, article.lead, article.text),
                          article.id in reps)  # fmt: skip
        self._sent.extend((a.id, stamp) for _, stamp, a in rows)

    def _flag_changes(self, siblings: Mapping[str, str], reps: set[str]) -> list[str]:
        """The siblings whose flag is not the one they should have: a cluster has one
        representative, so when a member arrives at most one or two of its others change,
        and only those are analysed and written again (not the whole cluster, each time)."""
        assert self._flags is not None
        unknown = [i for i in siblings if i not in self._flags]
        flagged: set[str] = set()
        searcher = self.index._searcher() if unknown else None
        if searcher is not None:
            query = Query.boolean_query(
                [
                    (Occur.Must, Query.term_set_query(SCHEMA, "id", unknown)),
                    (Occur.Must, _term("dup_rep", 1)),
                ]
            )
            found = searcher.search(query, len(unknown), count=False)
            flagged = {searcher.doc(address)["id"][0] for _, address in found.hits}
        return [i for i in siblings if self._flags.get(i, i in flagged) != (i in reps)]

    def _add(self, pk: int, article: Article, cols: Columns, representative: bool) -> None:
        self._writer.delete_documents_by_term("id", article.id)
        self._writer.add_document(document(pk, article, cols, representative))
        if self._flags is not None:
            self._flags[article.id] = representative

    def commit(self) -> int:
        """Make what was put durable and searchable, then acknowledge it in the outbox;
        returns the number acknowledged."""
        try:
            self._writer.commit()
        except ValueError as exc:
            raise _os_error(exc, self.index.path) or exc from None
        sent, self._sent = self._sent, []
        if self._flags is not None:
            self._flags.clear()  # the index holds them now
        self.archive.acknowledge(sent, self.index.name)
        return len(sent)

    def drain(
        self,
        batch: int = 500,
        progress: Callable[[int], None] | None = None,
        analyse: Analyse = lambda articles: {},
    ) -> int:
        total = 0
        while rows := self.archive.pending_rows(batch):
            self.put(rows, analyse([a for _, _, a in rows]))
            done = self.commit()
            total += done
            if progress:
                progress(len(rows))
        return total

    def rebuild(self, batch: int, progress: Callable[[int], None] | None, analyse: Analyse) -> int:
        started = now()
        self._flags = None
        self._writer.delete_all_documents()
        count, last = 0, 0
        while rows := _rows_after(self.archive, last, batch):
            self.put(rows, analyse([a for _, _, a in rows]))
            self._sent.clear()  # acknowledged below, all at once
            count += len(rows)
            last = rows[-1][0]
            if progress:
                progress(len(rows))
        self._writer.commit()
        with self.archive.transaction() as db:
            db.execute(
                "UPDATE articles SET index_state = 'indexed', indexed_at = ?, indexed_by = ? "
                "WHERE updated_at <= ?",
                (now(), self.index.name, started),
            )
        return count

    def close(self) -> None:
        """Wait for merges and release the lock; what was put but not committed is dropped
        (it is still pending in the outbox)."""
        self._writer.wait_merging_threads()


# ---------------------------------------------------------------- helpers

Analyse = Callable[[Sequence[Article]], Mapping[str, Columns]]
PARALLEL_FROM = 5000  # pending articles from which analysis runs in worker processes


def _columns_of(fields: tuple[str | None, str | None, str | None]) -> Columns:
    return columns(*fields)


@contextmanager
def analysers(articles: int) -> Iterator[Analyse]:
    """Analysis in one worker process per core, for a large drain or a rebuild: analysing
    the text is most of the work of indexing, and tantivy indexes on its own threads. For a
    few articles, here (starting workers would cost more)."""
    cores = os.cpu_count() or 1
    if articles < PARALLEL_FROM or cores < 2:
        yield lambda batch: {}
        return
    with ProcessPoolExecutor(cores, mp_context=get_context("spawn")) as pool:

        def analyse(batch: Sequence[Article]) -> Mapping[str, Columns]:
            fields = [(a.title, a.lead, a.text) for a in batch]
            made = pool.map(_columns_of, fields, chunksize=max(1, len(fields) // (4 * cores)))
            return dict(zip([a.id for a in batch], made, strict=True))

        yield analyse


_ERRNOS = (
    ("PermissionDenied", errno.EACCES),
    ("ReadOnlyFilesystem", errno.EROFS),
    ("StorageFull", errno.ENOSPC),
    ("No space left", errno.ENOSPC),
    ("FileTooLarge", errno.EFBIG),
    ("File too large", errno.EFBIG),
)


def _os_error(exc: ValueError, path: Path) -> OSError | None:
    """tantivy's I/O failures arrive as ValueError with the Rust error kind in the text:
    as an OSError they get the storage message every other write gets (full, read-only)."""
    for kind, number in _ERRNOS:
        if kind in str(exc):
            return OSError(number, os.strerror(number), str(path))
    return None


def _open_for_reading(path: Path) -> tantivy.Index:
    """Open the index; in a folder this user cannot write (a read-only copy of a data
    folder), through a private folder of links to its files, as tantivy writes a lock file
    even to read."""
    try:
        return tantivy.Index.open(str(path))
    except ValueError as exc:
        if "PermissionDenied" not in str(exc):
            raise
    links = Path(tempfile.mkdtemp(prefix="arshif-index-"))
    for item in path.iterdir():
        if not item.name.startswith(".tantivy-"):
            (links / item.name).symlink_to(item.resolve())
    return tantivy.Index.open(str(links))


def _select(archive: Archive, where: str, values: Sequence[Any]) -> list[tuple[int, Article]]:
    rows = archive.db.execute(
        f"SELECT a.pk, {ARTICLE_COLUMNS} FROM articles a WHERE a.{where} IN "
        "(SELECT value FROM json_each(?))",
        (json.dumps(list(values)),),
    ).fetchall()
    return [(r[0], row_to_article(r[1:])) for r in rows]


def _rows_by_pk(archive: Archive, pks: Sequence[int]) -> dict[int, Article]:
    return dict(_select(archive, "pk", pks))


def _rows_by_id(archive: Archive, ids: Sequence[str]) -> list[tuple[int, Article]]:
    return _select(archive, "id", ids) if ids else []


def _rows_after(archive: Archive, last: int, batch: int) -> list[tuple[int, str, Article]]:
    rows = archive.db.execute(
        f"SELECT a.pk, a.updated_at, {ARTICLE_COLUMNS} FROM articles a WHERE a.pk > ? "
        "ORDER BY a.pk LIMIT ?",
        (last, batch),
    ).fetchall()
    return [(r[0], r[1], row_to_article(r[2:])) for r in rows]
