"""The query language, parsed once into a small tree that each search backend translates.

What researchers type in Media Cloud or Kibana: words (all must appear), `OR`, `NOT` or a
leading `-`, "phrases", `word*` prefixes, `title:` (a word, phrase, prefix or group in the
title only), `outlet:ID` and `topic:ID` filters, and parentheses. Operators are the upper-case
Latin words only: «أو» and «ليس» are words (the first a stop word), as are `or` and `not`.

Words are analysed with the index's own chain (`arshif.arabic.analyze`); phrases and prefixes
use the normalised, unstemmed form (`tokens`), which the index keeps beside the stems. A
query that cannot be read raises QueryError with the character it stopped at: never a
silently different query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Union

from arshif.arabic import STOP_WORDS, analyze, normalize, stem, tokens
from arshif.variants import variant_key

OPERATORS = ("AND", "OR", "NOT")
FIELDS = ("title", "outlet", "topic")
MIN_PREFIX = 2  # letters before `*`: one letter would expand to much of the vocabulary
_FIELD = re.compile(r"^(title|outlet|topic):(.*)$", re.S)
_PREFIX = re.compile(r"^\w+$")


class QueryError(ValueError):
    """A query that cannot be read: the message and the 0-based character it points at."""

    def __init__(self, message: str, query: str, position: int) -> None:
        self.message = message
        self.query = query
        self.position = max(0, min(position, len(query)))
        super().__init__(f"{message} (at character {self.position + 1} of the query)")

    def pointer(self) -> str:
        """The query with a caret under the error, for a terminal."""
        return f"{self.query}\n{' ' * self.position}^"

    def to_dict(self) -> dict[str, object]:
        return {"detail": str(self), "message": self.message, "position": self.position}


class EmptyQuery(QueryError):
    """A query with nothing to search for: empty, or only punctuation and stop words."""


# ---------------------------------------------------------------- the tree


@dataclass(frozen=True)
class Term:
    """One analysed term (`term`), from the word the user typed (`word`: Elasticsearch
    analyses it itself). `field` None: title or text; "title": the title only."""

    word: str
    term: str
    field: str | None = None
    variant: str | None = None  # the spelling-variant key of a foreign name (arshif.variants)


@dataclass(frozen=True)
class Phrase:
    """Normalised, unstemmed words in this order (one word: that exact form)."""

    text: str
    words: tuple[str, ...]
    field: str | None = None


@dataclass(frozen=True)
class Prefix:
    """Any normalised word starting with `prefix`."""

    prefix: str
    field: str | None = None


@dataclass(frozen=True)
class Match:
    """An exact value of a keyword field: `outlet` or `topic`."""

    field: str
    value: str


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Union[Term, Phrase, Prefix, Match, And, Or, Not]  # noqa: UP007 - runtime alias


@dataclass(frozen=True)
class Parsed:
    """A parsed query: its tree, and what to highlight in snippets."""

    text: str
    node: Node

    @property
    def terms(self) -> frozenset[str]:
        """Analysed terms the matches contain (outside NOT): what a snippet marks."""
        return frozenset(_positive(self.node, "terms"))

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(_positive(self.node, "prefixes")))

    @property
    def scores(self) -> bool:
        """Whether anything in the query ranks (not only filters and exclusions)."""
        return any(True for _ in _positive(self.node, "terms")) or bool(self.prefixes)


def _positive(node: Node, kind: str) -> list[str]:
    if isinstance(node, And | Or):
        return [x for item in node.items for x in _positive(item, kind)]
    if kind == "terms" and isinstance(node, Term):
        return [node.term]
    if kind == "terms" and isinstance(node, Phrase):
        return [stem(w) for w in node.words if w not in STOP_WORDS]
    if kind == "prefixes" and isinstance(node, Prefix):
        return [node.prefix]
    return []


# ---------------------------------------------------------------- lexing


@dataclass(frozen=True)
class _Token:
    kind: str  # WORD PHRASE FIELD AND OR NOT NEG ( )
    value: str
    pos: int


def _lex(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            out.append(_Token(ch, ch, i))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise QueryError("this quote is never closed", text, i)
            out.append(_Token("PHRASE", text[i + 1 : end], i))
            i = end + 1
        elif ch == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] not in "-)":
            out.append(_Token("NEG", "-", i))
            i += 1
        else:
            start = i
            while i < n and not text[i].isspace() and text[i] not in '()"':
                i += 1
            word = text[start:i]
            field = _FIELD.match(word)
            if word in OPERATORS:
                out.append(_Token(word, word, start))
            elif field:
                out.append(_Token("FIELD", field.group(1), start))
                if field.group(2):
                    out.append(_Token("WORD", field.group(2), start + len(field.group(1)) + 1))
            else:
                out.append(_Token("WORD", word, start))
    return out


# ---------------------------------------------------------------- parsing


class _Parser:
    """Recursive descent: or := and (OR and)*; and := unary ([AND] unary)*;
    unary := (NOT | -) unary | primary; primary := ( or ) | [field:] word | "phrase"."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _lex(text)
        self.i = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def fail(self, message: str, token: _Token | None) -> QueryError:
        return QueryError(message, self.text, token.pos if token else len(self.text))

    def parse(self) -> Node | None:
        node = self.or_()
        extra = self.peek()
        if extra is not None:
            raise self.fail("this ) has no ( before it", extra)
        return node

    def or_(self) -> Node | None:
        items = [self.and_()]
        while (token := self.peek()) is not None and token.kind == "OR":
            self.take()
            if self.peek() is None or self.peek().kind in ("OR", ")"):  # type: ignore[union-attr]
                raise self.fail("OR needs a word, phrase or group after it", token)
            items.append(self.and_())
        return _combine(Or, items)

    def and_(self) -> Node | None:
        items: list[Node | None] = []
        start = self.peek()
        while (token := self.peek()) is not None and token.kind not in ("OR", ")"):
            if token.kind == "AND":
                self.take()
                if not items or self.peek() is None or self.peek().kind in ("OR", ")", "AND"):  # type: ignore[union-attr]
                    raise self.fail("AND needs a word, phrase or group on each side", token)
                continue
            items.append(self.unary())
        if not items:
            if start:
                raise self.fail("OR needs a word, phrase or group before it", start)
            raise EmptyQuery("the query is empty", self.text, 0)
        return _combine(And, items)

    def unary(self) -> Node | None:
        token = self.peek()
        assert token is not None
        if token.kind in ("NOT", "NEG"):
            self.take()
            following = self.peek()
            if following is None or following.kind in ("OR", "AND", ")"):
                raise self.fail(f"{token.value} needs a word, phrase or group after it", token)
            item = self.unary()
            if item is None:
                raise self.fail(
                    f"nothing to exclude after {token.value}: only stop words or punctuation",
                    following,
                )
            return Not(item)
        return self.primary(None)

    def primary(self, field: str | None) -> Node | None:
        token = self.take()
        if token.kind == "(":
            if (inner := self.peek()) is not None and inner.kind == ")":
                raise self.fail("empty parentheses", token)
            node = self.or_()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise self.fail("this ( is never closed", token)
            self.take()
            return _with_field(node, field) if field else node
        if token.kind == "FIELD":
            if field is not None:
                raise self.fail(f"{token.value}: cannot be used inside {field}:", token)
            operand = self.peek()
            if operand is None or operand.kind not in ("WORD", "PHRASE", "("):
                raise self.fail(f"{token.value}: needs a value right after it", token)
            if token.value == "title":
                return self.primary("title")
            self.take()
            if operand.kind == "(" or not operand.value.strip():
                raise self.fail(f"{token.value}: takes one {token.value} id", operand)
            return Match(token.value, operand.value.strip())
        if token.kind == "WORD":
            return _word(self, token, field)
        if token.kind == "PHRASE":
            words = tuple(tokens(token.value))
            return Phrase(token.value, words, field) if words else None
        raise self.fail(f"{token.value} cannot start a term here", token)


def _word(parser: _Parser, token: _Token, field: str | None) -> Node | None:
    word = token.value
    if word.endswith("*") and len(word) > 1:
        prefix = normalize(word.rstrip("*"))
        if not _PREFIX.match(prefix):
            raise parser.fail("a prefix is letters or digits followed by *", token)
        if len(prefix) < MIN_PREFIX:
            raise parser.fail(f"a prefix needs at least {MIN_PREFIX} letters before *", token)
        return Prefix(prefix, field)
    terms = [t for t in analyze(word) if any(ch.isalnum() for ch in t)]
    words = tokens(word)
    variant = variant_key(words[0]) if len(words) == 1 and len(terms) == 1 else None
    return _combine(And, [Term(word, t, field, variant) for t in dict.fromkeys(terms)])


def _combine(kind: type[And] | type[Or], items: list[Node | None]) -> Node | None:
    """Stop words and punctuation leave None: they are dropped, as the index drops them."""
    kept = tuple(dict.fromkeys(item for item in items if item is not None))
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else kind(kept)


def _with_field(node: Node | None, field: str) -> Node | None:
    if isinstance(node, Term | Phrase | Prefix):
        return replace(node, field=field)
    if isinstance(node, And | Or):
        return type(node)(tuple(_with_field(i, field) for i in node.items))  # type: ignore[misc]
    if isinstance(node, Not):
        return Not(_with_field(node.item, field))  # type: ignore[arg-type]
    return node  # outlet: and topic: are filters whatever encloses them


def parse(text: str) -> Parsed:
    """The query as a tree; raises QueryError (a ValueError) pointing at what is wrong,
    or when nothing searchable is left (only punctuation or stop words)."""
    node = _Parser(text).parse()
    if node is None:
        raise EmptyQuery(
            "the query has no searchable words (only punctuation or stop words)", text, 0
        )
    return Parsed(text, node)
