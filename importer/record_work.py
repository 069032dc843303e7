"""Everything done to one JSONL line that needs only the line: the record, its topic tags,
its dedup fingerprint and its row of the embedded search index. It runs in worker
processes, a chunk of lines at a time, so the importing process is left with the archive,
the dedup lookups and the index writer; results come back in file order.
Everything here is plain data, so it pickles to and from the workers.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from functools import lru_cache
from typing import IO

from analysis.page_work import analysed
from arshif.dedup import DedupParams, Prepared
from arshif.record import Article
from importer.hosts import OutletHosts
from indexer.documents import Columns
from indexer.topics import Topics, load_topics

CHUNK = 200  # lines sent to a worker at once
AHEAD = 4  # chunks per worker in flight, so the workers never wait for the importer


@dataclass(frozen=True)
class RecordWork:
    """What to do to each line. `outlets`: the catalogue's path (None: the shipped one);
    `topics`: the rules' path ("" for the shipped ones), None when tagging is off;
    `dedup`: the archive's fingerprint settings, None when dedup is off; `search`: make
    the embedded index's row."""

    outlets: str | None = None
    topics: str | None = ""
    dedup: DedupParams | None = None
    stories: bool = True
    search: bool = True


@dataclass(frozen=True)
class Line:
    number: int
    start: int  # byte offsets of the line in the file
    end: int
    raw: bytes


@dataclass(frozen=True)
class Ready:
    """A line's record and what was made of it, or why it holds none (`error`)."""

    line: Line
    article: Article | None = None
    keep: bool = False  # a whole Arshif record: its dedup fields and topics stay
    error: str | None = None
    topics: list[str] | None = None
    prepared: Prepared | None = None
    search_columns: Columns | None = None


@lru_cache(maxsize=4)
def _hosts(path: str | None) -> OutletHosts:
    from crawler.outlets import load_outlets

    return OutletHosts(load_outlets(path).values())


@lru_cache(maxsize=4)
def _topics(path: str) -> Topics:
    return load_topics(path or None)


def work_lines(
    lines: list[Line],
    work: RecordWork,
    hosts: OutletHosts | None = None,
    rules: Topics | None = None,
) -> list[Ready]:
    """The records of a chunk of lines, in order (bad lines carry their error). A worker
    reads the catalogue and the rules `work` names; the importing process passes its own."""
    from importer.jsonl import BadRecord, to_article  # it imports this module

    if hosts is None:
        hosts = _hosts(work.outlets)
        rules = None if work.topics is None else _topics(work.topics)
    out = []
    for line in lines:
        try:
            if not line.raw.strip():
                raise BadRecord("empty line")
            try:
                data = json.loads(line.raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise BadRecord(f"not valid JSON: {exc}") from None
            article, keep = to_article(data, hosts)
        except BadRecord as exc:
            out.append(Ready(line, error=str(exc)))
            continue
        out.append(_made(line, article, keep, work, rules))
    return out


def _made(
    line: Line, article: Article, keep: bool, work: RecordWork, rules: Topics | None
) -> Ready:
    topics = None if keep or rules is None else rules.tag_article(article)
    prepared, search = analysed(article, work.dedup, work.stories, work.search)
    return Ready(line, article, keep, None, topics, prepared, search)


def lines_of(fh: IO[bytes], number: int) -> Iterator[Line]:
    """The lines of `fh` from its position on, numbered after `number`."""
    position = fh.tell()
    for raw in fh:
        number += 1
        yield Line(number, position, position + len(raw), raw)
        position += len(raw)


def ready_lines(
    lines: Iterator[Line],
    work: RecordWork,
    pool: Executor | None,
    workers: int = 1,
    *,
    hosts: OutletHosts,
    rules: Topics | None,
) -> Iterator[Ready]:
    """Each line's `Ready`, in file order: in `pool`'s processes a chunk at a time, a few
    chunks ahead, or here without a pool (with `hosts` and `rules`). Closing the iterator
    drops what is in flight."""
    chunks = _chunks(lines)
    if pool is None:
        for chunk in chunks:
            yield from work_lines(chunk, work, hosts, rules if work.topics is not None else None)
        return
    flying: deque[Future[list[Ready]]] = deque()
    try:
        for chunk in chunks:
            flying.append(pool.submit(work_lines, chunk, work))
            if len(flying) >= AHEAD * workers:
                yield from flying.popleft().result()
        while flying:
            yield from flying.popleft().result()
    finally:
        for future in flying:
            future.cancel()


def _chunks(lines: Iterator[Line]) -> Iterator[list[Line]]:
    chunk: list[Line] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
