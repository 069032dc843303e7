"""Full disks and read-only data folders: recognise them, and say what to do in one line.

An OSError (ENOSPC, EDQUOT, EFBIG, EROFS, EACCES, EPERM) or an SQLite error ("database or
disk is full", "disk I/O error", "readonly database", "unable to open database file") means
the data folder cannot take the write; everything else is some other problem.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from pathlib import Path

FULL = "full"
READ_ONLY = "read-only"

_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}
_READ_ONLY_ERRNOS = {errno.EROFS, errno.EACCES, errno.EPERM}
_SQLITE_FULL = ("database or disk is full", "disk i/o error")
_SQLITE_READ_ONLY = ("readonly database", "unable to open database file")


class StorageError(Exception):
    """The data folder cannot be written: full or read-only. The message says what to do."""


def storage_problem(exc: BaseException) -> str | None:
    """FULL or READ_ONLY when `exc` (or what caused it) is a failed write, else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError):
            if current.errno in _FULL_ERRNOS:
                return FULL
            if current.errno in _READ_ONLY_ERRNOS:
                return READ_ONLY
        elif isinstance(current, sqlite3.Error):
            text = str(current).lower()
            if any(s in text for s in _SQLITE_FULL):
                return FULL
            if any(s in text for s in _SQLITE_READ_ONLY):
                return READ_ONLY
        current = current.__cause__ or current.__context__
    return None


def _detail(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    return str(exc) or type(exc).__name__


def storage_message(exc: BaseException, folder: Path | str, *, data: bool = True) -> str | None:
    """A one-line message naming `folder` (the data folder, or with data=False an output
    folder) and what to do, or None for other errors."""
    problem = storage_problem(exc)
    what = f"the data folder {folder}" if data else str(folder)
    elsewhere = "move the data folder (--data-dir / ARSHIF_HOME)" if data else "write elsewhere"
    if problem == FULL:
        kept = "; what was archived before is kept" if data else ""
        return (
            f"cannot write to {what}: the disk is full or a file size limit was reached "
            f"({_detail(exc)}). Free some space, or {elsewhere}, and run the command "
            f"again{kept}"
        )
    if problem == READ_ONLY:
        other = "choose another folder with --data-dir / ARSHIF_HOME" if data else "write elsewhere"
        return (
            f"cannot write to {what}: it is read-only ({_detail(exc)}). Make it writable by "
            f"this user (e.g. `chmod -R u+w`, or remount it read-write), or {other}"
        )
    return None


def check_writable(folder: Path, *subfolders: str) -> None:
    """Create `folder` (and its subfolders) and write a small probe file in each; a
    StorageError says what to do when the folder cannot be written."""
    for path in (folder, *(folder / name for name in subfolders)):
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path, prefix=".arshif-probe-") as probe:
                probe.write(b"\0" * 4096)
                probe.flush()
                os.fsync(probe.fileno())
        except OSError as exc:
            # Name the folder, not the probe file.
            message = storage_message(OSError(exc.errno, exc.strerror, str(path)), folder)
            if message is None:
                raise
            raise StorageError(message) from exc
