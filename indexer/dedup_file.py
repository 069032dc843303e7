"""Dedup any dataset of records (`arshif dedup IN.jsonl -o OUT.jsonl`), outside the archive.

Each record needs `id`, `title` and `text` (optional `published`, `url`, `fetched_at`); a
record without `published` is placed in time by the date in its URL, else its `fetched_at`,
else not at all (its story is then decided by text alone, on a stricter bar). It is written back
with every field it had plus `content_hash`, `dup_cluster`, `dup_of` and `story_id`, decided
by the same `DedupIndex.add` the crawl uses, over a throwaway in-memory database. `dup_of`
points at an earlier record in file order. The output appears only when complete.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arshif.dedup import DedupParams
from indexer.dedup_store import DedupIndex

REQUIRED = ("id", "title", "text")


class RecordError(ValueError):
    """A record the dedup cannot read; the message names the file and line."""


@dataclass
class DedupReport:
    records: int = 0
    kinds: dict[str, int] = field(default_factory=dict)


def _check(record: Any, where: str) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RecordError(f"{where}: expected a JSON object, got {type(record).__name__}")
    for name in REQUIRED:
        value = record.get(name)
        if not isinstance(value, str) or (name == "id" and not value):
            raise RecordError(f"{where}: field '{name}' must be a string" + (
                "" if name in record else " and is missing"
            ) + "; fix or remove that record")  # fmt: skip
    published = record.get("published")
    if published is not None and not isinstance(published, str):
        raise RecordError(f"{where}: field 'published' must be an ISO date string or null")
    return record


def _when(record: dict[str, Any]) -> str | None:
    """The record's day for stories: published, else its URL's date, else fetched_at."""
    if record.get("published"):
        return record["published"]
    url = record.get("url")
    if isinstance(url, str):
        from analysis.dates import url_date  # the crawl's own rules for dates in URLs

        stamp = url_date(url)
        if stamp is not None:
            return stamp.iso()
    fetched = record.get("fetched_at")
    return fetched if isinstance(fetched, str) else None


def dedup_jsonl(
    source: Path,
    target: Path,
    *,
    params: DedupParams | None = None,
    progress: Callable[[int], None] | None = None,
) -> DedupReport:
    """Read `source` line by line, place each record, write `target` atomically. Raises
    RecordError (naming the line) for an unreadable record, leaving no output file."""
    index = DedupIndex.in_memory(params)
    report = DedupReport()
    temp = target.with_name(f".{target.name}.part")
    try:
        with (
            source.open(encoding="utf-8") as src,
            temp.open("w", encoding="utf-8") as out,
            index.batch(),
        ):
            for number, line in enumerate(src, 1):
                if not line.strip():
                    continue
                where = f"{source.name} line {number}"
                try:
                    record = _check(json.loads(line), where)
                except json.JSONDecodeError as exc:
                    raise RecordError(f"{where}: not valid JSON ({exc.msg})") from None
                result = index.add(record["id"], record["title"], record["text"], _when(record))
                record.update(
                    content_hash=result.content_hash,
                    dup_cluster=result.dup_cluster,
                    dup_of=result.dup_of,
                    story_id=result.story_id,
                )
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                report.records += 1
                report.kinds[result.kind] = report.kinds.get(result.kind, 0) + 1
                if progress:
                    progress(len(line.encode("utf-8")))
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    finally:
        index.db.close()
    return report
