"""Adaptive listing intervals (schedules/polling.py): the rule itself, its state in both
archive backends, and real scheduled runs against two local sample sites, one of which
brings new articles each run, driven by a clock the test sets (no sleeping)."""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobExecutionEvent
from rich.console import Console

from arshif.config import archive_path
from arshif.workqueue import NAMESPACE, QUEUE, Queue
from crawler.sample_server import SampleServer, sample_site_dir
from indexer.archive import Archive
from indexer.archive_base import ArchiveStore
from schedules import commands, history, polling
from schedules.config import ScheduleConfigError, load_schedules
from schedules.runner import Runner
from tests.conftest import run_arshif
from tests.test_archive_contract import opener  # noqa: F401 (fixture: both backends)
from tests.test_schedules import FAST, add_article

HOUR, MIN = 3600.0, 900.0
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


class Clock:
    """The scheduler's idea of now, moved by the test."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


# ---------------------------------------------------------------------------- the rule


def test_interval_shrinks_with_new_articles_and_grows_without() -> None:
    assert polling.next_interval(1800, 3, MIN, HOUR) == 900
    assert polling.next_interval(1800, 0, MIN, HOUR) == 3600
    assert polling.next_interval(1200, 0, MIN, HOUR) == 2400


def test_interval_stays_within_the_bounds() -> None:
    assert polling.next_interval(1000, 5, MIN, HOUR) == MIN
    assert polling.next_interval(3000, 0, MIN, HOUR) == HOUR
    state = polling.PollState(interval=10 * HOUR).clamped(MIN, HOUR)
    assert state.interval == HOUR, "a schedule made shorter bounds the stored interval"


def test_only_a_finished_crawl_moves_the_interval_and_the_rate() -> None:
    state = polling.PollState(
        interval=1800, last_listing=T0 + timedelta(hours=2), previous_listing=T0, pending_run=4
    )
    stopped = state.after_crawl("shutdown", 7, MIN, HOUR)
    assert (stopped.interval, stopped.pending_run, stopped.new_per_hour) == (1800, None, None)
    assert stopped.last_listing == state.last_listing, "its listings were fetched"
    never = state.after_crawl(polling.NOT_STARTED, 0, MIN, HOUR)
    assert never.last_listing == T0 and never.interval == 1800, "listed last at T0"
    busy = state.after_crawl("finished", 6, MIN, HOUR)
    assert (busy.interval, busy.new_per_hour, busy.last_new) == (900, 3.0, 6)
    later = busy.last_listing + timedelta(hours=1)
    again = replace(busy, previous_listing=busy.last_listing, last_listing=later)
    assert again.after_crawl("finished", 0, MIN, HOUR).new_per_hour == 1.5  # smoothed


def test_due_after_the_interval_with_a_little_slack() -> None:
    state = polling.PollState(interval=HOUR, last_listing=T0)
    assert polling.PollState(interval=HOUR).is_due(T0), "never listed: due"
    assert not state.is_due(T0 + timedelta(minutes=45))
    assert state.is_due(T0 + timedelta(minutes=55)), "a run a few minutes early still lists it"
    assert not state.is_due(T0 + timedelta(minutes=50), jitter=60)
    assert state.is_due(T0 + timedelta(minutes=50), jitter=300), "jitter widens the slack"


def _schedule_file(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "s.yaml").write_text("schedules:\n" + body, encoding="utf-8")
    return folder


def test_bounds_come_from_the_schedule(tmp_path: Path) -> None:
    folder = _schedule_file(
        tmp_path / "s",
        "  - {name: hourly, cron: '5 * * * *', outlets: [sample]}\n"
        "  - {name: weekdays, cron: '0 9 * * mon-fri', outlets: [sample], min_interval: 2h}\n"
        "  - {name: fast, interval: 10m, outlets: [sample]}\n",
    )
    schedules = load_schedules(folder)
    assert schedules["hourly"].poll_bounds() == (MIN, HOUR)
    assert schedules["weekdays"].poll_bounds() == (2 * HOUR, 24 * HOUR), "shortest gap"
    assert schedules["fast"].poll_bounds() is None, "runs more often than min_interval"
    assert "listings every 15m–1h" in schedules["hourly"].when()
    # Adaptive: the schedule also fires every min_interval between its own runs.
    trigger = schedules["hourly"].trigger()
    fired = datetime(2026, 3, 1, 8, 5, tzinfo=UTC)
    after = trigger.get_next_fire_time(fired, fired + timedelta(seconds=1))
    assert after == fired + timedelta(minutes=15)


def test_min_interval_below_politeness_is_refused(tmp_path: Path) -> None:
    folder = _schedule_file(
        tmp_path / "s", "  - {name: x, interval: 1h, outlets: [sample], min_interval: 1m}\n"
    )
    with pytest.raises(ScheduleConfigError, match="field 'min_interval': at least 5m"):
        load_schedules(folder)


# ------------------------------------------------------------- state in both backends


@pytest.fixture
def store(opener: Callable[[], ArchiveStore]) -> Iterator[ArchiveStore]:  # noqa: F811
    with opener() as archive:
        yield archive


def _crawl_run(archive: ArchiveStore, outlet: str, run: int, new: int, status: str) -> None:
    """The crawl_runs row a crawl of schedule run `run` leaves (as a worker's crawl does)."""
    crawl = archive.start_run(outlet, schedule="hourly", schedule_run=run)
    if status != "running":
        archive.finish_run(crawl, status=status, pages=5, new_articles=new, skipped=0, errors={})


def test_poll_state_round_trips(store: ArchiveStore) -> None:
    assert store.poll_states("hourly") == {}
    row = polling.PollState(
        interval=1350.5, last_listing=T0, previous_listing=T0 - timedelta(hours=1),
        pending_run=7, new_per_hour=2.25, last_new=3, skipped=2,
    ).to_row()  # fmt: skip
    store.save_poll_state("hourly", "busy", row)
    store.save_poll_state("daily", "busy", {**row, "interval_seconds": 86400.0})
    assert store.poll_states("hourly") == {"busy": row}
    store.save_poll_state("hourly", "busy", {**row, "pending_run": None, "skipped": 0})
    assert store.poll_states("hourly")["busy"]["pending_run"] is None
    assert store.poll_states("daily")["busy"]["interval_seconds"] == 86400.0


def test_crawl_outcomes_by_schedule_run(store: ArchiveStore) -> None:
    _crawl_run(store, "busy", 3, 4, "finished")
    _crawl_run(store, "quiet", 3, 0, "running")
    _crawl_run(store, "busy", 4, 9, "finished")
    assert polling.crawl_outcomes(store, 3) == {"busy": ("finished", 4), "quiet": ("running", 0)}
    assert polling.crawl_outcomes(store, 5) == {}


def test_queued_crawls_settle_when_they_end(store: ArchiveStore, tmp_path: Path) -> None:
    """The plan of a scheduler that queues crawls: outcomes are read at later runs."""
    folder = _schedule_file(tmp_path / "s", "  - {name: hourly, interval: 1h, outlets: all}\n")
    schedule = load_schedules(folder)["hourly"]
    outlets = ["busy", "quiet"]
    assert polling.plan(store, schedule, outlets, T0) == (outlets, {})
    polling.launched(store, schedule, outlets, 1, T0)
    _crawl_run(store, "busy", 1, 12, "finished")
    _crawl_run(store, "quiet", 1, 0, "running")  # a worker is still on it

    due, skipped = polling.plan(store, schedule, outlets, T0 + timedelta(minutes=30))
    assert due == ["busy"], "30 min after a crawl with news, its interval (30 min) is up"
    assert "started by run 1 has not ended" in skipped["quiet"]
    polling.launched(store, schedule, due, 2, T0 + timedelta(minutes=30))
    _crawl_run(store, "quiet", 1, 0, "finished")  # the same crawl, now ended
    _crawl_run(store, "busy", 2, 1, "finished")

    due, skipped = polling.plan(store, schedule, outlets, T0 + timedelta(minutes=45))
    assert due == ["busy"] and "not due until 2026-03-01 09:00 UTC" in skipped["quiet"]
    state = polling.states(store, schedule, outlets)
    assert (state["busy"].interval, state["quiet"].interval) == (MIN, HOUR)
    assert (state["quiet"].skipped, state["busy"].skipped) == (2, 0)

    # A crawl that a lost worker never ends is given up on after a whole period.
    polling.launched(store, schedule, ["busy"], 3, T0 + timedelta(minutes=45))
    due, _ = polling.plan(store, schedule, outlets, T0 + timedelta(minutes=50))
    assert due == []
    due, _ = polling.plan(store, schedule, outlets, T0 + timedelta(minutes=106))
    assert due == ["busy", "quiet"]
    assert polling.states(store, schedule, ["busy"])["busy"].interval == MIN, "unchanged"


def test_a_cron_schedules_own_runs_list_every_outlet(store: ArchiveStore, tmp_path: Path) -> None:
    """Checks between runs list only due outlets; the cron's own runs list all, so a quiet
    outlet keeps the schedule's time of day instead of drifting to the checks'."""
    folder = _schedule_file(tmp_path / "s", "  - {name: hourly, cron: '0 * * * *', outlets: all}\n")
    schedule = load_schedules(folder)["hourly"]
    at = {m: T0 + timedelta(minutes=m) for m in (45, 50, 60, 63, 70)}
    assert [schedule.is_own_run(at[m]) for m in (45, 50, 60, 63, 70)] == [
        False, False, True, True, False
    ]  # fmt: skip
    assert polling.plan(store, schedule, ["quiet"], at[45]) == (["quiet"], {})
    polling.launched(store, schedule, ["quiet"], 1, at[45])
    _crawl_run(store, "quiet", 1, 0, "finished")
    assert polling.plan(store, schedule, ["quiet"], at[50])[0] == []
    assert polling.plan(store, schedule, ["quiet"], at[60])[0] == ["quiet"]


# ---------------------------------------------------------------- real scheduled runs


@pytest.fixture
def two_outlets(tmp_path: Path):
    """`busy` (the test adds an article before each run) and `quiet` (never changes), each
    a copy of the sample site on its own local server."""
    busy_site = Path(shutil.copytree(sample_site_dir(), tmp_path / "busy"))
    quiet_site = Path(shutil.copytree(sample_site_dir(), tmp_path / "quiet"))
    with SampleServer(root=busy_site) as busy_server, SampleServer(root=quiet_site) as quiet_server:
        outlets = tmp_path / "outlets.yaml"
        outlets.write_text(
            "outlets:\n"
            + "".join(
                f"  - id: {oid}\n    name: {oid}\n    language: ar\n    base_url: {srv.base_url}\n"
                "    feeds: ['/rss.xml']\n    article_pattern: '/news/.+\\.html$'\n"
                for oid, srv in (("busy", busy_server), ("quiet", quiet_server))
            ),
            encoding="utf-8",
        )
        yield outlets, busy_site, busy_server, quiet_server


def _schedules(tmp_path: Path, outlets: Path) -> dict:
    settings = "".join(f"      {k}: {v}\n" for k, v in FAST.items())
    folder = tmp_path / "schedules"
    folder.mkdir()
    (folder / "s.yaml").write_text(
        "schedules:\n  - name: news\n    interval: 1h\n    min_interval: 15m\n"
        f"    outlets: [busy, quiet]\n    settings:\n{settings}",
        encoding="utf-8",
    )
    return load_schedules(folder, outlets)


def test_busy_outlet_is_listed_often_and_quiet_one_rarely(
    home: Path, tmp_path: Path, manifest: dict, two_outlets, monkeypatch
) -> None:
    outlets, busy_site, busy_server, quiet_server = two_outlets
    monkeypatch.delenv("ARSHIF_REDIS_URL", raising=False)
    monkeypatch.delenv("ARSHIF_DATABASE_URL", raising=False)
    schedules = _schedules(tmp_path, outlets)
    clock = Clock(T0)
    runner = Runner(home, schedules, outlets, clock=clock)

    def crawled(row: dict) -> dict[str, int]:
        with Archive(archive_path(home)) as archive:
            return {r["outlet"]: r["new_articles"] for r in archive.runs() if r["info"].get(
                "schedule_run") == row["id"]}  # fmt: skip

    first = runner.run_once("news")
    assert first["status"] == "finished", first
    assert set(crawled(first)) == {"busy", "quiet"}  # never listed: both due

    clock.advance(15)
    idle = runner.run_once("news")
    assert idle["status"] == "idle" and "2 outlets not due" in idle["detail"], idle

    fetched: dict[str, list[bool]] = {"busy": [], "quiet": []}
    for n, minutes in enumerate((15, 15, 15), 1):  # runs at 8:30, 8:45 and 9:00
        clock.advance(minutes)
        add_article(busy_site, manifest, f"/news/2026/03/01/new-{n}.html")
        marks = len(busy_server.requests), len(quiet_server.requests)
        row = runner.run_once("news")
        assert row["status"] == "finished", row
        fetched["busy"].append(len(busy_server.requests) > marks[0])
        fetched["quiet"].append(len(quiet_server.requests) > marks[1])
        assert crawled(row).get("busy") == 1, crawled(row)
        if n == 1:
            assert crawled(row) == {"busy": 1, "quiet": 0}
        else:  # the quiet outlet, without news at 8:30, waits an hour: nothing fetched
            assert set(crawled(row)) == {"busy"}
            assert row["outlets"] == ["busy"]
            assert "quiet not due until 2026-03-01 09:30 UTC" in row["detail"], row
    assert fetched == {"busy": [True] * 3, "quiet": [True, False, False]}

    with Archive(archive_path(home)) as archive:
        state = polling.states(archive, schedules["news"], ["busy", "quiet"])
        skips = [r for r in history.recent(archive, 10) if "not due" in r["detail"]]
    assert (state["busy"].interval, state["quiet"].interval) == (MIN, HOUR)
    assert state["quiet"].skipped == 2 and state["busy"].skipped == 0
    # 1 new in 30 min (2/h), then 1 in 15 min twice (4/h), smoothed by halves.
    assert state["busy"].new_per_hour == pytest.approx(3.5)
    assert all(r["status"] == "finished" for r in skips), "skipping is no failure"

    # `schedule list` shows it.
    out = io.StringIO()
    commands.show_list(home, schedules, outlets, Console(file=out, width=250), now=clock())
    lines = {line.split("│")[2].strip(): line for line in out.getvalue().splitlines()
             if line.count("│") > 8}  # fmt: skip
    assert "Listing intervals" in out.getvalue()
    cells = [c.strip() for c in lines["busy"].split("│")[1:-1]]
    assert cells == ["news", "busy", "15m", "2026-03-01 09:00:00", "2026-03-01 09:15:00",
                     "3.5", "1", "0"]  # fmt: skip
    cells = [c.strip() for c in lines["quiet"].split("│")[1:-1]]
    assert cells == ["news", "quiet", "1h", "2026-03-01 08:30:00", "2026-03-01 09:30:00",
                     "0.0", "0", "2"]  # fmt: skip
    # The same through the command line.
    monkeypatch.setenv("COLUMNS", "250")
    shown = run_arshif(
        home, "schedule", "list", "--schedules", str(tmp_path / "schedules"), "--outlets",
        str(outlets),
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "Listing intervals" in shown.stdout
    assert re.search(r"│ news +│ busy +│ 15m +│ 2026-03-01 09:00:00 ", shown.stdout), shown.stdout


def _queued_outlets(queue: Queue) -> list[str]:
    messages = queue.redis.hvals(f"{NAMESPACE}:{QUEUE}.msgs")
    return sorted(json.loads(m)["args"][0] for m in messages)


def test_queued_runs_skip_outlets_not_due(
    home: Path, tmp_path: Path, two_outlets, redis_url: str, monkeypatch
) -> None:
    """With workers, the scheduler queues only due outlets; the crawls' outcomes (as a
    worker's crawl records them) move the intervals at the next run."""
    outlets, _, _, _ = two_outlets
    monkeypatch.setenv("ARSHIF_REDIS_URL", redis_url)
    monkeypatch.delenv("ARSHIF_DATABASE_URL", raising=False)
    schedules = _schedules(tmp_path, outlets)
    clock = Clock(T0)
    runner = Runner(home, schedules, outlets, clock=clock)
    queue = Queue(redis_url)

    first = runner.run_once("news")
    assert first["status"] == "queued" and _queued_outlets(queue) == ["busy", "quiet"]
    queue.redis.delete(f"{NAMESPACE}:{QUEUE}.msgs", f"{NAMESPACE}:{QUEUE}")  # "taken"
    with Archive(archive_path(home)) as archive:
        for outlet, new in (("busy", 20), ("quiet", 0)):
            run = archive.start_run(outlet, schedule="news", schedule_run=first["id"])
            archive.finish_run(
                run, status="finished", pages=9, new_articles=new, skipped=0, errors={}
            )

    clock.advance(30)
    second = runner.run_once("news")
    assert second["status"] == "queued" and _queued_outlets(queue) == ["busy"]
    assert "quiet not due until 2026-03-01 09:00 UTC" in second["detail"]


def test_a_check_during_a_long_run_is_not_recorded_as_skipped(
    home: Path, tmp_path: Path, two_outlets
) -> None:
    """Checks come every min_interval and an outlet not listed stays due, so a check that
    finds the last run still going is only logged; a plain schedule's skipped run is kept."""
    outlets = two_outlets[0]
    schedules = _schedules(tmp_path, outlets)
    plain = replace(schedules["news"], name="plain", interval=600.0)
    runner = Runner(home, {**schedules, "plain": plain}, outlets)
    for name in ("news", "plain"):
        runner._on_event(JobExecutionEvent(EVENT_JOB_MAX_INSTANCES, name, "default", T0))
    with Archive(archive_path(home)) as archive:
        assert [(r["schedule"], r["status"]) for r in history.recent(archive)] == [
            ("plain", "skipped")
        ]
