"""WARC sources read as streams: local files, or http(s) URLs read as they arrive (never
downloaded whole), from any byte offset, which is how an import resumes and how a record
referenced in place is read back."""

from __future__ import annotations

import contextlib
import logging
import re
import urllib.request
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from fastwarc.warc import ArchiveIterator, WarcRecordType

from arshif import __version__
from crawler.warc import WarcResponse
from importer.state import referenced_sources
from indexer.archive_base import ArchiveStore

logger = logging.getLogger(__name__)

TIMEOUT = 60.0  # seconds without a byte from a remote source
HEAD_BYTES = 1 << 20  # enough for a first record (warcinfo), to tell how a file is gzipped
USER_AGENT = f"Arshif/{__version__} (WARC import)"


class SourceError(OSError):
    """A source that cannot be opened or read; the message names it."""


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def source_key(source: str) -> str:
    """How a source is named in the archive: its URL, or its absolute path."""
    return source if is_url(source) else str(Path(source).resolve())


class Counted:
    """A read-only stream that knows its position in the whole source (FastWARC asks
    `tell()` for each record's offset), for a remote stream started at `base`."""

    def __init__(self, inner: BinaryIO, base: int) -> None:
        self.inner, self.position = inner, base

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.position += len(data)
        return data

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        self.inner.close()


def _size_of(response: object, offset: int) -> int | None:
    headers = response.headers  # type: ignore[attr-defined]
    whole = re.search(r"/(\d+)$", headers.get("Content-Range") or "")
    if whole:
        return int(whole.group(1))
    length = headers.get("Content-Length")
    return int(length) + (offset if response.status == 206 else 0) if length else None  # type: ignore[attr-defined]


@contextlib.contextmanager
def open_source(source: str, offset: int = 0) -> Iterator[tuple[BinaryIO, int | None]]:
    """(stream positioned at `offset`, whole size in bytes or None) of a path or URL."""
    if not is_url(source):
        try:
            fh = open(source, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise SourceError(f"cannot read {source}: {exc.strerror}") from exc
        with fh:
            size = Path(source).stat().st_size
            fh.seek(offset)
            yield fh, size
        return
    headers = {"User-Agent": USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(source, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT)  # noqa: S310 - http(s) only
    except (OSError, ValueError) as exc:
        raise SourceError(f"cannot fetch {source}: {exc}") from exc
    with response:
        size = _size_of(response, offset)
        if offset and response.status != 206:  # no ranges here: read up to the offset
            left = offset
            while left > 0:
                chunk = response.read(min(left, 1 << 20))
                if not chunk:
                    raise SourceError(f"{source} ends before byte {offset}")
                left -= len(chunk)
        yield Counted(response, offset), size  # type: ignore[misc]


def referable(head: bytes) -> bool:
    """Whether records can be read back at their offsets: a plain WARC, or one gzipped a
    record per member (the WARC convention). A file gzipped whole is one stream, in which
    no record starts at a byte of the file, so its records must be copied."""
    if head[:2] != b"\x1f\x8b":
        return True
    inflate = zlib.decompressobj(31)
    try:
        first = inflate.decompress(head)
    except zlib.error:
        return False
    return inflate.eof and first.count(b"\r\nWARC/1.") == 0


def head_of(source: str) -> bytes:
    with open_source(source) as (stream, _):
        return stream.read(HEAD_BYTES)


@dataclass(frozen=True)
class RawRecord:
    url: str
    content_type: str
    body: bytes
    headers: dict[str, str]
    status: int
    date: str


def read_record(source: str, offset: int) -> RawRecord | None:
    """The response record at `offset` of a path or URL; None if it is not one there."""
    with open_source(source, offset) as (stream, _):
        for record in ArchiveIterator(stream, auto_decode="all"):
            if record.record_type != WarcRecordType.response or record.stream_pos != offset:
                return None
            http = record.http_headers
            return RawRecord(
                url=record.headers.get("WARC-Target-URI") or "",
                content_type=http.get("Content-Type") or "text/html; charset=utf-8",
                body=record.reader.read(),
                headers=http.to_dict(),
                status=http.status_code or 0,
                date=record.headers.get("WARC-Date") or "",
            )
    return None


def read_referenced(archive: ArchiveStore, warc_file: str, offset: int) -> RawRecord | None:
    """The record an imported article points at, where it was imported from; None when
    `warc_file` is not a source this archive imported in place, or the record is gone.
    Only registered sources are opened, so an archive row cannot name any other file."""
    if warc_file not in referenced_sources(archive):
        return None
    try:
        return read_record(warc_file, offset)
    except (OSError, ValueError) as exc:
        logger.warning("cannot read %s at %d: %s", warc_file, offset, exc)
        return None


def referenced_pages(
    archive: ArchiveStore, only_outlet: str | None = None
) -> Iterator[WarcResponse]:
    """Every article record imported in place, read where it is, for `reextract`."""
    for source in sorted(referenced_sources(archive)):
        for outlet, offset in archive.referenced_records(source):
            if only_outlet and outlet != only_outlet:
                continue
            raw = read_referenced(archive, source, offset)
            if raw is None:
                logger.warning("%s: no response record at offset %d any more", source, offset)
                continue
            yield WarcResponse(
                url=raw.url, outlet=outlet, status=raw.status, headers=raw.headers,
                body=raw.body, date=raw.date, warc_file=source, offset=offset,
            )  # fmt: skip
