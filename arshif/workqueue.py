"""Crawl and import jobs on a Dramatiq queue in Redis (`ARSHIF_REDIS_URL`), for any number
of `arshif worker`s on any number of machines.

One job is one outlet crawl: the worker runs `arshif crawl OUTLET` in a child process, as a
user would, while it holds the outlet's lease in Redis, so one outlet is crawled by one
worker at a time wherever the workers run (politeness per site holds across machines).
A job for an outlet whose lease is held waits and retries, so an outlet queued twice is
crawled twice, one after the other.

Delivery is at least once. A worker killed mid-crawl stops sending Redis heartbeats; after
ARSHIF_QUEUE_HEARTBEAT seconds any other worker puts its message back on the queue, and
its lease has expired by then (ARSHIF_LEASE_SECONDS, renewed every third of it while
alive). The crawl is idempotent: its state is the shared archive (the URLs already
archived or skipped are not fetched again), so the redelivered crawl resumes from the
outlet's feeds and archives only what is missing.

An import job is one source (a JSONL or WARC file, or its URL) run as `arshif import SOURCE`
under the source's lease. Its position lives in the shared archive (importer/state.py,
written with the records before it), so a redelivered import resumes where the killed one
had archived up to, and a finished source imported again adds nothing.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import MAINTENANCE_SCALE, RedisBroker

from arshif.credentials import read_secret

logger = logging.getLogger(__name__)

QUEUE = "arshif"
NAMESPACE = "dramatiq"
_LEASE = "arshif:lease:"
_WORKER = "arshif:worker:"
# Dramatiq's defaults suit short tasks: 20 retries backing off up to 7 days, 10 minutes
# each. A crawl runs for hours and a failing one should be looked at, not hammered.
CRAWL_RETRIES = 3
TIME_LIMIT_SECONDS = 6 * 3600

# Compare-and-set scripts: a lease is only renewed or released by the worker holding it.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"  # noqa: E501
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"  # noqa: E501
)


class OutletBusy(Exception):
    """Another worker holds this outlet's lease: the job waits its turn (retried)."""


class CrawlFailed(Exception):
    """The crawl (or import) child exited with an error (retried a few times, then
    dead-lettered)."""


class Interrupted(Exception):
    """The worker was told to stop mid-crawl: the job goes back on the queue."""


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    try:
        seconds = float(value) if value else default
    except ValueError:
        raise ValueError(f"{name} takes a number of seconds, not {value!r}") from None
    if seconds <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return seconds


def redis_url(env: Mapping[str, str] | None = None) -> str | None:
    """ARSHIF_REDIS_URL (or _FILE): a queue is configured when it is set."""
    return read_secret("ARSHIF_REDIS_URL", env)


def _retry_when(retries: int, exc: BaseException) -> bool:
    """A busy outlet waits as long as it takes; a failed crawl is tried CRAWL_RETRIES times."""
    return isinstance(exc, OutletBusy | Interrupted) or retries < CRAWL_RETRIES


class Queue:
    """The Redis broker, the crawl actor, leases and the worker registry."""

    def __init__(self, url: str, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.heartbeat = _seconds(env, "ARSHIF_QUEUE_HEARTBEAT", 60)
        self.lease_seconds = _seconds(env, "ARSHIF_LEASE_SECONDS", 30)
        self.redis = redis.Redis.from_url(url)
        self.broker = RedisBroker(
            url=url,
            namespace=NAMESPACE,
            heartbeat_timeout=int(self.heartbeat * 1000),
            # Redelivering a dead worker's messages happens in "maintenance", run by chance
            # on some commands: one in ten here (Dramatiq's one in a thousand would leave a
            # killed crawl's message waiting for hours on a quiet queue).
            maintenance_chance=MAINTENANCE_SCALE // 10,
        )
        limit = int(_seconds(env, "ARSHIF_JOB_TIME_LIMIT", TIME_LIMIT_SECONDS) * 1000)
        self.crawl = self._actor(self._crawl_job, "crawl_outlet", limit)
        self.imports = self._actor(self._import_job, "import_source", limit)
        self.home: Path | None = None
        self.outlets_path: Path | None = None
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}"
        self.stopping = threading.Event()
        self._children: set[subprocess.Popen[bytes]] = set()

    def _actor(self, fn: Any, name: str, time_limit: int) -> Any:
        return dramatiq.actor(
            fn, actor_name=name, queue_name=QUEUE, broker=self.broker, retry_when=_retry_when,
            min_backoff=1000, max_backoff=30000, time_limit=time_limit,
        )  # fmt: skip

    # ---------------------------------------------------------------- sending

    def enqueue_crawl(
        self,
        outlet: str,
        *,
        base_url: str | None = None,
        settings: Mapping[str, str] | None = None,
    ) -> str:
        """Queue one outlet crawl; returns the message id."""
        message = self.crawl.send(outlet, base_url, dict(settings or {}))
        return message.message_id

    def enqueue_import(self, source: str, options: list[str]) -> str:
        """Queue one import source (`options`: the flags of `arshif import`); the message id."""
        message = self.imports.send(source, list(options))
        return message.message_id

    # ---------------------------------------------------------------- leases

    def acquire(self, outlet: str, token: str) -> bool:
        return bool(
            self.redis.set(_LEASE + outlet, token, nx=True, px=int(self.lease_seconds * 1000))
        )

    def renew(self, outlet: str, token: str) -> bool:
        ttl = int(self.lease_seconds * 1000)
        return bool(self.redis.eval(_RENEW, 1, _LEASE + outlet, token, ttl))

    def release(self, outlet: str, token: str) -> None:
        self.redis.eval(_RELEASE, 1, _LEASE + outlet, token)

    # ---------------------------------------------------------------- the job

    def _crawl_job(self, outlet: str, base_url: str | None, settings: dict[str, str]) -> None:
        """One outlet crawl, under its lease, in a child process."""
        cmd = ["crawl", outlet]
        if self.outlets_path:
            cmd += ["--outlets", str(self.outlets_path)]
        if base_url:
            cmd += ["--base-url", base_url]
        for key, value in settings.items():
            cmd += ["--set", f"{key}={value}"]
        self._leased(outlet, {"outlet": outlet, "job": f"crawl {outlet}"}, cmd)

    def _import_job(self, source: str, options: list[str]) -> None:
        """One import source, under its lease, in a child process; it resumes from the
        position the archive holds for the source."""
        cmd = ["import", source, *options, "--no-progress"]
        if self.outlets_path:
            cmd += ["--outlets", str(self.outlets_path)]
        self._leased(f"import:{source}", {"job": f"import {source}"}, cmd)

    def _leased(self, key: str, about: dict[str, str], args: list[str]) -> None:
        """Run `arshif ARGS` in a child while holding the lease `key` (one at a time)."""
        if self.home is None:
            raise RuntimeError("jobs run in `arshif worker`, which sets the data folder")
        started = datetime.now(UTC).isoformat(timespec="seconds")
        token = json.dumps({"worker": self.worker_id, **about, "started": started})
        if not self.acquire(key, token):
            raise OutletBusy(f"{about['job']}: another worker holds it")
        lost = threading.Event()
        renewer = threading.Thread(target=self._keep_lease, args=(key, token, lost), daemon=True)
        renewer.start()
        try:
            self._run_child(about["job"], args, lost)
        finally:
            lost.set()  # stops the renewer
            renewer.join()
            self.release(key, token)

    def _keep_lease(self, outlet: str, token: str, done: threading.Event) -> None:
        while not done.wait(self.lease_seconds / 3):
            try:
                if not self.renew(outlet, token):
                    logger.error("lease on %s lost; stopping its job", outlet)
                    done.set()
            except redis.RedisError as exc:
                logger.warning("lease on %s not renewed (%s); trying again", outlet, exc)

    def _run_child(self, job: str, args: list[str], lost: threading.Event) -> None:
        assert self.home is not None
        cmd = [sys.executable, "-m", "arshif.cli", *args, "--data-dir", str(self.home)]
        logger.info("running %s", job)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self._children.add(proc)
        try:
            while True:
                try:
                    rc = proc.wait(timeout=0.5)
                    break
                except subprocess.TimeoutExpired:
                    pass
                if (self.stopping.is_set() or lost.is_set()) and proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)  # Scrapy stops cleanly, keeps its queue
                    rc = proc.wait()
                    break
        finally:
            if proc.poll() is None:  # the time limit, or any error here
                proc.kill()
                proc.wait()
            self._children.discard(proc)
        if self.stopping.is_set() or lost.is_set():
            raise Interrupted(f"{job} stopped before its end; requeued")
        if rc != 0:
            raise CrawlFailed(f"{job} exited with status {rc}")
        logger.info("%s done", job)

    # ---------------------------------------------------------------- the worker

    def work(self, home: Path, outlets_path: Path | None = None, threads: int = 1) -> None:
        """Take jobs until SIGTERM or SIGINT; a crawl under way is stopped and requeued."""
        self.home, self.outlets_path = home, outlets_path
        worker = dramatiq.Worker(self.broker, queues={QUEUE}, worker_threads=threads)
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        worker.start()
        logger.info("worker %s taking jobs from %s", self.worker_id, QUEUE)
        try:
            while not stop.wait(self.lease_seconds / 3):
                self._announce(threads)
        finally:
            self.stopping.set()
            worker.stop(timeout=60_000)
            self.redis.delete(_WORKER + self.worker_id)

    def _announce(self, threads: int) -> None:
        """The worker registry `arshif stats` reads: one key per live worker."""
        info = {"worker": self.worker_id, "threads": threads, "crawls": len(self._children)}
        try:
            self.redis.set(
                _WORKER + self.worker_id, json.dumps(info), px=int(self.heartbeat * 1000)
            )
        except redis.RedisError as exc:
            logger.warning("cannot reach Redis: %s", exc)

    # ---------------------------------------------------------------- status

    def status(self) -> dict[str, Any]:
        """Workers alive, jobs waiting (now and delayed for a retry) and crawls running."""
        workers = [json.loads(v) for v in self._values(_WORKER) if v]
        running = [json.loads(v) for v in self._values(_LEASE) if v]
        waiting = self.redis.llen(f"{NAMESPACE}:{QUEUE}")
        delayed = self.redis.hlen(f"{NAMESPACE}:{QUEUE}.DQ.msgs")
        dead = self.redis.hlen(f"{NAMESPACE}:{QUEUE}.XQ.msgs")
        return {
            "workers": sorted(workers, key=lambda w: w["worker"]),
            "queued": waiting,
            "retrying": delayed,
            "dead": dead,
            "running": sorted(running, key=lambda r: r.get("job", r.get("outlet", ""))),
        }

    def _values(self, prefix: str) -> list[bytes | None]:
        keys = sorted(self.redis.scan_iter(match=prefix + "*"))
        return self.redis.mget(keys) if keys else []


_libc = ctypes.CDLL(None, use_errno=True)
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the crawl child, before exec: the kernel kills it when the worker dies, so a
    killed worker leaves no crawl running without a lease."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def queue_from_env() -> Queue | None:
    url = redis_url()
    return Queue(url) if url else None


def wait_for_redis(queue: Queue, timeout: float = 10) -> None:
    """Fail fast with a clear message when Redis is not there."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            queue.redis.ping()
            return
        except redis.ConnectionError as exc:
            if time.monotonic() > deadline:
                raise ConnectionError(f"cannot reach Redis at ARSHIF_REDIS_URL: {exc}") from exc
            time.sleep(0.5)
