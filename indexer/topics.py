"""Topic rules: readable YAML files that tag articles with topic ids (e.g. `sco-summit`).

A topic holds rules; an article has the topic when any rule matches. A rule names phrase
groups (`any`: one of these must appear; `all`: each group must have one of its phrases),
exclusions (`none`), a minimum number of hits (`min_hits`) and of hits per 100 words
(`min_density`, so an article that mentions a subject once in passing is not tagged), and
whether the title alone suffices (`title_suffices`). A topic may limit itself to a window of
publication dates (`since`, `until`).

Phrases match whole normalised words (see `arshif.arabic.normalize`), in order, and each word
may carry the attached prefixes of Arabic (و ف ب ل ك ال وال بال لل …), so «وشنغهاي» and
«بقمة» match «شنغهاي» and «قمة». Every surface form a phrase word can take is compiled once
into one dictionary, so tagging costs one lookup per word of the article, whatever the
number of topics.

Lists of related headlines («اقرأ أيضاً» blocks) are removed before matching: they are about
other stories and must not tag the article with theirs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from arshif.arabic import normalize, tokens
from arshif.days import parse_day
from arshif.record import Article
from arshif.yamlfile import read_yaml

SHIPPED = Path(__file__).with_name("topic_rules")
_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_TOPIC_KEYS = {"id", "labels", "description", "since", "until", "rules", "examples"}
_RULE_KEYS = {"name", "any", "all", "none", "min_hits", "min_density", "title_suffices"}

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
    min_hits: int = 1
    min_density: float = 0.0
    title_suffices: bool = False

    @cached_property
    def groups(self) -> tuple[tuple[frozenset[str], tuple[Phrase, ...]], ...]:
        """The required groups (`any`, then each of `all`), each with the set of its phrases'
        first words: a group none of whose first words occur cannot match."""
        required = ((self.any,) if self.any else ()) + self.all
        return tuple((frozenset(p[0] for p in group), group) for group in required)

    def phrases(self) -> Iterable[Phrase]:
        yield from self.any
        for group in self.all:
            yield from group
        yield from self.none


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "rule": self.rule,
            "matched": self.matched,
            "why": self.why,
            "hits": [h.__dict__ for h in self.hits],
        }


@dataclass(frozen=True)
class _Surface:
    """Every written form of every phrase word (with its prefixes), mapped to the word."""

    bases: Mapping[str, tuple[str, ...]]

    @cached_property
    def words(self) -> frozenset[str]:
        return frozenset(self.bases)


class _Doc:
    """One article scanned once: for every phrase word, the word positions it occurs at."""

    def __init__(self, surface: _Surface, title: str, text: str) -> None:
        self.title_tokens = tokens(title)
        self.text_tokens = _WORD.findall(strip_related(text))
        self.words = len(self.title_tokens) + len(self.text_tokens)
        self.title_occ = self._scan(surface, self.title_tokens)
        self.text_occ = self._scan(surface, self.text_tokens)
        self.found = self.title_occ.keys() | self.text_occ.keys()
        self._cache: dict[Phrase, tuple[list[int], list[int]]] = {}

    @staticmethod
    def _scan(surface: _Surface, toks: list[str]) -> dict[str, list[int]]:
        occ: dict[str, list[int]] = {}
        present = surface.words & set(toks)  # most words are in no phrase: skip them in C
        if present:
            for i, tok in enumerate(toks):
                if tok in present:
                    for base in surface.bases[tok]:
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

    def distinct_hits(self, phrases: Iterable[Phrase]) -> int:
        """Words where any of the phrases starts: «الأوكرانية» counts once even though it
        matches both «أوكرانية» and «الأوكرانية»."""
        spots: set[tuple[int, int]] = set()
        for phrase in phrases:
            if phrase[0] not in self.found:
                continue
            in_title, in_text = self._spots(phrase)
            spots.update((0, i) for i in in_title)
            spots.update((1, i) for i in in_text)
        return len(spots)

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


def _evaluate(rule: Rule, doc: _Doc) -> tuple[bool, str]:
    """Whether the rule matches, and a one-line reason."""
    excluded = [p for p in rule.none if doc.count(p)]
    if excluded:
        return False, f"excluded by «{' '.join(excluded[0])}»"
    for title_only in (True, False) if rule.title_suffices else (False,):
        missing = None
        for n, (firsts, group) in enumerate(rule.groups, 0 if rule.any else 1):
            if firsts.isdisjoint(doc.found) or not any(doc.count(p, title_only) for p in group):
                missing = f"nothing from `all` group {n}" if n else "none of `any`"
                break
        if missing is None and title_only:
            return True, "title alone suffices"
        if title_only:
            continue
        if missing:
            return False, missing
        counted = rule.any or tuple(p for group in rule.all for p in group)
        hits = doc.distinct_hits(counted)
        if hits < rule.min_hits:
            return False, f"{hits} hits, fewer than min_hits {rule.min_hits}"
        density = 100 * hits / max(doc.words, 1)
        if density < rule.min_density:
            return False, (
                f"{density:.2f} hits per 100 words, below min_density {rule.min_density}"
            )
        return True, f"{hits} hits, {density:.2f} per 100 words"
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
        for topic in self.topics.values():
            for rule in topic.rules:
                for phrase in rule.phrases():
                    for word in phrase:
                        definite = word.startswith("ال")
                        for prefix in _prefixes(definite):
                            surface.setdefault(prefix + word, set()).add(word)
                        if definite:  # ل + ال + word is written لل + word
                            for conj in _CONJ:
                                surface.setdefault(conj + "ل" + word[1:], set()).add(word)
        self._surface = _Surface({form: tuple(sorted(bases)) for form, bases in surface.items()})
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
                matched, why = False, f"published {published} is outside the topic's dates"
            else:
                matched, why = _evaluate(rule, doc)
            hits = [h for p in dict.fromkeys(rule.phrases()) for h in doc.hits(p)]
            results.append(RuleResult(topic.id, rule.name, matched, why, hits))
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
    min_hits = data.get("min_hits", 1)
    if not isinstance(min_hits, int) or isinstance(min_hits, bool) or min_hits < 1:
        raise TopicError(f"{where}: min_hits must be a whole number ≥ 1, got {min_hits!r}")
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
        min_hits=min_hits,
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
