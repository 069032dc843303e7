"""The `arshif` command line: crawl, extract, search, export, index, stats, demo.

Each command is a thin layer over plain functions in `crawler` and `indexer`; errors a
user can fix are printed as one line saying what to do, with exit status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from arshif import __version__
from arshif.config import archive_path, data_dir

console = Console()
err_console = Console(stderr=True)


class UserError(Exception):
    """An error the user can fix; printed without a traceback."""


def _home(args: argparse.Namespace) -> Path:
    return data_dir(getattr(args, "data_dir", None))


@contextmanager
def _archive(args: argparse.Namespace, must_exist: bool = True) -> Iterator[Any]:
    from indexer.archive import Archive

    path = archive_path(_home(args))
    if must_exist and not path.exists():
        raise UserError(
            f"no archive at {path}; run `arshif crawl OUTLET` or `arshif demo` first, "
            "or point --data-dir / ARSHIF_HOME at an existing data folder"
        )
    with Archive(path) as archive:
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


def _filters(args: argparse.Namespace) -> Any:
    from indexer.search import Filters

    try:
        return Filters(
            outlets=tuple(args.outlet or ()),
            since=args.since,
            until=args.until,
            languages=tuple(args.lang or ()),
            topics=tuple(args.topic or ()),
            dedup=args.dedup,
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc


# ---------------------------------------------------------------- commands


def cmd_crawl(args: argparse.Namespace) -> int:
    from crawler.outlets import load_outlets
    from crawler.run import crawl

    outlets = load_outlets(args.outlets)
    ids = sorted(outlets) if args.all else args.outlet_ids
    if not ids:
        raise UserError("name the outlets to crawl (see `arshif outlets list`) or pass --all")
    overrides: dict[str, Any] = {
        "ARSHIF_REFRESH": args.refresh or None,
        "LOG_LEVEL": args.log_level,
    }
    for item in args.set or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UserError(f"--set takes NAME=VALUE, not '{item}'")
        overrides[name.strip()] = value
    try:
        stats = crawl(
            ids, _home(args), base_url=args.base_url, outlets_path=args.outlets, **overrides
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    _print_crawl_summary(stats)
    broken = [oid for oid, s in stats.items() if "finish_reason" not in s]
    if broken:
        raise UserError(f"the crawl of {', '.join(broken)} did not run; see the log above")
    return 0


def _print_crawl_summary(stats: dict[str, dict[str, Any]]) -> None:
    for oid, s in stats.items():
        drops = sum(v for k, v in s.items() if k.startswith("arshif/drop/"))
        errors = sum(v for k, v in s.items() if k.startswith("arshif/error/"))
        console.print(
            f"[bold]{oid}[/]: {s.get('downloader/response_count', 0)} pages fetched, "
            f"{s.get('arshif/archived/new', 0)} new articles, "
            f"{s.get('arshif/archived/updated', 0)} updated, "
            f"{s.get('arshif/skip/archived', 0)} already archived (not fetched), "
            f"{drops} skipped, {errors} failed requests "
            f"(finish: {s.get('finish_reason', '?')})"
        )


def cmd_extract(args: argparse.Namespace) -> int:
    from crawler.extract import ExtractionError, ExtractOptions, extract_article

    if args.file == "-":
        body = sys.stdin.buffer.read()
    else:
        try:
            body = Path(args.file).read_bytes()
        except OSError as exc:
            raise UserError(f"cannot read {args.file}: {exc.strerror}") from exc
    url = args.url or (Path(args.file).resolve().as_uri() if args.file != "-" else "")
    options = ExtractOptions(drop_selectors=tuple(args.drop or ()))
    try:
        record = extract_article(body, url, options=options)
    except ExtractionError as exc:
        raise UserError(f"no article extracted from {args.file}: {exc.reason}") from exc
    print(json.dumps(record, ensure_ascii=False, indent=2))
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from indexer.fts import SqliteIndex
    from indexer.search import SearchQuery, search

    try:
        query = SearchQuery(
            text=args.query, filters=_filters(args), limit=args.limit, page=args.page
        )
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    with _archive(args) as archive:
        index = SqliteIndex(archive)
        if archive.pending_count():
            index.drain(archive)
        try:
            result = search(archive, query, index)
        except ValueError as exc:
            raise UserError(str(exc)) from exc
    if args.json:
        print(
            json.dumps(
                {
                    "total": result.total,
                    "page": result.page,
                    "hits": [h.to_dict() for h in result.hits],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return 0
    first = (result.page - 1) * result.limit
    console.print(
        f"[bold]{result.total}[/] articles match «{args.query}»"
        + (f", showing {first + 1}–{first + len(result.hits)}" if result.hits else "")
    )
    for n, hit in enumerate(result.hits, first + 1):
        date = (hit.published or "")[:10] or "undated"
        console.print(
            f"\n[bold]{n}. {hit.title}[/]  [dim]{hit.outlet} · {date} · {hit.score:.2f}[/]"
        )
        console.print(f"   {hit.url}", style="blue", highlight=False)
        console.print(f"   {hit.snippet}", highlight=False, markup=False)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from indexer.export import export

    filters = _filters(args)
    with _archive(args) as archive:
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
            )
        except (ValueError, OSError) as exc:
            raise UserError(f"export failed: {exc}") from exc
    console.print(f"Exported {count} articles to {args.output} ({args.format})")
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.fts import SqliteIndex

    if args.backend != "sqlite":
        raise UserError(f"backend '{args.backend}' is not available yet; use --backend sqlite")
    with _archive(args) as archive:
        index = SqliteIndex(archive)
        if args.rebuild:
            count = index.rebuild()
            console.print(f"Rebuilt the embedded index: {count} articles")
            return 0
        total = archive.pending_count()
        with _progress("indexing", total, enabled=total > 0) as advance:
            count = index.drain(archive, progress=advance)
    console.print(f"Indexed {count} pending articles (backend: sqlite)")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from indexer.stats import render_stats, stats

    with _archive(args) as archive:
        data = stats(archive)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render_stats(data, console)
    return 0


def cmd_reextract(args: argparse.Namespace) -> int:
    from crawler.outlets import load_outlets
    from crawler.reextract import reextract
    from indexer.fts import SqliteIndex

    outlets = load_outlets(args.outlets)
    with _archive(args) as archive:
        with _progress("re-extracting", None) as advance:
            report = reextract(
                archive, _home(args), outlets, only_outlet=args.outlet, progress=advance
            )
        SqliteIndex(archive).drain(archive)
    failed = sum(report.failed.values())
    console.print(
        f"Re-extracted {report.pages} archived pages: {report.updated} articles updated, "
        f"{report.new} new, {failed} without article text"
    )
    for reason, n in sorted(report.failed.items()):
        console.print(f"  {n} × {reason}")
    return 0


def cmd_outlets(args: argparse.Namespace) -> int:
    from rich.table import Table

    from crawler.outlets import load_outlets

    outlets = load_outlets(args.outlets)
    table = Table("id", "name", "country", "lang", "feeds", "sitemaps", "pages", "confirmed")
    for o in outlets.values():
        table.add_row(
            o.id, o.name, o.country, o.language, str(len(o.feeds)), str(len(o.sitemaps)),
            str(len(o.start_pages)), " ".join(o.confirmed.values()),
        )  # fmt: skip
    console.print(table)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from arshif.demo import run_demo

    return run_demo(_home(args), console)


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
    p.add_argument("--log-level", default="INFO", help="Scrapy log level (default INFO)")
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="a Scrapy or ARSHIF_* setting"
    )
    p.set_defaults(func=cmd_crawl)

    p = sub.add_parser("extract", parents=[common], help="print one page's extraction as JSON")
    p.add_argument("file", metavar="FILE.html", help="HTML file, or - for standard input")
    p.add_argument("--url", help="the page's URL (for canonical links and dates)")
    p.add_argument("--drop", action="append", help="CSS selector to remove first (repeatable)")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("search", parents=[common, filters], help="full-text search the archive")
    p.add_argument("query")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--page", type=int, default=1)
    p.add_argument("--json", action="store_true", help="machine-readable hits")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("export", parents=[common, filters], help="export articles to a file")
    p.add_argument("--format", choices=("jsonl", "csv", "parquet"), required=True)
    p.add_argument("-o", "--output", required=True, help="file to write (replaced atomically)")
    p.add_argument("--query", help="only articles matching this search")
    p.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 BOM for Excel")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("index", parents=[common], help="drain the outbox into the search index")
    p.add_argument("--backend", default="sqlite", choices=("sqlite", "elasticsearch"))
    p.add_argument("--rebuild", action="store_true", help="rebuild the index from the archive")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("stats", parents=[common], help="counts by outlet, day, language, state")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "reextract", parents=[common, outlets_opt], help="rebuild extracted fields from WARC"
    )
    p.add_argument("--outlet", help="only pages of this outlet")
    p.set_defaults(func=cmd_reextract)

    p = sub.add_parser("outlets", parents=[common, outlets_opt], help="the outlet catalogue")
    p.add_argument("action", choices=("list",))
    p.set_defaults(func=cmd_outlets)

    p = sub.add_parser("demo", parents=[common], help="crawl the bundled sample outlet offline")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    from crawler.extract import ExtractionError
    from crawler.outlets import OutletConfigError
    from indexer.archive import ArchiveError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, OutletConfigError, ArchiveError) as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except ExtractionError as exc:
        err_console.print(f"[bold red]error:[/] {exc.reason}", highlight=False)
        return 2
    except KeyboardInterrupt:
        err_console.print("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
