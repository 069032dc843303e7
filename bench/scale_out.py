"""Scale-out: `arshif worker`s sharing one Redis queue, one PostgreSQL archive and one S3
bucket, each worker with its own data folder as on its own machine, crawling several
sample outlets that syndicate each other's articles. Used by tests/test_scale_out.py and
run as a benchmark (articles archived per second with 1, 2 and 3 workers):

    .venv/bin/python -m bench.scale_out
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from arshif.workqueue import QUEUE, Queue
from bench.results import write_section

ROOT = Path(__file__).resolve().parent.parent
QUICK = {"ARSHIF_QUEUE_HEARTBEAT": "3", "ARSHIF_LEASE_SECONDS": "3"}


class Fleet:
    """Workers started and killed at will; every one is stopped on `close`."""

    def __init__(self, folder: Path, env: dict[str, str], outlets: Path) -> None:
        self.folder = folder
        self.env = {**os.environ, **QUICK, **env, "PYTHONUNBUFFERED": "1"}
        self.env.pop("ARSHIF_OUTLETS", None)
        self.outlets = outlets
        self.queue = Queue(env["ARSHIF_REDIS_URL"], self.env)
        self.workers: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str) -> subprocess.Popen[bytes]:
        """A worker with the data folder `name` (a restart keeps the name: same machine)."""
        home = self.folder / name
        home.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{name}.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "arshif.cli", "worker", "--outlets", str(self.outlets),
                 "--data-dir", str(home)],
                env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.workers[name] = proc
        return proc

    def enqueue(self, outlets: list[str], *settings: str) -> None:
        sets = [arg for s in settings for arg in ("--set", s)]
        subprocess.run(
            [sys.executable, "-m", "arshif.cli", "crawl", *outlets, "--enqueue",
             "--outlets", str(self.outlets), *sets],
            env=self.env, cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip

    def holder(self) -> str | None:
        """The name of a worker holding a crawl lease right now, if any."""
        pids = {str(p.pid): name for name, p in self.workers.items() if p.poll() is None}
        for lease in self.queue.status()["running"]:
            name = pids.get(lease["worker"].rsplit(":", 1)[1])
            if name:
                return name
        return None

    def kill(self, name: str) -> None:
        """SIGKILL a worker, wait until its crawl child died with it, start it again."""
        proc = self.workers[name]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        home = str(self.folder / name).encode()
        deadline = time.monotonic() + 15
        while _children_of(home) and time.monotonic() < deadline:
            time.sleep(0.1)
        self.start(name)

    def wait_idle(self, timeout: float = 600) -> None:
        self.queue.broker.join(QUEUE, timeout=int(timeout * 1000))

    def close(self) -> None:
        for proc in self.workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.workers.values():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()


def _children_of(home: bytes) -> bool:
    """Whether a crawl into this data folder is still running."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            args = proc.joinpath("cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"crawl" in args and home in args:
            return True
    return False


@contextmanager
def services(folder: Path) -> Iterator[dict[str, str]]:
    """Redis, PostgreSQL and S3 on loopback; the settings pointing at them."""
    import boto3
    import psycopg

    from tests.services import running_postgres, running_redis, running_s3

    with ExitStack() as stack:
        redis_url = stack.enter_context(running_redis())
        pg = stack.enter_context(running_postgres())
        s3 = stack.enter_context(running_s3())
        with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE arshif")
        boto3.client("s3", endpoint_url=s3).create_bucket(Bucket="warc")
        yield {
            "ARSHIF_REDIS_URL": redis_url,
            "ARSHIF_DATABASE_URL": f"{pg}/arshif",
            "ARSHIF_WARC_URL": "s3://warc/crawl",
            "AWS_ENDPOINT_URL_S3": s3,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }


def measure(workers: int, outlets: int) -> tuple[int, float]:
    """Articles archived and seconds taken by `workers` workers crawling `outlets` outlets."""
    from indexer.archive_pg import PgArchive
    from tests.syndicated import syndicated_outlets

    with (
        tempfile.TemporaryDirectory(prefix="arshif-scale-") as tmp,
        services(Path(tmp)) as env,
        syndicated_outlets(Path(tmp) / "outlets", outlets) as (path, servers),
    ):
        fleet = Fleet(Path(tmp), env, path)
        try:
            for n in range(workers):
                fleet.start(f"w{n}")
            time.sleep(3)  # the workers' start (imports) is not crawl time
            started = time.monotonic()
            fleet.enqueue(
                sorted(servers),
                "DOWNLOAD_DELAY=0",
                "AUTOTHROTTLE_ENABLED=False",
                "ARSHIF_EXTRACT_WORKERS=1",
            )
            fleet.wait_idle()
            seconds = time.monotonic() - started
        finally:
            fleet.close()
        with PgArchive(env["ARSHIF_DATABASE_URL"]) as archive:
            return archive.count(), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # 6: as many jobs for each worker with 1, 2 or 3 of them.
    parser.add_argument("--outlets", type=int, default=6, help="sample outlets (default 6)")
    args = parser.parse_args()
    rows = []
    for workers in (1, 2, 3):
        articles, seconds = measure(workers, args.outlets)
        rows.append((workers, articles, seconds))
        print(f"{workers} workers: {articles} articles in {seconds:.1f} s", flush=True)
    base = rows[0][1] / rows[0][2]
    table = "\n".join(
        f"| {w} | {a} | {s:.1f} | {a / s:.2f} | {a / s / base:.2f}× |" for w, a, s in rows
    )
    write_section(
        "Scale-out: crawl workers on one queue, archive and bucket",
        f"{args.outlets} sample outlets on 127.0.0.1 (each serving the same {rows[0][1] // args.outlets} "
        "articles: syndicated copies across outlets), no download delay; one Redis, one "
        "PostgreSQL, one moto S3, all on this machine. Time from enqueueing to the queue "
        "empty.\n\n"
        "| workers | articles | seconds | articles/s | vs 1 worker |\n|---|---|---|---|---|\n"
        f"{table}\n\n"
        f"This machine has {os.cpu_count()} cores, shared by the workers' crawl processes "
        "(extraction in the crawl process, ARSHIF_EXTRACT_WORKERS=1), PostgreSQL, Redis, the "
        "S3 server and the sample servers, and, while measured, by other jobs (load average "
        f"{os.getloadavg()[0]:.0f} at the end). A job is a "
        "whole `arshif crawl` process (Python, Scrapy and the extraction start again) for "
        "only ~22 articles, so start-up is much of each job's time, and it is CPU time: past "
        "one or two workers the crawls compete for the same two cores instead of adding any. "
        "The figures show the queue's overhead; the scaling comes from separate machines.",
    )


if __name__ == "__main__":
    main()
