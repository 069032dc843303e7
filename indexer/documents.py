"""What an article is to a search index, whichever the backend: its searchable body, its
analysed fields, and whether `--dedup` keeps it.

Analysis is `arshif.arabic`'s one chain, the same for every backend and for queries: the
stemmed terms (normalised, no stop words, light stem) rank and match words; the normalised,
unstemmed words (stop words kept) match phrases and prefixes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from arshif.arabic import analyze, terms_of, tokens
from arshif.record import Article
from arshif.variants import token_keys
from indexer.archive_base import ArchiveStore


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


class Columns(NamedTuple):
    """The analysed fields of one article, each a space-joined list of terms (the index
    splits them on spaces again, and keeps their positions)."""

    title: str  # stems
    text: str  # stems of the body
    title_words: str  # normalised words
    text_words: str
    variants: str  # spelling-variant keys of the foreign names in title and body


def columns(
    title: str | None,
    lead: str | None,
    text: str | None,
    text_words: list[str] | None = None,
    title_terms: list[str] | None = None,
) -> Columns:
    """The analysed fields of an article. The words of the text and the terms of the title,
    already made by a crawl's worker processes for dedup, are not made again."""
    words = tokens(text or "") if text_words is None else text_words
    if _lacks_lead(lead or "", text or ""):
        words = tokens(lead or "") + words
    title_words = tokens(title or "")
    stems = analyze(title or "") if title_terms is None else title_terms
    return Columns(
        " ".join(stems),
        " ".join(terms_of(words)),
        " ".join(title_words),
        " ".join(words),
        variant_text(title_words + words),
    )


def variant_text(words: list[str]) -> str:
    """The variant keys of a text's words (each word's, and that of the word without an
    attached preposition), for the field that finds a name in its other spellings."""
    return " ".join(key for word in words for key in token_keys(word))


def representatives(
    archive: ArchiveStore, articles: Sequence[Article]
) -> tuple[set[str], dict[str, str]]:
    """Which of these articles and of their clusters' other members `--dedup` keeps (the
    archive's own rule, `Filters(dedup=True)`), and those other members with their cluster:
    an index keeps a flag per document, and re-flags the siblings when a member arrives."""
    ids = {a.id for a in articles}
    clusters = sorted({a.dup_cluster for a in articles if a.dup_cluster})
    return archive.representatives(ids, clusters)
