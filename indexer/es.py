"""The Elasticsearch backend: the archive's search index when it outgrows one machine.

The archive stays the system of record; this index is fed from its outbox, and whichever
backend is in use owns the outbox (switching backends: `arshif index --rebuild`). Documents
are the record itself (ids are article ids, so a retry never duplicates) plus derived
fields: `archive_seq` (the archive row number, so exports keep archive order),
`published_day` (the date part of `published` as written, so `--since/--until` compare the
outlet's local date exactly as the embedded backend does), `dup_rep` (the archive's own
`--dedup` rule, evaluated by the archive when a cluster member is indexed, so `--dedup`
keeps the same articles on both backends) and `collapse_key` (`dup_cluster`, or the id
outside any cluster: searches collapse on it, one hit per cluster) and `name_variants` (the
spelling-variant keys of foreign names, made by `arshif.variants` as for the embedded index).

Indices are versioned (`arshif-articles-v1`, `-v2`, ...) behind an alias; an index template
holds the strict mapping and the Arabic analysis. A rebuild fills the next version and
swaps the alias in one atomic request, so searches never see an empty index.

Normalisation (آ أ إ→ا, ى→ي, ة→ه, no tatweel or harakat) is a `mapping` char filter: it does
what Lucene's `arabic_normalization` does, and every server speaking the Elasticsearch API
(including the test server) accepts it. Stop words and `arabic` stemming are token filters.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import TransportError
from elasticsearch import ApiError, AuthenticationException, Elasticsearch, helpers

from arshif.arabic import tokens
from arshif.credentials import SecretError, read_secret, redact_url
from arshif.record import Article
from indexer.archive_base import ArchiveStore
from indexer.documents import body, representatives, variant_text
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

DEFAULT_ALIAS = "arshif-articles"
ES_SECRETS = ("ARSHIF_ES_URL", "ARSHIF_ES_API_KEY", "ARSHIF_ES_PASSWORD")  # or NAME_FILE
TITLE_BOOST = 10
MAX_WINDOW = 10_000  # Elasticsearch's default max_result_window: deeper pages use search_after
FACET_SIZE = 1000
DAYS = 100_000  # coverage buckets: every day of ~270 years

_HARAKAT = [chr(c) for c in range(0x064B, 0x0653)]  # fathatan .. sukun, maddah above
NORMALIZE = [f"{a} => ا" for a in "آأإ"] + ["ى => ي", "ة => ه"]
NORMALIZE += [f"\\u{ord(c):04x} => " for c in ["ـ", *_HARAKAT]]


class ESError(Exception):
    """Elasticsearch cannot be used; the message names the URL and says what to do."""


@dataclass(frozen=True)
class ESConfig:
    """Where and how to connect. Secrets are kept out of repr (URLs without user:password),
    so never logged."""

    urls: tuple[str, ...]
    api_key: str | None = field(default=None, repr=False)
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_certs: str | None = None
    fingerprint: str | None = None
    timeout: float = 30.0
    retries: int = 3
    shards: int = 1
    replicas: int = 1
    alias: str = DEFAULT_ALIAS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ESConfig | None:
        """The configuration from `ARSHIF_ES_*` variables; None when ARSHIF_ES_URL is unset."""
        env = os.environ if env is None else env
        try:
            secrets = {name: read_secret(name, env) for name in ES_SECRETS}
        except SecretError as exc:
            raise ESError(str(exc)) from None
        raw_urls = secrets["ARSHIF_ES_URL"] or ""
        urls = tuple(u.strip() for u in raw_urls.split(",") if u.strip())
        if not urls:
            return None

        def number(name: str, default: float, kind: type) -> Any:
            raw = env.get(name)
            try:
                return default if raw in (None, "") else kind(raw)
            except ValueError:
                raise ESError(f"{name} must be a number, got {raw!r}") from None

        return cls(
            urls=urls,
            api_key=secrets["ARSHIF_ES_API_KEY"],
            user=env.get("ARSHIF_ES_USER") or None,
            password=secrets["ARSHIF_ES_PASSWORD"],
            ca_certs=env.get("ARSHIF_ES_CA_CERTS") or None,
            fingerprint=env.get("ARSHIF_ES_FINGERPRINT") or None,
            timeout=number("ARSHIF_ES_TIMEOUT", 30.0, float),
            retries=number("ARSHIF_ES_RETRIES", 3, int),
            shards=number("ARSHIF_ES_SHARDS", 1, int),
            replicas=number("ARSHIF_ES_REPLICAS", 1, int),
            alias=env.get("ARSHIF_ES_INDEX") or DEFAULT_ALIAS,
        )

    def __repr__(self) -> str:
        return (
            f"ESConfig(urls={self.where!r}, user={self.user!r}, ca_certs={self.ca_certs!r}, "
            f"timeout={self.timeout}, retries={self.retries}, alias={self.alias!r})"
        )

    @property
    def where(self) -> str:
        """The node URLs for messages, without user:password."""
        return redact_url(", ".join(self.urls))

    def client(self) -> Elasticsearch:
        auth: dict[str, Any] = {}
        if self.api_key:
            auth["api_key"] = self.api_key
        elif self.user:
            auth["basic_auth"] = (self.user, self.password or "")
        return Elasticsearch(
            list(self.urls),
            ca_certs=self.ca_certs,
            ssl_assert_fingerprint=self.fingerprint,
            request_timeout=self.timeout,
            max_retries=self.retries,
            retry_on_timeout=True,
            retry_on_status=(429, 502, 503, 504),
            **auth,
        )


def _text(analyzer: str = "arshif_arabic") -> dict[str, Any]:
    return {
        "type": "text",
        "analyzer": analyzer,
        "fields": {"exact": {"type": "text", "analyzer": "arshif_exact"}},
    }


KEYWORD = {"type": "keyword"}
STORED = {"type": "keyword", "index": False, "doc_values": False}
DATE = {"type": "date", "format": "strict_date_optional_time||epoch_millis"}
MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": KEYWORD,
        "url": KEYWORD,
        "canonical_url": KEYWORD,
        "outlet": KEYWORD,
        "title": _text(),
        "text": _text(),
        "lead": _text(),
        "authors": KEYWORD,
        "published": DATE,
        "modified": DATE,
        "language": KEYWORD,
        "language_prob": {"type": "double"},
        "image": STORED,
        "section": KEYWORD,
        "tags": KEYWORD,
        "page_type": KEYWORD,
        "fetched_at": DATE,
        "http_status": {"type": "integer"},
        "encoding": KEYWORD,
        "warc_file": KEYWORD,
        "warc_offset": {"type": "long"},
        "content_hash": KEYWORD,
        "dup_cluster": KEYWORD,
        "dup_of": KEYWORD,
        "story_id": KEYWORD,
        "topics": KEYWORD,
        "archive_seq": {"type": "long"},
        "published_day": KEYWORD,
        "collapse_key": KEYWORD,
        "dup_rep": {"type": "boolean"},
        # Spelling-variant keys of foreign names (arshif.variants), made by Arshif itself.
        "name_variants": {"type": "text", "analyzer": "whitespace"},
    },
}
VARIANT_BOOST = 0.3  # a name's other spellings rank below the one typed, as embedded
ANALYSIS: dict[str, Any] = {
    "char_filter": {"arshif_normalize": {"type": "mapping", "mappings": NORMALIZE}},
    "filter": {
        "arshif_stop": {"type": "stop", "stopwords": "_arabic_"},
        "arshif_stem": {"type": "stemmer", "language": "arabic"},
    },
    "analyzer": {
        "arshif_arabic": {
            "type": "custom",
            "char_filter": ["arshif_normalize"],
            "tokenizer": "standard",
            "filter": ["lowercase", "decimal_digit", "arshif_stop", "arshif_stem"],
        },
        "arshif_exact": {
            "type": "custom",
            "char_filter": ["arshif_normalize"],
            "tokenizer": "standard",
            "filter": ["lowercase", "decimal_digit"],
        },
    },
}


def document(article: Article, seq: int, representative: bool) -> dict[str, Any]:
    """The index document: the record and the derived fields (see the module docstring)."""
    doc = article.to_dict()
    doc["dup_rep"] = representative
    doc["archive_seq"] = seq
    doc["published_day"] = (article.published or "")[:10] or None
    doc["collapse_key"] = article.dup_cluster or article.id
    words = tokens(article.title or "") + tokens(body(article.lead, article.text))
    doc["name_variants"] = variant_text(words)
    return doc


def filter_clauses(filters: Filters) -> list[dict[str, Any]]:
    """Filter clauses meaning exactly what `Filters.where` means in SQL."""
    clauses: list[dict[str, Any]] = []
    for name, values in (
        ("outlet", filters.outlets),
        ("language", filters.languages),
        ("topics", filters.topics),
    ):
        if values:
            clauses.append({"terms": {name: list(values)}})
    if filters.topic_mode == "all":
        clauses.extend({"term": {"topics": topic}} for topic in filters.topics)
    day: dict[str, str] = {}
    if filters.since:
        day["gte"] = filters.since
    if filters.until:
        day["lte"] = filters.until
    if day:
        clauses.append({"range": {"published_day": day}})
    if filters.dedup:
        clauses.append({"term": {"dup_rep": True}})
    return clauses


def _fields(field: str | None, exact: bool) -> list[str]:
    names = ["title"] if field == "title" else ["title", "lead", "text"]
    return [
        f"{n}{'.exact' if exact else ''}{f'^{TITLE_BOOST}' if n == 'title' else ''}" for n in names
    ]


def translate(node: Node) -> dict[str, Any]:
    """The Elasticsearch query of a parsed query's tree. Words go as match queries (the
    server analyses them with its copy of the chain); phrases and prefixes on the unstemmed
    `.exact` sub-fields, as the embedded backend does."""
    if isinstance(node, Term):
        words = {
            "multi_match": {
                "query": node.word,
                "type": "cross_fields",
                "operator": "and",
                "fields": _fields(node.field, exact=False),
            }
        }
        if not node.variant or node.field is not None:
            return words
        variant = {"term": {"name_variants": {"value": node.variant, "boost": VARIANT_BOOST}}}
        return {"bool": {"should": [words, variant], "minimum_should_match": 1}}
    if isinstance(node, Phrase):
        return {
            "multi_match": {
                "query": " ".join(node.words),
                "type": "phrase",
                "fields": _fields(node.field, exact=True),
            }
        }
    if isinstance(node, Prefix):
        names = [f.split("^")[0] for f in _fields(node.field, exact=True)]
        return {"bool": {"should": [{"prefix": {n: node.prefix}} for n in names]}}
    if isinstance(node, Match):
        return {"term": {"outlet" if node.field == "outlet" else "topics": node.value}}
    if isinstance(node, Not):
        return {"bool": {"must_not": [translate(node.item)]}}
    if isinstance(node, Or):
        return {"bool": {"should": [translate(i) for i in node.items], "minimum_should_match": 1}}
    assert isinstance(node, And)
    must = [translate(i) for i in node.items if not isinstance(i, Not)]
    must_not = [translate(i.item) for i in node.items if isinstance(i, Not)]
    return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}


def build_query(parsed: Parsed | None, filters: Filters) -> dict[str, Any]:
    must = [translate(parsed.node)] if parsed is not None else []
    return {"bool": {"must": must or [{"match_all": {}}], "filter": filter_clauses(filters)}}


SORTS: dict[str, list[dict[str, Any]]] = {
    "relevance": [{"_score": "desc"}, {"archive_seq": "asc"}],
    "newest": [{"published": {"order": "desc", "missing": "_last"}}, {"archive_seq": "asc"}],
    "oldest": [{"published": {"order": "asc", "missing": "_last"}}, {"archive_seq": "asc"}],
}


@dataclass
class DrainReport:
    """What one drain did: articles acknowledged, and per-article errors (left pending)."""

    indexed: int = 0
    failed: dict[str, str] = field(default_factory=dict)


class ElasticIndex:
    """The archive's index in an Elasticsearch cluster (one alias, versioned indices)."""

    name = "elasticsearch"

    def __init__(self, config: ESConfig, client: Elasticsearch | None = None) -> None:
        self.config = config
        self.alias = config.alias
        self.client = client or config.client()

    # ------------------------------------------------------------------ setup

    def _call(self, what: str, fn: Callable[..., Any], /, **kwargs: Any) -> Any:
        """One request; transport and auth failures become one clear ESError."""
        try:
            return fn(**kwargs)
        except AuthenticationException:
            raise ESError(
                f"Elasticsearch at {self.config.where} refused the credentials while {what}; "
                "check ARSHIF_ES_API_KEY or ARSHIF_ES_USER / ARSHIF_ES_PASSWORD"
            ) from None
        except TransportConnectionError as exc:
            raise ESError(
                f"cannot reach Elasticsearch at {self.config.where} ({type(exc).__name__}) "
                f"while {what}; start it or fix ARSHIF_ES_URL"
            ) from None
        except (TransportError, ApiError) as exc:
            raise ESError(
                f"Elasticsearch at {self.config.where} failed while {what}: {redact_url(str(exc))}"
            ) from None

    def template(self) -> dict[str, Any]:
        settings = {
            "number_of_shards": self.config.shards,
            "number_of_replicas": self.config.replicas,
            "analysis": ANALYSIS,
        }
        return {"settings": settings, "mappings": MAPPINGS}

    def ensure(self) -> str:
        """Put the index template and create the first version behind the alias if there is
        none; returns the index the alias points at."""
        self._call(
            "putting the index template",
            self.client.indices.put_index_template,
            name=self.alias,
            index_patterns=[f"{self.alias}-v*"],
            template=self.template(),
            priority=200,
        )
        current = self.current_index()
        if current:
            return current
        # A 400 here is another process having just created it: read the alias again.
        self._call(
            "creating the first index",
            self.client.options(ignore_status=400).indices.create,
            index=f"{self.alias}-v1",
            aliases={self.alias: {}},
        )
        current = self.current_index()
        if current is None:
            raise ESError(f"the alias {self.alias} at {self.config.where} could not be created")
        return current

    def current_index(self) -> str | None:
        found = self._call(
            "reading the alias",
            self.client.options(ignore_status=404).indices.get_alias,
            name=self.alias,
        )
        names = [k for k, v in found.items() if isinstance(v, dict) and "aliases" in v]
        return max(names, key=_version) if names else None

    def _point_alias(self, new: str, old: str | None) -> None:
        actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": self.alias}}]
        if old:
            actions.insert(0, {"remove": {"index": old, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)

    def refresh(self) -> None:
        self._call("refreshing", self.client.indices.refresh, index=self.alias)

    # ------------------------------------------------------------------ writing

    def _bulk(
        self, archive: ArchiveStore, index: str, rows: Sequence[tuple[int, str, Article]]
    ) -> tuple[DrainReport, list[tuple[str, str]]]:
        """Index one batch, each document with its `dup_rep` flag from the archive, and
        re-flag the batch's cluster siblings already in the index. An article is
        done only once it and its cluster's flags were acknowledged; returns the report and
        the (id, updated_at) of the articles done. The transport retries 429
        and 5xx with backoff; streaming_bulk re-sends documents refused with 429."""
        reps, siblings = representatives(archive, [a for _, _, a in rows])
        actions: list[dict[str, Any]] = [
            {
                "_op_type": "index",
                "_index": index,
                "_id": a.id,
                "_source": document(a, seq, a.id in reps),
            }
            for seq, _, a in rows
        ]
        actions += [
            {"_op_type": "update", "_index": index, "_id": i, "doc": {"dup_rep": i in reps}}
            for i in siblings
        ]
        acked: set[str] = set()
        broken: dict[str, str] = {}  # cluster -> why its flags could not be updated
        report = DrainReport()
        # A batch cut short by a transport error is not acknowledged at all; what reached
        # the index is sent again next time, under the same ids.
        for ok, item in helpers.streaming_bulk(
            self.client,
            actions,
            chunk_size=len(actions),
            max_retries=self.config.retries,
            initial_backoff=1,
            raise_on_error=False,
            yield_ok=True,
        ):
            op, result = next(iter(item.items()))
            if ok and op == "index":
                acked.add(result["_id"])
            elif not ok and op == "update" and result.get("status") == 404:
                pass  # a sibling not indexed yet: it gets its flag when it is
            elif not ok:
                error = result.get("error")
                reason = str(error.get("reason", error) if isinstance(error, dict) else error)
                if op == "index":
                    report.failed[result["_id"]] = reason
                else:
                    broken[siblings[result["_id"]]] = reason
        for a in (a for _, _, a in rows if a.id in acked and a.dup_cluster in broken):
            report.failed[a.id] = f"duplicate cluster flags not updated: {broken[a.dup_cluster]}"
        done = [(a.id, v) for _, v, a in rows if a.id in acked and a.dup_cluster not in broken]
        report.indexed = len(done)
        return report, done

    def _feed(
        self,
        archive: ArchiveStore,
        index: str,
        pending_only: bool,
        batch: int,
        progress: Callable[[int], None] | None,
        done: list[tuple[str, str]] | None = None,
    ) -> DrainReport:
        """Send the archive's articles (or only the pending ones) to `index`. Each batch is
        acknowledged in the archive as it is done, or, given a `done` list, collected there
        for the caller to acknowledge later."""
        total = DrainReport()
        for rows in archive.outbox_batches(pending_only, batch):
            try:
                report, acked = self._bulk(archive, index, rows)
            except TransportConnectionError as exc:
                raise ESError(
                    f"cannot reach Elasticsearch at {self.config.where} ({type(exc).__name__}); "
                    f"{total.indexed} articles indexed, the rest stay pending: run "
                    "`arshif index` again once it is back"
                ) from None
            except (TransportError, ApiError) as exc:
                raise ESError(
                    f"Elasticsearch at {self.config.where} failed: {redact_url(str(exc))}"
                ) from None
            if done is None:
                archive.acknowledge(acked, self.name)
            else:
                done.extend(acked)
            total.indexed += report.indexed
            total.failed.update(report.failed)
            if progress:
                progress(len(rows))
        return total

    def drain(
        self, archive: ArchiveStore, batch: int = 500, progress: Callable[[int], None] | None = None
    ) -> DrainReport:
        """Index every pending article; each is acknowledged in the archive only once
        Elasticsearch has acknowledged it. Failures stay pending, with their reason."""
        index = self.ensure()
        report = self._feed(archive, index, True, batch, progress)
        self.refresh()
        return report

    def rebuild(
        self, archive: ArchiveStore, batch: int = 500, progress: Callable[[int], None] | None = None
    ) -> tuple[str, DrainReport]:
        """Fill the next index version from the whole archive, then move the alias to it in
        one atomic request and drop the old version; returns the new index's name. The
        archive is acknowledged only after the switch: a failed rebuild changes nothing."""
        old = self.ensure()
        new = f"{self.alias}-v{_version(old) + 1}"
        self._call("creating the new index", self.client.indices.create, index=new)
        done: list[tuple[str, str]] = []
        try:
            report = self._feed(archive, new, False, batch, progress, done)
            self._call("refreshing", self.client.indices.refresh, index=new)
            self._call("switching the alias", self._point_alias, new=new, old=old)
        except BaseException:
            with suppress(ApiError, TransportError):
                self.client.options(ignore_status=404).indices.delete(index=new)
            raise
        archive.acknowledge(done, self.name)
        self._call("removing the old index", self.client.indices.delete, index=old)
        return new, report

    def update_topics(self, topics: Mapping[str, Sequence[str]]) -> list[str]:
        """Re-tag documents in place (bulk partial updates); returns the ids updated.
        Ids not in the index are skipped: the outbox brings them in whole."""
        actions = (
            {"_op_type": "update", "_index": self.alias, "_id": i, "doc": {"topics": list(t)}}
            for i, t in topics.items()
        )
        results = helpers.streaming_bulk(
            self.client, actions, raise_on_error=False, max_retries=self.config.retries
        )
        done = self._call("re-tagging", lambda: [i["update"]["_id"] for ok, i in results if ok])
        self.refresh()
        return done

    # ------------------------------------------------------------------ reading

    def count(self, text: str | None = None, filters: Filters | None = None) -> int:
        query = build_query(parse_optional(text), filters or Filters())
        return self._call("counting", self.client.count, index=self.alias, query=query)["count"]

    def catch_up(self, archive: ArchiveStore) -> None:
        """Drain before reading (Elasticsearch takes any number of writers)."""
        if archive.pending_count():
            self.drain(archive)

    def search(self, query: SearchQuery) -> SearchResult:
        """Hits in the order asked for, with snippets cut from the text as the embedded
        backend cuts them. With `dedup`, the `dup_rep` filter keeps the embedded backend's
        articles and collapse on the cluster guarantees one hit each even while a cluster's
        flags are being updated."""
        parsed = parse_query(query.text)
        es_query = build_query(parsed, query.filters)
        start = (query.page - 1) * query.limit
        sort = SORTS[query.sort]
        request: dict[str, Any] = {
            "index": self.alias,
            "query": es_query,
            "size": query.limit,
            "sort": sort,
            "track_total_hits": True,
        }
        if query.filters.dedup:
            request["collapse"] = {"field": "collapse_key"}
        if start + query.limit <= MAX_WINDOW:
            request["from"] = start
        elif query.filters.dedup:
            raise ValueError(f"with --dedup, results stop at {MAX_WINDOW}; narrow the search")
        else:
            after = self._sort_values_at(es_query, sort, start)
            if after is None:  # past the last hit: the total only
                request["size"] = 0
            else:
                request["search_after"] = after
        response = self._call("searching", self.client.search, **request)
        total = response["hits"]["total"]["value"]
        hits = [self._hit(h, parsed, query) for h in response["hits"]["hits"]]
        return SearchResult(total=total, hits=hits, page=query.page, limit=query.limit)

    def _aggregate(self, query: dict[str, Any], aggs: dict[str, Any]) -> dict[str, Any]:
        response = self._call(
            "counting", self.client.search, index=self.alias, query=query, size=0, aggs=aggs
        )
        return response["aggregations"]

    def facets(self, text: str | None, filters: Filters) -> dict[str, dict[str, int]]:
        """Terms aggregations; the months are summed from the days as the outlet wrote
        them (`published_day`), as the embedded backend does."""
        parsed = parse_optional(text)
        out: dict[str, dict[str, int]] = {}
        for name, own in (
            ("outlet", replace(filters, outlets=())),
            ("topics", replace(filters, topics=())),
            ("language", replace(filters, languages=())),
        ):
            terms: dict[str, Any] = {"field": name, "size": FACET_SIZE}
            if name == "language":
                terms["missing"] = "unknown"
            agg = self._aggregate(build_query(parsed, own), {"f": {"terms": terms}})["f"]
            out[name] = ranked({str(b["key"]): b["doc_count"] for b in agg["buckets"]})
        days = {"f": {"terms": {"field": "published_day", "size": DAYS}}}
        months: dict[str, int] = {}
        for b in self._aggregate(build_query(parsed, filters), days)["f"]["buckets"]:
            months[b["key"][:7]] = months.get(b["key"][:7], 0) + b["doc_count"]
        out["month"] = ranked(months)
        return out

    def coverage(self, text: str | None, filters: Filters, period: str = "day") -> Table:
        """The days as the outlet wrote them (`published_day`), summed into periods."""
        check_period(period)
        aggs = {
            "day": {
                "terms": {"field": "published_day", "size": DAYS},
                "aggs": {"outlet": {"terms": {"field": "outlet", "size": FACET_SIZE}}},
            }
        }
        result = self._aggregate(build_query(parse_optional(text), filters), aggs)
        table = {
            b["key"]: {o["key"]: o["doc_count"] for o in b["outlet"]["buckets"]}
            for b in result["day"]["buckets"]
        }
        return by_period(table, period)

    def span(self, text: str | None, filters: Filters) -> tuple[str, str] | None:
        days = {"f": {"terms": {"field": "published_day", "size": DAYS}}}
        result = self._aggregate(build_query(parse_optional(text), filters), days)
        found = [b["key"] for b in result["f"]["buckets"]]
        return (min(found), max(found)) if found else None

    def _sort_values_at(
        self, es_query: dict[str, Any], sort: list[dict[str, Any]], start: int
    ) -> list[Any] | None:
        """The sort values of the hit before number `start` (0-based), walking with
        search_after; None when there are fewer hits."""
        after: list[Any] | None = None
        left = start
        while left > 0:
            step = min(left, MAX_WINDOW)
            extra = {"search_after": after} if after else {}
            hits = self._call(
                "paging",
                self.client.search,
                index=self.alias,
                query=es_query,
                size=step,
                sort=sort,
                source=False,
                **extra,
            )["hits"]["hits"]
            if len(hits) < step:
                return None
            after, left = hits[-1]["sort"], left - len(hits)
        return after

    @staticmethod
    def _hit(hit: dict[str, Any], parsed: Parsed, query: SearchQuery) -> Hit:
        src = hit["_source"]
        return Hit(
            id=src["id"],
            url=src["url"],
            outlet=src["outlet"],
            title=src.get("title") or "",
            published=src.get("published"),
            score=float(hit["_score"] or 0.0) if query.sort == "relevance" else 0.0,
            snippet=snippet(
                body(src.get("lead"), src.get("text")),
                parsed.terms,
                prefixes=parsed.prefixes,
                highlight=query.highlight,
                html=query.html,
            ),
        )

    def iter_matches(
        self, text: str | None = None, filters: Filters | None = None, batch: int = 1000
    ) -> Iterator[Article]:
        """Every matching article in archive order, from one point in time (a consistent
        view while paging) with search_after: constant memory at any size."""
        query = build_query(parse_optional(text), filters or Filters())
        pit = self._call(
            "opening a point in time",
            self.client.open_point_in_time,
            index=self.alias,
            keep_alive="2m",
        )["id"]
        try:
            after: list[Any] | None = None
            while True:
                extra = {"search_after": after} if after else {}
                response = self._call(
                    "exporting",
                    self.client.search,
                    pit={"id": pit, "keep_alive": "2m"},
                    query=query,
                    size=batch,
                    sort=[{"archive_seq": "asc"}],
                    track_total_hits=False,
                    **extra,
                )
                pit = response.get("pit_id", pit)
                hits = response["hits"]["hits"]
                for hit in hits:
                    yield Article.from_dict(hit["_source"])
                if len(hits) < batch:
                    return
                after = hits[-1]["sort"]
        finally:
            with suppress(ApiError, TransportError):  # else it expires after keep_alive
                self.client.close_point_in_time(id=pit)


def _version(index: str) -> int:
    return int(index.rsplit("-v", 1)[1])
