"""Kill at any moment: the real `arshif crawl` is SIGKILLed at seeded random points over
and over (crawling, writing WARC files, archiving, indexing), restarted each time, then run
to completion. Nothing may be lost, duplicated or left unreadable."""

from __future__ import annotations

import logging
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tantivy

from arshif.config import archive_path, warc_dir
from crawler.sample_server import SampleServer
from crawler.warc import iter_responses
from indexer.embedded import FOLDER
from tests.conftest import ROOT, reliability_fact, run_arshif

KILLS = 20
SLOW = (
    "--set", "DOWNLOAD_DELAY=0.1",
    "--set", "AUTOTHROTTLE_START_DELAY=0.05",
    "--set", "ARSHIF_EXTRACT_WORKERS=1",
)  # fmt: skip


def _command(server: SampleServer, *extra: str) -> list[str]:
    return [sys.executable, "-m", "arshif.cli", "crawl", "sample", "--base-url", server.base_url,
            *SLOW, *extra]  # fmt: skip


def _good_paths(manifest: dict) -> set[str]:
    return {a["path"] for a in manifest["articles"] if not a["skip_reason"]}


def indexed_rows(home: Path) -> list[int]:
    """The archive row of every live document of the embedded search index."""
    index = tantivy.Index.open(str(home / FOLDER))
    searcher = index.searcher()
    if not searcher.num_docs:
        return []
    found = searcher.search(tantivy.Query.all_query(), searcher.num_docs)
    return searcher.fast_field_values("pk", [address for _, address in found.hits])


def _state(home: Path) -> dict[str, object]:
    """What a crawl leaves behind, in comparable form."""
    with sqlite3.connect(archive_path(home)) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = db.execute(
            "SELECT pk, url, title, content_hash, index_state FROM articles"
        ).fetchall()
    fts = indexed_rows(home)
    paths = [url.split("/", 3)[3] for _, url, *_ in rows]
    assert len(paths) == len(set(paths)), "an article archived twice"
    assert sorted(fts) == sorted(pk for pk, *_ in rows), "each article indexed exactly once"
    assert {state for *_, state in rows} <= {"indexed"}, "nothing left pending"
    return {
        "paths": sorted("/" + p for p in paths),
        "titles": sorted(r[2] or "" for r in rows),
        "hashes": sorted(r[3] or "" for r in rows),
        "indexed": len(fts),
    }


def _warc_pages(home: Path) -> tuple[int, set[str]]:
    """Every WARC file read to its end: (response records, archived URL paths)."""
    count, paths = 0, set()
    for path in sorted(warc_dir(home).glob("*.warc.gz")):
        for page in iter_responses(path):
            count += 1
            paths.add("/" + page.url.split("/", 3)[3])
    return count, paths


def test_sigkill_at_random_points_loses_nothing(
    tmp_path: Path, server: SampleServer, manifest: dict, caplog: pytest.LogCaptureFixture
) -> None:
    clean_home = tmp_path / "clean"
    clean = run_arshif(clean_home, "crawl", "sample", "--base-url", server.base_url, *SLOW)
    assert clean.returncode == 0, clean.stderr[-3000:]
    expected = _state(clean_home)
    assert set(expected["paths"]) == _good_paths(manifest)  # type: ignore[arg-type]

    home = tmp_path / "killed"
    env = {**os.environ, "ARSHIF_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("ARSHIF_OUTLETS", None)
    rng = random.Random(8)
    kills, finished, attempt, mid_crawl = 0, 0, 0, 0
    articles = _good_paths(manifest)
    log = (tmp_path / "runs.log").open("w")
    while kills < KILLS:
        attempt += 1
        assert attempt <= 3 * KILLS, f"only {kills} kills landed in {attempt - 1} runs"
        # Every other run re-fetches archived articles, so kills also land in WARC and
        # archive writes of pages already kept, not only in start-up and feed reading.
        extra = ("--refresh",) if attempt % 2 == 0 else ()
        proc = subprocess.Popen(
            _command(server, *extra), cwd=ROOT, env=env, stdout=log, stderr=log,
            start_new_session=True,
        )  # fmt: skip
        before = len(server.requests)
        if attempt % 3 == 0:  # timed from the start: start-up, opening the archive
            time.sleep(rng.uniform(0.3, 2.5))
        else:  # timed from the first request: fetching, WARC, archive, indexing on close
            deadline = time.monotonic() + 30
            while len(server.requests) == before and proc.poll() is None:
                assert time.monotonic() < deadline, "the crawl never reached the server"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.3, 2.5))
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            kills += 1
            mid_crawl += any(p in articles for p in server.requests[before:])
        else:
            finished += 1
        proc.wait(timeout=30)
    log.close()
    print(f"{kills} kills survived ({mid_crawl} after article fetches began), {finished} finished")
    assert mid_crawl >= KILLS // 4, "kills must land mid-crawl, not only during start-up"

    final = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *SLOW)
    assert final.returncode == 0, final.stderr[-3000:]
    state = _state(home)
    lost = set(expected["paths"]) - set(state["paths"])  # type: ignore[call-overload]
    reliability_fact(
        "kill", kills=kills, mid_crawl=mid_crawl, finished=finished,
        articles=len(expected["paths"]), lost=len(lost),  # type: ignore[arg-type]
    )  # fmt: skip
    assert state == expected, "a killed and resumed archive matches a clean crawl"

    with caplog.at_level(logging.WARNING, logger="crawler.warc"):
        records, paths = _warc_pages(home)
    assert _good_paths(manifest) <= paths, "every archived article's page is in the WARC files"
    assert records >= len(expected["paths"])  # type: ignore[arg-type]
    torn = [r for r in caplog.records if "skipped" in r.getMessage()]
    print(f"{records} WARC records readable, {len(torn)} torn records skipped with a log line")
