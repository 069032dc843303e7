"""WARC files on an S3-compatible object store (`ARSHIF_WARC_URL=s3://bucket/prefix`).

A WARC file is written locally while open (as `NAME.warc.gz.tmp`, under an exclusive
`flock`), then closed, renamed, uploaded, and deleted locally only once the upload
succeeded. Article rows point at the object (`s3://bucket/prefix/NAME.warc.gz`, offset),
so any machine reads a page back with one ranged GET.

A crawl killed with a file open leaves its `.tmp` behind, unlocked. The next crawl or
`arshif worker` on that machine (`recover`) cuts its torn last record, renames it and
uploads it, with any closed file whose upload failed. Until then the rows written from
it are readable on that machine only (readers try the local file first).

boto3 finds credentials and the endpoint its usual way (AWS_ACCESS_KEY_ID / _FILE-less
config files / instance roles, and AWS_ENDPOINT_URL_S3 for a non-AWS store).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

logger = logging.getLogger(__name__)

OPEN_SUFFIX = ".tmp"


class WarcBucket:
    """One `s3://bucket/prefix` holding an archive's closed WARC files."""

    def __init__(self, url: str, client: Any = None) -> None:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"ARSHIF_WARC_URL must look like s3://bucket/prefix, not {url!r}")
        self.bucket = parts.netloc
        self.prefix = parts.path.strip("/")
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WarcBucket | None:
        """The bucket ARSHIF_WARC_URL names, or None (WARC files stay on local disk)."""
        url = (os.environ if env is None else env).get("ARSHIF_WARC_URL")
        return cls(url) if url else None

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def url(self, name: str) -> str:
        """What an article row stores as its `warc_file`."""
        return f"s3://{self.bucket}/{self.key(name)}"

    def upload(self, path: Path) -> None:
        """Upload one closed file; raises if the store did not take it whole."""
        self.client.upload_file(str(path), self.bucket, self.key(path.name))
        size = self.client.head_object(Bucket=self.bucket, Key=self.key(path.name))
        if size["ContentLength"] != path.stat().st_size:
            raise OSError(f"{self.url(path.name)}: uploaded size differs from {path}")

    def names(self) -> Iterator[str]:
        """The WARC file names under the prefix, in name (so time) order."""
        pages = self.client.get_paginator("list_objects_v2")
        start = f"{self.prefix}/" if self.prefix else ""
        for page in pages.paginate(Bucket=self.bucket, Prefix=start):
            for entry in page.get("Contents", ()):
                name = entry["Key"][len(start) :]
                if name.endswith(".warc.gz") and "/" not in name:
                    yield name

    def download(self, name: str, target: Path) -> None:
        self.client.download_file(self.bucket, self.key(name), str(target))

    def open_at(self, warc_file: str, offset: int) -> IO[bytes] | None:
        """A stream from `offset` of the object a row points at (one ranged GET), or None
        if there is no such object."""
        key = warc_file.removeprefix(f"s3://{self.bucket}/")
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={offset}-")
        except self.client.exceptions.NoSuchKey:
            return None
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("InvalidRange", "404"):
                return None
            raise
        return answer["Body"]


def open_record(folder: Path, warc_file: str, offset: int) -> IO[bytes] | None:
    """A stream positioned at a record: the local file if this machine still has it (not
    yet uploaded, or no object store), else the object. None if neither exists."""
    if offset < 0:
        return None
    name = Path(warc_file).name
    for local in (folder / name, folder / (name + OPEN_SUFFIX)):
        if local.is_file():
            fh = local.open("rb")
            fh.seek(offset)
            return fh
    if warc_file.startswith("s3://"):  # the row names its bucket: no setting needed to read
        return _reader(urlsplit(warc_file).netloc).open_at(warc_file, offset)
    return None


@functools.cache
def _reader(bucket: str) -> WarcBucket:
    """One client per bucket read from, made once (a boto3 client takes ~50 ms to make)."""
    return WarcBucket(f"s3://{bucket}")


def whole_records_end(path: Path) -> int:
    """Where the last whole record of a (possibly torn) WARC file ends."""
    end = 0
    with path.open("rb") as fh:
        records = ArchiveIterator(fh)
        try:
            for record in records:
                records.read_to_end(record)
                end = records.get_record_offset() + records.get_record_length()
        except (EOFError, OSError, ArchiveLoadFailed):
            pass
    return end


def _writer_gone(path: Path) -> bool:
    """Whether no live process holds this open WARC file's lock. A writer locks its file
    right after creating it, so the lock is tried twice, a moment apart."""
    with path.open("rb") as fh:
        for attempt in range(2):
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            fcntl.flock(fh, fcntl.LOCK_UN)
            if attempt == 0:
                time.sleep(0.2)
    return True


def finish(path: Path, bucket: WarcBucket) -> bool:
    """Upload one closed file and delete it locally; on failure keep it for `recover`."""
    try:
        bucket.upload(path)
    except Exception as exc:  # boto3 raises many kinds; the file stays to retry
        logger.error("%s not uploaded to %s (kept to retry): %s", path, bucket.url(""), exc)
        return False
    with contextlib.suppress(FileNotFoundError):  # another process finished it too
        path.unlink()
    return True


def recover(folder: Path, bucket: WarcBucket) -> int:
    """Close the files killed writers left open (their torn last record cut off) and
    upload every closed file still here; returns how many were uploaded."""
    if not folder.is_dir():
        return 0
    for tmp in sorted(folder.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        if not _writer_gone(tmp):
            continue
        end = whole_records_end(tmp)
        if end < tmp.stat().st_size:
            logger.warning("%s: torn last record cut at offset %d", tmp.name, end)
            os.truncate(tmp, end)
        tmp.rename(tmp.with_name(tmp.name.removesuffix(OPEN_SUFFIX)))
        logger.warning("%s: left open by a killed crawl, closed and uploaded", tmp.name)
    return sum(finish(path, bucket) for path in sorted(folder.glob("*.warc.gz")))
