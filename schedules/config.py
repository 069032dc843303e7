"""Schedule files: named schedules saying when to crawl which outlets.

Loading validates every entry eagerly, so `arshif schedule run` refuses a bad file at start
with a message naming the file, the schedule and the field, instead of failing at 3 a.m.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from arshif.urls import scheme_refusal
from arshif.yamlfile import read_yaml
from crawler.outlets import load_outlets

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_KNOWN = {
    "name", "cron", "interval", "timezone", "outlets", "jitter", "max_run_time", "grace_time",
    "base_url", "settings", "min_interval",
}  # fmt: skip
# Longer than a year is a typo, and APScheduler's date arithmetic overflows on huge values.
MAX_DURATION = 366 * 86400.0
DEFAULT_GRACE = 3600.0  # a run missed by more than this (scheduler down) is skipped
# Adaptive listing intervals (schedules/polling.py): an outlet's listings are fetched at most
# this often by default, and never more often than MIN_POLL (politeness towards the outlet).
DEFAULT_MIN_INTERVAL = 900.0
MIN_POLL = 300.0


class ScheduleConfigError(ValueError):
    """A bad schedule file; the message names the file, the schedule and the field."""


@dataclass(frozen=True)
class Schedule:
    """One named schedule: when (cron or interval, in a timezone) and what (outlets)."""

    name: str
    source: Path
    timezone: str = "UTC"
    cron: str | None = None
    interval: float | None = None  # seconds
    outlets: tuple[str, ...] | None = None  # None: every configured outlet
    jitter: float | None = None  # seconds
    max_run_time: float | None = None  # seconds
    grace_time: float = DEFAULT_GRACE  # seconds
    base_url: str | None = None
    settings: dict[str, str] = field(default_factory=dict)
    min_interval: float = DEFAULT_MIN_INTERVAL  # seconds; the adaptive intervals' lower bound

    def trigger(self) -> BaseTrigger:
        """The schedule's own trigger; with adaptive listing intervals, also a check every
        `min_interval` for the outlets due before the next run."""
        jitter = int(self.jitter) if self.jitter else None
        if self.poll_bounds() is None:
            return self._own_trigger(jitter)
        check = IntervalTrigger(seconds=self.min_interval, timezone=self.timezone)
        return OrTrigger([self._own_trigger(None), check], jitter=jitter)

    def _own_trigger(self, jitter: int | None) -> BaseTrigger:
        if self.cron is not None:
            names = ("minute", "hour", "day", "month", "day_of_week")
            fields = dict(zip(names, self.cron.split(), strict=True))
            return CronTrigger(**fields, timezone=self.timezone, jitter=jitter)
        assert self.interval is not None
        return IntervalTrigger(seconds=self.interval, timezone=self.timezone, jitter=jitter)

    def period(self) -> float:
        """Seconds between two runs: the interval, or a cron's shortest gap between runs
        (over the next few), so a quiet outlet is still listed at every run."""
        if self.interval is not None:
            return self.interval
        trigger = self._own_trigger(None)
        start = datetime(2026, 1, 1, tzinfo=ZoneInfo(self.timezone))  # any fixed week will do
        times = [trigger.get_next_fire_time(None, start)]
        while len(times) < 16 and times[-1] is not None:
            times.append(trigger.get_next_fire_time(times[-1], times[-1]))
        gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False) if b]
        return min(gaps, default=MAX_DURATION)

    def poll_bounds(self) -> tuple[float, float] | None:
        """The adaptive listing interval's bounds (`min_interval`, the schedule's period), or
        None when the schedule runs no more often than `min_interval` (nothing to adapt)."""
        upper = self.period()
        return (self.min_interval, upper) if self.min_interval < upper else None

    def is_own_run(self, now: datetime) -> bool:
        """Whether a run at `now` is one of a cron schedule's own runs (not a check between
        them): those list every outlet, so quiet outlets keep the cron's time of day. An
        interval schedule has no time of day to keep: all its runs are checks."""
        if self.cron is None:
            return False
        early = timedelta(seconds=(self.jitter or 0) + self.min_interval / 2)
        own = self._own_trigger(None).get_next_fire_time(None, now - early)
        return own is not None and own <= now

    def when(self) -> str:
        """A readable summary of the trigger; also the job's fingerprint in the job store,
        so a changed schedule replaces the stored job and an unchanged one keeps its
        pending (possibly missed) run."""
        what = (
            f"cron '{self.cron}'"
            if self.cron is not None
            else f"every {fmt_duration(self.interval)}"
        )
        extra = f", jitter {fmt_duration(self.jitter)}" if self.jitter else ""
        bounds = self.poll_bounds()
        if bounds:
            extra += f", listings every {fmt_duration(bounds[0])}–{fmt_duration(bounds[1])}"
        return f"{what} {self.timezone}{extra}, grace {fmt_duration(self.grace_time)}"

    def next_fire(self, now: datetime) -> datetime | None:
        """When the trigger fires next after `now` (for `schedule list` without a scheduler)."""
        return self.trigger().get_next_fire_time(None, now)

    def outlet_ids(self, outlets_path: Path | None) -> list[str]:
        """The outlets this schedule crawls now (`all` follows the outlet file)."""
        if self.outlets is not None:
            return list(self.outlets)
        return sorted(load_outlets(outlets_path))


def fmt_duration(seconds: float | None) -> str:
    """90 → '1m30s', 3600 → '1h': durations as written in schedule files."""
    if seconds is None:
        return "–"
    rest, parts = int(round(seconds)), []
    for unit in ("d", "h", "m", "s"):
        n, rest = divmod(rest, _UNITS[unit])
        if n:
            parts.append(f"{n}{unit}")
    return "".join(parts) or "0s"


def parse_duration(value: Any) -> float:
    """Seconds from a number or a string such as '90s', '15m', '1h30m', '1d'."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90, '15m' or '1h30m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(
        rf"(?:{_DURATION.pattern})+", value.replace(" ", "")
    ):
        seconds = sum(float(n) * _UNITS[u] for n, u in _DURATION.findall(value.replace(" ", "")))
    else:
        raise ValueError(f"expected a duration such as 90, '15m' or '1h30m', not {value!r}")
    if not 0 < seconds <= MAX_DURATION:  # .nan fails this too
        raise ValueError(
            f"a duration must be positive and at most {MAX_DURATION // 86400:.0f} days, "
            f"not {value!r}"
        )
    return seconds


def default_schedules_path() -> Path:
    """`ARSHIF_SCHEDULES` if set, else the schedules shipped with Arshif (this folder)."""
    env = os.environ.get("ARSHIF_SCHEDULES")
    return Path(env) if env else Path(__file__).resolve().parent


def schedule_files(path: Path) -> list[Path]:
    """A schedule file, or every *.yaml / *.yml file of a folder, in name order."""
    if path.is_dir():
        return sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"})
    if path.is_file():
        return [path]
    raise ScheduleConfigError(f"{path}: no such schedule file or folder")


def load_schedules(
    path: Path | str | None = None, outlets_path: Path | None = None
) -> dict[str, Schedule]:
    """Read and validate schedule files; raises ScheduleConfigError naming file and field.
    Listed outlets must exist in the outlet file in use."""
    path = Path(path) if path else default_schedules_path()
    known_outlets = set(load_outlets(outlets_path))
    schedules: dict[str, Schedule] = {}
    files = schedule_files(path)
    if not files:
        raise ScheduleConfigError(f"{path}: no schedule files (*.yaml) in this folder")
    for file in files:
        for schedule in _load_file(file, known_outlets):
            if schedule.name in schedules:
                other = schedules[schedule.name].source
                raise ScheduleConfigError(
                    f"{file}: schedule '{schedule.name}': field 'name': already defined in {other}"
                )
            schedules[schedule.name] = schedule
    return schedules


def _load_file(file: Path, known_outlets: set[str]) -> list[Schedule]:
    data = read_yaml(file, ScheduleConfigError)
    if not isinstance(data, dict) or not isinstance(data.get("schedules"), list):
        raise ScheduleConfigError(f"{file}: field 'schedules': expected a list of schedules")
    return [_parse(file, n, entry, known_outlets) for n, entry in enumerate(data["schedules"], 1)]


def _parse(file: Path, n: int, entry: Any, known_outlets: set[str]) -> Schedule:
    label = f"schedule #{n}"

    def fail(name: str, problem: str) -> ScheduleConfigError:
        return ScheduleConfigError(f"{file}: {label}: field '{name}': {problem}")

    if not isinstance(entry, dict):
        raise ScheduleConfigError(f"{file}: {label}: expected a mapping of fields")
    name = entry.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise fail("name", "required, a lowercase slug such as 'hourly' or 'breaking-news'")
    label = f"schedule '{name}'"
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        raise fail(unknown[0], f"unknown field (known: {', '.join(sorted(_KNOWN))})")

    values: dict[str, Any] = {"name": name, "source": file}
    timezone = entry.get("timezone", "UTC")
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise fail("timezone", f"unknown timezone {timezone!r} (e.g. UTC, Asia/Riyadh)") from exc
    values["timezone"] = str(timezone)

    if ("cron" in entry) == ("interval" in entry):
        raise fail(
            "cron", "give exactly one of 'cron' (e.g. '0 * * * *') or 'interval' (e.g. '15m')"
        )
    if "cron" in entry:
        cron = entry["cron"]
        if not isinstance(cron, str) or len(cron.split()) != 5:
            raise fail(
                "cron", f"expected five fields 'minute hour day month weekday', not {cron!r}"
            )
        if re.search(r"\d", cron.split()[4]):
            raise fail("cron", "name the weekdays (mon-fri, sun): APScheduler 3 counts 0 as Monday")
        values["cron"] = cron
    for key in ("interval", "jitter", "max_run_time", "grace_time", "min_interval"):
        if key in entry:
            try:
                values[key] = parse_duration(entry[key])
            except ValueError as exc:
                raise fail(key, str(exc)) from exc
    if values.get("min_interval", MIN_POLL) < MIN_POLL:
        raise fail(
            "min_interval", f"at least {fmt_duration(MIN_POLL)}: an outlet's listings are "
            "not fetched more often than that, out of politeness"
        )  # fmt: skip

    outlets = entry.get("outlets")
    if outlets != "all":
        if (
            not isinstance(outlets, list)
            or not outlets
            or not all(isinstance(o, str) for o in outlets)
        ):
            raise fail("outlets", "required: 'all' or a list of outlet ids")
        missing = [o for o in outlets if o not in known_outlets]
        if missing:
            raise fail(
                "outlets", f"unknown outlet(s) {', '.join(missing)} (see `arshif outlets list`)"
            )
        values["outlets"] = tuple(outlets)

    base_url = entry.get("base_url")
    if base_url is not None:
        if not isinstance(base_url, str) or scheme_refusal(base_url):
            raise fail("base_url", f"expected an http(s) URL, not {base_url!r}")
        values["base_url"] = base_url
    settings = entry.get("settings", {})
    if not isinstance(settings, dict) or not all(isinstance(k, str) for k in settings):
        raise fail("settings", "expected a mapping of Scrapy or ARSHIF_* settings to values")
    values["settings"] = {k: str(v) for k, v in settings.items()}

    schedule = Schedule(**values)
    try:
        schedule.trigger()
    except ValueError as exc:
        raise fail("cron" if schedule.cron is not None else "interval", str(exc)) from exc
    return schedule
