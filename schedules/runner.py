"""Runs schedules with APScheduler 3: each run crawls in a child process, then drains the
outbox.

Scrapy's reactor starts once per process, so every run is `arshif crawl` in a child process
(its own session, so a terminal's Ctrl-C reaches only the scheduler, which forwards it once:
Scrapy then stops gracefully and keeps its job folder). Jobs live in a persistent SQLAlchemy
job store in the data folder, so runs missed while the scheduler was down are known at the
next start and coalesced into one, within the schedule's grace time. One run per schedule
at a time (`max_instances=1`), and one crawl per outlet at a time across processes (a lock
file per outlet, held by the crawl process itself).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from arshif.credentials import has_secret
from indexer.archive_base import ArchiveStore, open_archive
from indexer.health import source_health
from schedules import history, polling
from schedules.config import Schedule, fmt_duration

logger = logging.getLogger("arshif.schedule")

STOP_GRACE = 120.0  # seconds a crawl gets to stop gracefully before it is killed
_POLL = 0.25  # seconds between checks on a running crawl


def store_path(home: Path) -> Path:
    """The APScheduler job store: each schedule's next run survives restarts."""
    return home / "schedules.sqlite"


def logs_dir(home: Path) -> Path:
    return home / "logs"


def locks_dir(home: Path) -> Path:
    return home / "locks"


def stored_next_runs(home: Path) -> dict[str, datetime]:
    """Each schedule's next run as the job store holds it (empty before the first start)."""
    path = store_path(home)
    if not path.exists():
        return {}
    with sqlite3.connect(path) as db:
        try:
            rows = db.execute("SELECT id, next_run_time FROM apscheduler_jobs").fetchall()
        except sqlite3.OperationalError:
            return {}
    return {name: datetime.fromtimestamp(ts, UTC) for name, ts in rows if ts is not None}


class _Scheduler(BackgroundScheduler):
    """APScheduler 3's loop wakes once more after shutdown() and, as it only checks for
    'paused', submits due jobs to the closed executor (and advances them in the store);
    here jobs are processed only while the scheduler runs."""

    def _process_jobs(self) -> float | None:
        if self.state != STATE_RUNNING:
            return None
        return super()._process_jobs()


class OutletBusy(Exception):
    """An outlet of this run is being crawled by another run still going."""


@contextmanager
def outlet_lock(home: Path, outlet: str) -> Iterator[int]:
    """An exclusive lock file for one outlet; the crawl process inherits the descriptor, so
    the lock lasts as long as the crawl, even past a killed scheduler."""
    folder = locks_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / f"{outlet}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise OutletBusy(f"outlet {outlet} is still being crawled by an earlier run") from exc
        yield fd
    finally:
        os.close(fd)


_active: Runner | None = None


def fire(name: str) -> None:
    """The job function kept in the job store (by reference, so it survives restarts)."""
    if _active is None:
        raise RuntimeError("no schedule runner is active in this process")
    _active.run_once(name)


class Runner:
    """Runs the schedules of one data folder, in the foreground (`once`) or on their
    triggers (`serve`)."""

    def __init__(
        self,
        home: Path,
        schedules: dict[str, Schedule],
        outlets_path: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.home = home
        self.schedules = schedules
        self.outlets_path = outlets_path
        self.clock = clock  # for adaptive listing intervals (tests pass their own)
        self._children: dict[int, subprocess.Popen[str]] = {}
        self._signalled: set[int] = set()  # crawls already told to stop
        self._launch = threading.Lock()
        self._stop = threading.Event()
        self._missed: dict[str, int] = {}
        self._not_due: dict[str, dict[str, str]] = {}  # per schedule, for its run's history
        self._runs = 0  # runs going on in this process

    # ------------------------------------------------------------ one run

    def run_once(self, name: str, *, every_outlet: bool = False) -> dict[str, Any]:
        """Crawl the schedule's outlets now and drain the outbox; returns the history row.
        With adaptive listing intervals, only the outlets due now, unless `every_outlet`."""
        schedule = self.schedules[name]
        outlets = schedule.outlet_ids(self.outlets_path)
        outlets, not_due = self._due(schedule, outlets, every_outlet)
        if not outlets:
            detail = polling.skip_note(not_due)
            logger.info("%s: nothing to crawl now; %s", name, detail)
            return {"schedule": name, "status": "idle", "detail": detail, "new_articles": 0}
        self._not_due[name] = not_due
        if has_secret("ARSHIF_REDIS_URL"):  # workers crawl: the run only queues the jobs
            return self._enqueue(schedule, outlets)
        with ExitStack() as stack:
            stack.callback(self._count_run, -1)
            self._count_run(1)
            try:
                fds = [stack.enter_context(outlet_lock(self.home, o)) for o in outlets]
            except OutletBusy as exc:
                self._not_due.pop(name, None)
                detail = f"not started: {exc}"
                logger.warning("%s: %s", name, detail)
                with self._archive() as archive:
                    history.skipped(archive, name, detail)
                return {"schedule": name, "status": "skipped", "detail": detail}
            return self._run(schedule, outlets, fds)

    def _enqueue(self, schedule: Schedule, outlets: list[str]) -> dict[str, Any]:
        """One crawl job per outlet for `arshif worker`s (arshif/workqueue.py); the history
        row says 'queued', and the crawls' own rows carry the run's id."""
        from arshif.workqueue import queue_from_env

        queue = queue_from_env()
        assert queue is not None
        with self._archive() as archive:
            run_id = history.start(archive, schedule.name, outlets, "")
        self._launched(schedule, outlets, run_id)
        info = json.dumps({"schedule": schedule.name, "schedule_run": run_id})
        settings = {k: str(v) for k, v in schedule.settings.items()} | {"ARSHIF_RUN_INFO": info}
        for outlet in outlets:
            queue.enqueue_crawl(outlet, base_url=schedule.base_url, settings=settings)
        logger.info("%s: run %d queued %s", schedule.name, run_id, ", ".join(outlets))
        notes = [f"{len(outlets)} crawl jobs queued", *self._skip_notes(schedule.name)]
        with self._archive() as archive:
            return history.finish(archive, run_id, "queued", "; ".join(notes))

    def _run(self, schedule: Schedule, outlets: list[str], fds: list[int]) -> dict[str, Any]:
        name = schedule.name
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        log_path = logs_dir(self.home) / f"{stamp}-{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._archive() as archive:
            run_id = history.start(archive, name, outlets, str(log_path))
        self._launched(schedule, outlets, run_id)
        try:
            return self._run_logged(schedule, outlets, fds, run_id, log_path)
        except Exception as exc:  # recorded, then APScheduler logs the traceback
            with self._archive() as archive:
                history.finish(archive, run_id, "failed", f"{type(exc).__name__}: {exc}")
            raise

    def _run_logged(
        self, schedule: Schedule, outlets: list[str], fds: list[int], run_id: int, log_path: Path
    ) -> dict[str, Any]:
        name = schedule.name
        missed = self._missed.pop(name, 0)
        notes = [f"caught up {missed} missed runs in one"] if missed > 1 else []
        notes += self._skip_notes(name)
        with log_path.open("a", encoding="utf-8") as log:
            self._note(log, f"{name}: run {run_id} crawls {', '.join(outlets)} (log {log_path})")
            rc, ended_by = self._crawl(schedule, outlets, fds, run_id, log)
            if schedule.poll_bounds():
                with open_archive(self.home) as archive:
                    polling.settle(archive, schedule, outlets, self.clock(), ended=True)
            with self._archive() as archive:
                statuses = [run["status"] for run in archive.schedule_crawl_runs(run_id)]
            if ended_by:
                status = ended_by
            elif rc != 0:
                status = "failed"
                notes.append(f"crawl exited with status {rc}")
            elif statuses and all(s == "finished" for s in statuses):
                status = "finished"
            else:
                status = "partial"
                notes.append(f"crawl ended: {', '.join(sorted(set(statuses))) or 'not started'}")
            with self._archive() as archive:
                pending = archive.pending_count()
            if pending and status != "interrupted":  # the crawl itself indexes what it can
                self._child(self._cli("index"), log, name, fds=[])
            with self._archive() as archive:
                row = history.finish(archive, run_id, status, "; ".join(notes))
                flagged = source_health(archive, outlets)
            self._note(
                log,
                f"{name}: run {run_id} {status}: {row['pages']} pages, {row['new_articles']} "
                f"new articles, {row['duplicates']} duplicates, "
                f"{sum(row['errors'].values())} errors" + (f" ({row['detail']})" if notes else ""),
            )
            for outlet, reasons in flagged.items():
                for reason in reasons:
                    self._note(log, f"{name}: source health: {outlet}: {reason}", logging.WARNING)
        return row

    def _crawl(
        self, schedule: Schedule, outlets: list[str], fds: list[int], run_id: int, log: IO[str]
    ) -> tuple[int, str | None]:
        """Run the crawl child to its end; returns its exit status and, when the scheduler
        ended it, why ('timeout', 'interrupted')."""
        args = ["crawl", *outlets]
        if self.outlets_path:
            args += ["--outlets", str(self.outlets_path)]
        if schedule.base_url:
            args += ["--base-url", schedule.base_url]
        for key, value in schedule.settings.items():
            args += ["--set", f"{key}={value}"]
        info = {"schedule": schedule.name, "schedule_run": run_id}
        args += ["--set", f"ARSHIF_RUN_INFO={json.dumps(info)}"]
        return self._child(
            self._cli(*args), log, schedule.name, fds=fds, max_run_time=schedule.max_run_time
        )

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "arshif.cli", *args, "--data-dir", str(self.home)]

    def _child(
        self,
        cmd: list[str],
        log: IO[str],
        name: str,
        *,
        fds: list[int],
        max_run_time: float | None = None,
    ) -> tuple[int, str | None]:
        with self._launch:
            if self._stop.is_set():
                self._note(log, f"{name}: not started, the scheduler is stopping")
                return 0, "interrupted"
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                start_new_session=True,  # signals come from us, once, not from the terminal
                pass_fds=fds,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            self._children[proc.pid] = proc
        assert proc.stdout is not None
        pump = threading.Thread(target=_pump, args=(proc.stdout, log, name), daemon=True)
        pump.start()
        started = time.monotonic()
        ended_by: str | None = None
        kill_at: float | None = None
        try:
            while True:
                try:
                    rc = proc.wait(timeout=_POLL)
                    break
                except subprocess.TimeoutExpired:
                    pass
                elapsed = time.monotonic() - started
                if max_run_time and elapsed > max_run_time and ended_by is None:
                    ended_by = "timeout"
                    self._note(
                        log,
                        f"{name}: maximum run time {fmt_duration(max_run_time)} reached; "
                        "stopping the crawl (it resumes next run)",
                        logging.WARNING,
                    )
                    _signal(proc, signal.SIGTERM)
                if self._stop.is_set() and ended_by is None:
                    ended_by = "interrupted"
                    if proc.pid not in self._signalled:  # started as the signal arrived
                        _signal(proc, signal.SIGTERM)
                if ended_by and kill_at is None:
                    kill_at = elapsed + STOP_GRACE
                if kill_at is not None and elapsed > kill_at:
                    self._note(log, f"{name}: the crawl did not stop in time; killing it")
                    os.killpg(proc.pid, signal.SIGKILL)
                    kill_at = float("inf")
        finally:
            with self._launch:
                self._children.pop(proc.pid, None)
                self._signalled.discard(proc.pid)
            pump.join()
        return rc, ended_by

    # ------------------------------------------------------------ scheduler

    def serve(self) -> None:
        """Run every schedule on its trigger until SIGTERM or SIGINT."""
        global _active
        with self._archive() as archive:
            lost = history.mark_lost(archive)
        if lost:
            logger.warning("%d runs were cut short when the scheduler last stopped", lost)
        scheduler = _Scheduler(
            jobstores={"default": SQLAlchemyJobStore(url=f"sqlite:///{store_path(self.home)}")},
            executors={"default": ThreadPoolExecutor(max(1, len(self.schedules)))},
            timezone=UTC,
        )
        scheduler.add_listener(self._on_event, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        self.install_signal_handlers()
        _active = self
        scheduler.start(paused=True)
        try:
            self._sync(scheduler)
            scheduler.resume()
            for job in scheduler.get_jobs():
                logger.info("%s: %s; next run %s", job.id, job.name, _when(job.next_run_time))
            while not self._stop.wait(1.0):
                pass
            logger.info("stopping: running crawls stop gracefully and resume next time")
        finally:
            # Paused, the scheduler submits nothing while the crawls wind down; shutdown()
            # itself would let its loop submit once more to a closed executor.
            scheduler.pause()
            while self._runs:
                time.sleep(0.1)
            scheduler.shutdown(wait=True)
            _active = None
        logger.info("scheduler stopped")

    def _sync(self, scheduler: _Scheduler) -> None:
        """Make the job store match the schedule files. An unchanged schedule keeps its stored
        next run, so runs missed while the scheduler was down are caught up (once)."""
        now = datetime.now(UTC)
        for job in scheduler.get_jobs():
            if job.id not in self.schedules:
                logger.info("%s: no longer in the schedule files; removed", job.id)
                scheduler.remove_job(job.id)
        for name, schedule in self.schedules.items():
            job = scheduler.get_job(name)
            if job is not None and job.name == schedule.when():
                missed = _missed_runs(job, now)
                if missed and (now - missed[-1]).total_seconds() <= schedule.grace_time:
                    self._missed[name] = len(missed)
                    logger.info(
                        "%s: %d runs missed while the scheduler was down; catching up with one",
                        name,
                        len(missed),
                    )
                continue
            scheduler.add_job(
                fire,
                trigger=schedule.trigger(),
                args=[name],
                id=name,
                name=schedule.when(),
                misfire_grace_time=int(schedule.grace_time),
                coalesce=True,
                max_instances=1,
                replace_existing=True,
            )

    def _on_event(self, event: JobExecutionEvent) -> None:
        schedule = self.schedules.get(event.job_id)
        if event.code == EVENT_JOB_MAX_INSTANCES and schedule and schedule.poll_bounds():
            # Adaptive intervals: checks come every min_interval, and an outlet not listed
            # now stays due for the next one, so a check during a long run loses nothing.
            logger.info("%s: the previous run is still going; next check later", event.job_id)
            return
        if event.code == EVENT_JOB_MAX_INSTANCES:
            status, detail = "skipped", "not started: the previous run is still going"
        else:
            due = event.scheduled_run_time.isoformat(timespec="seconds")
            status, detail = "missed", f"due at {due}, later than the grace time allows"
        logger.warning("%s: %s", event.job_id, detail)
        with self._archive() as archive:
            history.skipped(archive, event.job_id, detail, status)

    # ------------------------------------------------------------ signals

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT stop the scheduler and are passed on once to running crawls, which
        stop gracefully; a second signal is passed on too, forcing them to stop."""
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._stop.set()
        for proc in list(self._children.values()):
            self._signalled.add(proc.pid)
            _signal(proc, signum)

    def _count_run(self, delta: int) -> None:
        with self._launch:
            self._runs += delta

    # ------------------------------------------------------------ adaptive intervals

    def _due(
        self, schedule: Schedule, outlets: list[str], every_outlet: bool
    ) -> tuple[list[str], dict[str, str]]:
        """The outlets to crawl now and why the others wait (schedules/polling.py)."""
        if schedule.poll_bounds() is None:
            return outlets, {}
        with open_archive(self.home) as archive:
            if every_outlet:
                polling.settle(archive, schedule, outlets, self.clock(), ended=False)
                return outlets, {}
            return polling.plan(archive, schedule, outlets, self.clock())

    def _launched(self, schedule: Schedule, outlets: list[str], run_id: int) -> None:
        if schedule.poll_bounds():
            with open_archive(self.home) as archive:
                polling.launched(archive, schedule, outlets, run_id, self.clock())

    def _skip_notes(self, name: str) -> list[str]:
        not_due = self._not_due.pop(name, {})
        if not_due:
            logger.info("%s: %s", name, polling.skip_note(not_due))
        return [polling.skip_note(not_due)] if not_due else []

    # ------------------------------------------------------------ helpers

    def _archive(self) -> ArchiveStore:
        return open_archive(self.home)

    def _note(self, log: IO[str], message: str, level: int = logging.INFO) -> None:
        logger.log(level, message)
        log.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} {message}\n")
        log.flush()


def _pump(stream: IO[str], log: IO[str], name: str) -> None:
    """Copy a child's output to the run's log file and to the console."""
    for line in stream:
        log.write(line)
        log.flush()
        sys.stderr.write(f"[{name}] {line}")
    stream.close()


def _signal(proc: subprocess.Popen[str], signum: int) -> None:
    with suppress(ProcessLookupError):
        os.kill(proc.pid, signum)


def _missed_runs(job: Job, now: datetime) -> list[datetime]:
    """The fire times of a stored job that passed while no scheduler ran."""
    times: list[datetime] = []
    when = job.next_run_time
    while when is not None and when <= now and len(times) < 10_000:
        times.append(when)
        when = job.trigger.get_next_fire_time(when, now)
    return times


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else "never (paused)"
