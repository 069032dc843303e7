"""Counts that show what the archive holds and how the crawls went (`arshif stats`).

`stats` returns plain data (JSON-ready for `--json`); `render_stats` prints it as tables.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from indexer.archive_base import ArchiveStore
from indexer.health import source_health

DAYS = 30  # the most recent publication dates shown
RUNS = 10  # the most recent crawl runs shown


def stats(archive: ArchiveStore) -> dict[str, Any]:
    """Totals by outlet, topic, publication day (the last DAYS dates present), language and
    index state, plus the latest crawl runs. Missing values count under "unknown"."""
    counts = archive.summary(DAYS)
    duplicates = counts.pop("duplicates_by_outlet")
    return {
        "total": archive.count(),
        **counts,
        "by_day": dict(sorted(counts["by_day"].items())),
        "runs": archive.runs(RUNS),
        "duplicates_by_outlet": {
            outlet: {"articles": n, "duplicates": d, "rate": round(d / n, 4)}
            for outlet, n, d in duplicates
        },
        "health": source_health(archive),
    }


def _table(title: str, header: str, counts: dict[str, int], total: int) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(header)
    table.add_column("articles", justify="right")
    table.add_column("share", justify="right")
    for key, count in counts.items():
        table.add_row(key, f"{count:,}", f"{count / total:.0%}" if total else "–")
    return table


def render_stats(d: dict[str, Any], console: Console) -> None:
    """Print the counts of `stats` as readable tables."""
    total = d["total"]
    states = ", ".join(f"{n:,} {state}" for state, n in d["by_index_state"].items())
    console.print(f"[bold]{total:,}[/] articles ({d['undated']:,} undated); index: {states or '–'}")
    console.print(_table("By outlet", "outlet", d["by_outlet"], total))
    if d["by_topic"]:
        console.print(_table("By topic", "topic", d["by_topic"], total))
    console.print(_table("By language", "language", d["by_language"], total))
    if d["by_day"]:
        console.print(_table(f"By day (last {DAYS} dates)", "published", d["by_day"], total))
    if any(row["duplicates"] for row in d["duplicates_by_outlet"].values()):
        console.print(_duplicates_table(d["duplicates_by_outlet"]))
    if d["runs"]:
        console.print(_runs_table(d["runs"]))
    else:
        console.print("No crawl runs recorded yet.")
    render_health(d["health"], console)


def render_health(health: dict[str, list[str]], console: Console) -> None:
    """Outlets that look broken, with the reasons (see indexer/health.py)."""
    for outlet, reasons in health.items():
        for reason in reasons:
            console.print(f"[bold yellow]source health:[/] {outlet}: {reason}", highlight=False)


def _duplicates_table(rows: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="Duplicates by outlet", title_justify="left")
    for column in ("outlet", "articles", "duplicates", "rate"):
        table.add_column(column, justify="left" if column == "outlet" else "right")
    for outlet, row in rows.items():
        table.add_row(
            outlet, f"{row['articles']:,}", f"{row['duplicates']:,}", f"{row['rate']:.1%}"
        )
    return table


def _runs_table(runs: list[dict[str, Any]]) -> Table:
    table = Table(title="Latest crawl runs", title_justify="left")
    for column in ("run", "outlet", "started", "ended", "status", "pages", "new", "skipped"):
        table.add_column(
            column, justify="right" if column in {"pages", "new", "skipped"} else "left"
        )
    table.add_column("retries", justify="right")
    table.add_column("errors (by kind)")
    for run in runs:
        errors = ", ".join(f"{kind} {n}" for kind, n in sorted(run["errors"].items()))
        table.add_row(
            str(run["id"]),
            run["outlet"],
            run["started_at"][:19].replace("T", " "),
            (run["ended_at"] or "")[:19].replace("T", " ") or "–",
            run["status"],
            f"{run['pages']:,}",
            f"{run['new_articles']:,}",
            f"{run['skipped']:,}",
            f"{run['info'].get('retries', 0):,}",
            errors or "–",
        )
    return table
