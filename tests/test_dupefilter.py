"""The crawl's duplicate filter keeps its fingerprints in a SQLite file of one run: repeats
within a run are filtered, a resumed run starts afresh, memory does not grow with the crawl."""

from __future__ import annotations

import hashlib
import sqlite3
import tracemalloc
from pathlib import Path

from scrapy import Request

from crawler.dupefilter import SEEN_FILE, DiskDupeFilter


def test_repeats_within_a_run_are_seen(tmp_path: Path) -> None:
    df = DiskDupeFilter(tmp_path / "job")
    df.open()
    assert df.request_seen(Request("https://n.example/a/1")) is False
    assert df.request_seen(Request("https://n.example/a/1")) is True
    assert df.request_seen(Request("https://n.example/a/1#frag")) is True  # same fingerprint
    assert df.request_seen(Request("https://n.example/a/2")) is False
    assert df.request_seen(Request("https://n.example/a/1", method="POST")) is False
    assert df.count() == 3
    path = tmp_path / "job" / SEEN_FILE
    assert path.exists()
    assert not (tmp_path / "job" / "requests.seen").exists(), "nothing for a resumed run"
    df.close("finished")
    assert not path.exists(), "the file belongs to one run"


def test_a_resumed_run_does_not_inherit_the_stopped_runs_fingerprints(tmp_path: Path) -> None:
    """A killed crawl leaves its file behind (close never ran); the next run must fetch the
    requests that were in flight, so it starts from an empty file."""
    killed = DiskDupeFilter(tmp_path)
    killed.open()
    for n in range(2500):  # past a batch, so some were committed to the file
        killed.request_seen(Request(f"https://n.example/a/{n}"))
    assert killed.db is not None
    killed.db.close()  # the process dies: no close(), the file stays
    assert (tmp_path / SEEN_FILE).exists()

    resumed = DiskDupeFilter(tmp_path)
    resumed.open()
    assert resumed.request_seen(Request("https://n.example/a/1")) is False
    assert resumed.count() == 1
    resumed.close("shutdown")


def test_without_a_job_folder_a_temporary_file_is_used_and_removed() -> None:
    df = DiskDupeFilter(None)
    assert df.request_seen(Request("https://n.example/a/1")) is False  # before open(), too
    assert df.request_seen(Request("https://n.example/a/1")) is True
    assert df.path is not None and df.path.exists()
    path = df.path
    df.close("finished")
    assert not path.exists()


class _Sha1:
    """Stands in for Scrapy's fingerprinter so the test measures the filter, not Request."""

    def fingerprint(self, request: object) -> bytes:
        return hashlib.sha1(str(request).encode()).digest()


def test_100k_fingerprints_live_in_the_file_not_in_python_memory(tmp_path: Path) -> None:
    df = DiskDupeFilter(tmp_path, fingerprinter=_Sha1())
    df.open()
    for n in range(1000):  # warm-up: statement cache, first pages
        df.request_seen(f"warm-{n}")  # type: ignore[arg-type]
    tracemalloc.start()
    try:
        for n in range(100_000):
            assert df.request_seen(f"https://n.example/a/{n}") is False  # type: ignore[arg-type]
        for n in range(0, 100_000, 97):
            assert df.request_seen(f"https://n.example/a/{n}") is True  # type: ignore[arg-type]
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A Python set of 100k 20-byte fingerprints alone takes ~8 MB.
    assert peak < 512 * 1024, f"Python memory peaked at {peak / 1e6:.1f} MB"
    # 101 batches: all committed, so another connection reads them from the file.
    with sqlite3.connect(tmp_path / SEEN_FILE) as db:
        assert db.execute("SELECT count(*) FROM seen").fetchone() == (101_000,)
    df.close("finished")
