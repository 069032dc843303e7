"""Topic work on whole collections: re-tag the archive, tag a JSONL dataset, count coverage.

Re-tagging writes only the rows whose topics change and sends them back to the outbox
('pending'), so every search index picks up the new topics on its next drain.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from indexer.archive import now
from indexer.archive_base import ArchiveStore as Archive  # either backend
from indexer.filters import Filters
from indexer.topics import Topics

BATCH = 500


@dataclass
class RetagReport:
    articles: int = 0
    changed: int = 0
    added: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)


def retag(
    archive: Archive,
    topics: Topics,
    only: Iterable[str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> RetagReport:
    """Re-apply the rules to every archived article: its topics become those the rules give.
    With `only`, just those topics are re-decided and the article's others are kept."""
    chosen = list(only) if only is not None else None
    topics.select(chosen)  # an unknown topic id fails here, before any write
    report = RetagReport()
    updates: list[tuple[str, str]] = []

    def flush() -> None:
        archive.set_topics(updates, stamp)
        updates.clear()

    stamp = now()
    for article in archive.iter_articles(batch=BATCH):
        found = topics.tag_article(article, chosen)
        kept = [t for t in article.topics if chosen is not None and t not in chosen]
        new = kept + [t for t in found if t not in kept]
        report.articles += 1
        if set(new) != set(article.topics):
            report.changed += 1
            report.added.update(set(new) - set(article.topics))
            report.removed.update(set(article.topics) - set(new))
            updates.append((article.id, json.dumps(new, ensure_ascii=False)))
        if len(updates) >= BATCH:
            flush()
        if progress and report.articles % 100 == 0:
            progress(100)
    if updates:
        flush()
    if progress:
        progress(report.articles % 100)
    return report


def topic_counts(archive: Archive) -> dict[str, int]:
    """Archived articles per topic id."""
    return archive.summary(0)["by_topic"]


class RecordError(ValueError):
    """A line of the input dataset is not a JSON object; the message names the line."""


def tag_jsonl(
    source: Path,
    target: Path,
    topics: Topics,
    progress: Callable[[int], None] | None = None,
) -> Counter[str]:
    """Copy a JSONL dataset, setting each record's `topics` from `title` and `text` (or
    `lead`, or `snippet`); returns how many records each topic tagged (None: untagged)."""
    counts: Counter[str] = Counter()
    with source.open(encoding="utf-8") as inp, target.open("w", encoding="utf-8") as out:
        for n, line in enumerate(inp, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordError(f"{source}, line {n}: not JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise RecordError(f"{source}, line {n}: expected a JSON object")
            text = record.get("text") or record.get("lead") or record.get("snippet") or ""
            record["topics"] = topics.tag(
                str(record.get("title") or ""), str(text), record.get("published")
            )
            counts.update(record["topics"] or ["(none)"])
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            if progress:
                progress(len(line.encode("utf-8")))
    return counts


def _period(published: str, by: str) -> str:
    day = date.fromisoformat(published[:10])
    if by == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.isoformat()


def coverage(archive: Archive, topic: str, by: str = "day") -> dict[str, dict[str, int]]:
    """Articles on one topic per period (day, or ISO week) per outlet, oldest period first;
    undated articles are left out."""
    if by not in ("day", "week"):
        raise ValueError(f"--by must be day or week, got {by!r}")
    rows = archive.day_outlet_counts(Filters(topics=(topic,)))
    table: dict[str, dict[str, int]] = defaultdict(dict)
    for day, outlet, n in rows:
        period = _period(day, by)
        table[period][outlet] = table[period].get(outlet, 0) + n
    return dict(sorted(table.items()))


def write_chart(table: dict[str, dict[str, int]], title: str, path: Path) -> None:
    """A stacked bar chart (one colour per outlet) of `coverage` as PNG. Needs matplotlib
    (`pip install 'arshif[charts]'`)."""
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    periods = list(table)
    outlets = sorted({o for row in table.values() for o in row})
    fig, ax = plt.subplots(figsize=(max(6.0, 0.4 * len(periods)), 4.0))
    bottom = [0] * len(periods)
    for outlet in outlets:
        values = [table[p].get(outlet, 0) for p in periods]
        ax.bar(periods, values, bottom=bottom, label=outlet)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title(title)
    ax.set_ylabel("articles")
    ax.tick_params(axis="x", labelrotation=60)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    plt.close(fig)
