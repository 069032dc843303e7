"""The dataset card written beside every export: PATH.card.json and PATH.card.md.

It records what a reader needs to cite the dataset and to rebuild it: the filters and query,
the topic rules (as written) and their version, the dedup policy, counts by outlet, day and
language, the date range, and when and with which Arshif version it was made.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from arshif import __version__
from arshif.record import Article
from indexer.filters import Filters
from indexer.topics import Topics, rules_version

DEDUP_POLICY = {
    True: "one article per duplicate cluster (dup_cluster): the earliest published, then the "
    "longest text, then the first archived; articles marked as copies (dup_of) without a "
    "cluster are left out",
    False: "none: every archived article that matches, duplicates included (see dup_cluster "
    "and dup_of in each row)",
}


@dataclass
class CardCounts:
    """Counts over the exported rows, fed one article at a time (`export(observe=...)`)."""

    total: int = 0
    by_outlet: Counter[str] = field(default_factory=Counter)
    by_day: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_topic: Counter[str] = field(default_factory=Counter)

    def add(self, article: Article) -> None:
        self.total += 1
        self.by_outlet[article.outlet] += 1
        self.by_day[(article.published or "")[:10] or "undated"] += 1
        self.by_language[article.language or "unknown"] += 1
        self.by_topic.update(article.topics)


def card_paths(data: Path) -> tuple[Path, Path]:
    return data.with_name(data.name + ".card.json"), data.with_name(data.name + ".card.md")


def build_card(
    data: Path,
    fmt: str,
    counts: CardCounts,
    filters: Filters,
    query: str | None,
    topics: Topics,
) -> dict[str, Any]:
    """The card as JSON-ready data. The rules of the filtered topics are copied in full;
    `rules_version` covers every topic the archive was tagged with."""
    days = sorted(d for d in counts.by_day if d != "undated")
    chosen = [topics.topics[t] for t in filters.topics if t in topics.topics]
    return {
        "dataset": data.name,
        "format": fmt,
        "rows": counts.total,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "arshif_version": __version__,
        "query": query,
        "filters": {
            "outlets": list(filters.outlets),
            "since": filters.since,
            "until": filters.until,
            "languages": list(filters.languages),
            "topics": list(filters.topics),
            "topic_mode": filters.topic_mode,
            "dedup": filters.dedup,
        },
        "dedup_policy": DEDUP_POLICY[filters.dedup],
        "topic_rules": {
            "version": topics.version,
            "topics": [
                {
                    "id": t.id,
                    "labels": dict(t.labels),
                    "source": Path(t.source).name,
                    "version": rules_version([t]),
                    "definition": t.definition,
                }
                for t in chosen
            ],
        },
        "date_range": {"first": days[0] if days else None, "last": days[-1] if days else None},
        "undated": counts.by_day.get("undated", 0),
        "counts": {
            "by_outlet": dict(counts.by_outlet.most_common()),
            "by_day": {d: counts.by_day[d] for d in days},
            "by_language": dict(counts.by_language.most_common()),
            "by_topic": dict(counts.by_topic.most_common()),
        },
    }


def render_markdown(card: dict[str, Any]) -> str:
    f = card["filters"]
    rules = card["topic_rules"]
    lines = [
        f"# Dataset card: {card['dataset']}",
        "",
        f"{card['rows']:,} articles ({card['format']}), made {card['created_at']} with "
        f"Arshif {card['arshif_version']}.",
        "",
        "## How it was selected",
        "",
        f"- query: {card['query'] or '(none)'}",
        f"- outlets: {', '.join(f['outlets']) or 'all'}",
        f"- published: {f['since'] or 'any'} to {f['until'] or 'any'}",
        f"- languages: {', '.join(f['languages']) or 'all'}",
        f"- topics: {', '.join(f['topics']) or 'any'}"
        + (f" ({f['topic_mode']} of them)" if len(f["topics"]) > 1 else ""),
        f"- dedup: {card['dedup_policy']}",
        "",
        "## Topic rules",
        "",
        f"Rules version {rules['version']} (a hash of every shipped or configured topic rule).",
        "",
    ]
    for t in rules["topics"]:
        lines += [
            f"### {t['id']}: {t['labels'].get('en', '')} / {t['labels'].get('ar', '')}",
            "",
            f"From {t['source']}, version {t['version']}:",
            "",
            "```json",
            json.dumps(t["definition"], ensure_ascii=False, indent=2, default=str),
            "```",
            "",
        ]
    rng = card["date_range"]
    lines += [
        "## Contents",
        "",
        f"Published from {rng['first'] or '–'} to {rng['last'] or '–'}; "
        f"{card['undated']:,} undated.",
        "",
    ]
    for title, key in (
        ("By outlet", "by_outlet"),
        ("By language", "by_language"),
        ("By topic", "by_topic"),
        ("By day", "by_day"),
    ):
        rows = card["counts"][key]
        if rows:
            lines += [f"### {title}", "", "| | articles |", "|---|---|"]
            lines += [f"| {k} | {n:,} |" for k, n in rows.items()]
            lines.append("")
    return "\n".join(lines)


def write_card(card: dict[str, Any], data: Path) -> tuple[Path, Path]:
    """Write PATH.card.json and PATH.card.md beside the data file; returns both paths."""
    json_path, md_path = card_paths(data)
    json_path.write_text(
        json.dumps(card, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8"
    )
    md_path.write_text(render_markdown(card) + "\n", encoding="utf-8")
    return json_path, md_path
