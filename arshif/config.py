"""Where Arshif keeps its data: one folder holding the archive database, WARC files,
crawl job folders and logs."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir(explicit: str | Path | None = None) -> Path:
    """`--data-dir` if given, else `ARSHIF_HOME`, else `~/.local/share/arshif`."""
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("ARSHIF_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "arshif"


def archive_path(home: Path) -> Path:
    return home / "archive.sqlite"


def warc_dir(home: Path) -> Path:
    return home / "warc"


def job_dir(home: Path, outlet: str) -> Path:
    return home / "jobs" / outlet
