"""Scheduled runs on the PostgreSQL archive: `schedule once` crawls into PostgreSQL (or,
with a queue, queues the crawls) and the run history is kept there, read back by
`schedule history` and `schedule list`; nothing is written to an SQLite archive."""

from __future__ import annotations

from pathlib import Path

import pytest

from arshif.config import archive_path
from indexer.archive_pg import PgArchive
from schedules import history
from tests.conftest import run_arshif
from tests.test_schedules import write_schedule


@pytest.fixture
def on_pg(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("ARSHIF_DATABASE_URL", postgres_url)
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("ARSHIF_REDIS_URL", raising=False)
    monkeypatch.delenv("ARSHIF_ES_URL", raising=False)
    return postgres_url


def test_a_scheduled_crawl_is_recorded_in_postgresql(home: Path, server, tmp_path, on_pg) -> None:
    folder = write_schedule(tmp_path / "schedules", server.base_url, "1h", {"DOWNLOAD_DELAY": 0})
    result = run_arshif(home, "schedule", "once", "sample-fast", "--schedules", str(folder))
    assert result.returncode == 0, result.stderr[-3000:]
    with PgArchive(on_pg) as archive:
        (run,) = history.recent(archive)
        (crawl,) = archive.runs()
        articles = archive.count()
    assert run["schedule"] == "sample-fast" and run["status"] == "finished", run
    assert crawl["info"]["schedule_run"] == run["id"]
    assert run["new_articles"] == articles > 0 and run["pages"] == crawl["pages"] > 0
    assert not archive_path(home).exists()
    shown = run_arshif(home, "schedule", "history", "--schedules", str(folder))
    assert shown.returncode == 0 and "sample-fast" in shown.stdout and "finished" in shown.stdout
    listed = run_arshif(home, "schedule", "list", "--schedules", str(folder))
    assert listed.returncode == 0 and f"{articles} new" in listed.stdout, listed.stdout


def test_a_queued_run_is_recorded_in_postgresql(
    home: Path, server, tmp_path, on_pg, redis_url, monkeypatch
) -> None:
    monkeypatch.setenv("ARSHIF_REDIS_URL", redis_url)
    folder = write_schedule(tmp_path / "schedules", server.base_url, "1h", {"DOWNLOAD_DELAY": 0})
    result = run_arshif(home, "schedule", "once", "sample-fast", "--schedules", str(folder))
    assert result.returncode == 0, result.stderr[-3000:]
    with PgArchive(on_pg) as archive:
        (run,) = history.recent(archive)
    assert run["status"] == "queued" and run["detail"] == "1 crawl jobs queued"
    assert not archive_path(home).exists()
