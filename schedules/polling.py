"""Adaptive listing intervals: busy outlets are listed often, quiet ones rarely.

As Media Cloud's crawler provider does for feeds, each outlet of a schedule has its own
listing interval: halved after a crawl that brought new articles, doubled after one that
brought none (unchanged listings answered 304 bring none), and kept between the schedule's
`min_interval` and its own period. The schedule then fires every `min_interval` as well as
on its own trigger; each of these checks crawls only the outlets whose interval has elapsed
since their last listing (the others are skipped and counted, not failed), while a cron
schedule's own runs crawl every outlet, at the time of day it names.

The state lives in the archive (`listing_polls`, one row per schedule and outlet, behind
`ArchiveStore.poll_states` / `save_poll_state`), so it survives restarts and is shared by a
scheduler that queues crawls for workers: a crawl's outcome is read from its `crawl_runs`
row (tagged with the schedule run) when the crawl has ended, which for queued crawls is at
a later run of the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from indexer.archive_base import ArchiveStore
from schedules.config import Schedule, fmt_duration

SHRINK = 0.5  # after a crawl with new articles
GROW = 2.0  # after a crawl with none
RATE_WEIGHT = 0.5  # the latest crawl's share in the smoothed rate of new articles
NOT_STARTED = "not started"  # a crawl with no crawl_runs row: it never opened


def next_interval(interval: float, new_articles: int, lower: float, upper: float) -> float:
    """The interval after a finished crawl: shorter when it brought new articles, longer
    when it brought none, always within [lower, upper]."""
    factor = SHRINK if new_articles > 0 else GROW
    return min(upper, max(lower, interval * factor))


def slack(interval: float, jitter: float | None) -> float:
    """How early an outlet counts as due: runs start a little late or early (jitter,
    scheduling delays), and a listing due seconds after a run must not wait for the next."""
    return max(interval / 10, 2 * (jitter or 0.0))


@dataclass(frozen=True)
class PollState:
    """One outlet's listing state under one schedule."""

    interval: float  # seconds
    last_listing: datetime | None = None  # when the last crawl was started or queued
    previous_listing: datetime | None = None  # the one before, for the rate
    pending_run: int | None = None  # the schedule run whose crawl's outcome is not read yet
    new_per_hour: float | None = None  # smoothed rate of new articles
    last_new: int | None = None  # new articles of the last finished crawl
    skipped: int = 0  # runs that skipped the outlet since its last listing

    def clamped(self, lower: float, upper: float) -> PollState:
        """Within the bounds of the schedule as it is now (its file may have changed)."""
        return replace(self, interval=min(upper, max(lower, self.interval)))

    def next_due(self) -> datetime | None:
        """When the outlet should be listed next; None: now (never listed)."""
        if self.last_listing is None:
            return None
        return self.last_listing + timedelta(seconds=self.interval)

    def is_due(self, now: datetime, jitter: float | None = None) -> bool:
        due = self.next_due()
        return due is None or now >= due - timedelta(seconds=slack(self.interval, jitter))

    def after_crawl(self, status: str, new_articles: int, lower: float, upper: float) -> PollState:
        """The state once the pending crawl ended. Only a finished crawl says how busy the
        outlet is; one stopped or failed leaves the interval as it was, and one that never
        started did not list the outlet, so it is due again at once."""
        done = replace(self, pending_run=None)
        if status == NOT_STARTED:
            return replace(done, last_listing=self.previous_listing)
        if status != "finished":
            return done
        rate = self.new_per_hour
        if self.last_listing and self.previous_listing:  # the first crawl's count is backlog
            hours = (self.last_listing - self.previous_listing).total_seconds() / 3600
            if hours > 0:
                seen = new_articles / hours
                rate = seen if rate is None else RATE_WEIGHT * seen + (1 - RATE_WEIGHT) * rate
        return replace(
            done,
            interval=next_interval(self.interval, new_articles, lower, upper),
            new_per_hour=rate,
            last_new=new_articles,
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "interval_seconds": self.interval,
            "last_listing": _iso(self.last_listing),
            "previous_listing": _iso(self.previous_listing),
            "pending_run": self.pending_run,
            "new_per_hour": self.new_per_hour,
            "last_new": self.last_new,
            "skipped": self.skipped,
        }

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PollState:
        return cls(
            interval=float(row["interval_seconds"]),
            last_listing=_time(row["last_listing"]),
            previous_listing=_time(row["previous_listing"]),
            pending_run=row["pending_run"],
            new_per_hour=row["new_per_hour"],
            last_new=row["last_new"],
            skipped=int(row["skipped"]),
        )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def states(archive: ArchiveStore, schedule: Schedule, outlets: list[str]) -> dict[str, PollState]:
    """Each outlet's state, clamped to the schedule's bounds; a new outlet starts at the
    schedule's period (listed at every run until it shows it is busy)."""
    bounds = schedule.poll_bounds()
    assert bounds is not None, "only schedules with adaptive intervals keep listing state"
    rows = archive.poll_states(schedule.name)
    fresh = PollState(interval=bounds[1])
    return {
        o: (PollState.from_row(rows[o]) if o in rows else fresh).clamped(*bounds) for o in outlets
    }


def settle(
    archive: ArchiveStore, schedule: Schedule, outlets: list[str], now: datetime, *, ended: bool
) -> dict[str, PollState]:
    """Apply the outcome of each outlet's pending crawl, once it has ended. `ended`: the
    crawls ran here and are over, so a crawl with no finished row never ran to its end.
    A queued crawl not ended after a whole period is given up on (a worker lost it)."""
    current = states(archive, schedule, outlets)
    lower, upper = schedule.poll_bounds() or (0.0, 0.0)  # not None: `states` checked it
    outcomes: dict[int, dict[str, tuple[str, int]]] = {}
    for outlet, state in current.items():
        run = state.pending_run
        if run is None:
            continue
        if run not in outcomes:
            outcomes[run] = crawl_outcomes(archive, run)
        status, new = outcomes[run].get(outlet, (NOT_STARTED, 0))
        stale = state.last_listing is None or now - state.last_listing > timedelta(seconds=upper)
        if status in ("running", NOT_STARTED) and not (ended or stale):
            continue
        current[outlet] = state.after_crawl(status, new, lower, upper)
        archive.save_poll_state(schedule.name, outlet, current[outlet].to_row())
    return current


def plan(
    archive: ArchiveStore, schedule: Schedule, outlets: list[str], now: datetime
) -> tuple[list[str], dict[str, str]]:
    """Which outlets this run crawls, and why each other one is skipped (counted in its
    state): at a check, those due; at a cron schedule's own run, all. Settles the outcomes
    of queued crawls first."""
    current = settle(archive, schedule, outlets, now, ended=False)
    every = schedule.is_own_run(now)
    due: list[str] = []
    skipped: dict[str, str] = {}
    for outlet, state in current.items():
        if state.pending_run is not None:
            skipped[outlet] = f"its crawl started by run {state.pending_run} has not ended"
        elif every or state.is_due(now, schedule.jitter):
            due.append(outlet)
            continue
        else:
            when = state.next_due()
            assert when is not None
            skipped[outlet] = (
                f"not due until {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC "
                f"(every {fmt_duration(state.interval)})"
            )
        state = replace(state, skipped=state.skipped + 1)
        archive.save_poll_state(schedule.name, outlet, state.to_row())
    return due, skipped


def launched(
    archive: ArchiveStore, schedule: Schedule, outlets: list[str], run_id: int, now: datetime
) -> None:
    """The run `run_id` crawls (or queues) these outlets now."""
    for outlet, state in states(archive, schedule, outlets).items():
        state = replace(
            state,
            previous_listing=state.last_listing,
            last_listing=now,
            pending_run=run_id,
            skipped=0,
        )
        archive.save_poll_state(schedule.name, outlet, state.to_row())


def skip_note(skipped: dict[str, str]) -> str:
    """One line for the run's history and log."""
    count = f"{len(skipped)} outlet{'s' if len(skipped) > 1 else ''}"
    return f"{count} not due, skipped: " + "; ".join(
        f"{outlet} {why}" for outlet, why in sorted(skipped.items())
    )


def crawl_outcomes(archive: ArchiveStore, schedule_run: int) -> dict[str, tuple[str, int]]:
    """The crawls of one schedule run, by outlet: the latest one's status and new articles."""
    runs = archive.schedule_crawl_runs(schedule_run)  # newest first
    return {run["outlet"]: (run["status"], run["new_articles"]) for run in reversed(runs)}
