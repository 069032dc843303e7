"""Crawl workers on a Dramatiq queue in a real redis-server: jobs queued by hand, an outlet
queued twice, a worker SIGKILLed mid-crawl and its job redelivered to another."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from arshif.config import archive_path
from arshif.workqueue import QUEUE, Queue
from indexer.archive import Archive
from tests.conftest import ROOT, run_arshif
from tests.test_schedules import write_schedule

QUICK = {"ARSHIF_QUEUE_HEARTBEAT": "3", "ARSHIF_LEASE_SECONDS": "3"}


@pytest.fixture
def workers(home: Path, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[list]:
    """Start `arshif worker`s with `start()`; all are stopped after the test."""
    for name, value in {"ARSHIF_REDIS_URL": redis_url, **QUICK}.items():
        monkeypatch.setenv(name, value)
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        env = {**os.environ, "ARSHIF_HOME": str(home), "PYTHONUNBUFFERED": "1"}
        log = (home.parent / f"worker-{len(procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "arshif.cli", "worker"], env=env, cwd=ROOT, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        procs.append(proc)
        return proc

    yield start  # type: ignore[misc]
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def wait_idle(queue: Queue, timeout: float = 240) -> None:
    """Until every job is done: none queued, retrying or held by a worker."""
    queue.broker.join(QUEUE, timeout=int(timeout * 1000))


def crawl_children(home: Path) -> list[int]:
    """Processes crawling into this data folder (a worker's children name it)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            args = proc.joinpath("cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"crawl" in args and str(home).encode() in args:
            found.append(int(proc.name))
    return found


def wait_gone(home: Path, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while crawl_children(home):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def archived(home: Path) -> Counter[str]:
    with Archive(archive_path(home)) as archive:
        return Counter(a.url.split("/", 3)[3] for a in archive.iter_articles())


def good(manifest: dict) -> set[str]:
    return {a["path"].lstrip("/") for a in manifest["articles"] if not a["skip_reason"]}


def enqueue(home: Path, server, *extra: str) -> None:
    result = run_arshif(
        home, "crawl", "sample", "--enqueue", "--base-url", server.base_url,
        "--set", "DOWNLOAD_DELAY=0", *extra,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "queued the crawl of sample" in result.stdout


def test_queued_twice_each_article_fetched_and_archived_once(
    home, server, manifest, workers, redis_url
) -> None:
    workers()
    workers()
    enqueue(home, server)
    enqueue(home, server)
    queue = Queue(redis_url)
    deadline = time.monotonic() + 60
    while len(queue.status()["workers"]) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    wait_idle(queue)
    shown = run_arshif(home, "stats", "--json")
    assert shown.returncode == 0, shown.stderr
    assert len(json.loads(shown.stdout)["queue"]["workers"]) == 2
    rows = archived(home)
    assert set(rows) == good(manifest) and max(rows.values()) == 1
    paths = {"/" + p for p in good(manifest)}
    fetched = Counter(p for p in server.requests if p in paths)
    assert set(fetched) == paths and max(fetched.values()) == 1, "each article fetched once"
    status = queue.status()
    assert status["running"] == [] and status["queued"] == status["dead"] == 0


def test_enqueue_without_a_queue_is_a_clear_error(home, monkeypatch) -> None:
    monkeypatch.delenv("ARSHIF_REDIS_URL", raising=False)
    result = run_arshif(home, "crawl", "sample", "--enqueue")
    assert result.returncode == 2 and "ARSHIF_REDIS_URL" in result.stderr


def test_killed_worker_job_is_redelivered_and_resumes(
    home, server, manifest, workers, redis_url
) -> None:
    first = workers()
    enqueue(home, server, "--set", "DOWNLOAD_DELAY=0.4", "--set", "ARSHIF_COMMIT_ITEMS=1")
    queue = Queue(redis_url)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if archive_path(home).exists() and sum(archived(home).values()) >= 2:
            break
        time.sleep(0.2)
    (lease,) = queue.status()["running"]
    assert lease["worker"].endswith(f":{first.pid}")
    assert crawl_children(home), "the crawl runs in a child of the worker"
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert wait_gone(home), "the killed worker's crawl child died with it"
    before = sum(archived(home).values())
    assert before < len(good(manifest)), "killed before the crawl ended"
    workers()  # another worker takes the redelivered job once the dead one's heartbeat ages
    wait_idle(queue)
    rows = archived(home)
    assert set(rows) == good(manifest) and max(rows.values()) == 1
    paths = {"/" + p for p in good(manifest)}
    fetched = Counter(p for p in server.requests if p in paths)
    # Nothing archived was fetched again; only a page in flight at the kill may be.
    assert sum(fetched.values()) - len(paths) <= 2
    assert queue.status()["running"] == []


def test_schedule_run_queues_jobs_for_the_workers(
    home, server, manifest, tmp_path, workers, redis_url
) -> None:
    folder = write_schedule(tmp_path / "schedules", server.base_url, "1h", {"DOWNLOAD_DELAY": 0})
    result = run_arshif(home, "schedule", "once", "sample-fast", "--schedules", str(folder))
    assert result.returncode == 0, result.stderr
    queue = Queue(redis_url)
    assert queue.status()["queued"] == 1
    assert archived(home) == Counter()  # queued, not crawled here
    workers()
    wait_idle(queue)
    assert set(archived(home)) == good(manifest)
    with Archive(archive_path(home)) as archive:
        (run,) = archive.runs()
    assert run["info"]["schedule"] == "sample-fast" and run["status"] == "finished"
    shown = run_arshif(home, "schedule", "history")
    assert "queued" in shown.stdout, shown.stdout


def test_an_outlet_lease_is_held_by_one_worker_until_released_or_expired(redis_url) -> None:
    first = Queue(redis_url, {"ARSHIF_LEASE_SECONDS": "1"})
    second = Queue(redis_url, {"ARSHIF_LEASE_SECONDS": "1"})
    assert first.acquire("sample", "a")
    assert not second.acquire("sample", "b")  # busy: the job waits and retries
    assert first.acquire("other", "a")  # another outlet is free
    assert not second.renew("sample", "b") and first.renew("sample", "a")
    second.release("sample", "b")  # only the holder can release
    assert not second.acquire("sample", "b")
    first.release("sample", "a")
    assert second.acquire("sample", "b")
    time.sleep(1.3)  # a dead holder's lease expires unrenewed
    assert first.acquire("sample", "a")


def test_sigterm_stops_the_crawl_and_puts_its_job_back(
    home, server, manifest, workers, redis_url
) -> None:
    first = workers()
    enqueue(home, server, "--set", "DOWNLOAD_DELAY=0.5", "--set", "ARSHIF_COMMIT_ITEMS=1")
    queue = Queue(redis_url)
    deadline = time.monotonic() + 120
    while not queue.status()["running"] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert queue.status()["running"], "the crawl started"
    first.send_signal(signal.SIGTERM)
    assert first.wait(60) == 0
    assert wait_gone(home), "the crawl child stopped with the worker"
    status = queue.status()
    assert status["running"] == [] and status["queued"] + status["retrying"] == 1
    workers()  # the job is taken again and finishes the outlet
    wait_idle(queue)
    rows = archived(home)
    assert set(rows) == good(manifest) and max(rows.values()) == 1
