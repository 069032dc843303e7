"""Published and modified dates of a news page.

Structured sources come first because outlets fill them from their CMS (JSON-LD, meta
tags, `<time datetime>`); visible Arabic date lines and the URL come next, and htmldate is
the last resort. Arabic pages write dates in many ways (Arabic-Indic digits, Egyptian,
Levantine and Maghrebi month names, «سبتمبر/أيلول», «ص/م», GMT offsets, Hijri dates next
to Gregorian ones), so the visible-text parser is ours. Output is ISO 8601: a bare
`YYYY-MM-DD` when only the day is known, the offset kept when the page gives one.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime
from typing import Any

from htmldate import find_date
from lxml import html as lxml_html
from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

EARLIEST = datetime(1990, 1, 1)  # no outlet year given: older dates are misreadings

# One-to-one folds, so match positions in the folded text are positions in the original.
_FOLD = str.maketrans(
    {
        "\u0622": "\u0627",
        "\u0623": "\u0627",
        "\u0625": "\u0627",
        "\u0649": "\u064a",
        "\u2212": "-",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)

# Folded spellings (hamza on alef dropped) of Gregorian month names as Arabic outlets write
# them: Egyptian/Gulf, Levantine/Iraqi, Maghrebi, and English.
_MONTHS: dict[str, int] = {
    **dict.fromkeys(("يناير", "كانون الثاني", "كانون ثاني", "جانفي", "january", "jan"), 1),
    **dict.fromkeys(("فبراير", "شباط", "فيفري", "february", "feb"), 2),
    **dict.fromkeys(("مارس", "اذار", "march", "mar"), 3),
    **dict.fromkeys(("ابريل", "نيسان", "افريل", "april", "apr"), 4),
    **dict.fromkeys(("مايو", "ايار", "ماي", "may"), 5),
    **dict.fromkeys(("يونيو", "يونيه", "يونية", "حزيران", "جوان", "june", "jun"), 6),
    **dict.fromkeys(
        ("يوليو", "يوليه", "يولية", "تموز", "جويلية", "جويليه", "يوليوز", "july", "jul"), 7
    ),
    **dict.fromkeys(("اغسطس", "اب", "اوت", "غشت", "august", "aug"), 8),
    **dict.fromkeys(("سبتمبر", "ايلول", "شتنبر", "september", "sept", "sep"), 9),
    **dict.fromkeys(("اكتوبر", "تشرين الاول", "تشرين اول", "october", "oct"), 10),
    **dict.fromkeys(("نوفمبر", "تشرين الثاني", "تشرين ثاني", "نونبر", "november", "nov"), 11),
    **dict.fromkeys(("ديسمبر", "كانون الاول", "كانون اول", "دجنبر", "december", "dec"), 12),
}
_HIJRI_MONTHS = (
    "محرم",
    "صفر",
    "ربيع الاول",
    "ربيع اول",
    "ربيع الثاني",
    "ربيع الاخر",
    "ربيع ثاني",
    "جمادى الاولى",
    "جمادي الاولى",
    "جمادى الاولي",
    "جمادي الاولي",
    "جمادى الاخرة",
    "جمادي الاخرة",
    "جمادى الثانية",
    "جمادي الثانية",
    "رجب",
    "شعبان",
    "رمضان",
    "شوال",
    "ذو القعدة",
    "ذي القعدة",
    "ذو الحجة",
    "ذي الحجة",
)


def _alternation(names: Any) -> str:
    ordered = sorted(names, key=len, reverse=True)
    return "(?:" + "|".join(re.escape(n).replace(r"\ ", r"\s+") for n in ordered) + ")"


_MONTH = _alternation(_MONTHS)
_HMONTH = _alternation(_HIJRI_MONTHS)
_YEAR = r"(?:19|20)\d\d"
_DSEP = r"\s*[-/.,،]?\s*"
# A second month name in another set, «سبتمبر/أيلول» or «أيلول (سبتمبر)».
_ALT_MONTH = rf"(?:\s*[/\-–(]\s*(?P<alt>{_MONTH})\.?\s*\)?)?"

_DATE = re.compile(
    "|".join(
        (
            rf"(?<![\d/.:-])(?P<d1>[0-3]?\d){_DSEP}(?P<m1>{_MONTH})\.?{_ALT_MONTH}(?!\w)"
            rf"{_DSEP}(?P<y1>{_YEAR})(?!\d)(?:\s*م(?!\w))?",
            rf"(?<!\w)(?P<m2>{_MONTH})\.?\s+(?P<d2>[0-3]?\d)(?:st|nd|rd|th)?\s*[,،]?\s*(?P<y2>{_YEAR})(?!\d)",
            rf"(?<![\d/.:-])(?P<d3>[0-3]?\d)(?P<s3>[./-])(?P<m3>[01]?\d)(?P=s3)(?P<y3>{_YEAR})(?![\d/.:-])",
            rf"(?<![\d/.:-])(?P<y4>{_YEAR})(?P<s4>[./-])(?P<m4>[01]?\d)(?P=s4)(?P<d4>[0-3]?\d)(?![\d/.-])",
        )
    ),
    re.IGNORECASE,
)
_HIJRI = re.compile(
    rf"(?<!\d)[0-3]?\d{_DSEP}{_HMONTH}(?:{_DSEP}1[34]\d\d(?:\s*هـ?(?!\w))?)?(?!\w)"
    r"|(?<![\d/.-])\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\s*هـ?(?!\w)"
    r"|(?<!\d)1[34]\d\d\s*هـ?(?!\w)"
)
_TIME = re.compile(
    r"(?<![\d:.])(?P<h>[0-2]?\d):(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d)(?:[.,]\d+)?)?(?![\d:])"
    r"(?:\s*(?P<ap>صباحاً|صباحًا|صباحا|مساءً|مساءا|مساء|ص|م|am|pm|a\.m\.|p\.m\.)(?!\w))?"
    r"(?:\s*\(?\s*(?P<tzn>GMT|UTC|بتوقيت\s+(?:غرينتش|جرينتش|غرينيتش))"
    r"\s*(?P<tzo>[+-]\s*\d{1,2}(?::?\d\d)?)?\s*\)?)?",
    re.IGNORECASE,
)
# Between a date and its time: separators and «الساعة»/«في», nothing else.
_JOIN = re.compile(r"[\s,،\-–—|@T]*(?:(?:الساعة|الساعه|في|at)\s*)?", re.IGNORECASE)
_MODIFIED_MARK = re.compile(
    r"تحديث|محدث|حدث في|تعديل|عدل في|updated|modified|last update", re.IGNORECASE
)
_PUBLISHED_MARK = re.compile(r"نشر|تاريخ النشر|published|posted", re.IGNORECASE)

_TZ_NAMES = {"Z": 0, "GMT": 0, "UTC": 0, "UT": 0, "EET": 2, "EEST": 3, "MSK": 3, "AST": 3}
_TZ_NAMES |= {"GST": 4, "CET": 1, "CEST": 2}
_ISO = re.compile(
    r"\s*(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T\s]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?|[A-Za-z]{2,4}(?![A-Za-z]))?"
)
_URL_DATE = re.compile(
    rf"(?<![\d])(?P<y>{_YEAR})(?P<s>[/-])(?P<m>[01]?\d)(?P=s)(?P<d>[0-3]?\d)(?=[/-]|$|\D)"
    # a section between year and month: /2013/middle_east/8/3/
    rf"|/(?P<y2>{_YEAR})/[a-z_-]+/(?P<m2>[01]?\d)/(?P<d2>[0-3]?\d)/"
)

_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "article:published",
    "datepublished",
    "publish-date",
    "publish_date",
    "publishdate",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "date",
    "datecreated",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "og:article:modified_time",
    "datemodified",
    "dc.date.modified",
    "dcterms.modified",
    "last-modified",
    "lastmod",
    "modified",
)
_PUBLISHED_KEYS = (("datePublished", "dateCreated"), _PUBLISHED_META, "datepublished")
_MODIFIED_KEYS = (("dateModified",), _MODIFIED_META, "datemodified")
_ARTICLE_TYPES = re.compile(r"article|posting|report|story", re.IGNORECASE)
_DATE_HINT = re.compile(r"date|time|publish|posted|created|updated|modified", re.IGNORECASE)
_NON_CONTENT = ("nav", "footer", "aside")


@dataclass(frozen=True)
class Stamp:
    """A point in time as precise as the page states it: a day, or a time with or
    without an offset."""

    when: datetime
    has_time: bool

    def iso(self) -> str:
        if not self.has_time:
            return self.when.date().isoformat()
        return self.when.isoformat(timespec="seconds")

    def naive(self) -> datetime:
        return self.when.replace(tzinfo=None)


@dataclass(frozen=True)
class TextDate:
    """A Gregorian date found in text, with the role its wording gives it."""

    kind: str  # "published", "modified" or "unknown"
    stamp: Stamp
    start: int
    end: int


def _fold_text(text: str) -> str:
    """Digits to ASCII and hamza-less alef, without changing the length of the text."""
    return text.translate(_FOLD)


def _offset(name: str | None, value: str | None) -> timezone | None:
    if value:
        value = value.replace(" ", "")
        sign = -1 if value[0] == "-" else 1
        digits = value[1:].replace(":", "")
        hours, minutes = (
            (int(digits[:-2]), int(digits[-2:])) if len(digits) > 2 else (int(digits), 0)
        )
        if hours > 14 or minutes >= 60:
            return None
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    if name:
        hours = _TZ_NAMES.get(name.upper(), 0 if "توقيت" in name else None)
        return None if hours is None else timezone(timedelta(hours=hours))
    return None


def _build(
    y: int,
    m: int,
    d: int,
    h: int | None = None,
    mi: int = 0,
    s: int = 0,
    tz: timezone | None = None,
) -> Stamp | None:
    try:
        if h is None:
            return Stamp(datetime(y, m, d), False)
        return Stamp(datetime(y, m, d, h, mi, s, tzinfo=tz), True)
    except ValueError:
        return None


def _month(name: str) -> int:
    return _MONTHS[re.sub(r"\s+", " ", name.lower())]


def _date_of(match: re.Match[str]) -> tuple[int, int, int] | None:
    g = match.groupdict()
    if g["d1"]:
        month = _month(g["m1"])
        if g["alt"] and _month(g["alt"]) != month:
            return None
        return int(g["y1"]), month, int(g["d1"])
    if g["d2"]:
        return int(g["y2"]), _month(g["m2"]), int(g["d2"])
    if g["d3"]:
        day, month = int(g["d3"]), int(g["m3"])
        if month > 12 >= day:  # month-first, as some English widgets write it
            day, month = month, day
        return int(g["y3"]), month, day
    return int(g["y4"]), int(g["m4"]), int(g["d4"])


def _time_of(match: re.Match[str]) -> tuple[int, int, int, timezone | None]:
    hour, minute = int(match["h"]), int(match["mi"])
    marker = (match["ap"] or "").lower()
    if marker.startswith(("ص", "a")) and hour == 12:
        hour = 0
    elif marker.startswith(("م", "p")) and hour < 12:
        hour += 12
    return hour, minute, int(match["s"] or 0), _offset(match["tzn"], match["tzo"])


def _kind(prefix: str) -> str:
    """The role of a date from the words just before it («آخر تحديث», «نشر في»)."""
    modified = [m.end() for m in _MODIFIED_MARK.finditer(prefix)]
    published = [m.end() for m in _PUBLISHED_MARK.finditer(prefix)]
    if not modified and not published:
        return "unknown"
    return "modified" if max(modified, default=-1) > max(published, default=-1) else "published"


def date_spans(text: str) -> list[tuple[int, int]]:
    """Spans of every date, Hijri date and time in `text`, for telling timestamp lines apart."""
    folded = _fold_text(text)
    spans = [m.span() for m in _HIJRI.finditer(folded)]
    spans += [m.span() for m in _DATE.finditer(folded)]
    spans += [m.span() for m in _TIME.finditer(folded)]
    return sorted(spans)


def text_dates(text: str) -> list[TextDate]:
    """Gregorian dates in visible text, in order. Hijri dates are recognised and skipped;
    a time joins the date right before or after it, and a lone time (« آخر تحديث 14:00»)
    takes the day of the date before it in the same text."""
    folded = _fold_text(text)
    hijri = [m.span() for m in _HIJRI.finditer(folded)]

    def free(span: tuple[int, int]) -> bool:
        return not any(a < span[1] and span[0] < b for a, b in hijri)

    dates = [m for m in _DATE.finditer(folded) if free(m.span())]
    times = [
        m
        for m in _TIME.finditer(folded)
        if free(m.span()) and not any(d.start() < m.end() and m.start() < d.end() for d in dates)
    ]
    used: set[int] = set()
    found: list[TextDate] = []
    for match in dates:
        day = _date_of(match)
        if day is None:
            continue
        start, end = match.span()
        clock = None
        for t in times:
            after = t.start() >= end and _JOIN.fullmatch(folded, end, t.start())
            before = t.end() <= start and _JOIN.fullmatch(folded, t.end(), start)
            if id(t) not in used and (after or before):
                clock = t
                used.add(id(t))
                start, end = min(start, t.start()), max(end, t.end())
                break
        stamp = _build(*day, *_time_of(clock)) if clock else _build(*day)
        if stamp:
            found.append(TextDate("unknown", stamp, start, end))
    for t in times:
        if id(t) in used:
            continue
        previous = [f for f in found if f.end <= t.start()]
        if previous:
            day = previous[-1].stamp.when
            stamp = _build(day.year, day.month, day.day, *_time_of(t))
            if stamp:
                found.append(TextDate("unknown", stamp, t.start(), t.end()))
    found.sort(key=lambda f: f.start)
    typed = []
    for i, item in enumerate(found):
        begin = found[i - 1].end if i else 0
        typed.append(TextDate(_kind(folded[begin : item.start]), item.stamp, item.start, item.end))
    return typed


def parse_date(value: str) -> Stamp | None:
    """One date value from structured metadata: ISO 8601 (also with a space, `Z`, `+0400`
    or a zone name), a Unix time, RFC 2822, or Arabic text as some CMSs put there."""
    value = (value or "").strip()
    if not value:
        return None
    if re.fullmatch(r"\d{10}(\d{3})?", value):
        return Stamp(datetime.fromtimestamp(int(value[:10]), UTC), True)
    iso = _ISO.match(_fold_text(value))
    if iso:
        tz = iso["tz"]
        offset = _offset(None, tz) if tz and tz[0] in "+-" else _offset(tz, None)
        hour = int(iso["h"]) if iso["h"] else None
        return _build(
            int(iso["y"]),
            int(iso["m"]),
            int(iso["d"]),
            hour,
            int(iso["mi"] or 0),
            int(iso["s"] or 0),
            offset,
        )
    try:
        return Stamp(parsedate_to_datetime(value), True)
    except (TypeError, ValueError, IndexError):
        pass
    found = text_dates(value)
    return found[0].stamp if found else None


@dataclass
class _Window:
    """The span a page's dates must fall in: not before the outlet existed, not after the
    fetch (with a day's grace for time zones). Rejected dates are kept, to be logged once
    per page: a CMS that stamps every page with a far-future or epoch date should show."""

    earliest: datetime
    latest: datetime
    rejected: list[str] = field(default_factory=list)

    def admits(self, stamp: Stamp | None) -> bool:
        if stamp is None:
            return False
        when = stamp.naive()
        if self.earliest <= when <= self.latest:
            return True
        why = "after the fetch" if when > self.latest else f"before {self.earliest.year}"
        self.rejected.append(f"{stamp.iso()} ({why})")
        return False


def json_ld(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page, `@graph` members and list items flattened, the
    article-typed ones first. Lenient: outlets put raw newlines in strings."""
    objects: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            objects.append(node)
            walk(node.get("@graph"))
            walk(node.get("mainEntity"))

    for script in tree.iterfind(".//script[@type]"):
        if "ld+json" not in (script.get("type") or "").lower() or not script.text:
            continue
        raw = script.text.strip().removeprefix("<!--").removesuffix("-->").strip()
        raw = raw.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
        try:
            walk(json.loads(raw, strict=False))
        except ValueError:
            continue
    return sorted(objects, key=lambda o: not _ARTICLE_TYPES.search(str(o.get("@type", ""))))


def article_json_ld(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The first article-typed object (NewsArticle, BlogPosting...) of `json_ld`, or {}."""
    first = next(iter(objects), {})
    return first if _ARTICLE_TYPES.search(str(first.get("@type", ""))) else {}


def meta_values(tree: HtmlElement) -> dict[str, list[str]]:
    """`<meta>` contents by lower-cased name, property, itemprop or http-equiv."""
    values: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        content = meta.get("content")
        if content is None:
            continue
        for attr in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attr)
            if key:
                values.setdefault(key.strip().lower(), []).append(content.strip())
    return values


def _structured(
    tree: HtmlElement,
    objects: list[dict[str, Any]],
    metas: dict[str, list[str]],
    keys: tuple[tuple[str, ...], tuple[str, ...], str],
) -> Iterator[str]:
    """Values from JSON-LD, then meta tags, then microdata on any element."""
    keys_ld, keys_meta, itemprop = keys
    for obj in objects:
        for key in keys_ld:
            value = obj.get(key)
            if isinstance(value, list) and value:
                value = value[0]
            if isinstance(value, str):
                yield value
    for key in keys_meta:
        yield from metas.get(key, ())
    for el in tree.xpath(
        "//*[translate(@itemprop,'ABCDEFGHIJKLMNOPQRSTUVWXYZ','abcdefghijklmnopqrstuvwxyz')=$p]",
        p=itemprop,
    ):
        if el.tag != "meta":
            yield el.get("datetime") or el.get("content") or el.text_content()


def _content(el: HtmlElement) -> bool:
    return not any(a.tag in _NON_CONTENT for a in el.iterancestors())


def _times(tree: HtmlElement, headline: HtmlElement | None) -> Iterator[str]:
    """`<time datetime>` values, those marked as publication first, then those after the
    headline, then the rest."""
    marked = tree.xpath("//time[@pubdate or contains(@class,'publish')][@datetime]")
    after = headline.xpath("following::time[@datetime]") if headline is not None else []
    for el in [*marked, *after, *tree.iterfind(".//time[@datetime]")]:
        if _content(el):
            yield el.get("datetime", "")


def _headline(tree: HtmlElement, metas: dict[str, list[str]]) -> HtmlElement | None:
    """The element showing the article's title: the `<h1>` that the `<title>` or og:title
    contains (sites also put their logo in an `<h1>`), else the first `<h1>`, else on pages
    without one an element whose text is the `<title>`."""
    titles = [
        " ".join(t.split()) for t in [tree.findtext(".//title") or "", *metas.get("og:title", [])]
    ]
    # The heading closest to a whole declared title: a logo `<h1>` holds only the site
    # name that the `<title>` ends with, and some outlets set the headline in an `<h2>`.
    best, best_ratio = None, 0.5
    for el in tree.iter("h1", "h2", "h3"):
        text = " ".join(el.text_content().split())
        for title in titles if len(text) >= 8 else ():
            if text in title or title in text:
                ratio = min(len(text), len(title)) / max(len(text), len(title))
                if ratio > best_ratio:
                    best, best_ratio = el, ratio
    if best is not None:
        return best
    h1s = list(tree.iter("h1"))
    for h1 in h1s:
        text = " ".join(h1.text_content().split())
        if len(text) >= 8 and any(text in t for t in titles):
            return h1
    if h1s:
        return h1s[0]
    body = tree.find(".//body")
    if not titles[0] or body is None:
        return None
    for el in body.iter():
        if (
            isinstance(el.tag, str)
            and el.tag not in ("script", "style", "a")
            and len(el) <= 2
            and " ".join(el.text_content().split()) == titles[0]
        ):
            return el
    return None


def _visible_chunks(tree: HtmlElement, headline: HtmlElement | None) -> Iterator[str]:
    """Short texts where pages print their dates, nearest the headline first: elements
    after it whose class or id speaks of a date, the text right after it, and only then
    date elements before it (where the site header prints «today»)."""
    after_headline = headline is None
    before: list[str] = []
    for el in tree.iter():
        if el is headline:
            after_headline = True
        if not isinstance(el.tag, str) or el.tag in ("script", "style", "time", "meta"):
            continue
        hint = f"{el.get('class', '')} {el.get('id', '')}"
        if _DATE_HINT.search(hint) and _content(el):
            text = el.text_content()
            if 6 <= len(text) <= 300:
                if after_headline:
                    yield text
                else:
                    before.append(text)
    if headline is not None:
        pieces: list[str] = []
        size = 0
        for node in headline.xpath("following::text()"):
            parent = node.getparent()
            if parent is not None and parent.tag in ("script", "style"):
                continue
            pieces.append(node)
            size += len(node)
            if size > 1500:
                break
        yield "\n".join(pieces)
    yield from before


def url_date(url: str) -> Stamp | None:
    """The day in article URLs such as `/2020/8/24/`, `/2020-06-03-1.38` or
    `/2013/middle_east/8/3/`."""
    match = _URL_DATE.search(url or "")
    if match is None:
        return None
    if match["y"]:
        return _build(int(match["y"]), int(match["m"]), int(match["d"]))
    return _build(int(match["y2"]), int(match["m2"]), int(match["d2"]))


def _first(values: Any, window: _Window) -> Stamp | None:
    for value in values:
        stamp = parse_date(value) if isinstance(value, str) else value
        if window.admits(stamp):
            return stamp
    return None


def find_dates(
    source: HtmlElement | str,
    url: str = "",
    *,
    now: datetime | None = None,
    founded: int | None = None,
    parsed: tuple[list[dict[str, Any]], dict[str, list[str]]] | None = None,
    tz: tzinfo | None = None,
) -> tuple[str | None, str | None]:
    """(published, modified) of a page, from its tree, its HTML or its plain text.
    `parsed`: the tree's `json_ld` and `meta_values`, when the caller has them already.
    `tz`: the outlet's zone, given to times the page states without an offset (so they
    are the outlet's wall clock, not UTC).

    Dates after `now` (the fetch time) or before the outlet's `founded` year are rejected
    and logged. A modified date is never reported as published, and a modified date
    earlier than the published one is dropped as inconsistent."""
    window = _Window(
        datetime(founded, 1, 1) if founded else EARLIEST,
        (now or datetime.now(UTC)).replace(tzinfo=None) + timedelta(days=1),
    )
    try:
        return _finish(*_find(source, url, window, parsed), tz)
    finally:
        if window.rejected:
            logger.info(
                "%s: ignored implausible dates %s",
                url or "page",
                ", ".join(dict.fromkeys(window.rejected)),
            )


def _find(
    source: HtmlElement | str,
    url: str,
    window: _Window,
    parsed: tuple[list[dict[str, Any]], dict[str, list[str]]] | None,
) -> tuple[Stamp | None, Stamp | None]:
    if isinstance(source, str):
        if re.search(r"<[a-zA-Z!/]", source):
            source = lxml_html.fromstring(source)
        else:
            return _text_stamps([source], url, window)
    tree = source
    objects, metas = parsed or (json_ld(tree), meta_values(tree))
    headline = _headline(tree, metas)
    from_url = url_date(url)
    published = _first(_structured(tree, objects, metas, _PUBLISHED_KEYS), window)
    modified = _first(_structured(tree, objects, metas, _MODIFIED_KEYS), window)
    if published is None:
        published = _first(_times(tree, headline), window)
        if published and from_url and _days_apart(published, from_url) and window.admits(from_url):
            published = None
    if published is None or modified is None:
        seen_published, seen_modified = _text_stamps(_visible_chunks(tree, headline), url, window)
        published = published or seen_published
        modified = modified or seen_modified
    if published is None:
        published = _htmldate(tree, url, window, metas, modified, headline)
    if published and from_url and _days_apart(published, from_url) and window.admits(from_url):
        # A page's own date more than a day from its URL's is another article's or an
        # update's: the URL is set once, when the article is made.
        published = from_url
    return published, modified


def _htmldate(
    tree: HtmlElement,
    url: str,
    window: _Window,
    metas: dict[str, list[str]],
    modified: Stamp | None,
    headline: HtmlElement | None,
) -> Stamp | None:
    """htmldate's day, structured markup first, then its extended search of the page's
    text and attributes, as the last resort. Its day is not taken when it is the day the
    page says it was updated (htmldate falls back to "last modified" signals), when it is
    more than a day from the page's `article:published_time` (which was unreadable or
    implausible, but still says roughly when), and from the extended search only when
    the page writes that very day (the search also guesses the 1st from a month or a
    year) and not only in its header, before the headline (where sites print today)."""
    found = find_date(tree, url=url, original_date=True, extensive_search=False)
    if not found:
        found = find_date(tree, url=url, original_date=True, extensive_search=True)
        if found and not _written(found, tree, url, headline):
            found = None
    published = _first([found] if found else [], window)
    if published and modified and published.when.date() == modified.when.date():
        return None
    declared = [parse_date(v) for v in metas.get("article:published_time", ())]
    if published and any(d and _days_apart(published, d) for d in declared):
        return None
    return published


def _written(day: str, tree: HtmlElement, url: str, headline: HtmlElement | None) -> bool:
    """Whether the page writes the day `YYYY-MM-DD` in full (in its URL, markup or text),
    and not only before its headline."""
    y, m, d = (int(part) for part in day[:10].split("-"))
    forms = {f"{y}{s}{m:02}{s}{d:02}" for s in ("-", "/", "")} | {f"{y}/{m}/{d}"}
    forms |= {
        f"{a}{s}{b}{s}{y}"
        for s in "/-."
        for a, b in ((d, m), (m, d), (f"{d:02}", f"{m:02}"), (f"{m:02}", f"{d:02}"))
    }
    target = datetime(y, m, d).date()
    header = ""
    if headline is not None:
        header = " ".join(headline.xpath("preceding::text()[not(ancestor::script)]"))
    if any(found.stamp.when.date() == target for found in text_dates(header)):
        return False
    markup = lxml_html.tostring(tree, encoding="unicode")
    if any(form in url or form in markup for form in forms):
        return True
    return any(found.stamp.when.date() == target for found in text_dates(tree.text_content()))


def _days_apart(a: Stamp, b: Stamp) -> bool:
    """Whether two stamps are more than a day apart (by day when either lacks a time)."""
    if not (a.has_time and b.has_time):
        return abs((a.when.date() - b.when.date()).days) > 1
    return abs(a.naive() - b.naive()) > timedelta(days=1)


def _text_stamps(
    chunks: Iterable[str], url: str, window: _Window
) -> tuple[Stamp | None, Stamp | None]:
    """Published and modified dates from visible text; the URL's day wins over a text
    date more than a day away from it (sidebars carry other articles' dates)."""
    from_url = url_date(url)
    published = modified = None
    for chunk in chunks:
        for found in text_dates(chunk):
            if not window.admits(found.stamp):
                continue
            if found.kind == "modified":
                modified = modified or found.stamp
            elif published is None:
                if from_url and _days_apart(found.stamp, from_url):
                    continue
                published = found.stamp
    if published is None and from_url is not None and window.admits(from_url):
        published = from_url
    return published, modified


def _before(a: Stamp, b: Stamp) -> bool:
    """Whether `a` is earlier than `b`, by day when either lacks a time, by wall clock when
    either lacks an offset."""
    if not (a.has_time and b.has_time):
        return a.when.date() < b.when.date()
    if a.when.tzinfo is None or b.when.tzinfo is None:
        return a.naive() < b.naive()
    return a.when < b.when


def _finish(
    published: Stamp | None, modified: Stamp | None, tz: tzinfo | None = None
) -> tuple[str | None, str | None]:
    if tz is not None:
        published, modified = _zoned(published, tz), _zoned(modified, tz)
    if published and modified and _before(modified, published):
        modified = None
    return (published.iso() if published else None, modified.iso() if modified else None)


def _zoned(stamp: Stamp | None, tz: tzinfo) -> Stamp | None:
    """A time without an offset, read on the outlet's wall clock."""
    if stamp is None or not stamp.has_time or stamp.when.tzinfo is not None:
        return stamp
    return Stamp(stamp.when.replace(tzinfo=tz), True)
