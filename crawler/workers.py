"""The extraction workers' processes: forked from a server warmed by crawler/worker_preload.py.

`start` launches that server as early as the crawl command can, so it loads the page work
on the other core while the crawl process is still importing Scrapy, instead of after.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import os
from multiprocessing.context import BaseContext


def worker_count(setting: int) -> int:
    """ARSHIF_EXTRACT_WORKERS: 0 is one worker per core; 1 extracts in the crawl process."""
    return setting or os.cpu_count() or 1


def worker_context() -> BaseContext:
    """Workers fork from a fresh server process, warmed once: forking the crawl process,
    which runs Twisted's threads, is not safe."""
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["crawler.worker_preload"])
    return forkserver


def start() -> None:
    """Launch the fork server now (it is the same one the pool uses later)."""
    worker_context()
    multiprocessing.forkserver.ensure_running()
