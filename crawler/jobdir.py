"""Which crawl owns a job folder, and whether its request queues can be trusted.

Scrapy's disk queues record where their data ends only when they are closed, so a crawl
that was killed leaves queues that a resumed crawl misreads, losing requests without a
word. A crawl marks its job folder as running; finding the mark of a crawl that is gone,
the next one drops that folder and starts from the outlet's feeds, sitemaps and start pages
again (the archive knows what was already fetched, so nothing is fetched twice).
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

MARK = "running"


class JobDirBusy(ValueError):
    """Another crawl that is still running owns the job folder."""


def claim(folder: Path) -> None:
    """Mark the job folder as this process's, dropping it first if a killed crawl left it."""
    mark = folder / MARK
    if mark.exists():
        text = mark.read_text(encoding="utf-8").strip()
        pid = int(text) if text.isdigit() else None
        if pid == os.getpid():
            return
        if pid and _is_crawl(pid):
            raise JobDirBusy(
                f"{folder} is in use by a crawl still running (process {pid}); "
                "wait for it to end or stop it first"
            )
        logger.warning(
            "The last crawl using %s was killed; its request queues cannot be trusted, so "
            "this crawl starts again from the outlet's feeds and sitemaps",
            folder,
        )
        shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    mark.write_text(str(os.getpid()), encoding="utf-8")


def release(folder: Path, *, finished: bool) -> None:
    """After the scheduler closed its queues: a finished crawl's folder goes, a stopped
    one's stays (unmarked) to resume from."""
    if finished:
        shutil.rmtree(folder, ignore_errors=True)
    else:
        (folder / MARK).unlink(missing_ok=True)


def _is_crawl(pid: int) -> bool:
    """Whether a live process with this id is an Arshif or Scrapy crawl (ids are reused)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"arshif" in command or b"scrapy" in command
