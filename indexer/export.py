"""Export archived articles as JSONL, CSV or Parquet, one full record per row.

Rows stream from the archive in keyset batches, so an export of any size runs in constant
memory. The file appears at its path only when complete: it is written to a temporary file
beside it, synced, then renamed over the path; a failure leaves no partial file behind.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal, get_args

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from arshif.record import FIELDS, FLOAT_FIELDS, INT_FIELDS, LIST_FIELDS, Article
from indexer.archive import Archive
from indexer.filters import Filters
from indexer.search import SearchIndex, parse_query

Format = Literal["jsonl", "csv", "parquet"]
FORMATS: tuple[str, ...] = get_args(Format)
BATCH = 1000  # articles per read from the archive, and per Parquet row group
LIST_SEPARATOR = "; "  # how CSV cells hold list fields (authors, tags, topics)
# A CSV cell starting with one of these is a formula to Excel and LibreOffice (a title
# `=HYPERLINK(...)` from a hostile page would run when the file is opened): OWASP's
# advice is to start such a cell with a single quote, which spreadsheets show as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def parquet_schema() -> pa.Schema:
    """The declared Parquet schema, from the record's field kinds (timestamps stay ISO text)."""

    def kind(name: str) -> pa.DataType:
        if name in LIST_FIELDS:
            return pa.list_(pa.string())
        if name in INT_FIELDS:
            return pa.int64()
        if name in FLOAT_FIELDS:
            return pa.float64()
        return pa.string()

    return pa.schema([pa.field(name, kind(name)) for name in FIELDS])


def export(
    archive: Archive,
    path: Path,
    fmt: Format,
    *,
    filters: Filters | None = None,
    query: str | None = None,
    bom: bool = False,
    progress: bool = True,
    console: Console | None = None,
    backend: SearchIndex | None = None,
    observe: Callable[[Article], None] | None = None,
) -> int:
    """Write the articles that match `filters` (and the search `query`, if given) to `path`;
    returns the number written. A progress bar shows on `console` (stderr by default) when
    `progress` is on and the console is a terminal; pass `Console(force_terminal=True)` to
    force it. `bom` starts a CSV with a byte-order mark, which Excel needs to read UTF-8.
    With a `backend` (or a `query`) the matches come from the search index, in archive
    order, identical to the archive's for the articles it holds. `observe` sees each
    article as it is written (the dataset card counts them so)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if bom and fmt != "csv":
        raise ValueError("a byte-order mark (--bom) applies to csv exports only")
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the export a file name")
    filters = filters or Filters()
    if query is not None:
        parse_query(query)  # an empty query fails here, before any index is touched
    if query is not None and backend is None:
        from indexer.embedded import EmbeddedIndex  # the default: the embedded index

        backend = EmbeddedIndex(archive)
        backend.catch_up(archive)  # a search export must see every archived article
    if backend is not None:
        total = backend.count(query, filters)
        articles: Iterable[Article] = backend.iter_matches(query, filters, BATCH)
    else:
        total = archive.count(filters)
        articles = archive.iter_articles(filters, BATCH)

    console = console or Console(stderr=True)
    columns = (TextColumn("exporting"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    show = progress and console.is_terminal
    with Progress(*columns, console=console, disable=not show) as bar:
        task = bar.add_task("export", total=total)
        rows = _advancing(articles, lambda n: bar.advance(task, n), observe)
        if fmt == "parquet":
            with _atomic(path, "xb") as f:
                return _write_parquet(f, rows)
        encoding = "utf-8-sig" if bom else "utf-8"
        with _atomic(path, "x", encoding=encoding, newline="") as f:
            return (_write_csv if fmt == "csv" else _write_jsonl)(f, rows)


def _advancing(
    articles: Iterable[Article],
    advance: Callable[[int], None],
    observe: Callable[[Article], None] | None = None,
) -> Iterator[Article]:
    """Yield the articles, moving the progress bar once per batch rather than per row."""
    pending = 0
    for article in articles:
        if observe is not None:
            observe(article)
        yield article
        pending += 1
        if pending == BATCH:
            advance(pending)
            pending = 0
    advance(pending)


def _remove_stale_parts(path: Path) -> None:
    """Delete the hidden part files that exports to `path` left when their process was
    killed (SIGKILL, power loss: no chance to clean up). The writer's process id is in the
    name; a part file whose writer still runs is left alone."""
    for part in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
        pid = part.name[len(path.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _running(int(pid)):
            part.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@contextmanager
def _atomic(path: Path, mode: str, **options: Any) -> Iterator[IO[Any]]:
    """A new file beside `path` that replaces it only once fully written and synced."""
    _remove_stale_parts(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        f = open(temp, mode, **options)  # noqa: SIM115 - closed below, before the rename
    except OSError as exc:
        raise OSError(f"cannot write to {path.parent}: {exc.strerror}") from exc
    try:
        with f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(f: IO[str], articles: Iterable[Article]) -> int:
    count = 0
    for article in articles:
        f.write(json.dumps(article.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count


def _write_csv(f: IO[str], articles: Iterable[Article]) -> int:
    """RFC 4180 CSV (CRLF rows, quoted cells where needed, newlines kept inside quotes);
    text cells that a spreadsheet would run as a formula start with a single quote."""
    writer = csv.writer(f)
    writer.writerow(FIELDS)
    count = 0
    for article in articles:
        writer.writerow(
            _cell(LIST_SEPARATOR.join(value) if name in LIST_FIELDS else value)
            for name, value in article.to_dict().items()
        )
        count += 1
    return count


def _cell(value: Any) -> Any:
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


def _write_parquet(f: IO[bytes], articles: Iterable[Article]) -> int:
    schema = parquet_schema()
    count = 0
    with pq.ParquetWriter(f, schema) as writer:
        rows: list[dict[str, Any]] = []
        for article in articles:
            rows.append(article.to_dict())
            if len(rows) == BATCH:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                count, rows = count + len(rows), []
        if rows:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
            count += len(rows)
    return count
