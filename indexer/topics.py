"""Topic rules: readable YAML files that tag articles with topic ids (e.g. `sco-summit`).

A topic holds rules; an article has the topic when any rule matches. A rule names phrase
groups (`any`: one of these must appear; `all`: each group must have one of its phrases),
exclusions (`none`), a minimum number of hits (`min_hits`) and of hits per 100 words
(`min_density`, so an article that mentions a subject once in passing is not tagged), and
whether the title alone suffices (`title_suffices`). Real articles asked for more, as boolean
queries have it: proximity (`near`: a hit counts only with every `all` group within N words),
the subject (`lead`: a hit in the title or the first N words), a rival subject (`not_about`:
in the title, or more often in the text than the rule's hits, it wins) and more hits when the
title is silent (`min_hits_untitled`). A topic may limit itself to a window of publication
dates (`since`, `until`).

Phrases match whole normalised words (see `arshif.arabic.normalize`), in order, and each word
may carry the attached prefixes of Arabic (و ف ب ل ك ال وال بال لل …), so «وشنغهاي» and
«بقمة» match «شنغهاي» and «قمة». Every surface form a phrase word can take is compiled once
into one dictionary, so tagging costs one lookup per word of the article, whatever the
number of topics. A phrase word that is a foreign name also matches its other spellings
(«شنغهاي» finds «شنجهاي» and «شانغهاي», see `arshif.variants`): a rule lists one spelling.

Lists of related headlines («اقرأ أيضاً» blocks) are removed before matching: they are about
other stories and must not tag the article with theirs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from arshif.arabic import normalize, tokens
from arshif.days import parse_day
from arshif.record import Article
from arshif.variants import token_keys, variant_key
from arshif.yamlfile import read_yaml

SHIPPED = Path(__file__).with_name("topic_rules")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOPIC_KEYS = {"id", "labels", "description", "since", "until", "rules", "examples"}
_RULE_KEYS = {
    "name",
    "any",
    "all",
    "none",
    "not_about",
    "near",
    "lead",
    "min_hits",
    "min_hits_untitled",
    "min_density",
    "title_suffices",
}

# Attached prefixes: a conjunction (و ف), then a preposition (ب ل ك), then the article (ال);
# ل followed by ال is written لل.
_CONJ = ("", "و", "ف")
_PREP = ("", "ب", "ل", "ك")


def _prefixes(definite: bool) -> set[str]:
    """Prefixes a word may carry; `definite` when the word already starts with ال."""
    found = set()
    for conj in _CONJ:
        for prep in _PREP:
            found.add(conj + prep)
            if not definite:
                found.add(conj + ("لل" if prep == "ل" else prep + "ال"))
    return found


# A related-links block: a heading line, then the headline lines that follow it.
_RELATED_HEADING = re.compile(
    r"^\s*(اقرا ايضا|اقرا كذلك|اقرا المزيد|قد يهمك|مواضيع ذات صله|اخبار ذات صله|"
    r"روابط ذات صله|read also|read more|related)\b",
)
_WORD = re.compile(r"\w+")
_BULLET = re.compile(r"^\s*[-•*–·▪►»]\s*")


def strip_related(text: str) -> str:
    """Normalised text (see `normalize`) without «اقرأ أيضاً» blocks: the heading line (with
    any headline on it) and the bulleted or short unpunctuated lines right after it."""
    kept: list[str] = []
    in_block = False
    for line in normalize(text).splitlines():
        if _RELATED_HEADING.match(line):
            in_block = True
            continue
        if in_block:
            words = len(line.split())
            if _BULLET.match(line) or (0 < words <= 12 and not line.rstrip().endswith(".")):
                continue
            if words:
                in_block = False
        kept.append(line)
    return "\n".join(kept)


class TopicError(ValueError):
    """A topic file is wrong; the message names the file, topic and rule."""


Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    name: str
    any: tuple[Phrase, ...] = ()
    all: tuple[tuple[Phrase, ...], ...] = ()
    none: tuple[Phrase, ...] = ()
    not_about: tuple[Phrase, ...] = ()
    near: int | None = None
    lead: int | None = None
    min_hits: int = 1
    min_hits_untitled: int = 1
    min_density: float = 0.0
    title_suffices: bool = False

    @cached_property
    def groups(self) -> tuple[tuple[frozenset[str], frozenset[str], tuple[Phrase, ...]], ...]:
        """The required groups (`any`, then each of `all`), each as the set of its phrases'
        first words (a group none of whose first words occur cannot match), the set of its
        one-word phrases (one of them occurring is enough) and its longer phrases."""
        required = ((self.any,) if self.any else ()) + self.all
        return tuple(
            (
                frozenset(p[0] for p in group),
                frozenset(p[0] for p in group if len(p) == 1),
                tuple(p for p in group if len(p) > 1),
            )
            for group in required
        )

    @cached_property
    def anchors(self) -> tuple[Phrase, ...]:
        """The phrases whose occurrences are counted as hits: `any`, else every `all` phrase
        (with `near`, else the first `all` group: the others must be near it)."""
        if self.any:
            return self.any
        if self.near is not None:
            return self.all[0]
        return tuple(p for group in self.all for p in group)

    @cached_property
    def companions(self) -> tuple[tuple[Phrase, ...], ...]:
        """The groups that must occur within `near` words of each counted hit."""
        return self.all if self.any else self.all[1:]

    def phrases(self) -> Iterable[Phrase]:
        yield from self.any
        for group in self.all:
            yield from group
        yield from self.none
        yield from self.not_about


@dataclass(frozen=True)
class Topic:
    id: str
    labels: Mapping[str, str]
    rules: tuple[Rule, ...]
    source: str
    description: str = ""
    since: date | None = None
    until: date | None = None
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    definition: Mapping[str, Any] = field(default_factory=dict)  # the YAML as written

    def in_window(self, published: str | None) -> bool:
        """Undated articles are judged on their text alone."""
        if not published or (self.since is None and self.until is None):
            return True
        try:
            day = date.fromisoformat(published[:10])
        except ValueError:
            return True
        return (self.since is None or day >= self.since) and (
            self.until is None or day <= self.until
        )


@dataclass(frozen=True)
class Hit:
    """One occurrence of a phrase: where (title or text), at which word, in what context."""

    phrase: str
    field: str
    position: int
    context: str


@dataclass
class RuleResult:
    topic: str
    rule: str
    matched: bool
    why: str
    hits: list[Hit]
    passed: list[str] = field(default_factory=list)  # conditions met before the verdict

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "rule": self.rule,
            "matched": self.matched,
            "why": self.why,
            "passed": self.passed,
            "hits": [h.__dict__ for h in self.hits],
        }


@dataclass(frozen=True)
class _Surface:
    """Every written form of every phrase word (with its prefixes), mapped to the word; and
    each phrase list a rule counts with (by its id), its phrases by first word, so an
    article's words pick the few phrases that can occur without a loop over all of them."""

    bases: Mapping[str, tuple[str, ...]]
    lists: Mapping[int, Mapping[str, tuple[Phrase, ...]]] = field(default_factory=dict)
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # key -> words

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(self.bases)

    def variant_bases(self, token: str) -> tuple[str, ...]:
        """The phrase words another spelling of which the token is (none for most)."""
        found: tuple[str, ...] = ()
        for key in token_keys(token):
            found += self.variants.get(key, ())
        return found


class _Doc:
    """One article scanned once: for every phrase word, the word positions it occurs at."""

    def __init__(self, surface: _Surface, title: str, text: str) -> None:
        self.title_tokens = tokens(title)
        self.text_tokens = _WORD.findall(strip_related(text))
        self.words = len(self.title_tokens) + len(self.text_tokens)
        self._lists = surface.lists
        self.title_occ = self._scan(surface, self.title_tokens)
        self.text_occ = self._scan(surface, self.text_tokens)
        self.found = self.title_occ.keys() | self.text_occ.keys()
        self._cache: dict[Phrase, tuple[list[int], list[int]]] = {}
        self._spots_cache: dict[int, tuple[Sequence[Phrase], tuple[list[int], list[int]]]] = {}

    @staticmethod
    def _scan(surface: _Surface, toks: list[str]) -> dict[str, list[int]]:
        occ: dict[str, list[int]] = {}
        unique = set(toks)
        present = surface.words & unique  # most words are in no phrase: skip them in C
        spelt = {}
        if surface.variants:
            spelt = {t: b for t in unique - present if (b := surface.variant_bases(t))}
        if present or spelt:
            for i, tok in enumerate(toks):
                bases = surface.bases[tok] if tok in present else spelt.get(tok, ())
                for base in bases:
                    occ.setdefault(base, []).append(i)
        return occ

    @staticmethod
    def _positions(occ: Mapping[str, list[int]], phrase: Phrase) -> list[int]:
        first = occ.get(phrase[0])
        if not first or len(phrase) == 1:
            return first or []
        rest = [occ.get(word) for word in phrase[1:]]
        if not all(rest):
            return []
        sets = [set(r) for r in rest if r]
        return [i for i in first if all(i + j + 1 in s for j, s in enumerate(sets))]

    def _spots(self, phrase: Phrase) -> tuple[list[int], list[int]]:
        found = self._cache.get(phrase)
        if found is None:
            found = (
                self._positions(self.title_occ, phrase),
                self._positions(self.text_occ, phrase),
            )
            self._cache[phrase] = found
        return found

    def count(self, phrase: Phrase, title_only: bool = False) -> int:
        """Occurrences in the title (and the text unless `title_only`)."""
        if phrase[0] not in self.found:
            return 0
        in_title, in_text = self._spots(phrase)
        return len(in_title) + (0 if title_only else len(in_text))

    def spots(self, phrases: Sequence[Phrase]) -> tuple[list[int], list[int]]:
        """The sorted title and text positions where any of the phrases starts, one per
        mention: «الأوكرانية» counts once even though it matches both «أوكرانية» and
        «الأوكرانية», and «قطاع غزة» once though «غزة» matches its second word."""
        cached = self._spots_cache.get(id(phrases))
        if cached is not None and cached[0] is phrases:
            return cached[1]
        present = self._present(phrases)
        starts: tuple[set[int], set[int]] = (set(), set())
        for phrase in present:
            for where, positions in enumerate(self._spots(phrase)):
                starts[where].update(positions)
        inside = self._inside([p for p in present if len(p) > 1], 1)
        found = sorted(starts[0] - inside[0]), sorted(starts[1] - inside[1])
        self._spots_cache[id(phrases)] = (phrases, found)
        return found

    def covered(self, phrases: Sequence[Phrase]) -> tuple[set[int], set[int]]:
        """Title and text positions of every word of an occurrence of the phrases."""
        return self._inside(self._present(phrases), 0)

    def _present(self, phrases: Sequence[Phrase]) -> list[Phrase]:
        """The phrases whose first word occurs in the article."""
        index = self._lists[id(phrases)]
        return [p for word in index.keys() & self.found for p in index[word]]

    def _inside(self, phrases: list[Phrase], first: int) -> tuple[set[int], set[int]]:
        inside: tuple[set[int], set[int]] = (set(), set())
        for phrase in phrases:
            for where, positions in enumerate(self._spots(phrase)):
                for i in positions:
                    inside[where].update(range(i + first, i + len(phrase)))
        return inside

    def hits(self, phrase: Phrase) -> list[Hit]:
        found = []
        for name, occ, toks in (
            ("title", self.title_occ, self.title_tokens),
            ("text", self.text_occ, self.text_tokens),
        ):
            for i in self._positions(occ, phrase):
                context = " ".join(toks[max(0, i - 6) : i + len(phrase) + 6])
                found.append(Hit(" ".join(phrase), name, i, context))
        return found


def _by_first(phrases: Sequence[Phrase]) -> dict[str, tuple[Phrase, ...]]:
    index: dict[str, list[Phrase]] = {}
    for phrase in phrases:
        index.setdefault(phrase[0], []).append(phrase)
    return {word: tuple(group) for word, group in index.items()}


def _within(positions: list[int], i: int, n: int) -> bool:
    """Whether any of the sorted positions is at most n words from i."""
    k = bisect_left(positions, i - n)
    return k < len(positions) and positions[k] <= i + n


def _counted(rule: Rule, doc: _Doc, title_only: bool) -> tuple[list[int], list[int]]:
    """Title and text positions of the rule's hits: where an anchor phrase starts, outside
    any `not_about` phrase and, with `near`, with every other group within `near` words in
    the same field."""
    title, text = doc.spots(rule.anchors)
    if title_only:
        text = []
    if rule.not_about:  # «الطائرة الأوكرانية» names the airliner, not Ukraine
        rival = doc.covered(rule.not_about)
        title = [i for i in title if i not in rival[0]]
        text = [i for i in text if i not in rival[1]]
    if rule.near is None:
        return title, text
    near = rule.near
    companions = [doc.spots(group) for group in rule.companions]
    return (
        [i for i in title if all(_within(c[0], i, near) for c in companions)],
        [i for i in text if all(_within(c[1], i, near) for c in companions)],
    )


def _outnumbered(rule: Rule, rivals: list[int], in_title: list[int], in_text: list[int]) -> str:
    """Why the text is about a `not_about` subject rather than the rule's (empty if it is
    not): its phrases occur more often in the text than the rule's hits in title and text."""
    hits = len(in_title) + len(in_text)
    if rule.not_about and len(rivals) > hits:
        return f"about something else: {len(rivals)} `not_about` hits outnumber its {hits}"
    return ""


def _evaluate(rule: Rule, doc: _Doc) -> tuple[bool, str, list[str]]:
    """Whether the rule matches, a one-line reason, and each condition it passed."""
    passed: list[str] = []
    excluded = [p for p in rule.none if doc.count(p)]
    if excluded:
        return False, f"excluded by «{' '.join(excluded[0])}»", passed
    if rule.none:
        passed.append("no `none` phrase")
    rivals: list[int] = []
    if rule.not_about:
        rival_title = [p for p in rule.not_about if doc.count(p, title_only=True)]
        if rival_title:
            why = f"not about it: «{' '.join(rival_title[0])}» (`not_about`) is in the title"
            return False, why, passed
        rivals = doc.spots(rule.not_about)[1]
    for title_only in (True, False) if rule.title_suffices else (False,):
        missing = None
        found = doc.title_occ.keys() if title_only else doc.found
        for n, (firsts, words, longer) in enumerate(rule.groups, 0 if rule.any else 1):
            if firsts.isdisjoint(found) or (
                words.isdisjoint(found)
                and not any(doc.count(p, title_only) for p in longer if p[0] in found)
            ):
                missing = f"nothing from `all` group {n}" if n else "none of `any`"
                break
        in_title, in_text = _counted(rule, doc, title_only) if missing is None else ([], [])
        hits = len(in_title) + len(in_text)
        if title_only:
            if missing is None and hits:
                outnumbered = _outnumbered(rule, rivals, *_counted(rule, doc, False))
                if outnumbered:
                    return False, outnumbered, passed
                return True, "title alone suffices", passed
            continue
        if missing:
            return False, missing, passed
        if rule.near is not None:
            if not hits:
                return False, f"no hit with every other group within {rule.near} words", passed
            passed.append(f"{hits} hits with every other group within {rule.near} words")
        if hits < rule.min_hits:
            return False, f"{hits} hits, fewer than min_hits {rule.min_hits}", passed
        if doc.title_tokens and not in_title and rule.min_hits_untitled > 1:
            if hits < rule.min_hits_untitled:
                why = f"title silent and {hits} hits, fewer than min_hits_untitled"
                return False, f"{why} {rule.min_hits_untitled}", passed
            passed.append(f"title silent, {hits} hits ≥ min_hits_untitled")
        if rule.lead is not None:
            if not in_title and not (in_text and in_text[0] < rule.lead):
                why = f"not the subject: no hit in the title or the first {rule.lead} words"
                return False, why, passed
            where = "the title" if in_title else f"word {in_text[0]} of the text"
            passed.append(f"the subject: a hit in {where} (lead {rule.lead})")
        density = 100 * hits / max(doc.words, 1)
        if density < rule.min_density:
            why = f"{density:.2f} hits per 100 words, below min_density {rule.min_density}"
            return False, why, passed
        outnumbered = _outnumbered(rule, rivals, in_title, in_text)
        if outnumbered:
            return False, outnumbered, passed
        if rule.not_about:
            passed.append(f"{len(rivals)} `not_about` hits in the text, not more than its {hits}")
        return True, f"{hits} hits, {density:.2f} per 100 words", passed
    raise AssertionError("unreachable")


class Topics:
    """A set of compiled topics; `tag` is the fast path, `explain` the readable one."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics: dict[str, Topic] = {}
        for topic in topics:
            if topic.id in self.topics:
                raise TopicError(
                    f"{topic.source}: topic {topic.id}: the id is already defined in "
                    f"{self.topics[topic.id].source}"
                )
            self.topics[topic.id] = topic
        surface: dict[str, set[str]] = {}
        variants: dict[str, set[str]] = {}
        for topic in self.topics.values():
            for rule in topic.rules:
                for phrase in rule.phrases():
                    for word in phrase:
                        key = variant_key(word)
                        if key is not None:
                            variants.setdefault(key, set()).add(word)
                        definite = word.startswith("ال")
                        for prefix in _prefixes(definite):
                            surface.setdefault(prefix + word, set()).add(word)
                        if definite:  # ل + ال + word is written لل + word
                            for conj in _CONJ:
                                surface.setdefault(conj + "ل" + word[1:], set()).add(word)
        lists = {
            id(phrases): _by_first(phrases)
            for topic in self.topics.values()
            for rule in topic.rules
            for phrases in (rule.anchors, *rule.companions, rule.not_about)
        }
        self._surface = _Surface(
            {form: tuple(sorted(bases)) for form, bases in surface.items()},
            lists,
            {key: tuple(sorted(words)) for key, words in variants.items()},
        )
        # A rule needs a hit from its first required group, so a topic none of whose rules
        # has such a first word in an article is skipped without evaluating its rules.
        self._firsts = {
            topic.id: frozenset().union(*(rule.groups[0][0] for rule in topic.rules))
            for topic in self.topics.values()
        }

    def __len__(self) -> int:
        return len(self.topics)

    @property
    def version(self) -> str:
        """A hash of every rule as written: two datasets with the same version were tagged
        by the same rules."""
        return rules_version(self.topics.values())

    def select(self, only: Iterable[str] | None) -> list[Topic]:
        """The named topics (all when `only` is None); an unknown id raises TopicError."""
        if only is None:
            return list(self.topics.values())
        unknown = [t for t in only if t not in self.topics]
        if unknown:
            raise TopicError(
                f"unknown topic {', '.join(unknown)}; known: {', '.join(sorted(self.topics))}"
            )
        return [self.topics[t] for t in only]

    def tag_article(self, article: Article, only: Iterable[str] | None = None) -> list[str]:
        """`tag` an archive record: its text, or its lead where no text was extracted.

        One rule for every path that tags records (crawl, re-extraction, retag)."""
        return self.tag(article.title, article.text or article.lead, article.published, only)

    def tag(
        self,
        title: str,
        text: str,
        published: str | None = None,
        only: Iterable[str] | None = None,
    ) -> list[str]:
        """The ids of the topics whose rules match, in topic order."""
        doc = _Doc(self._surface, title, text)
        found = []
        for topic in self.select(only):
            if self._firsts[topic.id].isdisjoint(doc.found) or not topic.in_window(published):
                continue
            if any(_evaluate(r, doc)[0] for r in topic.rules):
                found.append(topic.id)
        return found

    def explain(
        self, topic_id: str, title: str, text: str, published: str | None = None
    ) -> list[RuleResult]:
        """Each rule of one topic: whether it matched, why, and every phrase hit."""
        (topic,) = self.select([topic_id])
        doc = _Doc(self._surface, title, text)
        outside = not topic.in_window(published)
        results = []
        for rule in topic.rules:
            if outside:
                matched, why, passed = (
                    False,
                    f"published {published} is outside the topic's dates",
                    [],
                )
            else:
                matched, why, passed = _evaluate(rule, doc)
            hits = [h for p in dict.fromkeys(rule.phrases()) for h in doc.hits(p)]
            results.append(RuleResult(topic.id, rule.name, matched, why, hits, passed))
        return results


def rules_version(topics: Iterable[Topic]) -> str:
    blob = json.dumps(
        sorted((t.id, t.definition) for t in topics),
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


# ---------------------------------------------------------------- loading and validation


def _phrase(value: Any, where: str) -> Phrase:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise TopicError(f"{where}: a phrase must be text, got {value!r}")
    words = tuple(tokens(str(value)))
    if not words:
        raise TopicError(f"{where}: the phrase {value!r} has no words")
    return words


def _phrases(value: Any, where: str) -> tuple[Phrase, ...]:
    if not isinstance(value, list) or not value:
        raise TopicError(f"{where}: expected a non-empty list of phrases, got {value!r}")
    return tuple(_phrase(v, where) for v in value)


def _count(data: Mapping[str, Any], key: str, where: str, default: int | None = 1) -> Any:
    """A whole number ≥ 1 under `key`, or `default` when the rule does not give it."""
    if key not in data:
        return default
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TopicError(f"{where}: {key} must be a whole number ≥ 1, got {value!r}")
    return value


def _rule(data: Any, n: int, where: str) -> Rule:
    if not isinstance(data, dict):
        raise TopicError(f"{where}: rule {n}: expected a mapping, got {data!r}")
    name = str(data.get("name") or f"rule-{n}")
    where = f"{where}: rule {name}"
    unknown = set(data) - _RULE_KEYS
    if unknown:
        raise TopicError(
            f"{where}: unknown key {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(_RULE_KEYS))})"
        )
    if "any" not in data and "all" not in data:
        raise TopicError(f"{where}: needs `any` or `all` phrases")
    groups = data.get("all", [])
    if "all" in data and (not isinstance(groups, list) or not groups):
        raise TopicError(f"{where}: `all` must be a non-empty list of phrase lists")
    counts = {key: _count(data, key, where) for key in ("min_hits", "min_hits_untitled")}
    near, lead = _count(data, "near", where, None), _count(data, "lead", where, None)
    if near is not None and len(groups) < (1 if "any" in data else 2):
        raise TopicError(f"{where}: `near` needs `all` groups to be near the `any` phrases")
    density = data.get("min_density", 0)
    if (
        not isinstance(density, int | float)
        or isinstance(density, bool)
        or not 0 <= density < math.inf  # .nan could never be reached, .inf never met
    ):
        raise TopicError(f"{where}: min_density must be a number ≥ 0, got {density!r}")
    title = data.get("title_suffices", False)
    if not isinstance(title, bool):
        raise TopicError(f"{where}: title_suffices must be true or false, got {title!r}")
    return Rule(
        name=name,
        any=_phrases(data["any"], f"{where}: any") if "any" in data else (),
        all=tuple(_phrases(g, f"{where}: all group {i}") for i, g in enumerate(groups, 1))
        if "all" in data
        else (),
        none=_phrases(data["none"], f"{where}: none") if "none" in data else (),
        not_about=_phrases(data["not_about"], f"{where}: not_about") if "not_about" in data else (),
        near=near,
        lead=lead,
        **counts,
        min_density=float(density),
        title_suffices=title,
    )


def _date(value: Any, where: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise TopicError(f"{where} {exc}") from None


def topic_from_dict(data: Any, source: str) -> Topic:
    """Validate one topic definition; errors name the file, topic and rule."""
    if not isinstance(data, dict):
        raise TopicError(f"{source}: a topic must be a mapping, got {data!r}")
    tid = data.get("id")
    if not isinstance(tid, str) or not _SLUG.match(tid):
        raise TopicError(
            f"{source}: topic id must be a lowercase slug like sco-summit, got {tid!r}"
        )
    where = f"{source}: topic {tid}"
    unknown = set(data) - _TOPIC_KEYS
    if unknown:
        raise TopicError(
            f"{where}: unknown key {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(_TOPIC_KEYS))})"
        )
    labels = data.get("labels")
    if not isinstance(labels, dict) or not {"ar", "en"} <= set(labels):
        raise TopicError(f"{where}: labels must give both `ar` and `en`")
    rules = data.get("rules")
    if not isinstance(rules, list) or not rules:
        raise TopicError(f"{where}: needs a non-empty list of rules")
    since, until = (
        _date(data.get("since"), f"{where}: since"),
        _date(data.get("until"), f"{where}: until"),
    )
    if since and until and since > until:
        raise TopicError(f"{where}: since {since} is after until {until}")
    examples = data.get("examples") or {}
    if not isinstance(examples, dict) or set(examples) - {"positive", "negative"}:
        raise TopicError(f"{where}: examples takes `positive` and `negative` lists")
    return Topic(
        id=tid,
        labels={str(k): str(v) for k, v in labels.items()},
        rules=tuple(_rule(r, n, where) for n, r in enumerate(rules, 1)),
        source=source,
        description=str(data.get("description") or ""),
        since=since,
        until=until,
        examples={k: tuple(map(str, v or ())) for k, v in examples.items()},
        definition={k: v for k, v in data.items() if k != "examples"},
    )


def _read(path: Path) -> list[Topic]:
    data = read_yaml(path, TopicError)
    items = data["topics"] if isinstance(data, dict) and "topics" in data else [data]
    if not isinstance(items, list):
        raise TopicError(f"{path}: `topics` must be a list")
    return [topic_from_dict(item, str(path)) for item in items]


def topics_dir(explicit: str | Path | None = None) -> Path:
    """`--topics` if given, else `ARSHIF_TOPICS`, else the topics shipped with Arshif."""
    return Path(explicit or os.environ.get("ARSHIF_TOPICS") or SHIPPED).expanduser()


def load_topics(path: str | Path | None = None) -> Topics:
    """Every topic in a folder of YAML files (or one file)."""
    path = topics_dir(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"})
    elif path.exists():
        files = [path]
    else:
        raise TopicError(f"{path}: no such topic file or folder")
    return Topics(t for f in files for t in _read(f))
