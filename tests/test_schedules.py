"""Scheduled crawls: the real `arshif schedule` command in child processes, seconds-interval
schedules against the sample outlet on 127.0.0.1, the run history in the real archive."""

from __future__ import annotations

import io
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from arshif.config import archive_path, job_dir
from crawler.sample_server import SampleServer
from indexer.archive import Archive
from indexer.health import source_health
from indexer.stats import render_health, stats
from schedules import history
from schedules.config import ScheduleConfigError, load_schedules, parse_duration
from schedules.runner import stored_next_runs
from tests.conftest import ROOT, run_arshif

FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0.05, "ARSHIF_EXTRACT_WORKERS": 1}
SLOW = {  # about a quarter second per page, one at a time: a crawl long enough to interrupt
    "DOWNLOAD_DELAY": 0.25,
    "RANDOMIZE_DOWNLOAD_DELAY": False,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS": 1,
    "ARSHIF_EXTRACT_WORKERS": 1,
}


def write_schedule(
    folder: Path, base_url: str, interval: str, settings: dict, extra: str = ""
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"      {k}: {v}\n" for k, v in settings.items())
    (folder / "test.yaml").write_text(
        "schedules:\n"
        "  - name: sample-fast\n"
        f"    interval: {interval}\n"
        "    timezone: UTC\n"
        "    outlets: [sample]\n"
        f"    base_url: {base_url}\n"
        "    grace_time: 1m\n"
        f"{extra}"
        f"    settings:\n{lines}",
        encoding="utf-8",
    )
    return folder


def start_scheduler(home: Path, schedules: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ARSHIF_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("ARSHIF_OUTLETS", None)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "arshif.cli", "schedule", "run", "--schedules", str(schedules)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env=env,
        )


@pytest.fixture
def scheduler_log(tmp_path: Path) -> Iterator[Path]:
    log = tmp_path / "scheduler.log"
    yield log


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Schedulers started by a test; any still running at the end are killed."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def wait_for(check: Callable[[], object], what: str, timeout: float = 90) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def runs(home: Path) -> list[dict]:
    """Scheduled runs, oldest first."""
    if not archive_path(home).exists():
        return []
    with Archive(archive_path(home)) as archive:
        return list(reversed(history.recent(archive, 1000)))


def finished_runs(home: Path) -> list[dict]:
    return [r for r in runs(home) if r["status"] not in ("running", "skipped")]


def archived_paths(home: Path) -> list[str]:
    if not archive_path(home).exists():
        return []
    with sqlite3.connect(archive_path(home)) as db:
        try:
            rows = db.execute("SELECT url FROM articles").fetchall()
        except sqlite3.OperationalError:
            return []
    return ["/" + url.split("/", 3)[3] for (url,) in rows]


def add_article(site: Path, manifest: dict, new_path: str) -> None:
    """A new article on the site and in its feed."""
    src = next(a for a in manifest["articles"] if a["kind"] == "arabic")["path"]
    page = (site / src.lstrip("/")).read_text(encoding="utf-8")
    target = site / new_path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page.replace(src, new_path).replace("</h1>", " (جديد)</h1>", 1), "utf-8")
    rss = (site / "rss.xml").read_text(encoding="utf-8")
    item = f"<item><title>جديد</title><link>__BASE_URL__{new_path}</link></item>"
    (site / "rss.xml").write_text(rss.replace("</channel>", item + "</channel>"), "utf-8")


def good(manifest: dict) -> set[str]:
    return {a["path"] for a in manifest["articles"] if not a["skip_reason"]}


def stop(proc: subprocess.Popen[bytes], log: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0, log.read_text()[-3000:]
    return log.read_text(encoding="utf-8", errors="replace")


def test_runs_on_schedule_then_catches_up_once_after_sigkill(
    home, server: SampleServer, site, manifest, tmp_path, scheduler_log, procs
) -> None:
    interval = 10
    folder = write_schedule(tmp_path / "schedules", server.base_url, f"{interval}s", FAST)
    procs.append(start_scheduler(home, folder, scheduler_log))

    # The first run archives the whole site.
    (first,) = wait_for(lambda: finished_runs(home), "the first run")
    assert (first["status"], first["new_articles"]) == ("finished", len(good(manifest)))
    assert "pages fetched" in Path(first["log_file"]).read_text(encoding="utf-8")

    # Killed outright between two runs (none going, the next one a while away) ...
    while True:
        wait_for(lambda: not [r for r in runs(home) if r["status"] == "running"], "no run")
        count = len(finished_runs(home))
        next_due = stored_next_runs(home)["sample-fast"]
        if (next_due - datetime.now(UTC)).total_seconds() > 2:
            break
        wait_for(lambda: len(finished_runs(home)) > count, "the run due now")  # noqa: B023
    procs[0].kill()
    procs[0].wait()
    # ... while an article appears and two due times pass, ...
    mark = len(server.requests)
    add_article(site, manifest, "/news/2026/11/22/while-down.html")
    restart_at = next_due + timedelta(seconds=interval + 0.5)
    time.sleep(max(0.0, (restart_at - datetime.now(UTC)).total_seconds()))
    # ... the scheduler, restarted, catches up with one run that archives only that article.
    restarted = datetime.now(UTC)
    second_log = tmp_path / "scheduler-2.log"
    procs.append(start_scheduler(home, folder, second_log))
    wait_for(lambda: len(finished_runs(home)) > count, "the catch-up run")
    log = stop(procs[1], second_log)
    catch_up = finished_runs(home)[count]
    assert catch_up["status"] == "finished" and catch_up["new_articles"] == 1, catch_up
    assert catch_up["duplicates"] >= len(good(manifest)), "archived articles not fetched again"
    assert re.fullmatch(r"caught up [2-9] missed runs in one", catch_up["detail"]), catch_up
    assert "catching up with one" in log
    # APScheduler logs each run time it runs: only one of those due before the restart.
    due = [datetime.fromisoformat(t) for t in re.findall(r"\(scheduled at ([^)]+)\)", log)]
    assert len([t for t in due if t < restarted]) == 1, log
    fetched = [p for p in server.requests[mark:] if p.startswith("/news/")]
    assert fetched == ["/news/2026/11/22/while-down.html"]

    done = [r for r in runs(home) if r["status"] != "skipped"]
    assert all(a["ended_at"] <= b["started_at"] for a, b in zip(done, done[1:], strict=False))
    paths = archived_paths(home)
    assert sorted(paths) == sorted(set(paths)), "no duplicate articles"
    assert set(paths) == good(manifest) | {"/news/2026/11/22/while-down.html"}


def test_overlap_is_skipped_and_sigterm_leaves_a_resumable_job(
    home, server: SampleServer, manifest, tmp_path, scheduler_log, procs, monkeypatch
) -> None:
    monkeypatch.setenv("COLUMNS", "250")  # wide tables, for `schedule list` and `history`
    folder = write_schedule(tmp_path / "schedules", server.base_url, "1s", SLOW)
    procs.append(start_scheduler(home, folder, scheduler_log))
    wait_for(lambda: any(r["status"] == "running" for r in runs(home)), "a run to start")

    # The same outlets cannot be crawled twice at once, not even from another process.
    other = run_arshif(home, "schedule", "once", "sample-fast", "--schedules", str(folder))
    assert other.returncode == 2
    assert "outlet sample is still being crawled" in other.stderr

    wait_for(lambda: len(archived_paths(home)) >= 3, "a few archived articles")
    log = stop(procs[0], scheduler_log)
    partial = set(archived_paths(home))
    assert 3 <= len(partial) < len(good(manifest))

    done = [r for r in runs(home) if r["status"] not in ("skipped",)]
    assert [r["status"] for r in done] == ["interrupted"], done
    skipped = [r for r in runs(home) if r["status"] == "skipped"]
    assert any("previous run is still going" in r["detail"] for r in skipped)
    assert any("still being crawled" in r["detail"] for r in skipped)
    assert "stop gracefully" in log
    with Archive(archive_path(home)) as archive:
        (crawl,) = archive.runs()
    assert crawl["status"] == "shutdown", "Scrapy stopped gracefully"
    assert job_dir(home, "sample").exists(), "the interrupted crawl keeps its job folder"

    # The next run resumes: nothing archived is lost or fetched again.
    mark = len(server.requests)
    again = run_arshif(home, "schedule", "once", "sample-fast", "--schedules", str(folder))
    assert again.returncode == 0, again.stderr[-3000:]
    assert set(archived_paths(home)) == good(manifest)
    assert not [p for p in server.requests[mark:] if p in partial]
    assert not job_dir(home, "sample").exists()
    listing = run_arshif(home, "schedule", "list", "--schedules", str(folder))
    assert "sample-fast" in listing.stdout and "finished" in listing.stdout
    hist = run_arshif(home, "schedule", "history", "--schedules", str(folder))
    assert "interrupted" in hist.stdout and "skipped" in hist.stdout


def test_max_run_time_stops_the_crawl_gracefully(home, server: SampleServer, tmp_path) -> None:
    # A loaded machine can take 10 s to start Python, Scrapy and the extraction workers: the
    # limit leaves room for that and still ends a crawl that would take about 40 s.
    extra = "    max_run_time: 25s\n"
    slower = {**SLOW, "DOWNLOAD_DELAY": 1.5}
    folder = write_schedule(tmp_path / "schedules", server.base_url, "1h", slower, extra)
    out = run_arshif(home, "schedule", "once", "sample-fast", "--schedules", str(folder))
    assert out.returncode == 1, out.stderr[-3000:]
    assert "maximum run time 25s reached" in out.stderr
    (run,) = runs(home)
    assert run["status"] == "timeout" and run["pages"] > 0
    with Archive(archive_path(home)) as archive:
        assert archive.runs()[0]["status"] == "shutdown", "stopped gracefully, not killed"
    assert job_dir(home, "sample").exists(), "the next run resumes"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("  - name: x\n    interval: soon\n    outlets: all\n", "field 'interval'"),
        ("  - name: x\n    cron: '0 * * *'\n    outlets: all\n", "field 'cron'"),
        ("  - name: x\n    cron: '0 9 * * 1'\n    outlets: all\n", "field 'cron'"),
        ("  - name: x\n    interval: 5m\n    outlets: [nowhere]\n", "field 'outlets'"),
        ("  - name: x\n    interval: 5m\n    outlets: all\n    timezone: Mars/Olympus\n", "field 'timezone'"),
        ("  - name: x\n    interval: 5m\n    outlets: all\n    jiter: 1m\n", "field 'jiter'"),
        ("  - name: Bad Name\n    interval: 5m\n    outlets: all\n", "field 'name'"),
    ],
)  # fmt: skip
def test_bad_schedule_file_is_refused_naming_file_and_field(tmp_path, body, field) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schedules:\n" + body, encoding="utf-8")
    with pytest.raises(ScheduleConfigError) as err:
        load_schedules(bad)
    assert str(bad) in str(err.value) and field in str(err.value)


def test_bad_schedule_file_stops_the_scheduler_at_start(home, tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("schedules:\n  - name: x\n    interval: -5\n    outlets: all\n", "utf-8")
    out = run_arshif(home, "schedule", "run", "--schedules", str(bad), timeout=60)
    assert out.returncode == 2
    assert str(bad) in out.stderr and "field 'interval'" in out.stderr
    assert "Traceback" not in out.stderr


def test_shipped_schedules_load_and_list(home) -> None:
    schedules = load_schedules()
    assert {"hourly", "daily"} <= set(schedules)
    assert all(s.max_run_time for s in schedules.values())
    out = run_arshif(home, "schedule", "list")
    assert out.returncode == 0, out.stderr
    assert "hourly" in out.stdout and "never run" in out.stdout


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("1h30m") == 5400
    assert parse_duration(15) == 15
    for bad in ("", "5 minutes", 0, True):
        with pytest.raises(ValueError):
            parse_duration(bad)


def _crawl(archive: Archive, outlet: str, at: datetime, new: int, pages: int, errors: dict) -> None:
    run = archive.start_run(outlet)
    archive.finish_run(
        run, status="finished", pages=pages, new_articles=new, skipped=0, errors=errors
    )
    archive.db.execute("UPDATE crawl_runs SET started_at = ? WHERE id = ?", (at.isoformat(), run))


def test_source_health_flags_quiet_and_failing_outlets(tmp_path) -> None:
    now = datetime(2026, 11, 23, 12, tzinfo=UTC)
    with Archive(tmp_path / "archive.sqlite") as archive:
        hour = timedelta(hours=1)
        for n in range(10, 0, -1):  # hourly crawls, each with news, until ten hours ago
            _crawl(archive, "quiet", now - (n + 6) * hour, 5, 20, {})
        for n in range(6, 0, -1):
            _crawl(archive, "quiet", now - n * hour, 0, 3, {})
        for n in range(10, 0, -1):
            _crawl(archive, "steady", now - n * hour, 4, 20, {"http_404": 1})
        for n in range(10, 1, -1):
            _crawl(archive, "blocked", now - n * hour, 4, 20, {})
        _crawl(archive, "blocked", now - hour, 0, 20, {"http_403": 18})
        health = source_health(archive, now=now)
        assert set(health) == {"quiet", "blocked"}
        assert "no new articles for 7 h" in health["quiet"][0]
        assert "usually every 1 h" in health["quiet"][0]
        assert "error rate 90%" in health["blocked"][0] and "http_403 18" in health["blocked"][0]
        assert set(stats(archive)["health"]) >= {"blocked"}
    out = io.StringIO()
    render_health(health, Console(file=out, width=200))
    assert "source health: blocked: error rate 90%" in out.getvalue()
