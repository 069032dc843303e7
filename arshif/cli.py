"""The `arshif` command line: crawl, extract, search, export, index, stats, demo.

Each command is a thin layer over plain functions in `crawler` and `indexer`; errors a
user can fix are printed as one line saying what to do, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from arshif import __version__
from arshif.config import archive_path, data_dir
from arshif.credentials import SecretError, has_secret
from arshif.storage import StorageError, check_writable, storage_message

console = Console()
err_console = Console(stderr=True)


BACKENDS = ("embedded", "elasticsearch", "sqlite")  # sqlite: the embedded index's old name
BACKEND_HELP = "search index (default: elasticsearch if ARSHIF_ES_URL is set, else embedded)"
SORTS = ("relevance", "newest", "oldest")


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""


def _home(args: argparse.Namespace) -> Path:
    return data_dir(getattr(args, "data_dir", None))


@contextmanager
def _archive(args: argparse.Namespace, must_exist: bool = True) -> Iterator[Any]:
    """The configured archive (indexer/archive_base.py `open_archive`): PostgreSQL when
    ARSHIF_DATABASE_URL is set, else the data folder's SQLite file."""
    from indexer.archive_base import open_archive

    path = archive_path(_home(args))
    if must_exist and not has_secret("ARSHIF_DATABASE_URL") and not path.exists():
        raise UserError(
            f"no archive at {path}; run `arshif crawl OUTLET` or `arshif demo` first, "
            "or point --data-dir / ARSHIF_HOME at an existing data folder"
        )
    with open_archive(_home(args)) as archive:
        yield archive


@contextmanager
def _progress(
    label: str, total: int | None, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """A progress bar on the terminal; a no-op callback when disabled."""
    if not enabled:
        yield lambda n: None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _backend_name(args: argparse.Namespace) -> str:
    """--backend, else elasticsearch when ARSHIF_ES_URL is set, else the embedded index."""
    chosen = getattr(args, "backend", None)
    chosen = "embedded" if chosen == "sqlite" else chosen
    return chosen or ("elasticsearch" if has_secret("ARSHIF_ES_URL") else "embedded")


@contextmanager
def _search_index(args: argparse.Namespace, archive: Any) -> Iterator[Any]:
    """The chosen search backend over `archive`; Elasticsearch failures become one line."""
    if _backend_name(args) == "embedded":
        from indexer.embedded import EmbeddedIndex

        if has_secret("ARSHIF_DATABASE_URL"):
            raise UserError(
                "the archive is in PostgreSQL: search it through Elasticsearch (ARSHIF_ES_URL)"
            )

        yield EmbeddedIndex(archive)
        return
    from indexer.es import ElasticIndex, ESConfig, ESError

    try:
        config = ESConfig.from_env()
        if config is None:
            raise UserError("the elasticsearch backend needs ARSHIF_ES_URL (http://HOST:9200)")
        index = ElasticIndex(config)
        try:
            yield index
        finally:
            index.client.close()
    except ESError as exc:
        raise UserError(str(exc)) from exc


def _query_error(exc: ValueError) -> UserError:
    """A query the parser refused, with a caret under the place it points at."""
    from rich.markup import escape

    from indexer.query import QueryError

    if isinstance(exc, QueryError):
        caret = exc.pointer().replace("\n", "\n  ")
        return UserError(escape(f"{exc}\n  {caret}"))
    return UserError(str(exc))


def _filters(args: argparse.Namespace) -> Any:
    from indexer.search import Filters

    try:
        return Filters(
            outlets=tuple(args.outlet or ()),
            since=args.since,
            until=args.until,
            languages=tuple(args.lang or ()),
            topics=tuple(args.topic or ()),
            topic_mode=args.topic_mode,
            dedup=args.dedup,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc


# ---------------------------------------------------------------- commands


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler import settings as defaults
    from crawler import workers

    overrides: dict[str, Any] = {
        "ARSHIF_REFRESH": args.refresh or None,
        "LOG_LEVEL": args.log_level,
    }
    for item in args.set or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--set takes NAME=VALUE, not '{item}'")
        overrides[name.strip()] = value
    if args.enqueue:
        return _enqueue(args, overrides)
    try:
        setting = int(overrides.get("ARSHIF_EXTRACT_WORKERS", defaults.ARSHIF_EXTRACT_WORKERS))
    except ValueError:
        raise UserError("ARSHIF_EXTRACT_WORKERS takes a number of processes") from None
    if workers.worker_count(setting) > 1:
        workers.start()  # warms up beside the imports below, not after them

    from crawler.date_range import DateRange
    from crawler.outlets import load_outlets
    from crawler.pipelines import STORAGE_STAT
    from crawler.run import crawl

    try:
        DateRange.parse(args.since, args.until)  # a bad date stops here, not in the spider
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    outlets = load_outlets(args.outlets)
    ids = sorted(outlets) if args.all else args.outlet_ids
    if not ids:
        raise UserError("name the outlets to crawl (see `arshif outlets list`) or pass --all")
    # A read-only or full data folder stops here, before any page is fetched.
    check_writable(_home(args), "warc", "jobs")
    if not has_secret("ARSHIF_DATABASE_URL"):  # else the crawl writes to PostgreSQL
        with _archive(args, must_exist=False):
            pass
    try:
        stats = crawl(
            ids, _home(args), base_url=args.base_url, outlets_path=args.outlets,
            since=args.since, until=args.until, **overrides,
        )  # fmt: skip
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    _print_crawl_summary(stats)
    stopped = [s[STORAGE_STAT] for s in stats.values() if s.get(STORAGE_STAT)]
    if stopped:
        raise StorageError(stopped[0])
    broken = [oid for oid, s in stats.items() if "finish_reason" not in s]
    if broken:
        raise UserError(f"the crawl of {', '.join(broken)} did not run; see the log above")
    return _crawl_failed(stats)


def _crawl_failed(stats: dict[str, dict[str, Any]]) -> int:
    """1, with a line saying why, for each crawl that failed as a whole (crawler/run.py)."""
    from crawler.run import crawl_failure

    failures = [m for m in (crawl_failure(oid, s) for oid, s in stats.items()) if m]
    for message in failures:
        err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    return 1 if failures else 0


def _print_crawl_summary(stats: dict[str, dict[str, Any]]) -> None:
    for oid, s in stats.items():
        drops = sum(v for k, v in s.items() if k.startswith("arshif/drop/"))
        errors = sum(v for k, v in s.items() if k.startswith("arshif/error/"))
        console.print(
            f"[bold]{oid}[/]: {s.get('downloader/response_count', 0)} pages fetched, "
            f"{s.get('arshif/archived/new', 0)} new articles, "
            f"{s.get('arshif/archived/updated', 0)} updated, "
            f"{s.get('arshif/skip/archived', 0)} already archived (not fetched), "
            f"{drops} skipped, {errors} failed requests, "
            f"{s.get('arshif/listing/not_modified', 0)} listings unchanged (304) "
            f"(finish: {s.get('finish_reason', '?')})"
        )


def _extract_options(args: argparse.Namespace, url: str) -> Any:
    """`arshif extract`'s settings: those of the outlet named by --outlet, else of the
    configured outlet whose domains hold the URL's host (its time zone, founding year and
    selectors), with --drop and --timezone on top."""
    from dataclasses import replace

    from analysis.extract import ExtractOptions
    from crawler.outlets import load_outlets, outlet_of, valid_timezone

    outlets = load_outlets(args.outlets)
    if args.outlet and args.outlet not in outlets:
        raise UserError(f"unknown outlet {args.outlet!r} (see `arshif outlets list`)")
    outlet = outlets[args.outlet] if args.outlet else outlet_of(outlets, url)
    chosen = ExtractOptions.for_outlet(outlet) if outlet else ExtractOptions()
    if args.timezone and not valid_timezone(args.timezone):
        raise UserError(f"unknown time zone {args.timezone!r} (an IANA name such as Africa/Cairo)")
    return replace(
        chosen,
        drop_selectors=(*chosen.drop_selectors, *(args.drop or ())),
        timezone=args.timezone or chosen.timezone,
    )


def cmd_extract(args: argparse.Namespace) -> int:
    from analysis.extract import ExtractionError, extract_article

    if args.file == "-":
        body = sys.stdin.buffer.read()
    else:
        try:
            body = Path(args.file).read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {args.file}: {exc.strerror}") from exc
    url = args.url or (Path(args.file).resolve().as_uri() if args.file != "-" else "")
    options = _extract_options(args, url)
    try:
        record = extract_article(body, url, options=options)
    except ExtractionError as exc:
        raise UserError(f"no article extracted from {args.file}: {exc.reason}") from exc
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from indexer.search import SearchQuery, parse_query, search

    fmt = "json" if args.json else args.format
    try:
        query = SearchQuery(
            text=args.query, filters=_filters(args), limit=args.limit, page=args.page,
            sort=args.sort, **({"highlight": ("", "")} if fmt == "csv" else {}),
        )  # fmt: skip
        parse_query(args.query)  # a malformed query fails here, before any index is touched
    except ValueError as exc:
        raise _query_error(exc) from exc
    with _archive(args) as archive, _search_index(args, archive) as index:
        index.catch_up(archive)
        try:
            result = search(archive, query, index)
        except ValueError as exc:
            raise _query_error(exc) from exc
        result.facets = index.facets(args.query, query.filters)
    if fmt == "csv":
        _search_csv(result)
        return 0
    if fmt == "json":
        print(
            json.dumps(
                {
                    "total": result.total,
                    "page": result.page,
                    "hits": [h.to_dict() for h in result.hits],
                    "facets": result.facets,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    # On a terminal rich wraps at its width; piped or redirected, a line stays one line
    # (a URL cut at 80 columns is no longer a URL for grep or a script).
    wrap = {"soft_wrap": not console.is_terminal}
    first = (result.page - 1) * result.limit
    console.print(
        f"[bold]{result.total}[/] articles match «{args.query}»"
        + (f", showing {first + 1}–{first + len(result.hits)}" if result.hits else ""),
        **wrap,
    )
    for n, hit in enumerate(result.hits, first + 1):
        date = (hit.published or "")[:10] or "undated"
        console.print(
            f"\n[bold]{n}. {escape(hit.title)}[/]  [dim]{hit.outlet} · {date} · {hit.score:.2f}[/]",
            **wrap,
        )
        console.print(f"   {hit.url}", style="blue", highlight=False, **wrap)
        console.print(f"   {hit.snippet}", highlight=False, markup=False, **wrap)
    for name, counts in result.facets.items():
        if counts:
            line = ", ".join(f"{key} {n}" for key, n in counts.items())
            console.print(f"[dim]{name}:[/] {line}", highlight=False, **wrap)
    return 0


def _search_csv(result: Any) -> None:
    """One row per hit (snippets without markers), for a spreadsheet or a script."""
    import csv

    writer = csv.writer(sys.stdout)
    writer.writerow(["rank", "id", "published", "outlet", "title", "url", "score", "snippet"])
    first = (result.page - 1) * result.limit
    for n, hit in enumerate(result.hits, first + 1):
        writer.writerow([n, hit.id, hit.published or "", hit.outlet, hit.title, hit.url,
                         f"{hit.score:.4f}", hit.snippet])  # fmt: skip


def cmd_export(args: argparse.Namespace) -> int:
    from indexer.dataset_card import CardCounts, build_card, write_card
    from indexer.export import export

    filters = _filters(args)
    topics = _topics(args)
    unknown = [t for t in filters.topics if t not in topics.topics]
    if unknown:
        raise UserError(f"unknown topic {', '.join(unknown)}; see `arshif topics list`")
    counts = CardCounts()
    with _archive(args) as archive, _search_index(args, archive) as index:
        elastic = index if index.name == "elasticsearch" else None
        if elastic and archive.pending_count():
            elastic.drain(archive)  # the export must see every archived article
        try:
            count = export(
                archive,
                Path(args.output),
                args.format,
                filters=filters,
                query=args.query,
                bom=args.bom,
                progress=not args.no_progress,
                console=err_console,
                backend=elastic,
                observe=counts.add,
            )
            card = build_card(Path(args.output), args.format, counts, filters, args.query, topics)
            card_json, card_md = write_card(card, Path(args.output))
        except (ValueError, OSError) as exc:
            where = Path(args.output).resolve().parent
            message = storage_message(exc, where, data=False) or f"export failed: {exc}"
            raise UserError(message) from exc
    console.print(f"Exported {count} articles to {args.output} ({args.format})")
    console.print(f"Dataset card: {card_md} and {card_json}", highlight=False)
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.embedded import EmbeddedIndex, IndexBusy

    if _backend_name(args) == "elasticsearch":
        return _index_elastic(args)
    if has_secret("ARSHIF_DATABASE_URL"):
        raise UserError("the archive is in PostgreSQL: index it into Elasticsearch (ARSHIF_ES_URL)")
    with _archive(args) as archive:
        index = EmbeddedIndex(archive)
        try:
            index.ensure()  # an archive of an older Arshif is migrated here
            for notice in index.notices:
                console.print(notice, highlight=False)
            if args.rebuild:
                with _progress("rebuilding", archive.count()) as advance:
                    count = index.rebuild(progress=advance)
                console.print(f"Rebuilt the embedded index: {count} articles")
                return 0
            total = archive.pending_count()
            with _progress("indexing", total, enabled=total > 0) as advance:
                count = index.drain(archive, progress=advance)
        except IndexBusy as exc:
            raise UserError(f"{exc}; run this again once it is done") from exc
    console.print(f"Indexed {count} pending articles (backend: embedded)")
    return 0


def _index_elastic(args: argparse.Namespace) -> int:
    with _archive(args) as archive, _search_index(args, archive) as index:
        total = archive.count() if args.rebuild else archive.pending_count()
        with _progress("indexing", total, enabled=total > 0) as advance:
            if args.rebuild:
                name, report = index.rebuild(archive, progress=advance)
            else:
                report = index.drain(archive, progress=advance)
    for article_id, reason in list(report.failed.items())[:10]:
        err_console.print(f"not indexed: {article_id}: {reason}", highlight=False, markup=False)
    done = f"Rebuilt {name} behind {index.alias}:" if args.rebuild else "Indexed"
    failed = f", {len(report.failed)} failed and stay pending" if report.failed else ""
    console.print(f"{done} {report.indexed} articles (backend: elasticsearch){failed}")
    return 1 if report.failed else 0


def cmd_stats(args: argparse.Namespace) -> int:
    from indexer.stats import render_stats, stats

    if args.topic:
        return _topic_stats(args)
    if args.chart:
        raise UserError("--chart draws one topic's coverage; add --topic ID")
    with _archive(args) as archive:
        data = stats(archive)
    if has_secret("ARSHIF_REDIS_URL"):
        from arshif.cli_scale import render_queue

        data["queue"] = render_queue(Console(stderr=True) if args.json else console)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render_stats(data, console)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from arshif.credentials import read_secret
    from indexer.archive_pg import PgArchive
    from indexer.migrate import MigrationError, migrate

    url = args.to or read_secret("ARSHIF_DATABASE_URL")
    if not url or not url.startswith(("postgresql://", "postgres://")):
        raise UserError("name the target: --to postgresql://USER@HOST/DB (or ARSHIF_DATABASE_URL)")
    from indexer.archive import Archive

    path = archive_path(_home(args))
    if not path.exists():
        raise UserError(f"no archive at {path} to migrate; point --data-dir / ARSHIF_HOME at it")
    with (
        Archive(path) as source,
        PgArchive(url) as target,
        _progress("migrating", source.count(), not args.no_progress) as advance,
    ):
        try:
            counts = migrate(source, target, advance)
        except MigrationError as exc:
            raise UserError(str(exc)) from exc
    console.print(
        "migrated and checked: " + ", ".join(f"{n} {table}" for table, n in counts.items())
    )
    return 0


@contextmanager
def _queue_errors() -> Iterator[None]:
    """Errors of the job queue (arshif/cli_scale.py) as one line."""
    from arshif.cli_scale import QueueError

    try:
        yield
    except QueueError as exc:
        raise UserError(str(exc)) from exc


def _enqueue(args: argparse.Namespace, overrides: dict[str, Any]) -> int:
    """`arshif crawl --enqueue`: the crawls go to the queue for `arshif worker`s."""
    from arshif.cli_scale import enqueue_crawls
    from crawler.outlets import load_outlets

    outlets = load_outlets(args.outlets)
    ids = sorted(outlets) if args.all else args.outlet_ids
    if not ids:
        raise UserError("name the outlets to queue (see `arshif outlets list`) or pass --all")
    unknown = [o for o in ids if o not in outlets]
    if unknown:
        raise UserError(f"unknown outlet(s): {', '.join(unknown)}")
    settings = {k: v for k, v in overrides.items() if k != "LOG_LEVEL"}
    with _queue_errors():
        return enqueue_crawls(ids, args.base_url, settings, console)


def cmd_worker(args: argparse.Namespace) -> int:
    from arshif import cli_scale

    with _queue_errors():
        return cli_scale.cmd_worker(args)


def cmd_reextract(args: argparse.Namespace) -> int:
    from crawler.outlets import load_outlets
    from crawler.reextract import reextract

    outlets = load_outlets(args.outlets)
    with _archive(args) as archive:
        with _progress("re-extracting", None) as advance:
            report = reextract(
                archive,
                _home(args),
                outlets,
                only_outlet=args.outlet,
                progress=advance,
                topics=_topics(args),
            )
        if _indexed_here(args):
            with _search_index(args, archive) as index:
                index.drain(archive)
    failed = sum(report.failed.values())
    console.print(
        f"Re-extracted {report.pages} archived pages: {report.updated} articles updated, "
        f"{report.new} new, {failed} without article text"
    )
    for reason, n in sorted(report.failed.items()):
        console.print(f"  {n} × {reason}")
    return 0


@contextmanager
def _import_progress(label: str, enabled: bool) -> Iterator[Callable[..., None]]:
    """A bar over the bytes of one import source, with its running counts beside it;
    `update(done, total=None, status="")` moves it."""
    if not enabled:
        yield lambda *a, **k: None
        return
    columns = (
        TextColumn(label),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=False) as bar:
        task = bar.add_task(label, total=None, status="")

        def update(done: int, total: int | None = None, status: str = "") -> None:
            if total is not None:
                bar.update(task, total=total)
            bar.update(task, completed=done, status=status)

        yield update


@contextmanager
def _page_workers(args: argparse.Namespace, kinds: list[str]) -> Iterator[Any]:
    """The processes an import runs the page work (WARC) or the record work (JSONL) in,
    as a crawl's extraction workers; None for one worker."""
    from concurrent.futures import ProcessPoolExecutor

    from crawler.workers import worker_context, worker_count

    workers = worker_count(args.workers)
    if workers < 2:
        yield None
        return
    pool = ProcessPoolExecutor(workers, mp_context=worker_context())
    try:
        yield pool
    finally:
        pool.shutdown(cancel_futures=True)


def _import_kind(source: str) -> str:
    """'jsonl' or 'warc', from the name; local files must exist."""
    from importer.sources import is_url

    name = source.split("?", 1)[0].lower()
    kind = (
        "jsonl"
        if name.endswith(".jsonl")
        else "warc"
        if name.endswith((".warc", ".warc.gz"))
        else None
    )
    if kind is None:
        raise UserError(f"cannot tell what {source} holds: import .jsonl, .warc or .warc.gz")
    if kind == "jsonl" and is_url(source):
        raise UserError(f"{source}: JSONL is imported from a local file; download it first")
    if not is_url(source) and not Path(source).is_file():
        raise UserError(f"cannot read {source}: no such file")
    return kind


def cmd_import(args: argparse.Namespace) -> int:
    from crawler.outlets import load_outlets
    from importer.hosts import OutletHosts
    from importer.load import Loader

    sources = list(args.sources)
    if args.cc_news:
        sources += _cc_news_paths(args)
    if not sources:
        raise UserError("name what to import: arshif import FILE.jsonl | FILE.warc.gz | URL ...")
    kinds = [_import_kind(source) for source in sources]
    if args.enqueue:
        return _enqueue_imports(args, sources)
    hosts = OutletHosts(load_outlets(args.outlets).values())
    topics = _topics(args)
    check_writable(_home(args), "warc")
    with _archive(args, must_exist=False) as archive, _page_workers(args, kinds) as pool:
        writer = _import_writer(args, archive) if "jsonl" in kinds else None
        loader = Loader(
            archive, topics, dedup=not args.no_dedup, stories=not args.no_stories, writer=writer
        )
        try:
            for source, kind in zip(sources, kinds, strict=True):
                if kind == "jsonl":
                    _import_jsonl(args, loader, Path(source), hosts, pool)
                else:
                    _import_warc(args, loader, source, hosts, pool)
            loader.index()
        finally:
            if writer is not None:
                writer.close()
        if _indexed_here(args):
            with _search_index(args, archive) as index:
                total = archive.pending_count()
                enabled = total > 0 and not args.no_progress
                with _progress("indexing", total, enabled=enabled) as advance:
                    index.drain(archive, progress=advance)
    return 0


def _indexed_here(args: argparse.Namespace) -> bool:
    """Whether a command that wrote articles indexes them itself: not on PostgreSQL without
    Elasticsearch, where the outbox waits for `arshif index` (as a crawl's does)."""
    return not (has_secret("ARSHIF_DATABASE_URL") and _backend_name(args) == "embedded")


def _enqueue_imports(args: argparse.Namespace, sources: list[str]) -> int:
    """`arshif import --enqueue`: one job per source for the workers, with these options
    (a file must be at the same path on the workers: a shared folder, or give its URL)."""
    from arshif.cli_scale import enqueue_imports
    from importer.sources import source_key

    options = [flag for flag, on in (("--stop-on-error", args.stop_on_error), ("--copy", args.copy),
               ("--any-host", args.any_host), ("--no-dedup", args.no_dedup),
               ("--no-stories", args.no_stories)) if on]  # fmt: skip
    for flag, value in (("--since", args.since), ("--until", args.until),
                        ("--topics", args.topics), ("--backend", args.backend)):  # fmt: skip
        if value:
            options += [flag, value]
    if args.workers:
        options += ["--workers", str(args.workers)]
    with _queue_errors():
        return enqueue_imports([source_key(s) for s in sources], options, console)


def _import_writer(args: argparse.Namespace, archive: Any) -> Any:
    """The embedded index's writer, for a JSONL import to index as it archives; None with
    Elasticsearch or PostgreSQL, or while another process writes the index (it drains what
    is left)."""
    if _backend_name(args) != "embedded" or not _indexed_here(args):
        return None
    from indexer.embedded import EmbeddedIndex, IndexBusy

    try:
        return EmbeddedIndex(archive).writer()
    except IndexBusy:
        return None


def _import_jsonl(args: argparse.Namespace, loader: Any, path: Path, hosts: Any, pool: Any) -> None:
    from crawler.workers import worker_count
    from importer.jsonl import import_jsonl
    from importer.state import summary

    total = path.stat().st_size
    work = loader.record_work(topics=getattr(args, "topics", None) or "", outlets=args.outlets)
    with _import_progress(path.name, not args.no_progress) as update:
        report = import_jsonl(
            loader,
            path,
            hosts,
            work=work,
            pool=pool,
            workers=worker_count(args.workers),
            stop_on_error=args.stop_on_error,
            progress=lambda done, counts: update(done, total, summary(counts, ())),
            report_bad=lambda n, why: err_console.print(
                f"{path}: line {n}: {why}" + ("" if args.stop_on_error else " (skipped)"),
                highlight=False, markup=False, soft_wrap=True,
            ),
        )  # fmt: skip
    if report.already_done:
        console.print(f"{path}: already imported, nothing to add", highlight=False)
        return
    counts = report.counts
    resumed = f" (resumed at line {report.first_line})" if report.first_line > 1 else ""
    console.print(
        f"{path}: {counts.get('new', 0)} new articles, {counts.get('updated', 0)} "
        f"updated, {counts.get('bad', 0)} bad lines{resumed}",
        highlight=False,
        soft_wrap=True,
    )
    if report.stopped_at is not None:
        raise UserError(
            f"{path}: stopped at line {report.stopped_at}; the lines before it are "
            "archived, and the import resumes at that line once it is fixed"
        )


def _import_warc(args: argparse.Namespace, loader: Any, source: str, hosts: Any, pool: Any) -> None:
    import time

    from arshif.config import warc_dir
    from crawler.warc import WarcStore
    from importer.sources import SourceError
    from importer.state import summary
    from importer.warc import ORDER, WarcImport, WarcOptions

    try:
        filters = _filters_dates(args)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    options = WarcOptions(any_host=args.any_host, copy=args.copy, **filters)
    store = WarcStore(warc_dir(_home(args)))
    importer = WarcImport(loader, hosts, options, store, pool, window=4 * (args.workers or 2))
    started = time.monotonic()

    def status(counts: dict[str, int]) -> str:
        rate = counts.get("records", 0) / max(time.monotonic() - started, 1e-3)
        return (
            f"{counts.get('records', 0)} records ({rate:,.0f}/s), "
            f"{counts.get('matched', 0)} matched, {counts.get('archived', 0)} archived"
        )

    name = source.rsplit("/", 1)[-1]
    try:
        with _import_progress(name, not args.no_progress) as update:
            report = importer.run(
                source, progress=lambda done, size, counts: update(done, size, status(counts))
            )
    except SourceError as exc:
        raise UserError(str(exc)) from exc
    finally:
        store.close()
    if report.already_done:
        console.print(f"{source}: already imported, nothing to add", highlight=False)
        return
    resumed = f" (resumed at byte {report.resumed_at})" if report.resumed_at else ""
    console.print(
        f"{source}: {summary(report.counts, ORDER)}{resumed}", highlight=False, soft_wrap=True
    )
    if report.copied:
        console.print(
            f"{source} is gzipped whole, so its records cannot be read at an offset: "
            "archived pages were copied into the data folder's WARC files",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    if report.stopped:
        err_console.print(
            f"{source}: {report.stopped}; the rest of this file is skipped, everything "
            "before it is archived",
            highlight=False, markup=False, soft_wrap=True,
        )  # fmt: skip


def _filters_dates(args: argparse.Namespace) -> dict[str, Any]:
    from datetime import date

    out: dict[str, Any] = {}
    for name in ("since", "until"):
        value = getattr(args, name)
        if value:
            try:
                out[name] = date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"--{name} takes a date as YYYY-MM-DD, not {value!r}") from None
    if out.get("since") and out.get("until") and out["since"] > out["until"]:
        raise ValueError(f"--since {args.since} is after --until {args.until}")
    return out


def _cc_news_paths(args: argparse.Namespace) -> list[str]:
    from importer.ccnews import month_files
    from importer.sources import SourceError

    try:
        files = month_files(args.cc_news)
    except (ValueError, SourceError) as exc:
        raise UserError(str(exc)) from exc
    console.print(f"CC-NEWS {args.cc_news}: {len(files)} WARC files", highlight=False)
    return files


def cmd_outlets(args: argparse.Namespace) -> int:
    from rich.table import Table

    from crawler.outlets import load_outlets

    outlets = load_outlets(args.outlets)
    if args.action == "check":
        return _check_outlets(args, outlets)
    table = Table("id", "name", "country", "lang", "feeds", "sitemaps", "pages", "confirmed")
    for o in outlets.values():
        table.add_row(
            o.id, o.name, o.country, o.language, str(len(o.feeds)), str(len(o.sitemaps)),
            str(len(o.start_pages)), " ".join(o.confirmed.values()),
        )  # fmt: skip
    console.print(table)
    return 0


def _check_outlets(args: argparse.Namespace, outlets: dict[str, Any]) -> int:
    """Fetch robots.txt, feeds and sitemaps; exit 1 when any outlet has no working listing."""
    from crawler.check import check_outlets, render
    from crawler.settings import USER_AGENT

    ids = args.outlet_ids or [oid for oid in outlets if oid != "sample" or args.base_url]
    unknown = [oid for oid in ids if oid not in outlets]
    if unknown:
        raise UserError(f"unknown outlet '{unknown[0]}' (see `arshif outlets list`)")
    chosen = [outlets[oid] for oid in ids]
    if args.base_url:
        chosen = [o.with_base_url(args.base_url) for o in chosen]
    reports = check_outlets(chosen, USER_AGENT, timeout=args.timeout)
    for report in reports:
        for line in render(report):
            console.print(line, highlight=False, markup=False)
    working = sum(r.ok for r in reports)
    console.print(f"{working} of {len(reports)} outlets answer with article links")
    if reports and all(r.offline for r in reports):
        console.print("No outlet could be reached: no network here, or every address is wrong.")
    return 0 if working == len(reports) else 1


def cmd_similar(args: argparse.Namespace) -> int:
    from indexer.dedup_pg import dedup_index_for

    with _archive(args) as archive:
        article = archive.get(args.id)
        if article is None:
            raise UserError(f"no article {args.id} in the archive; ids are in search --json")
        try:
            matches = dedup_index_for(archive).similar(args.id, limit=args.limit)
        except KeyError:
            raise UserError(
                f"article {args.id} has no fingerprint yet; run `arshif reextract` to add it"
            ) from None
        rows = [(m, archive.get(m.id)) for m in matches]
    if args.json:
        out = [
            {**m.__dict__, "outlet": a.outlet if a else None, "title": a.title if a else None}
            for m, a in rows
        ]
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    console.print(f"[bold]{article.title}[/]  [dim]{article.outlet} · {article.id}[/]")
    if not rows:
        console.print("No near-duplicates or story mates.")
    for m, a in rows:
        label = "near-duplicate" if m.relation == "near_dup" else "same story"
        title = a.title if a else "(not in the archive)"
        outlet = a.outlet if a else "?"
        console.print(
            f"  {m.similarity:.2f}  {label:<14} {m.id}  [dim]{outlet}[/]  {title}",
            highlight=False,
        )
    return 0


def _jsonl_paths(args: argparse.Namespace) -> tuple[Path, Path]:
    """The input and output of a JSONL dataset command, checked before any work."""
    source, target = Path(args.input), Path(args.output)
    if not source.is_file():
        raise UserError(f"cannot read {source}: no such file; give a JSONL file of records")
    if target.resolve() == source.resolve():
        raise UserError("write the output to another file than the input (-o OUT.jsonl)")
    return source, target


def cmd_dedup(args: argparse.Namespace) -> int:
    from indexer.dedup_file import RecordError, dedup_jsonl

    source, target = _jsonl_paths(args)
    try:
        with _progress("dedup", source.stat().st_size, enabled=not args.no_progress) as advance:
            report = dedup_jsonl(source, target, progress=advance)
    except RecordError as exc:
        raise UserError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise UserError(f"{source} is not UTF-8 text ({exc.reason}); convert it first") from exc
    except OSError as exc:
        raise UserError(f"dedup failed: {exc}") from exc
    kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(report.kinds.items()))
    console.print(f"Wrote {report.records} records to {target} ({kinds or 'none'})")
    return 0


def cmd_schedule(args: argparse.Namespace) -> int:
    from schedules import commands
    from schedules.config import ScheduleConfigError, load_schedules

    try:
        schedules = load_schedules(args.schedules, args.outlets)
    except ScheduleConfigError as exc:
        raise UserError(str(exc)) from exc
    if args.action == "list":
        commands.show_list(_home(args), schedules, args.outlets, console)
        return 0
    if args.action == "history":
        commands.show_history(_home(args), args.name, args.limit, console)
        return 0
    if args.action == "run":
        return commands.run(_home(args), schedules, args.outlets)
    if args.name not in schedules:
        known = ", ".join(schedules) or "none"
        raise UserError(f"name a schedule to run: `arshif schedule once NAME` (known: {known})")
    row = commands.once(_home(args), schedules, args.name, args.outlets)
    if row["status"] == "skipped":
        raise UserError(f"schedule {args.name} {row['detail']}")
    console.print(f"{args.name}: {row['status']}, {row['new_articles']} new articles")
    return 0 if row["status"] in ("finished", "queued") else 1


def cmd_serve(args: argparse.Namespace) -> int:
    import ipaddress

    import uvicorn

    from arshif.web.app import create_app, web_token

    try:
        loopback = args.host == "localhost" or ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = False
    token = web_token()
    if not loopback:
        if not args.allow_remote:
            raise UserError(
                f"--host {args.host} makes the archive reachable from other machines; "
                "add --allow-remote (and set ARSHIF_WEB_TOKEN) if that is what you want"
            )
        if token is None:
            raise UserError(
                "serving beyond this machine needs a token: set ARSHIF_WEB_TOKEN "
                "(or ARSHIF_WEB_TOKEN_FILE)"
            )
    with _archive(args) as archive, _search_index(args, archive) as index:
        index.catch_up(archive)
        # The embedded index is opened per request, on that request's own connection.
        backend = None if index.name == "tantivy" else index
        app = create_app(
            _home(args), backend=backend, topics=_topics(args), token=token, hosts=_hosts(args)
        )
        console.print(f"Serving the archive on http://{args.host}:{args.port}/", highlight=False)
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _hosts(args: argparse.Namespace) -> list[str]:
    """The names `serve` answers for: this machine's, --host (unless all interfaces),
    --allow-host and ARSHIF_WEB_HOSTS (comma-separated)."""
    import os

    from arshif.web.app import LOCAL_HOSTS

    listed = os.environ.get("ARSHIF_WEB_HOSTS", "").split(",") + (args.allow_host or [])
    given = [] if args.host in ("0.0.0.0", "::", "") else [args.host]
    return [*LOCAL_HOSTS, *given, *(name.strip() for name in listed if name.strip())]


def cmd_demo(args: argparse.Namespace) -> int:
    from arshif.demo import run_demo

    return run_demo(_home(args), console)


def _topics(args: argparse.Namespace) -> Any:
    from indexer.topics import TopicError, load_topics

    try:
        return load_topics(getattr(args, "topics", None))
    except TopicError as exc:
        raise UserError(str(exc)) from exc


def _topic_stats(args: argparse.Namespace) -> int:
    from rich.table import Table

    from indexer.topic_ops import coverage, write_chart

    with _archive(args) as archive:
        table = coverage(archive, args.topic, args.by)
    if args.json:
        print(json.dumps(table, ensure_ascii=False, indent=2))
    else:
        outlets = sorted({o for row in table.values() for o in row})
        out = Table(title=f"{args.topic}: articles per {args.by}", title_justify="left")
        out.add_column(args.by)
        for outlet in outlets:
            out.add_column(outlet, justify="right")
        out.add_column("total", justify="right")
        for period, row in table.items():
            cells = [str(row.get(o, 0)) for o in outlets]
            out.add_row(period, *cells, str(sum(row.values())))
        console.print(out if table else f"No dated articles on topic {args.topic}.")
    if args.chart:
        try:
            write_chart(table, f"{args.topic}: articles per {args.by}", args.chart)
        except ImportError as exc:
            raise UserError("--chart needs matplotlib: pip install 'arshif[charts]'") from exc
        except OSError as exc:
            raise UserError(f"cannot write {args.chart}: {exc.strerror}") from exc
        console.print(f"Chart written to {args.chart}", highlight=False)
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    topics = _topics(args)
    words = args.words
    if args.action == "explain" and words:
        args.topic, args.text = words[0], " ".join(words[1:])
    elif args.action == "tag":
        args.input = words[0] if len(words) == 1 else None
    elif words:
        raise UserError(f"`arshif topics {args.action}` takes no other words: {' '.join(words)}")
    if args.topic and args.topic not in topics.topics:
        raise UserError(f"unknown topic {args.topic}; see `arshif topics list`")
    return {
        "list": _topics_list,
        "retag": _topics_retag,
        "explain": _topics_explain,
        "tag": _topics_tag,
    }[args.action](args, topics)


def _topics_list(args: argparse.Namespace, topics: Any) -> int:
    from rich.table import Table

    from indexer.archive_base import has_archive
    from indexer.topic_ops import topic_counts

    counts: dict[str, int] = {}
    if has_archive(_home(args)):
        with _archive(args) as archive:
            counts = topic_counts(archive)
    table = Table("id", "English", "العربية", "rules", "articles", "file")
    for t in topics.topics.values():
        table.add_row(
            t.id, t.labels["en"], t.labels["ar"], str(len(t.rules)),
            str(counts.get(t.id, 0)), Path(t.source).name,
        )  # fmt: skip
    console.print(table)
    console.print(f"{len(topics)} topics, rules version {topics.version}", highlight=False)
    return 0


def _topics_retag(args: argparse.Namespace, topics: Any) -> int:
    from indexer.topic_ops import retag

    only = [args.topic] if args.topic else None
    with _archive(args) as archive:
        total = archive.count()
        with _progress("re-tagging", total, enabled=not args.no_progress) as advance:
            report = retag(archive, topics, only=only, progress=advance)
        if _indexed_here(args):
            with _search_index(args, archive) as index:
                index.drain(archive)
    changes = ", ".join(
        [f"+{n} {t}" for t, n in sorted(report.added.items())]
        + [f"-{n} {t}" for t, n in sorted(report.removed.items())]
    )
    console.print(
        f"Re-tagged {report.articles} articles ({'topic ' + args.topic if args.topic else 'all topics'}): "
        f"{report.changed} changed{': ' + changes if changes else ''}; index updated",
        highlight=False,
    )
    return 0


def _topics_explain(args: argparse.Namespace, topics: Any) -> int:
    if not args.topic:
        raise UserError("name the topic to explain: arshif topics explain ID (TEXT | --article ID)")
    if args.article:
        with _archive(args) as archive:
            article = archive.get(args.article)
        if article is None:
            raise UserError(f"no article {args.article} in the archive; ids are in search --json")
        title, text, published = article.title, article.text or article.lead, article.published
    elif getattr(args, "text", ""):
        title, text, published = "", args.text, None
    else:
        raise UserError("give the TEXT to explain, or --article ID")
    results = topics.explain(args.topic, title, text, published)
    if args.json:
        print(json.dumps([r.to_dict() for r in results], ensure_ascii=False, indent=2))
        return 0
    tagged = any(r.matched for r in results)
    console.print(f"[bold]{args.topic}[/]: {'tagged' if tagged else 'not tagged'}")
    for r in results:
        mark = "[green]✓[/]" if r.matched else "[red]✗[/]"
        console.print(f"  {mark} rule {r.rule}: {r.why}", highlight=False)
        for condition in r.passed:
            console.print(f"      passed: {condition}", highlight=False, markup=False)
        for h in r.hits[: args.limit]:
            console.print(
                f"      «{h.phrase}» in {h.field} at word {h.position}: … {h.context} …",
                highlight=False,
                markup=False,
            )
        if len(r.hits) > args.limit:
            console.print(f"      and {len(r.hits) - args.limit} more hits", highlight=False)
    return 0


def _topics_tag(args: argparse.Namespace, topics: Any) -> int:
    from indexer.topic_ops import RecordError, tag_jsonl

    if not args.input or not args.output:
        raise UserError("usage: arshif topics tag IN.jsonl -o OUT.jsonl")
    source, target = _jsonl_paths(args)
    try:
        with _progress("tagging", source.stat().st_size, enabled=not args.no_progress) as advance:
            counts = tag_jsonl(source, target, topics, progress=advance)
    except RecordError as exc:
        target.unlink(missing_ok=True)
        raise UserError(str(exc)) from exc
    except UnicodeDecodeError as exc:
        target.unlink(missing_ok=True)
        raise UserError(f"{source} is not UTF-8 text ({exc.reason}); convert it first") from exc
    except OSError as exc:
        raise UserError(f"tagging failed: {exc}") from exc
    summary = ", ".join(f"{t} {n}" for t, n in counts.most_common())
    console.print(f"Wrote {target}: {summary or 'no records'}", highlight=False)
    return 0


# ---------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        default=argparse.SUPPRESS,
        help="data folder (default: $ARSHIF_HOME or ~/.local/share/arshif)",
    )
    outlets_opt = argparse.ArgumentParser(add_help=False)
    outlets_opt.add_argument(
        "--outlets", type=Path, help="outlet file (default: $ARSHIF_OUTLETS or the shipped one)"
    )
    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--outlet", action="append", help="only this outlet (repeatable)")
    filters.add_argument("--since", help="published on or after YYYY-MM-DD")
    filters.add_argument("--until", help="published on or before YYYY-MM-DD")
    filters.add_argument("--lang", action="append", help="language code, e.g. ar (repeatable)")
    filters.add_argument("--topic", action="append", help="topic id, e.g. sco-summit (repeatable)")
    filters.add_argument(
        "--topic-mode", choices=("any", "all"), default="any",
        help="with several --topic: articles on any of them (default) or on all of them",
    )  # fmt: skip
    filters.add_argument("--dedup", action="store_true", help="one article per duplicate cluster")

    parser = argparse.ArgumentParser(
        prog="arshif", description="Crawl, archive, search and export Arabic news.",
        parents=[common],
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"arshif {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("crawl", parents=[common, outlets_opt], help="crawl outlets, archive, index")
    p.add_argument("outlet_ids", nargs="*", metavar="OUTLET")
    p.add_argument("--all", action="store_true", help="crawl every configured outlet")
    p.add_argument("--refresh", action="store_true", help="fetch archived articles again")
    p.add_argument("--base-url", help="serve the outlet from another address (mirror, test)")
    p.add_argument("--since", help="only sitemaps, feed items and links dated on/after YYYY-MM-DD")
    p.add_argument("--until", help="only sitemaps, feed items and links dated on/before YYYY-MM-DD")
    p.add_argument("--log-level", default="INFO", help="Scrapy log level (default INFO)")
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="a Scrapy or ARSHIF_* setting"
    )
    p.add_argument("--enqueue", action="store_true", help="queue for `arshif worker`s instead")
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser(
        "extract", parents=[common, outlets_opt], help="print one page's extraction as JSON"
    )
    p.add_argument("file", metavar="FILE.html", help="HTML file, or - for standard input")
    p.add_argument("--url", help="the page's URL (for canonical links and dates)")
    p.add_argument("--drop", action="append", help="CSS selector to remove first (repeatable)")
    p.add_argument(
        "--outlet", help="use this configured outlet's settings (default: the one of the URL)"
    )
    p.add_argument(
        "--timezone", help="IANA zone of page times without an offset (default: the outlet's)"
    )
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("search", parents=[common, filters], help="full-text search the archive")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--json", action="store_true", help="machine-readable hits (= --format json)")
    p.add_argument(
        "--format", choices=("text", "json", "csv"), default="text",
        help="text (wrapped only on a terminal), json, or csv (one row per hit)",
    )  # fmt: skip
    p.add_argument("--sort", choices=SORTS, default="relevance", help="order of the hits")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", parents=[common, filters], help="export articles to a file")
    p.add_argument("--format", choices=("jsonl", "csv", "parquet"), required=True)
    p.add_argument("-o", "--output", required=True, help="file to write (replaced atomically)")
    p.add_argument("--query", help="only articles matching this search")
    p.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 BOM for Excel")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("index", parents=[common], help="drain the outbox into the search index")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    p.add_argument("--rebuild", action="store_true", help="rebuild the index from the archive")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("topics", parents=[common], help="topic rules: list, retag, explain, tag")
    p.add_argument("action", choices=("list", "retag", "explain", "tag"))
    p.add_argument(
        "words", nargs="*", metavar="ARG",
        help="explain: ID [TEXT]; tag: IN.jsonl",
    )  # fmt: skip
    p.add_argument("--topic", help="retag: only this topic")
    p.add_argument("--article", help="explain: an archived article's id")
    p.add_argument("-o", "--output", help="tag: the JSONL file to write")
    p.add_argument("--topics", help="topic folder or file (default: $ARSHIF_TOPICS or shipped)")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    p.add_argument("--limit", type=int, default=5, help="explain: hits shown per rule")
    p.add_argument("--json", action="store_true", help="explain: machine-readable")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("stats", parents=[common], help="counts by outlet, day, language, state")
    p.add_argument("--json", action="store_true")
    p.add_argument("--topic", help="articles on this topic per day (or week) per outlet")
    p.add_argument("--by", choices=("day", "week"), default="day", help="with --topic")
    p.add_argument("--chart", metavar="PNG", type=Path, help="with --topic: also draw it as PNG")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "reextract", parents=[common, outlets_opt], help="rebuild extracted fields from WARC"
    )
    p.add_argument("--outlet", help="only pages of this outlet")
    p.set_defaults(func=cmd_reextract)

    p = sub.add_parser(
        "import", parents=[common, outlets_opt], help="archive records from JSONL or WARC files"
    )
    p.add_argument(
        "sources", nargs="*", metavar="SOURCE",
        help="FILE.jsonl, or FILE.warc(.gz) / its http(s) URL (read as a stream)",
    )  # fmt: skip
    p.add_argument(
        "--stop-on-error", action="store_true",
        help="JSONL: stop at the first bad line (default: name it and skip it)",
    )  # fmt: skip
    p.add_argument(
        "--copy", action="store_true", help="WARC: copy archived records into the data folder"
    )
    p.add_argument(
        "--no-dedup", action="store_true",
        help="no exact/near-duplicate or story placement (a crawl's ARSHIF_DEDUP off)",
    )  # fmt: skip
    p.add_argument(
        "--no-stories", action="store_true",
        help="near-duplicates only, no story grouping (a crawl's ARSHIF_DEDUP_STORIES off)",
    )  # fmt: skip
    p.add_argument(
        "--any-host",
        action="store_true",
        help="WARC: pages of every host, not only catalogue outlets",
    )
    p.add_argument("--since", help="WARC: pages dated (else fetched) on or after YYYY-MM-DD")
    p.add_argument("--until", help="WARC: pages dated (else fetched) on or before YYYY-MM-DD")
    p.add_argument(
        "--cc-news", metavar="YYYY-MM", help="import that month of Common Crawl's CC-NEWS"
    )
    p.add_argument(
        "--workers", type=int, default=0,
        help="processes for the page (WARC) or record (JSONL) work (default 0: one per core; 1: this process)",
    )  # fmt: skip
    p.add_argument("--topics", help="topic folder or file (default: $ARSHIF_TOPICS or shipped)")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--enqueue", action="store_true",
        help="queue one job per source for `arshif worker`s (ARSHIF_REDIS_URL) instead",
    )  # fmt: skip
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("outlets", parents=[common, outlets_opt], help="the outlet catalogue")
    p.add_argument("action", choices=("list", "check"))
    p.add_argument("outlet_ids", nargs="*", metavar="ID", help="check: only these outlets")
    p.add_argument("--base-url", help="check: the outlet served from another address")
    p.add_argument("--timeout", type=float, default=10.0, help="check: seconds per request")
    p.set_defaults(func=cmd_outlets)

    p = sub.add_parser("similar", parents=[common], help="an article's near-duplicates, story")
    p.add_argument("id", help="article id (from search --json or export)")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--json", action="store_true", help="machine-readable matches")
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("dedup", parents=[common], help="add dup/story fields to a JSONL file")
    p.add_argument("input", metavar="IN.jsonl", help="records with id, title, text")
    p.add_argument("-o", "--output", required=True, metavar="OUT.jsonl", help="file to write")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_dedup)

    p = sub.add_parser("schedule", parents=[common, outlets_opt], help="scheduled crawls")
    p.add_argument("action", choices=("run", "list", "once", "history"))
    p.add_argument("name", nargs="?", help="once: the schedule to run; history: only this one")
    p.add_argument(
        "--schedules",
        type=Path,
        help="schedule file or folder (default: $ARSHIF_SCHEDULES or shipped)",
    )
    p.add_argument("--limit", type=int, default=20, help="history: runs shown (default 20)")
    p.set_defaults(func=cmd_schedule)

    p = sub.add_parser("serve", parents=[common], help="the search page and JSON API")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080)")
    p.add_argument(
        "--allow-remote", action="store_true",
        help="allow a non-loopback --host (requires ARSHIF_WEB_TOKEN)",
    )  # fmt: skip
    p.add_argument(
        "--allow-host", action="append", metavar="NAME",
        help="also answer requests for this host name (repeatable; ARSHIF_WEB_HOSTS too)",
    )  # fmt: skip
    p.add_argument("--topics", help="topic folder or file (default: $ARSHIF_TOPICS or shipped)")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", parents=[common], help="crawl the bundled sample outlet offline")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("migrate", parents=[common], help="copy the archive into PostgreSQL")
    p.add_argument("--to", help="postgresql://… (default: ARSHIF_DATABASE_URL)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("worker", parents=[common, outlets_opt], help="take queued crawl jobs")
    p.add_argument("--threads", type=int, default=1, help="crawls at a time (default 1)")
    p.set_defaults(func=cmd_worker)
    return parser


def main(argv: list[str] | None = None) -> int:
    from analysis.extract import ExtractionError
    from crawler.outlets import OutletConfigError
    from indexer.archive import ArchiveError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, OutletConfigError, ArchiveError, SecretError, StorageError) as exc:
        cause = exc.__cause__ if isinstance(exc, ArchiveError) else None
        message = (cause and storage_message(cause, _home(args))) or str(exc)
        err_console.print(f"[bold red]error:[/] {message}", highlight=False)
        return 2
    except (OSError, sqlite3.Error) as exc:
        message = storage_message(exc, _home(args))  # a full or read-only data folder
        if message is None:
            raise
        err_console.print(f"[bold red]error:[/] {message}", highlight=False)
        return 2
    except ExtractionError as exc:
        err_console.print(f"[bold red]error:[/] {exc.reason}", highlight=False)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
