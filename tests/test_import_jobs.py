"""Import jobs for `arshif worker`s (a real redis-server and PostgreSQL): `arshif import
--enqueue` queues one job per source; a worker SIGKILLed mid-import has its job redelivered
to another, which resumes at the position the shared archive holds, so every record is
archived once and none is loaded twice."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from arshif.workqueue import Queue
from indexer.archive_pg import PgArchive
from tests.conftest import run_arshif
from tests.test_import_jsonl import real_records, write_jsonl
from tests.test_workqueue import QUICK, wait_idle, workers  # noqa: F401 (the fixture)


@pytest.fixture
def env(home: Path, postgres_url: str, redis_url: str, monkeypatch) -> None:
    """The archive in PostgreSQL for this process and the workers it starts."""
    for name, value in {"ARSHIF_REDIS_URL": redis_url, "ARSHIF_DATABASE_URL": postgres_url,
                        **QUICK}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ARSHIF_ES_URL", raising=False)


def position(url: str, source: Path) -> int:
    with PgArchive(url) as archive:
        row = archive.import_state(str(source))
    return row[1] if row else 0


def test_a_killed_import_job_resumes_on_another_worker(
    tmp_path,
    home,
    env,
    workers,  # noqa: F811
    postgres_url,
    redis_url,
) -> None:
    records = real_records(copies=6)
    source = write_jsonl(tmp_path / "big.jsonl", records)
    queued = run_arshif(home, "import", str(source), "--enqueue")
    assert queued.returncode == 0, queued.stderr
    assert f"queued the import of {source}" in " ".join(queued.stdout.split())
    queue = Queue(redis_url)
    assert queue.status()["queued"] == 1
    shown = run_arshif(home, "stats")  # the archive's tables and the queue, on PostgreSQL
    assert shown.returncode == 0, shown.stderr
    text = " ".join(shown.stdout.split())
    assert "workers │ none" in text and "jobs waiting │ 1" in text, text
    first = workers()
    deadline = time.monotonic() + 180
    while position(postgres_url, source) == 0:
        assert first.poll() is None and time.monotonic() < deadline, "the import started"
        assert queue.status()["dead"] == 0, (home.parent / "worker-0.log").read_text()[-3000:]
        time.sleep(0.05)
    running = queue.status()["running"]
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert [r["job"] for r in running] == [f"import {source}"]
    with PgArchive(postgres_url) as archive:
        kept = archive.count()
    assert 0 < kept < len(records)
    workers()  # takes the job once the dead worker's heartbeat is missed
    wait_idle(queue)
    with PgArchive(postgres_url) as archive:
        urls = [a.url for a in archive.iter_articles()]
        size, _, done, _, counts = archive.import_state(str(source))
    assert len(urls) == len(set(urls)) == len({r["url"] for r in records})
    assert done and size == source.stat().st_size
    assert '"updated"' not in counts, "nothing archived before the kill was loaded again"
    status = queue.status()
    assert status["running"] == [] and status["dead"] == 0
    again = run_arshif(home, "import", str(source))  # by hand: the source is done
    assert "already imported" in again.stdout, again.stderr
    assert not (home / "archive.sqlite").exists()


def test_enqueue_without_a_queue_is_a_clear_error(tmp_path, home, monkeypatch) -> None:
    monkeypatch.delenv("ARSHIF_REDIS_URL", raising=False)
    source = write_jsonl(tmp_path / "in.jsonl", real_records()[:2])
    out = run_arshif(home, "import", str(source), "--enqueue")
    assert out.returncode == 2 and "ARSHIF_REDIS_URL" in out.stderr
