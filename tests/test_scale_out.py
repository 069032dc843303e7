"""Scale-out end to end: 3 `arshif worker`s (each its own data folder, as on its own
machine) on one real Redis queue, one real PostgreSQL archive and one S3 bucket (moto),
crawling 5 sample outlets that all publish the same articles, every outlet queued twice.
First a clean run, then the same with workers SIGKILLed at seeded random moments."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from arshif.web.queries import read_raw
from bench.scale_out import Fleet
from crawler.sample_server import SampleServer
from indexer.archive_pg import PgArchive
from tests.syndicated import syndicated_outlets

OUTLETS = 5
SETTINGS = ("DOWNLOAD_DELAY=0.05", "AUTOTHROTTLE_ENABLED=False", "ARSHIF_EXTRACT_WORKERS=1")


@pytest.fixture
def fleet(
    tmp_path: Path, redis_url, postgres_url, s3_bucket, s3_server
) -> Iterator[tuple[Fleet, dict[str, SampleServer]]]:
    env = {
        "ARSHIF_REDIS_URL": redis_url,
        "ARSHIF_DATABASE_URL": postgres_url,
        "ARSHIF_WARC_URL": s3_bucket,
        "AWS_ENDPOINT_URL_S3": s3_server,
    }
    with syndicated_outlets(tmp_path / "outlets", OUTLETS) as (outlets, servers):
        fleet = Fleet(tmp_path, env, outlets)
        try:
            yield fleet, servers
        finally:
            fleet.close()


def good(manifest: dict) -> set[str]:
    return {a["path"] for a in manifest["articles"] if not a["skip_reason"]}


def check_archive(
    fleet: Fleet, servers: dict[str, SampleServer], manifest: dict, *, extra_fetches: int
) -> None:
    paths = good(manifest)
    with PgArchive(fleet.env["ARSHIF_DATABASE_URL"]) as archive:
        articles = list(archive.iter_articles())
    # (a) every article of every outlet archived exactly once ...
    urls = Counter(a.url for a in articles)
    expected = {s.base_url + p for s in servers.values() for p in paths}
    assert set(urls) == expected and max(urls.values()) == 1
    # ... and fetched once (a kill may repeat only the pages in flight).
    article_paths = {a["path"] for a in manifest["articles"]}
    fetched = sum(1 for s in servers.values() for p in s.requests if p in article_paths)
    assert (
        len(article_paths) * len(servers)
        <= fetched
        <= len(article_paths) * len(servers) + (extra_fetches)
    )
    # Every WARC pointer reads back from the bucket itself.
    nowhere = fleet.folder / "no-local-warc"  # so read_raw can only read the bucket
    for article in articles:
        assert article.warc_file.startswith(fleet.env["ARSHIF_WARC_URL"] + "/")
        raw = read_raw(nowhere, article.warc_file, article.warc_offset)
        assert raw is not None and raw.url == article.url, article.warc_file
    # (c) the clusters are those of one process: an article's copies across the outlets.
    clusters: dict[str, set[str]] = defaultdict(set)
    for article in articles:
        clusters[article.dup_cluster].add(article.url)
    one_process = {frozenset(s.base_url + p for s in servers.values()) for p in paths}
    assert {frozenset(c) for c in clusters.values()} == one_process
    # One outlet crawled by one worker at a time: its finished runs never overlap.
    with PgArchive(fleet.env["ARSHIF_DATABASE_URL"]) as archive:
        runs = archive.runs(limit=1000)
    for outlet in servers:
        spans = sorted((r["started_at"], r["ended_at"]) for r in runs if r["outlet"] == outlet)
        ended = [s for s in spans if s[1]]  # a killed crawl never recorded its end
        assert len(ended) >= 2  # queued twice
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(ended)), spans
    # No job left queued, retrying, failed or holding a lease.
    status = fleet.queue.status()
    assert (status["queued"], status["retrying"], status["dead"], status["running"]) == (
        0, 0, 0, [],
    )  # fmt: skip


def test_three_workers_five_outlets_each_queued_twice(fleet, manifest) -> None:
    fleet, servers = fleet
    for name in ("w0", "w1", "w2"):
        fleet.start(name)
    fleet.enqueue(sorted(servers), *SETTINGS)
    fleet.enqueue(sorted(servers), *SETTINGS)
    fleet.wait_idle()
    check_archive(fleet, servers, manifest, extra_fetches=0)


KILLS = 10


def test_workers_killed_at_random_moments_lose_and_repeat_nothing(fleet, manifest) -> None:
    fleet, servers = fleet
    for name in ("w0", "w1", "w2"):
        fleet.start(name)
    slow = (*SETTINGS, "DOWNLOAD_DELAY=0.6", "CONCURRENT_REQUESTS_PER_DOMAIN=2")
    fleet.enqueue(sorted(servers), *slow)
    fleet.enqueue(sorted(servers), *slow)
    rng = random.Random(20)
    kills = 0
    deadline = time.monotonic() + 300
    while kills < KILLS and time.monotonic() < deadline:
        time.sleep(rng.uniform(0.5, 4))
        victim = fleet.holder()
        if victim is not None:
            fleet.kill(victim)  # restarted on the same data folder: its open WARC goes up
            kills += 1
    assert kills == KILLS, "the crawls ended before every kill"
    fleet.wait_idle()
    check_archive(fleet, servers, manifest, extra_fetches=KILLS * 2 * 2)
