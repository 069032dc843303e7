"""Search requests and results, and the one interface every search backend implements.

A user's query is parsed once (`indexer.query`) into a tree that each backend translates
into its own engine's query; nothing of the input reaches an engine as its syntax. The web
layer and the command line use only `SearchIndex`: search, count, facets, the coverage
series and iteration for exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from indexer.filters import Filters
from indexer.query import Parsed, QueryError
from indexer.query import parse as parse_query

if TYPE_CHECKING:
    from arshif.record import Article
    from indexer.archive import Archive

__all__ = [
    "Filters", "Hit", "Parsed", "QueryError", "SearchIndex", "SearchQuery", "SearchResult",
    "parse_query", "search",
]  # fmt: skip

SORTS = ("relevance", "newest", "oldest")
MAX_LIMIT = 1000
PERIODS = ("day", "week", "month", "year")  # what the coverage series is counted by
Table = dict[str, dict[str, int]]  # {first day of a period: {outlet: articles}}


@dataclass
class SearchQuery:
    """One search request. `highlight` wraps query hits in the snippet; `html=True`
    HTML-escapes the snippet text around the markers (for the web page)."""

    text: str
    filters: Filters = field(default_factory=Filters)
    limit: int = 10
    page: int = 1
    highlight: tuple[str, str] = ("[", "]")
    html: bool = False
    sort: str = "relevance"  # or "newest" / "oldest": by `published`, undated last

    def __post_init__(self) -> None:
        if self.sort not in SORTS:
            raise ValueError(f"sort must be one of {', '.join(SORTS)}, got {self.sort!r}")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.page < 1:
            raise ValueError(f"page must be 1 or more, got {self.page}")


@dataclass
class Hit:
    id: str
    url: str
    outlet: str
    title: str
    published: str | None
    score: float  # higher is more relevant (bm25); with a date sort, 0
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    total: int  # every match of the query and filters, not only this page
    hits: list[Hit]
    page: int
    limit: int
    # facet name -> {value: matching articles}: `SearchIndex.facets`, when asked for
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


class SearchIndex(Protocol):
    """What the web page, the API, exports and the CLI ask of a search backend. `text` is
    the user's query (None: every article the filters keep); facets and counts come from
    the engine's own aggregations."""

    name: str

    def search(self, query: SearchQuery) -> SearchResult: ...

    def count(self, text: str | None = None, filters: Filters | None = None) -> int: ...

    def facets(self, text: str | None, filters: Filters) -> dict[str, dict[str, int]]:
        """Articles per outlet, topic, language ("unknown" when not detected) and month of
        publication, most first. Each facet ignores its own filter, so the other choices
        stay visible with their counts."""
        ...

    def coverage(self, text: str | None, filters: Filters, period: str = "day") -> Table:
        """{first day of a period: {outlet: articles}} of the dated matches, periods in
        order (the chart): counted by the engine at the chart's granularity, so a common
        word over years is a few hundred buckets, not one per day and outlet."""
        ...

    def span(self, text: str | None, filters: Filters) -> tuple[str, str] | None:
        """First and last day of the dated matches (the chart's range); None if none."""
        ...

    def iter_matches(
        self, text: str | None = None, filters: Filters | None = None, batch: int = 500
    ) -> Iterator[Article]:
        """Every match in archive order, in constant memory (exports)."""
        ...

    def drain(
        self, archive: Archive, batch: int = 500, progress: Callable[[int], None] | None = None
    ) -> Any: ...

    def catch_up(self, archive: Archive) -> None:
        """Index what the outbox holds before reading, unless another process is doing it."""
        ...


def parse_optional(text: str | None) -> Parsed | None:
    """The parsed query, or None for "every article the filters keep"."""
    return parse_query(text) if text is not None else None


def ranked(counts: dict[str, int]) -> dict[str, int]:
    """Facet counts most first, then by value."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def period_start(day: date, period: str) -> date:
    """The first day of the period holding `day`; weeks start on Monday."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    check_period(period)
    return day


def check_period(period: str) -> None:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {period!r}")


def by_period(days: Mapping[str, Mapping[str, int]], period: str) -> Table:
    """A {day: {outlet: n}} table summed into periods, both levels in order."""
    table: Table = {}
    for day, row in days.items():
        key = period_start(date.fromisoformat(day), period).isoformat()
        into = table.setdefault(key, {})
        for outlet, n in row.items():
            into[outlet] = into.get(outlet, 0) + n
    return {key: dict(sorted(table[key].items())) for key in sorted(table)}


def search(
    archive: Archive, query: SearchQuery, backend: SearchIndex | None = None
) -> SearchResult:
    """Search the archive through `backend`, by default the embedded index."""
    if backend is None:
        from indexer.embedded import EmbeddedIndex  # imported here: it builds on this module

        backend = EmbeddedIndex(archive)
    return backend.search(query)
