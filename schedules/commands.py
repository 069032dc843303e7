"""`arshif schedule run | list | once NAME | history`: the command line over the runner."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from indexer.archive_base import has_archive, open_archive
from indexer.health import source_health
from indexer.stats import render_health
from schedules import history, polling
from schedules.config import Schedule, fmt_duration
from schedules.runner import Runner, stored_next_runs


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s [%(name)s] %(levelname)s: %(message)s",
        stream=sys.stderr,
    )


def run(home: Path, schedules: dict[str, Schedule], outlets_path: Path | None) -> int:
    """Serve the schedules until SIGTERM or SIGINT."""
    _setup_logging()
    Runner(home, schedules, outlets_path).serve()
    return 0


def once(
    home: Path, schedules: dict[str, Schedule], name: str, outlets_path: Path | None
) -> dict[str, Any]:
    """Run one schedule now, in the foreground, every outlet of it (due or not); returns its
    history row."""
    _setup_logging()
    runner = Runner(home, schedules, outlets_path)
    runner.install_signal_handlers()
    return runner.run_once(name, every_outlet=True)


def _short(stamp: str | None) -> str:
    return (stamp or "")[:19].replace("T", " ") or "–"


def _result(run: dict[str, Any] | None) -> str:
    if run is None:
        return "never run"
    errors = sum(run["errors"].values())
    return (
        f"{run['status']} {_short(run['started_at'])}: {run['new_articles']} new, "
        f"{run['duplicates']} dup, {errors} errors"
    )


def show_list(
    home: Path,
    schedules: dict[str, Schedule],
    outlets_path: Path | None,
    console: Console,
    now: datetime | None = None,
) -> None:
    """Each schedule's trigger, outlets, next run and last result; then each outlet's
    adaptive listing interval; then flagged outlets."""
    stored = stored_next_runs(home)
    now = now or datetime.now(UTC)
    last: dict[str, dict[str, Any]] = {}
    health: dict[str, list[str]] = {}
    outlets = {name: s.outlet_ids(outlets_path) for name, s in schedules.items()}
    if has_archive(home):
        with open_archive(home) as archive:
            last = history.last_results(archive)
            wanted = sorted({o for ids in outlets.values() for o in ids})
            health = source_health(archive, wanted)
    table = Table("schedule", "when", "outlets", "next run (UTC)", "last run", "health")
    for name, schedule in schedules.items():
        if name in stored:
            upcoming = _short(stored[name].isoformat())
            if stored[name] < now:
                upcoming += " (overdue: is the scheduler running?)"
        else:
            fire = schedule.next_fire(now)
            upcoming = f"{_short(fire.astimezone(UTC).isoformat()) if fire else '–'} (not started)"
        flagged = [o for o in outlets[name] if o in health]
        ids = outlets[name]
        listed = ", ".join(ids) if len(ids) <= 3 else f"{len(ids)} outlets"
        listed = f"all ({listed})" if schedule.outlets is None else listed
        table.add_row(
            name,
            schedule.when(),
            listed,
            upcoming,
            _result(last.get(name)),
            f"{len(flagged)} flagged: {', '.join(flagged)}" if flagged else "ok",
        )
    console.print(table)
    show_intervals(home, schedules, outlets, console, now)
    render_health(health, console)


def show_intervals(
    home: Path,
    schedules: dict[str, Schedule],
    outlets: dict[str, list[str]],
    console: Console,
    now: datetime,
) -> None:
    """Per schedule with adaptive intervals, each outlet's interval, last listing, next due
    time and recent rate of new articles (schedules/polling.py)."""
    adaptive = {name: s for name, s in schedules.items() if s.poll_bounds()}
    if not adaptive or not has_archive(home):
        return
    table = Table(title="Listing intervals (adaptive)", title_justify="left")
    for column in ("schedule", "outlet", "interval", "last listing (UTC)", "next due (UTC)"):
        table.add_column(column)
    for column in ("new/h", "last new", "skipped"):
        table.add_column(column, justify="right")
    with open_archive(home) as archive:
        for name, schedule in adaptive.items():
            for outlet, state in polling.states(archive, schedule, outlets[name]).items():
                table.add_row(
                    name,
                    outlet,
                    fmt_duration(state.interval),
                    _short(state.last_listing.isoformat()) if state.last_listing else "never",
                    _next_due(state, now),
                    "–" if state.new_per_hour is None else f"{state.new_per_hour:.1f}",
                    "–" if state.last_new is None else str(state.last_new),
                    str(state.skipped),
                )
    console.print(table)


def _next_due(state: polling.PollState, now: datetime) -> str:
    if state.pending_run is not None:
        return f"after run {state.pending_run} ends"
    due = state.next_due()
    if due is None:
        return "next run (never listed)"
    return _short(due.astimezone(UTC).isoformat()) + (" (due)" if due <= now else "")


def show_history(home: Path, schedule: str | None, limit: int, console: Console) -> None:
    """The latest scheduled runs, newest first."""
    runs: list[dict[str, Any]] = []
    if has_archive(home):
        with open_archive(home) as archive:
            runs = history.recent(archive, limit, schedule)
    if not runs:
        console.print("No scheduled runs recorded yet.")
        return
    table = Table(title="Scheduled runs", title_justify="left")
    for column in ("run", "schedule", "started", "ended", "status", "pages", "new", "dup"):
        table.add_column(column, justify="right" if column in {"pages", "new", "dup"} else "left")
    table.add_column("errors")
    table.add_column("detail")
    for run in runs:
        errors = ", ".join(f"{kind} {n}" for kind, n in sorted(run["errors"].items()))
        table.add_row(
            str(run["id"]),
            run["schedule"],
            _short(run["started_at"]),
            _short(run["ended_at"]),
            run["status"],
            f"{run['pages']:,}",
            f"{run['new_articles']:,}",
            f"{run['duplicates']:,}",
            errors or "–",
            run["detail"] or "–",
        )
    console.print(table)
