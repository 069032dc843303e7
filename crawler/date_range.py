"""A crawl limited to dates (`arshif crawl OUTLET --since D --until D`): which child
sitemaps, sitemap entries, feed items and followed links fall in the range.

Outlets publish archive sitemaps by month or day (`sitemap-2022-09.xml`,
`/sitemaps/2022/09/15.xml`), so a child sitemap is judged by the date in its path, else by
its `lastmod` (a sitemap last changed before the range holds nothing in it). An article
entry is judged by its `news:publication_date` or feed date, else by the date in its URL,
else by its `lastmod` (modified before the range: published before it too). What carries
no date at all is kept: it cannot be judged, and dropping it would empty outlets that date
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

Span = tuple[date, date]

_DAY = re.compile(r"(?<!\d)((?:19|20)\d\d)([-/_]?)(1[0-2]|0?[1-9])\2(3[01]|[12]\d|0?[1-9])(?!\d)")
_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/_](1[0-2]|0[1-9])(?![\d])")
_YEAR_NAME = re.compile(r"[-_/]((?:19|20)\d\d)(?:\.xml(?:\.gz)?|/)?$")


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def path_span(url: str) -> Span | None:
    """The days a URL's path names: a day (/2022/09/15/, 2022-09-15, 20220915), a month
    (/2022/09/, sitemap-2022-09.xml) or, for a file named by its year, that year."""
    path = unquote(urlsplit(url).path)
    found = _DAY.search(path)
    if found and (found.group(2) or len(found.group(0)) == 8):
        try:
            day = date(int(found.group(1)), int(found.group(3)), int(found.group(4)))
            return day, day
        except ValueError:
            pass
    found = _MONTH.search(path)
    if found:
        year, month = int(found.group(1)), int(found.group(2))
        return date(year, month, 1), _month_end(year, month)
    found = _YEAR_NAME.search(path)
    if found:
        year = int(found.group(1))
        return date(year, 1, 1), date(year, 12, 31)
    return None


def parse_when(text: str | None) -> date | None:
    """The day of a W3C datetime (sitemaps, Atom) or an RFC 822 date (RSS); None if it has
    none."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class DateRange:
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(cls, since: str | None, until: str | None) -> DateRange | None:
        """None when neither is given; ValueError naming the bad one."""
        if not since and not until:
            return None
        days = []
        for name, value in (("since", since), ("until", until)):
            try:
                days.append(date.fromisoformat(value) if value else None)
            except ValueError:
                raise ValueError(f"--{name} takes a date as YYYY-MM-DD, not {value!r}") from None
        if days[0] and days[1] and days[0] > days[1]:
            raise ValueError(f"--since {since} is after --until {until}")
        return cls(days[0], days[1])

    def overlaps(self, span: Span) -> bool:
        first, last = span
        return not (self.since and last < self.since) and not (self.until and first > self.until)

    def admits_sitemap(self, url: str, lastmod: str | None) -> bool:
        span = path_span(url)
        if span is not None:
            return self.overlaps(span)
        changed = parse_when(lastmod)
        return not (changed and self.since and changed < self.since)

    def admits_entry(self, url: str, published: str | None, lastmod: str | None = None) -> bool:
        day = parse_when(published)
        if day is not None:
            return self.overlaps((day, day))
        span = path_span(url)
        if span is not None:
            return self.overlaps(span)
        changed = parse_when(lastmod)
        return not (changed and self.since and changed < self.since)
