"""The embedded search backend: an SQLite FTS5 table in the archive's own database file.

The table holds *analysed* text (`arshif.arabic.analyze`: normalised, stop words removed,
light-stemmed), with the archive row's rowid, so queries analysed the same way find every
spelling of a word: «قمة», «القمة», «قمه» and «والقمة» are one term. The FTS5 tokenizer
folds nothing more (`remove_diacritics 0`): analysis has done it, the same way for queries.
No server, and an index in the same file as the archive is updated in the same transaction
that acknowledges the outbox.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from arshif.arabic import analyze, tokens
from arshif.record import Article
from indexer.archive import Archive
from indexer.filters import Filters
from indexer.search import Hit, ParsedQuery, SearchQuery, SearchResult, parse_query
from indexer.snippets import snippet

TABLE = "articles_fts"
TITLE_WEIGHT, TEXT_WEIGHT = 10.0, 1.0
ORDER = {  # SearchQuery.sort -> ORDER BY; undated articles come last by date
    "relevance": "rank, a.pk",
    "newest": "a.published IS NULL, a.published DESC, a.pk",
    "oldest": "a.published IS NULL, a.published, a.pk",
}


def body(lead: str | None, text: str | None) -> str:
    """The searchable body: the text, with the lead in front when the text lacks it."""
    lead, text = lead or "", text or ""
    return f"{lead}\n\n{text}" if _lacks_lead(lead, text) else text


def _lacks_lead(lead: str, text: str) -> bool:
    """Leads are often the first paragraph cut short («…»), so "lacks it" means that most of
    the lead's words are missing from the start of the text, not an exact substring test."""
    lead_words = set(tokens(lead))
    if not lead_words:
        return False
    opening = set(tokens(text[: 2 * len(lead) + 200]))
    return len(lead_words & opening) < 0.8 * len(lead_words)


def columns(
    title: str | None,
    lead: str | None,
    text: str | None,
    title_terms: list[str] | None = None,
    text_terms: list[str] | None = None,
) -> tuple[str, str]:
    """The indexed title and body of an article, as analysed terms. Terms already made from
    the title and text (a crawl's worker processes have them) are not made again."""
    title_terms = analyze(title or "") if title_terms is None else title_terms
    text_terms = analyze(text or "") if text_terms is None else text_terms
    if _lacks_lead(lead or "", text or ""):
        text_terms = analyze(lead or "") + text_terms
    return " ".join(title_terms), " ".join(text_terms)


def match_expression(query: ParsedQuery) -> str:
    """The FTS5 MATCH string: every clause a quoted string (a phrase when it has several
    terms), joined by implicit AND, so no input can be FTS5 syntax."""
    return " ".join('"' + " ".join(clause).replace('"', '""') + '"' for clause in query.clauses)


class SqliteIndex:
    """Full-text index of an Archive, kept in the archive's database."""

    name = "sqlite"

    def __init__(self, archive: Archive) -> None:
        self.archive = archive
        if self._exists():
            return
        with archive.transaction() as db:
            if self._exists():  # another process created it while we waited for the lock
                return
            db.execute(
                f"CREATE VIRTUAL TABLE {TABLE} USING fts5"
                "(title, text, tokenize = 'unicode61 remove_diacritics 0')"
            )
            # Persisted, so that `ORDER BY rank` ranks with the title weighted higher.
            db.execute(
                f"INSERT INTO {TABLE} ({TABLE}, rank) VALUES ('rank', ?)",
                (f"bm25({TITLE_WEIGHT}, {TEXT_WEIGHT})",),
            )
            # A new, empty index has seen nothing, whatever the outbox says.
            archive.requeue_all()

    def _exists(self) -> bool:
        query = "SELECT 1 FROM sqlite_schema WHERE name = ?"
        return self.archive.db.execute(query, (TABLE,)).fetchone() is not None

    # ------------------------------------------------------------------ writing

    def index(
        self, articles: Sequence[Article], analysed: Mapping[str, tuple[str, str]] | None = None
    ) -> list[str]:
        """(Re)index articles under their archive rowid; returns the ids indexed (those in
        the archive — an article must be archived before it is indexed). `analysed`: rows
        already made by `columns`, by article id (a crawl's workers make them)."""
        db = self.archive.db
        analysed = analysed or {}
        with self.archive.transaction():
            rowids = dict(
                db.execute(
                    "SELECT id, pk FROM articles WHERE id IN (SELECT value FROM json_each(?))",
                    (json.dumps([a.id for a in articles]),),
                ).fetchall()
            )
            known = [a for a in articles if a.id in rowids]
            for a in known:
                self.put(rowids[a.id], analysed.get(a.id) or columns(a.title, a.lead, a.text))
        return [a.id for a in known]

    def _write(self, rows: Iterator[tuple[int, str | None, str | None, str | None]]) -> int:
        count = 0
        for rowid, title, lead, text in rows:
            self.put(rowid, columns(title, lead, text))
            count += 1
        return count

    def put(self, rowid: int, analysed: tuple[str, str]) -> None:
        """(Re)index one archive row from its `columns`; the caller acknowledges it."""
        db = self.archive.db
        db.execute(f"DELETE FROM {TABLE} WHERE rowid = ?", (rowid,))
        db.execute(f"INSERT INTO {TABLE} (rowid, title, text) VALUES (?, ?, ?)", (rowid, *analysed))

    def drain(
        self, archive: Archive, batch: int = 500, progress: Callable[[int], None] | None = None
    ) -> int:
        """Index every pending article. Each batch is indexed and acknowledged in one
        transaction, so a crash loses at most the batch in flight, which stays pending."""
        if archive is not self.archive:
            raise ValueError("drain the archive this index was opened on")
        total = 0
        while True:
            with archive.transaction():
                articles = archive.pending(batch)
                if not articles:
                    return total
                done = self.index(articles)
                archive.mark_indexed(done, self.name)
            total += len(done)
            if progress:
                progress(len(done))

    def rebuild(self, batch: int = 500) -> int:
        """Re-analyse the whole archive into a fresh index in one transaction (searches keep
        seeing the old index until it commits); returns the number of articles."""
        with self.archive.transaction() as db:
            db.execute(f"DELETE FROM {TABLE}")
            count = self._write(self._all_rows(batch))
            self.archive.mark_all_indexed(self.name)
            db.execute(f"INSERT INTO {TABLE} ({TABLE}) VALUES ('optimize')")
        return count

    def _all_rows(self, batch: int) -> Iterator[tuple[int, str | None, str | None, str | None]]:
        """The indexed columns of every article, read in keyset pages (constant memory)."""
        last = 0
        while True:
            rows = self.archive.db.execute(
                "SELECT pk, title, lead, text FROM articles WHERE pk > ? ORDER BY pk LIMIT ?",
                (last, batch),
            ).fetchall()
            yield from rows
            if len(rows) < batch:
                return
            last = rows[-1][0]

    # ------------------------------------------------------------------ reading

    def _from_where(self, parsed: ParsedQuery, filters: Filters) -> tuple[str, list[Any]]:
        where, params = filters.where("a")
        return (
            f"FROM {TABLE} JOIN articles a ON a.pk = {TABLE}.rowid "
            f"WHERE {TABLE} MATCH ? AND {where}",
            [match_expression(parsed), *params],
        )

    def count(self, text: str, filters: Filters | None = None) -> int:
        """How many articles match the query and filters."""
        sql, params = self._from_where(parse_query(text), filters or Filters())
        return self.archive.db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]

    def search(self, query: SearchQuery) -> SearchResult:
        parsed = parse_query(query.text)
        sql, params = self._from_where(parsed, query.filters)
        db = self.archive.db
        total = db.execute(f"SELECT count(*) {sql}", params).fetchone()[0]
        rows = db.execute(
            f"SELECT a.id, a.url, a.outlet, a.title, a.published, a.lead, a.text, rank "
            f"{sql} ORDER BY {ORDER[query.sort]} LIMIT ? OFFSET ?",
            [*params, query.limit, (query.page - 1) * query.limit],
        ).fetchall()
        terms = parsed.terms
        hits = [
            Hit(
                id=id_,
                url=url,
                outlet=outlet,
                title=title or "",
                published=published,
                score=-rank,
                snippet=snippet(
                    body(lead, text), terms, highlight=query.highlight, html=query.html
                ),
            )
            for id_, url, outlet, title, published, lead, text, rank in rows
        ]
        return SearchResult(total=total, hits=hits, page=query.page, limit=query.limit)

    def iter_matches(
        self, text: str, filters: Filters | None = None, batch: int = 500
    ) -> Iterator[Article]:
        """Every article matching the query, in archive order and constant memory (keyset
        pages by rowid), for exports of a search."""
        sql, params = self._from_where(parse_query(text), filters or Filters())
        yield from self.archive.keyset_articles(sql, params, batch)
