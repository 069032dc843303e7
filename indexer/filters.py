"""Filters shared by listing, search, export and counts, turned into one SQL WHERE clause.

Kept apart from `search` so the archive can use them without importing the search layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from arshif.days import parse_day


def _parse_date(name: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return parse_day(value)
    except ValueError as exc:
        raise ValueError(f"--{name} {exc}") from None


@dataclass(frozen=True)
class Filters:
    """Which articles to consider. Dates are inclusive and compare `published`'s date part,
    so an article without a published date is left out once `since` or `until` is set."""

    outlets: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    languages: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    topic_mode: str = "any"  # "any": one of `topics` suffices; "all": every one is needed
    dedup: bool = False  # one article per `dup_cluster`: the earliest published, then longest

    def __post_init__(self) -> None:
        # Accept any iterable (argparse gives lists) but keep the dataclass hashable.
        for name in ("outlets", "languages", "topics"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        if self.topic_mode not in ("any", "all"):
            raise ValueError(f"--topic-mode must be any or all, got {self.topic_mode!r}")
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
        if self.topics and self.topic_mode == "all":
            for topic in self.topics:
                clauses.append(f"EXISTS (SELECT 1 FROM json_each({alias}.topics) WHERE value = ?)")
                params.append(topic)
        elif self.topics:
            clauses.append(
                f"EXISTS (SELECT 1 FROM json_each({alias}.topics) "
                f"WHERE value IN ({', '.join('?' * len(self.topics))}))"
            )
            params.extend(self.topics)
        if self.dedup:
            # Keep the cluster's representative: no other member published earlier (undated
            # last), or as early and longer, or the same on both and archived first. A row
            # without a cluster (not fingerprinted) is left out only if marked `dup_of`.
            a = alias
            clauses.append(
                f"(({a}.dup_cluster IS NULL AND {a}.dup_of IS NULL) OR "
                f"({a}.dup_cluster IS NOT NULL AND NOT EXISTS "
                "(SELECT 1 FROM articles o "
                f"WHERE o.dup_cluster = {a}.dup_cluster AND o.pk != {a}.pk AND "
                f"(coalesce(o.published, '~'), -length(coalesce(o.text, '')), o.pk) < "
                f"(coalesce({a}.published, '~'), -length(coalesce({a}.text, '')), {a}.pk))))"
            )
        return (" AND ".join(clauses) or "1"), params
