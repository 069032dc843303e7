"""The commands for running on several machines: `arshif worker`, `arshif crawl --enqueue`,
`arshif import --enqueue`, the queue part of `arshif stats` (arshif/workqueue.py does the
work)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from rich.console import Console
from rich.table import Table

from arshif.config import data_dir
from arshif.workqueue import Queue, queue_from_env, wait_for_redis


class QueueError(ValueError):
    """No queue is configured or reachable; the message says what to set."""


def _queue() -> Queue:
    try:
        queue = queue_from_env()
    except ValueError as exc:
        raise QueueError(str(exc)) from exc
    if queue is None:
        raise QueueError("no job queue: set ARSHIF_REDIS_URL (redis://HOST:6379/0)")
    try:
        wait_for_redis(queue)
    except ConnectionError as exc:
        raise QueueError(str(exc)) from exc
    return queue


def enqueue_crawls(
    outlets: list[str], base_url: str | None, settings: dict[str, Any], console: Console
) -> int:
    """`arshif crawl --enqueue`: one job per outlet, for any worker to take."""
    queue = _queue()
    for outlet in outlets:
        values = {k: str(v) for k, v in settings.items() if v is not None}
        message_id = queue.enqueue_crawl(outlet, base_url=base_url, settings=values)
        console.print(f"queued the crawl of [bold]{outlet}[/] (job {message_id})")
    return 0


def enqueue_imports(sources: list[str], options: list[str], console: Console) -> int:
    """`arshif import --enqueue`: one job per source, for any worker to take."""
    queue = _queue()
    for source in sources:
        message_id = queue.enqueue_import(source, options)
        console.print(f"queued the import of [bold]{source}[/] (job {message_id})")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from arshif.config import warc_dir
    from crawler.warc_objects import WarcBucket, recover

    if args.threads < 1:
        raise QueueError("--threads takes a positive number of crawls at a time")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    home = data_dir(getattr(args, "data_dir", None))
    queue = _queue()
    bucket = WarcBucket.from_env()
    if bucket is not None:  # files a killed crawl of this machine left open go up first
        recover(warc_dir(home), bucket)
    queue.work(home, args.outlets, args.threads)
    return 0


def render_queue(console: Console) -> dict[str, Any] | None:
    """The queue's state for `arshif stats`, when a queue is configured and reachable."""
    try:
        queue = queue_from_env()
        status = queue.status() if queue else None
    except Exception as exc:  # stats still shows the archive when Redis is down
        console.print(f"[yellow]job queue: unavailable ({type(exc).__name__}: {exc})[/]")
        return None
    if status is None:
        return None
    table = Table(title="Job queue", title_justify="left")
    table.add_column("")
    table.add_column("")
    table.add_row("workers", ", ".join(w["worker"] for w in status["workers"]) or "none")
    table.add_row("jobs waiting", str(status["queued"]))
    table.add_row("jobs waiting to retry", str(status["retrying"]))
    table.add_row("jobs failed for good", str(status["dead"]))
    running = [
        f"{r.get('job', r.get('outlet'))} ({r['worker']}, since {r['started']})"
        for r in status["running"]
    ]
    table.add_row("jobs running", "\n".join(running) or "none")
    console.print(table)
    return status
