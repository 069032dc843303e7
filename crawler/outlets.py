"""Outlets are configuration: one YAML file lists them, one generic spider serves them all.

Loading validates every entry eagerly, so a bad line fails before any crawl starts, with a
message that names the file, the outlet and the field.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytz
import regex

from arshif.days import parse_day
from arshif.urls import scheme_refusal
from arshif.yamlfile import read_yaml

logger = logging.getLogger(__name__)

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_LIST_FIELDS = ("feeds", "sitemaps", "start_pages", "allowed_domains", "drop_selectors")
_KNOWN = {
    "id", "name", "country", "language", "base_url", "article_pattern", "follow_depth",
    "confirmed", "extraction", "founded", "timezone", *_LIST_FIELDS,
}  # fmt: skip
_EXTRACTION_KNOWN = {"drop_selectors"}


class OutletConfigError(ValueError):
    """A bad outlet entry; the message names the file, the outlet and the field."""


@dataclass(frozen=True)
class Outlet:
    """One news outlet: where its articles are announced and how to recognise them."""

    id: str
    name: str
    language: str
    country: str = ""
    base_url: str | None = None
    feeds: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    start_pages: tuple[str, ...] = ()
    article_pattern: str | None = None
    follow_depth: int = 1
    allowed_domains: tuple[str, ...] = ()
    drop_selectors: tuple[str, ...] = ()
    founded: int | None = None  # a page dated before this year is misdated
    confirmed: dict[str, str] = field(default_factory=dict)
    timezone: str = ""  # IANA name; empty: the country's, when it has one

    @property
    def tz(self) -> str | None:
        """The zone of the outlet's wall clock, for page times that give no offset: the
        configured one, else its country's when the country keeps a single zone."""
        return self.timezone or country_timezone(self.country)

    def url(self, path_or_url: str) -> str:
        """An absolute URL for a configured feed, sitemap or page (relative to base_url)."""
        return urljoin(self.base_url + "/", path_or_url) if self.base_url else path_or_url

    def with_base_url(self, base_url: str) -> Outlet:
        """The same outlet served from another address (the demo's local server, a mirror);
        OutletConfigError unless it is an http(s) URL."""
        why = scheme_refusal(base_url)
        if why:
            raise OutletConfigError(f"--base-url {base_url}: {why}")
        host = urlsplit(base_url).hostname or ""
        return replace(self, base_url=base_url.rstrip("/"), allowed_domains=(host,))

    @property
    def entry_urls(self) -> tuple[str, ...]:
        """The absolute URLs of its feeds, sitemaps and start pages, where every crawl
        starts (so the crawl may fetch them wherever they are)."""
        return tuple(self.url(u) for u in (*self.feeds, *self.sitemaps, *self.start_pages))

    @property
    def domains(self) -> tuple[str, ...]:
        """Allowed domains, defaulting to the hosts of the configured URLs."""
        if self.allowed_domains:
            return self.allowed_domains
        urls = (*self.entry_urls, *([self.base_url] if self.base_url else []))
        return tuple(sorted({urlsplit(u).hostname or "" for u in urls} - {""}))

    def is_article_url(self, url: str) -> bool:
        """Whether a link found on a listing page points at an article. A pattern that
        backtracks catastrophically (`(a|aa)+$`) on a link takes at most PATTERN_SECONDS
        over it: the link is not followed, and a warning names the outlet once."""
        if not self.article_pattern:
            return False
        try:
            return bool(_compiled(self.article_pattern).search(url, timeout=PATTERN_SECONDS))
        except TimeoutError:
            if self.id not in _slow_warned:
                _slow_warned.add(self.id)
                logger.warning(
                    "Outlet %s: article_pattern took over %g s on %s and was stopped; links "
                    "it cannot judge in time are not followed (simplify the pattern)",
                    self.id,
                    PATTERN_SECONDS,
                    url[:200],
                )
            return False


PATTERN_SECONDS = 0.1  # the most one article_pattern match may take
_slow_warned: set[str] = set()  # outlets whose article_pattern was stopped, warned once


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> regex.Pattern[str]:
    """article_pattern with the `regex` module, whose matching takes a timeout (re's not)."""
    return regex.compile(pattern)


def country_timezone(country: str) -> str | None:
    """The IANA zone of a country with one (EG: Africa/Cairo); None for an unknown code or
    a country of several zones (RU, US), whose outlets name theirs in `timezone`."""
    zones = pytz.country_timezones.get(country.strip().lower(), [])
    return zones[0] if len(zones) == 1 else None


def valid_timezone(name: str) -> bool:
    """Whether `name` is an IANA zone this system knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def outlet_of(outlets: dict[str, Outlet], url: str) -> Outlet | None:
    """The outlet whose domains hold the URL's host (or a subdomain of one of them)."""
    host = (urlsplit(url).hostname or "").lower().removeprefix("www.")
    for outlet in outlets.values():
        for domain in outlet.domains:
            domain = domain.lower().removeprefix("www.")
            if domain and (host == domain or host.endswith("." + domain)):
                return outlet
    return None


def default_outlets_path() -> Path:
    """The outlet file in use: `ARSHIF_OUTLETS` if set, else the catalogue shipped with Arshif."""
    env = os.environ.get("ARSHIF_OUTLETS")
    return Path(env) if env else Path(__file__).with_name("outlets.yaml")


def load_outlets(path: Path | str | None = None) -> dict[str, Outlet]:
    """Read and validate an outlet file; raises OutletConfigError naming outlet and field."""
    path = Path(path) if path else default_outlets_path()
    data = read_yaml(path, OutletConfigError, "outlet file")
    if not isinstance(data, dict) or not isinstance(data.get("outlets"), list):
        raise OutletConfigError(f"{path}: expected a top-level 'outlets:' list")
    outlets: dict[str, Outlet] = {}
    for n, entry in enumerate(data["outlets"], 1):
        outlet = _parse(entry, f"{path}: outlet #{n}")
        if outlet.id in outlets:
            raise OutletConfigError(f"{path}: outlet '{outlet.id}', field 'id': defined twice")
        outlets[outlet.id] = outlet
    return outlets


def _parse(entry: Any, where: str) -> Outlet:
    if not isinstance(entry, dict):
        raise OutletConfigError(f"{where}: expected a mapping of fields")
    oid = entry.get("id")
    if not isinstance(oid, str) or not _ID.match(oid):
        raise OutletConfigError(f"{where}, field 'id': must be a lowercase slug like 'aljazeera'")
    where = where.rsplit(":", 1)[0] + f": outlet '{oid}'"

    def bad(name: str, why: str) -> OutletConfigError:
        return OutletConfigError(f"{where}, field '{name}': {why}")

    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise bad(unknown[0], f"unknown field (known: {', '.join(sorted(_KNOWN))})")
    for name in ("name", "language"):
        if not isinstance(entry.get(name), str) or not entry[name].strip():
            raise bad(name, "required text is missing")
    lists: dict[str, tuple[str, ...]] = {}
    for name in _LIST_FIELDS:
        value = entry.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad(name, "must be a list of non-empty strings")
        lists[name] = tuple(value)
    extraction = entry.get("extraction") or {}
    if not isinstance(extraction, dict) or set(extraction) - _EXTRACTION_KNOWN:
        raise bad("extraction", "must be a mapping with only 'drop_selectors'")
    drops = extraction.get("drop_selectors", [])
    if not isinstance(drops, list) or not all(isinstance(v, str) and v for v in drops):
        raise bad("extraction.drop_selectors", "must be a list of CSS selectors")
    lists["drop_selectors"] += tuple(drops)
    base_url = entry.get("base_url")
    if base_url is not None and (not isinstance(base_url, str) or scheme_refusal(base_url)):
        raise bad("base_url", "must be an http(s) URL")
    for name in ("feeds", "sitemaps", "start_pages"):
        for value in lists[name]:
            # Relative to base_url or not, what is fetched must be http(s) (file:, ftp:, data:
            # and the like replace the base_url when joined to it).
            if scheme_refusal(urljoin(base_url + "/", value) if base_url else value):
                how = "" if base_url else " and no base_url is set"
                raise bad(name, f"'{value}' is not an absolute http(s) URL{how}")
    if not (lists["feeds"] or lists["sitemaps"] or lists["start_pages"] or base_url):
        # With only base_url, the crawl finds the listings itself (crawler/discovery.py).
        raise bad(
            "feeds", "an outlet needs base_url or at least one of feeds, sitemaps or start_pages"
        )
    pattern = entry.get("article_pattern")
    if pattern is not None:
        try:
            _compiled(pattern)
        except (regex.error, TypeError) as exc:
            raise bad("article_pattern", f"not a valid regular expression: {exc}") from exc
    elif lists["start_pages"]:
        raise bad("article_pattern", "required when start_pages are given (which links to follow)")
    depth = entry.get("follow_depth", 1)
    if not isinstance(depth, int) or isinstance(depth, bool) or not 0 <= depth <= 5:
        raise bad("follow_depth", "must be a whole number from 0 to 5")
    founded = entry.get("founded")
    if founded is not None and (
        not isinstance(founded, int) or isinstance(founded, bool) or not 1800 <= founded <= 2100
    ):
        raise bad("founded", "must be a year such as 1996")
    timezone = entry.get("timezone", "")
    if not isinstance(timezone, str) or (timezone and not valid_timezone(timezone)):
        raise bad("timezone", "must be an IANA time zone such as Africa/Cairo")
    confirmed = entry.get("confirmed") or {}
    if not isinstance(confirmed, dict):
        raise bad("confirmed", "must be a mapping such as {date: 2026-11-23, how: 'feed fetched'}")
    if "date" in confirmed:
        try:
            parse_day(confirmed["date"])
        except ValueError as exc:
            raise bad("confirmed.date", str(exc)) from None
    return Outlet(
        id=oid,
        name=entry["name"].strip(),
        language=entry["language"].strip(),
        country=str(entry.get("country", "")),
        base_url=base_url.rstrip("/") if base_url else None,
        article_pattern=pattern,
        follow_depth=depth,
        founded=founded,
        confirmed={str(k): str(v) for k, v in confirmed.items()},
        timezone=timezone,
        **lists,
    )
