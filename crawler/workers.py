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
    which runs Twisted's threads, is not safe. The server is started here, so it is always
    started the one way `_start_server` does."""
    forkserver = multiprocessing.get_context("forkserver")
    forkserver.set_forkserver_preload(["crawler.worker_preload"])
    _start_server()
    return forkserver


def _start_server() -> None:
    """Start the fork server (if not running) without the current folder on its path.

    It runs as `python -c`, which puts the current folder first on sys.path (and Python
    3.11 does not hand it the command's own path). Run from a folder that holds another
    `arshif` (a clone of the project, say), the workers would import that one instead of
    the package the command runs, and fail on every page. PYTHONSAFEPATH (Python 3.11+)
    leaves the folder out; it is set only while the server starts."""
    before = os.environ.get("PYTHONSAFEPATH")
    os.environ["PYTHONSAFEPATH"] = "1"
    try:
        multiprocessing.forkserver.ensure_running()
    finally:
        if before is None:
            del os.environ["PYTHONSAFEPATH"]
        else:
            os.environ["PYTHONSAFEPATH"] = before


def start() -> None:
    """Launch the fork server now (it is the same one the pool uses later)."""
    worker_context()
