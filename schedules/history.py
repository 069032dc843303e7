"""The run history of scheduled crawls, kept in the archive (`schedule_runs`, on either
backend: ArchiveStore's schedule methods).

A scheduled run crawls in a child process; each outlet's crawl records its own row in
`crawl_runs`, tagged with the schedule run's id (`ARSHIF_RUN_INFO`). When the run ends, its
row here adds those up, so `arshif schedule history` reads one line per run.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from indexer.archive_base import ArchiveStore


def start(archive: ArchiveStore, schedule: str, outlets: list[str], log_file: str) -> int:
    """A new run, 'running' until `finish`."""
    return archive.start_schedule_run(schedule, outlets, log_file, os.getpid())


def finish(archive: ArchiveStore, run_id: int, status: str, detail: str = "") -> dict[str, Any]:
    """End a run, adding up its outlets' crawl_runs rows; returns the finished row."""
    pages = new = duplicates = 0
    errors: Counter[str] = Counter()
    for run in archive.schedule_crawl_runs(run_id):
        pages += run["pages"]
        new += run["new_articles"]
        duplicates += int(run["info"].get("duplicates", 0))
        errors.update(run["errors"])
    totals = {"pages": pages, "new_articles": new, "duplicates": duplicates,
              "errors": dict(errors), "detail": detail}  # fmt: skip
    archive.end_schedule_run(run_id, status, totals)
    return recent(archive, run_id=run_id)[0]


def skipped(archive: ArchiveStore, schedule: str, detail: str, status: str = "skipped") -> None:
    """A due run that was not started (the last one still going), so the operator sees it."""
    run_id = archive.start_schedule_run(schedule, [], None, os.getpid(), status)
    totals = {"pages": 0, "new_articles": 0, "duplicates": 0, "errors": {}, "detail": detail}
    archive.end_schedule_run(run_id, status, totals)


def mark_lost(archive: ArchiveStore) -> int:
    """Runs left 'running' by a scheduler that is gone (killed, machine crash) are 'lost';
    their crawls resume from their job folders next time."""
    lost = 0
    for run_id, pid in archive.running_schedule_runs():
        if pid != os.getpid() and not _alive(pid):
            finish(archive, run_id, "lost", "the scheduler stopped during this run")
            lost += 1
    return lost


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recent(
    archive: ArchiveStore,
    limit: int = 20,
    schedule: str | None = None,
    run_id: int | None = None,
) -> list[dict[str, Any]]:
    """The latest runs, newest first, with `outlets` and `errors` decoded."""
    return archive.schedule_runs(limit, schedule, run_id)


def last_results(archive: ArchiveStore) -> dict[str, dict[str, Any]]:
    """Each schedule's latest run that was not skipped."""
    runs = (recent(archive, run_id=i)[0] for i in archive.last_schedule_runs())
    return {run["schedule"]: run for run in runs}
