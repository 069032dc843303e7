"""Arshif's body text checked against trafilatura's own answer on the untouched page.

Every step Arshif adds around trafilatura (the tree rewrite before it, the choice between
its modes, pruning after it) was tuned on pages where it works; on an outlet it was not
written for, a step can pick the wrong block. So the final lines are settled against
bare trafilatura's text of the same page. When the two broadly agree, Arshif's lines stand,
with the article sentences trafilatura kept and Arshif lost put back, and the link lines
only Arshif has taken out. When they disagree, Arshif's lines stand only if the page's own
evidence says so (its JSON-LD `articleBody` or description, or trafilatura's text being
mostly links); in doubt, trafilatura's answer stands.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from analysis.boilerplate import is_boilerplate, is_disclaimer
from arshif.arabic import normalize, tokens

# Agreement: Arshif keeps at least this share of trafilatura's content words, and at most
# this share of its own content words are not trafilatura's.
_COVERED = 0.5
_EXTRA = 0.5
_MARGIN = 0.1  # how much better Arshif's support by the page's own text must be
_LINK_MARGIN = 0.3  # how much more of trafilatura's text must be link text
_MIN_BODY = 30  # an `articleBody` shorter than this (words) is a teaser
_MIN_LEAD = 6
_MIN_LINE = 5  # words; shorter lines do not count towards agreement
_SENTENCE = 12  # a lost line at least this long (words) that ends a sentence is article
_SENTENCE_END = re.compile(r"[.!؟?»\"”)]\s*$")


@dataclass(frozen=True)
class Evidence:
    """What the page itself says its article is, and what Arshif removed on purpose."""

    article_body: frozenset[str]  # words of the JSON-LD articleBody (none if a teaser)
    lead: frozenset[str]  # words of the description
    links: frozenset[str]  # the page's link texts, whitespace made one space
    removed: str  # the text of the elements pruned as widgets, likewise
    title: str = ""

    @classmethod
    def of(
        cls, article_body: str, lead: str, links: frozenset[str], removed: str, title: str
    ) -> Evidence:
        body = tokens(article_body)
        return cls(
            frozenset(body) if len(body) >= _MIN_BODY else frozenset(),
            frozenset(tokens(lead)) if len(tokens(lead)) >= _MIN_LEAD else frozenset(),
            links,
            removed,
            _flat(title),
        )


def _plain(line: str) -> str:
    """A line as both extractions write it: they differ in whitespace only."""
    return " ".join(line.split())


@lru_cache(maxsize=8192)
def _flat(line: str) -> str:
    """A line as titles are compared: normalised (titles come from metadata too)."""
    return " ".join(normalize(line).split())


def _content(lines: list[str], title: str) -> list[str]:
    """The words of the lines that can be article text: not the title, not a line too
    short for a sentence (prompts, menu entries, credits, timestamps)."""
    words = [tokens(line) for line in lines]
    return [
        w
        for line, found in zip(lines, words, strict=True)
        if len(found) >= _MIN_LINE and _flat(line) != title
        for w in found
    ]


def _share(words: list[str], known: frozenset[str] | set[str]) -> float:
    return sum(w in known for w in words) / len(words) if words else 0.0


def settle(
    ours: list[str],
    reference: list[str],
    evidence: Evidence,
    fuller: Callable[[], list[str]] | None = None,
) -> list[str]:
    """The body lines to keep, from Arshif's `ours` and trafilatura's `reference`. When
    they disagree and `fuller` is given, its answer (trafilatura with its fallback
    extractors, dearer) is the one compared and decided against."""
    if _agree(ours, reference, evidence):
        return _merge(ours, reference, evidence)
    if fuller is not None:
        return settle(ours, fuller(), evidence)
    if not _content(reference, evidence.title):
        return ours
    return ours if _favours(ours, reference, evidence) else reference


def _agree(ours: list[str], reference: list[str], evidence: Evidence) -> bool:
    """Whether Arshif kept most of trafilatura's content words and added few of its own."""
    ref_words = _content(reference, evidence.title)
    if not ref_words:
        return False
    our_words = _content(ours, evidence.title)
    covered = _share(ref_words, set(our_words))
    extra = 1 - _share(our_words, set(ref_words)) if our_words else 1.0
    return covered >= _COVERED and extra <= _EXTRA


def _support(lines: list[str], evidence: Evidence) -> float | None:
    """How much of the page's own account of its article the lines hold."""
    reference = evidence.article_body or evidence.lead
    if not reference:
        return None
    found = set(tokens(" ".join(lines)))
    return sum(w in found for w in reference) / len(reference)


def _link_density(lines: list[str], links: frozenset[str]) -> float:
    total = sum(map(len, lines))
    return sum(len(line) for line in lines if _plain(line) in links) / total if total else 0.0


def _favours(ours: list[str], reference: list[str], evidence: Evidence) -> bool:
    """Whether the page's evidence clearly prefers Arshif's lines to trafilatura's."""
    if not ours:
        return False
    mine, theirs = _support(ours, evidence), _support(reference, evidence)
    if mine is not None and theirs is not None and mine >= theirs + _MARGIN:
        return True
    if mine is not None and theirs is not None and theirs >= mine + _MARGIN:
        return False
    return _link_density(reference, evidence.links) >= (
        _link_density(ours, evidence.links) + _LINK_MARGIN
    )


def _supported(line: str, evidence: Evidence) -> bool:
    """Whether the line is mostly words of the `articleBody` or the description."""
    words = tokens(line)
    return any(
        known and _share(words, known) >= 0.6 for known in (evidence.article_body, evidence.lead)
    )


def _lost_article_line(line: str, evidence: Evidence, inside: bool) -> bool:
    """A line trafilatura kept and Arshif lost that reads as the article's: not a prompt,
    credit, title, disclaimer, link or text of a pruned widget, and either in the
    `articleBody` or description, or (for want of an `articleBody`) a whole sentence of
    some length `inside` the article (between lines both kept; before and after them is
    page furniture)."""
    plain = _plain(line)
    if (
        _flat(line) == evidence.title
        or plain in evidence.links
        or plain in evidence.removed
        or is_boilerplate(line)
        or is_disclaimer(line)
    ):
        return False
    if _supported(line, evidence):
        return True
    if evidence.article_body:  # the page's own article text is the authority
        return False
    return inside and len(tokens(line)) >= _SENTENCE and _SENTENCE_END.search(line) is not None


def _merge(ours: list[str], reference: list[str], evidence: Evidence) -> list[str]:
    """Arshif's lines without the link lines trafilatura did not take, with the article
    lines trafilatura kept and Arshif lost put back where trafilatura had them."""
    ref_text = _plain("\n".join(reference))
    kept = [
        line
        for line in ours
        if not (
            _plain(line) in evidence.links
            and _plain(line) not in ref_text
            and not _supported(line, evidence)
        )
    ]
    our_text = _plain("\n".join(kept))
    at = {_plain(line): i for i, line in enumerate(kept)}
    flats = [_plain(line) for line in reference]
    last = max((i for i, flat in enumerate(flats) if flat in at), default=-1)
    inserts: dict[int, list[str]] = {}
    anchor = -1
    for i, (line, flat) in enumerate(zip(reference, flats, strict=True)):
        if flat in at:
            anchor = at[flat]
        elif flat not in our_text and _lost_article_line(line, evidence, anchor >= 0 and i < last):
            inserts.setdefault(anchor, []).append(line)
    if not inserts:
        return kept
    merged = list(inserts.get(-1, ()))
    for i, line in enumerate(kept):
        merged += [line, *inserts.get(i, ())]
    return merged
