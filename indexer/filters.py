"""Filters shared by listing, search, export and counts, turned into one SQL WHERE clause.

Kept apart from `search` so the archive can use them without importing the search layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse_date(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        if not _DATE.match(value):
            raise ValueError
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ValueError(f"--{name} must be a date as YYYY-MM-DD, got {value!r}") from None


@dataclass(frozen=True)
class Filters:
    """Which articles to consider. Dates are inclusive and compare `published`'s date part,
    so an article without a published date is left out once `since` or `until` is set."""

    outlets: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    dedup: bool = False  # leave out articles recorded as duplicates of another (`dup_of`)

    def __post_init__(self) -> None:
        # Accept any iterable (argparse gives lists) but keep the dataclass hashable.
        for name in ("outlets", "languages", "topics"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        since = _parse_date("since", self.since)
        until = _parse_date("until", self.until)
        if since and until and since > until:
            raise ValueError(f"--since {self.since} is after --until {self.until}")

    def where(self, alias: str = "a") -> tuple[str, list[Any]]:
        """SQL condition over the `articles` table (aliased) and its parameters; "1" if none.

        Dates are compared as ISO strings on `published` itself (not a substring) so the
        index on `published` serves the range."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, values in (("outlet", self.outlets), ("language", self.languages)):
            if values:
                clauses.append(f"{alias}.{column} IN ({', '.join('?' * len(values))})")
                params.extend(values)
        if self.since:
            clauses.append(f"{alias}.published >= ?")
            params.append(self.since)
        if self.until:
            day_after = date.fromisoformat(self.until) + timedelta(days=1)
            clauses.append(f"{alias}.published < ?")
            params.append(day_after.isoformat())
        if self.topics:
            clauses.append(
                f"EXISTS (SELECT 1 FROM json_each({alias}.topics) "
                f"WHERE value IN ({', '.join('?' * len(self.topics))}))"
            )
            params.extend(self.topics)
        if self.dedup:
            clauses.append(f"{alias}.dup_of IS NULL")
        return (" AND ".join(clauses) or "1"), params
