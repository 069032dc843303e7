"""The run history of scheduled crawls, kept in the archive database (`schedule_runs`).

A scheduled run crawls in a child process; each outlet's crawl records its own row in
`crawl_runs`, tagged with the schedule run's id (`ARSHIF_RUN_INFO`). When the run ends, its
row here adds those up, so `arshif schedule history` reads one line per run.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from indexer.archive import Archive, now

_SCHEMA = """
CREATE TABLE IF NOT EXISTS schedule_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    schedule     TEXT NOT NULL,
    started_at   TEXT NOT NULL,
    ended_at     TEXT,
    status       TEXT NOT NULL,             -- running, finished, interrupted, timeout, ...
    outlets      TEXT NOT NULL DEFAULT '[]', -- JSON list
    pages        INTEGER NOT NULL DEFAULT 0,
    new_articles INTEGER NOT NULL DEFAULT 0,
    duplicates   INTEGER NOT NULL DEFAULT 0,
    errors       TEXT NOT NULL DEFAULT '{}', -- JSON {kind: count}
    detail       TEXT NOT NULL DEFAULT '',
    log_file     TEXT,
    pid          INTEGER                    -- the scheduler process that ran it
) STRICT
"""
COLUMNS = (
    "id", "schedule", "started_at", "ended_at", "status", "outlets", "pages", "new_articles",
    "duplicates", "errors", "detail", "log_file",
)  # fmt: skip


def ensure_table(archive: Archive) -> None:
    archive.db.execute(_SCHEMA)


def start(archive: Archive, schedule: str, outlets: list[str], log_file: str) -> int:
    """A new run, 'running' until `finish`."""
    ensure_table(archive)
    with archive.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO schedule_runs (schedule, started_at, status, outlets, log_file, pid) "
            "VALUES (?, ?, 'running', ?, ?, ?)",
            (schedule, now(), json.dumps(outlets), log_file, os.getpid()),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def finish(archive: Archive, run_id: int, status: str, detail: str = "") -> dict[str, Any]:
    """End a run, adding up its outlets' crawl_runs rows; returns the finished row."""
    pages = new = duplicates = 0
    errors: Counter[str] = Counter()
    rows = archive.db.execute(
        "SELECT pages, new_articles, errors, info FROM crawl_runs "
        "WHERE json_extract(info, '$.schedule_run') = ?",
        (run_id,),
    )
    for run_pages, run_new, run_errors, info in rows:
        pages += run_pages
        new += run_new
        duplicates += int(json.loads(info).get("duplicates", 0))
        errors.update(json.loads(run_errors))
    with archive.transaction() as conn:
        conn.execute(
            "UPDATE schedule_runs SET ended_at = ?, status = ?, pages = ?, new_articles = ?, "
            "duplicates = ?, errors = ?, detail = ? WHERE id = ?",
            (now(), status, pages, new, duplicates, json.dumps(dict(errors)), detail, run_id),
        )
    return recent(archive, run_id=run_id)[0]


def skipped(archive: Archive, schedule: str, detail: str, status: str = "skipped") -> None:
    """A due run that was not started (the last one still going), so the operator sees it."""
    ensure_table(archive)
    stamp = now()
    with archive.transaction() as conn:
        conn.execute(
            "INSERT INTO schedule_runs (schedule, started_at, ended_at, status, detail, pid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (schedule, stamp, stamp, status, detail, os.getpid()),
        )


def mark_lost(archive: Archive) -> int:
    """Runs left 'running' by a scheduler that is gone (killed, machine crash) are 'lost';
    their crawls resume from their job folders next time."""
    ensure_table(archive)
    lost = 0
    for run_id, pid in archive.db.execute(
        "SELECT id, pid FROM schedule_runs WHERE status = 'running'"
    ).fetchall():
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
    archive: Archive, limit: int = 20, schedule: str | None = None, run_id: int | None = None
) -> list[dict[str, Any]]:
    """The latest runs, newest first, with `outlets` and `errors` decoded."""
    ensure_table(archive)
    where, params = "1 = 1", []
    if schedule is not None:
        where, params = "schedule = ?", [schedule]
    if run_id is not None:
        where, params = "id = ?", [run_id]
    rows = archive.db.execute(
        f"SELECT {', '.join(COLUMNS)} FROM schedule_runs WHERE {where} ORDER BY id DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    runs = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    for run in runs:
        run["outlets"] = json.loads(run["outlets"])
        run["errors"] = json.loads(run["errors"])
    return runs


def last_results(archive: Archive) -> dict[str, dict[str, Any]]:
    """Each schedule's latest run that was not skipped."""
    ensure_table(archive)
    ids = [
        row[0]
        for row in archive.db.execute(
            "SELECT max(id) FROM schedule_runs WHERE status NOT IN ('skipped', 'missed') "
            "GROUP BY schedule"
        )
    ]
    runs = (recent(archive, run_id=i)[0] for i in ids)
    return {run["schedule"]: run for run in runs}
