"""Search requests and results, shared by every backend, and the query parser.

A user's query is analysed with the same chain as the indexed text (`arshif.arabic.analyze`)
and reduced to plain terms and phrases. Nothing of the user's input reaches a backend as
syntax: FTS5 operators, quotes, `*` or SQL in a query are only ever words to look for.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from arshif.arabic import analyze
from indexer.filters import Filters

if TYPE_CHECKING:
    from indexer.archive import Archive

__all__ = ["Filters", "Hit", "ParsedQuery", "SearchQuery", "SearchResult", "parse_query", "search"]

MAX_LIMIT = 1000
SORTS = ("relevance", "newest", "oldest")
_PHRASE = re.compile(r'"([^"]*)"')


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
    sort: str = "relevance"  # or "newest" / "oldest" (by published; undated last)

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
    score: float  # higher is more relevant (the negated bm25 rank)
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    total: int  # every match of the query and filters, not only this page
    hits: list[Hit]
    page: int
    limit: int
    # facet name -> {value: matching articles}; filled by backends that compute them
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedQuery:
    """A query as analysed terms: each clause is one term or a phrase of several, and an
    article must match every clause."""

    clauses: tuple[tuple[str, ...], ...]

    @property
    def terms(self) -> frozenset[str]:
        return frozenset(term for clause in self.clauses for term in clause)


def _terms(text: str) -> list[str]:
    # A term without a letter or digit ("_") is no token for the index's tokenizer either.
    return [t for t in analyze(text) if any(ch.isalnum() for ch in t)]


def parse_query(text: str) -> ParsedQuery:
    """Words and double-quoted phrases, analysed. A lone quote is just punctuation.

    Raises ValueError when nothing searchable is left (only punctuation or stop words)."""
    clauses: list[tuple[str, ...]] = []
    position = 0
    for match in _PHRASE.finditer(text):
        clauses.extend((term,) for term in _terms(text[position : match.start()]))
        phrase = tuple(_terms(match.group(1)))
        if phrase:
            clauses.append(phrase)
        position = match.end()
    clauses.extend((term,) for term in _terms(text[position:]))
    if not clauses:
        raise ValueError(
            f"query has no searchable words: {text!r} (only punctuation or stop words)"
        )
    return ParsedQuery(tuple(dict.fromkeys(clauses)))


class SearchBackend(Protocol):
    name: str

    def search(self, query: SearchQuery) -> SearchResult: ...


def search(
    archive: Archive, query: SearchQuery, backend: SearchBackend | None = None
) -> SearchResult:
    """Search the archive through `backend`, by default the embedded SQLite FTS5 index."""
    if backend is None:
        from indexer.fts import SqliteIndex  # imported here: fts builds on this module

        backend = SqliteIndex(archive)
    return backend.search(query)
