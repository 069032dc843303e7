"""`arshif demo`: serve the bundled sample outlet on 127.0.0.1, crawl it with the real
Scrapy engine, archive, index and search it, all offline."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from rich.console import Console

from arshif.config import archive_path

DEMO_PORT = 8765  # a fixed port keeps the sample's article ids the same across demo runs
DEMO_QUERY = "قمة بوتين"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def run_demo(home: Path, console: Console) -> int:
    from crawler.run import crawl
    from crawler.sample_server import SampleServer
    from indexer.archive import Archive
    from indexer.embedded import EmbeddedIndex
    from indexer.search import SearchQuery, search

    started = time.monotonic()
    port = DEMO_PORT if _free(DEMO_PORT) else 0
    with SampleServer(port=port) as server:
        console.print(f"Serving the sample outlet at {server.base_url}; archive in {home}")
        stats = crawl(
            ["sample"],
            home,
            base_url=server.base_url,
            LOG_LEVEL="WARNING",
            DOWNLOAD_DELAY=0,
            AUTOTHROTTLE_START_DELAY=0.05,
        )["sample"]
    from arshif.cli import _crawl_failed, _print_crawl_summary, err_console

    _print_crawl_summary({"sample": stats})
    failed = _crawl_failed({"sample": stats})
    with Archive(archive_path(home)) as archive:
        EmbeddedIndex(archive).drain(archive)
        total = archive.count()
        result = search(archive, SearchQuery(text=DEMO_QUERY, limit=3))
    if failed or not total:
        if not failed:
            err_console.print(f"[bold red]error:[/] the demo archive in {home} is empty")
        return 1
    console.print(f"The archive holds {total} articles. Sample search «{DEMO_QUERY}»:")
    for hit in result.hits:
        console.print(f"  • {hit.title}  [dim]({(hit.published or '')[:10]})[/]", highlight=False)
        console.print(f"    {hit.snippet}", highlight=False, markup=False)
    console.print(
        f"{result.total} matches. Done in {time.monotonic() - started:.1f}s. Try: "
        f'arshif search "{DEMO_QUERY}" · arshif stats · '
        "arshif export --format csv -o sample.csv"
    )
    return 0
