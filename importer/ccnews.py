"""Common Crawl's CC-NEWS: news pages crawled daily since 2016, published as WARC files
with one index of their paths per month (`crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz`).

`arshif import --cc-news 2022-09` reads that month's index and imports its files in order,
each streamed (never downloaded whole). Each file's progress is kept like any import
source's, so a run stopped half-way resumes inside the file it was in, and files already
done are passed over.
"""

from __future__ import annotations

import gzip
import os
import re

from importer.sources import SourceError, open_source

# Common Crawl's data host; ARSHIF_CC_BASE points elsewhere (a mirror, or a test server).
DEFAULT_BASE = "https://data.commoncrawl.org"
_MONTH = re.compile(r"^(20\d\d)-(0[1-9]|1[0-2])$")
MAX_INDEX_BYTES = 16 << 20  # a month's index is about 10 KB gzipped


def cc_base() -> str:
    return (os.environ.get("ARSHIF_CC_BASE") or DEFAULT_BASE).rstrip("/")


def month_index(month: str, base: str | None = None) -> str:
    """The URL of one month's path index; ValueError for a month not written YYYY-MM."""
    found = _MONTH.match(month)
    if not found:
        raise ValueError(
            f"--cc-news takes a month as YYYY-MM (CC-NEWS starts 2016-08), not {month!r}"
        )
    year, mm = found.groups()
    return f"{base or cc_base()}/crawl-data/CC-NEWS/{year}/{mm}/warc.paths.gz"


def month_files(month: str, base: str | None = None) -> list[str]:
    """The URLs of one month's WARC files, in the index's order (oldest first)."""
    base = base or cc_base()
    index = month_index(month, base)
    with open_source(index) as (stream, _):
        data = stream.read(MAX_INDEX_BYTES + 1)
    if len(data) > MAX_INDEX_BYTES:
        raise SourceError(f"{index} is larger than an index of paths can be")
    try:
        text = gzip.decompress(data).decode("utf-8") if data[:2] == b"\x1f\x8b" else data.decode()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise SourceError(f"{index} is not a gzipped list of paths: {exc}") from exc
    paths = [line.strip() for line in text.splitlines() if line.strip()]
    bad = [p for p in paths if not p.endswith((".warc", ".warc.gz")) or ".." in p]
    if bad:
        raise SourceError(
            f"{index}: line {paths.index(bad[0]) + 1} is not a WARC path: {bad[0][:80]}"
        )
    return [f"{base}/{p.lstrip('/')}" for p in paths]
