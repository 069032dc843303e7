"""`arshif import FILE.jsonl`: records as `arshif export --format jsonl` writes them, or
from other tools with at least `url`, `title` and `text`.

An Arshif record comes back exactly as it was exported (a round trip changes nothing, so
this is how an archive moves between machines); another tool's record gets what a crawl
would give it: id and canonical URL from its URL, outlet from the catalogue (else its
host), language, content hash, topics and dedup fields. A bad line is named by its number
and skipped, or stops the import; the lines before it are archived either way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from analysis.language import detect_language
from arshif.fingerprints import content_hash
from arshif.record import FIELDS, FLOAT_FIELDS, INT_FIELDS, LIST_FIELDS, Article
from arshif.urls import article_id, canonical_url
from importer.hosts import OutletHosts, url_host
from importer.load import Loader
from importer.record_work import RecordWork, lines_of, ready_lines
from importer.state import SourceState, count

REQUIRED = ("url", "title", "text")
_TEXT_FIELDS = frozenset(FIELDS) - LIST_FIELDS - INT_FIELDS - FLOAT_FIELDS
_NOT_NULL = frozenset({"id", "url", "canonical_url", "outlet", "title", "text", "lead",
                       "page_type", "fetched_at"})  # fmt: skip
MAX_BAD_SHOWN = 20


class BadRecord(ValueError):
    """A line that holds no usable record; the message says why."""


@dataclass
class JsonlReport:
    counts: dict[str, int] = field(default_factory=dict)  # this run: new, updated, bad
    bad: list[tuple[int, str]] = field(default_factory=list)  # (line number, why), first ones
    first_line: int = 1  # where this run started (after a resumed kill, not 1)
    already_done: bool = False
    stopped_at: int | None = None  # the bad line that stopped the import


def _check(data: dict[str, Any]) -> None:
    for name, value in data.items():
        if name not in FIELDS or (value is None and name not in _NOT_NULL):
            continue
        if name in LIST_FIELDS:
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
            kind = "a list of strings"
        elif name in INT_FIELDS:
            ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
        elif name in FLOAT_FIELDS:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            kind = "a number"
        else:
            ok, kind = isinstance(value, str), "a string"
        if not ok:
            raise BadRecord(f"field '{name}' must be {kind}, not {json.dumps(value)[:40]}")


def to_article(data: Any, hosts: OutletHosts) -> tuple[Article, bool]:
    """(record, whether it is a whole Arshif record, kept as it is) of one parsed line."""
    if not isinstance(data, dict):
        raise BadRecord("not a JSON object")
    _check(data)
    if all(name in data for name in FIELDS):
        if not data["id"]:
            raise BadRecord("field 'id' is empty")
        return Article.from_dict(data), True
    missing = [name for name in REQUIRED if name not in data]
    if missing:
        raise BadRecord(f"missing field {', '.join(repr(m) for m in missing)} (records need "
                        "url, title and text, or every field of an Arshif export)")  # fmt: skip
    url = data["url"].strip()
    if not url.startswith(("http://", "https://")) or not url_host(url):
        raise BadRecord(f"field 'url' is not an http(s) URL: {url[:80]!r}")
    fields = {k: v for k, v in data.items() if k in FIELDS and v is not None}
    canonical = canonical_url(data.get("canonical_url") or url)
    outlet = hosts.match(url)
    fields.update(
        id=article_id(canonical),
        url=url,
        canonical_url=canonical,
        outlet=data.get("outlet") or (outlet.id if outlet else url_host(url)),
        content_hash=content_hash(data["text"]),
    )
    if not data.get("language"):
        fields["language"], fields["language_prob"] = detect_language(data["text"])
    for name in ("dup_cluster", "dup_of", "story_id", "topics"):
        fields.pop(name, None)  # another tool's clusters and topics mean nothing here
    return Article.from_dict(fields), False


def import_jsonl(
    loader: Loader,
    path: Path,
    hosts: OutletHosts,
    *,
    stop_on_error: bool = False,
    progress: Callable[[int, dict[str, int]], None] | None = None,
    report_bad: Callable[[int, str], None] | None = None,
    work: RecordWork | None = None,
    pool: Executor | None = None,
    workers: int = 1,
) -> JsonlReport:
    """Archive the records of `path` through `loader`, resuming where a killed import of the
    same file stopped. `progress(bytes read, counts)` follows the file. Each line's record,
    tags, fingerprint and index row are made by `work` in `pool`'s `workers` processes
    (here without a pool, with `hosts` and the loader's topics)."""
    source = str(path.resolve())
    size = path.stat().st_size
    state = loader.log.get(source, "jsonl", size)
    report = JsonlReport(already_done=state.done)
    if state.done:
        return report
    work = work or loader.record_work()
    line_no = state.counts.get("lines", 0)
    before = dict(state.counts)
    report.first_line = line_no + 1
    counts = report.counts
    position = state.position
    with path.open("rb") as fh:
        fh.seek(state.position)
        if progress:
            progress(state.position, counts)
        lines = lines_of(fh, line_no)
        ready = ready_lines(lines, work, pool, workers, hosts=hosts, rules=loader.topics)
        try:
            for item in ready:
                line_no, position = item.line.number, item.line.end
                if item.error is not None:
                    count(counts, "bad")
                    if len(report.bad) < MAX_BAD_SHOWN:
                        report.bad.append((line_no, item.error))
                    if report_bad:
                        report_bad(line_no, item.error)
                    if stop_on_error:
                        report.stopped_at = line_no
                        _save(loader, state, before, counts, line_no - 1, item.line.start, False)
                        return report
                else:
                    assert item.article is not None
                    loader.add(
                        item.article,
                        counts,
                        prepared=item.prepared,
                        topics=item.topics,
                        keep=item.keep,
                        search_columns=item.search_columns,
                    )
                if loader.due():
                    _save(loader, state, before, counts, line_no, position, done=False)
                    if progress:
                        progress(position, counts)
        finally:
            ready.close()
        _save(loader, state, before, counts, line_no, position, done=True)
        if progress:
            progress(position, counts)
    return report


def _save(
    loader: Loader,
    state: SourceState,
    before: dict[str, int],
    counts: dict[str, int],
    lines: int,
    position: int,
    done: bool,
) -> None:
    """Checkpoint: the counts of every run so far, the lines read and the byte position."""
    state.add_counts(before, counts)
    state.counts["lines"] = lines
    state.position, state.done = position, done
    loader.checkpoint(state)
