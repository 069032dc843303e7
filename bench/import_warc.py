"""WARC import at CC-NEWS scale: how fast records of other sites are passed over, with
FastWARC (what `arshif import` uses) and with warcio side by side, and how fast the few
Arabic outlet pages among them are archived, with peak memory.

The WARC (default 200,000 records) is shaped like a CC-NEWS file: request, response and
metadata records of pages mostly of other hosts and languages, a small share (--share,
default 1%) of responses real Arabic outlet pages (../shared/realpages, each at its own
URL with a distinct query so each is its own article).

    python -m bench.import_warc [--records 200000] [--share 0.01]
"""

from __future__ import annotations

import argparse
import io
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fastwarc.warc import ArchiveIterator as FastIterator
from warcio.archiveiterator import ArchiveIterator as WarcioIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench.pipeline import crawl_rate
from bench.results import write_section
from crawler.outlets import load_outlets
from crawler.sample_server import PLACEHOLDER, SampleServer
from crawler.warc import WarcStore
from crawler.workers import worker_context, worker_count
from importer.hosts import OutletHosts
from importer.load import Loader
from importer.warc import WarcImport, WarcOptions
from indexer.archive import Archive
from tests.warcs import real_pages

OTHER_TEXT = (
    "<p>The regional council approved the new transport plan on Monday after a long "
    "debate about costs, routes and the timetable for the first works.</p>"
)


def outlet_page(n: int) -> tuple[str, bytes]:
    """The n-th Arabic outlet page of the file: a real page at its own URL (a distinct
    query, and its canonical link disabled, so each is its own article)."""
    pages = real_pages()
    page = pages[n % len(pages)]
    return f"{page.url}?n={n}", page.body.replace(b'rel="canonical"', b'rel="x-canonical"')


def build(path: Path, records: int, share: float) -> int:
    """Write the WARC; returns how many responses are Arabic outlet pages."""
    writer = WARCWriter(None)
    matched = 0
    responses = records // 3
    every = max(1, round(1 / share)) if share else 0
    with path.open("wb") as fh:
        for n in range(responses):
            if every and n % every == 0:
                url, body = outlet_page(matched)
                matched += 1
            else:
                url = f"https://site{n % 5000}.example.com/news/{n}.html"
                body = (f"<html><head><title>Story {n}</title></head><body>"
                        f"{OTHER_TEXT * 6}</body></html>").encode()  # fmt: skip
            http = StatusAndHeaders(
                "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            response = writer.create_warc_record(
                url, "response", payload=io.BytesIO(body), http_headers=http
            )
            request = writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""),
                http_headers=StatusAndHeaders(f"GET {url} HTTP/1.1", [], is_http_request=True),
            )  # fmt: skip
            meta = writer.create_warc_record(
                url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 90\r\n"),
                warc_content_type="application/warc-fields",
            )  # fmt: skip
            for record in (request, response, meta):
                out = io.BytesIO()
                WARCWriter(out, gzip=True).write_record(record)
                fh.write(out.getvalue())
    return matched


def skip_fastwarc(path: Path, hosts: OutletHosts) -> tuple[int, float]:
    start, n = time.perf_counter(), 0
    with path.open("rb") as fh:
        for record in FastIterator(fh, parse_http=False):
            n += 1
            hosts.match(record.headers.get("WARC-Target-URI") or "")
            record.consume()
    return n, time.perf_counter() - start


def skip_warcio(path: Path, hosts: OutletHosts) -> tuple[int, float]:
    start, n = time.perf_counter(), 0
    with path.open("rb") as fh:
        for record in WarcioIterator(fh):
            n += 1
            hosts.match(record.rec_headers.get_header("WARC-Target-URI") or "")
    return n, time.perf_counter() - start


def crawl_same_pages(matched: int, scratch: Path) -> tuple[float, int]:
    """`arshif crawl` of the same outlet pages served on 127.0.0.1 (bench/pipeline.py's
    crawl: its sitemap, politeness off, one extraction worker per core): pages/s, archived."""
    site = scratch / "site"
    (site / "a").mkdir(parents=True)
    locs = []
    for n in range(matched):
        (site / "a" / f"{n}.html").write_bytes(outlet_page(n)[1])
        locs.append(f"<url><loc>{PLACEHOLDER.decode()}/a/{n}.html</loc></url>")
    (site / "robots.txt").write_text("User-agent: *\nDisallow:\n")
    (site / "sitemap.xml").write_text(
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(locs) + "</urlset>"
    )  # fmt: skip
    with SampleServer(root=site) as server:
        return crawl_rate(server, matched, worker_count(0), scratch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--share", type=float, default=0.01)
    args = parser.parse_args()
    hosts = OutletHosts(load_outlets().values())
    with tempfile.TemporaryDirectory() as tmp:
        warc = Path(tmp) / "cc-news-like.warc.gz"
        t0 = time.perf_counter()
        matched = build(warc, args.records, args.share)
        print(f"built {warc.stat().st_size / 1e6:.0f} MB, {matched} outlet pages, "
              f"{time.perf_counter() - t0:.0f} s")  # fmt: skip
        n_fast, t_fast = skip_fastwarc(warc, hosts)
        n_warcio, t_warcio = skip_warcio(warc, hosts)
        assert n_fast == n_warcio
        print(f"skip: fastwarc {n_fast / t_fast:,.0f}/s, warcio {n_warcio / t_warcio:,.0f}/s")
        home = Path(tmp) / "data"
        workers = worker_count(0)
        with (
            Archive(home / "archive.sqlite") as archive,
            ProcessPoolExecutor(workers, mp_context=worker_context()) as pool,
        ):
            store = WarcStore(home / "warc")
            job = WarcImport(Loader(archive, None), hosts, WarcOptions(), store, pool, 4 * workers)
            t0 = time.perf_counter()
            report = job.run(str(warc))
            took = time.perf_counter() - t0
            store.close()
        counts = report.counts
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        crawl_pages, crawled = crawl_same_pages(matched, Path(tmp))
        print(f"crawl of the same {matched} pages: {crawl_pages:.1f} pages/s, {crawled} archived")
        print(f"import: {counts['records'] / took:,.0f} records/s, {counts.get('archived', 0)} "
              f"archived ({counts.get('archived', 0) / took:.1f}/s), {took:.0f} s, peak {peak:.0f} MB")  # fmt: skip
    body = f"""
{n_fast:,} records ({args.records // 3:,} request/response/metadata triples, {matched:,}
responses real Arabic outlet pages, the rest other hosts), gzip per record; the import's
page work in {workers} worker processes, as a crawl's. The machine is shared with other
jobs, so the import rates are lower bounds; the two skip rates were measured side by side.

| step | figure |
|---|---|
| records passed over, FastWARC (header read, host looked up, body skipped) | {n_fast / t_fast:,.0f}/s |
| the same with warcio | {n_warcio / t_warcio:,.0f}/s |
| FastWARC / warcio | {t_warcio / t_fast:.1f}× |
| `arshif import` of the whole file (page work of every match, archive) | {counts["records"] / took:,.0f} records/s, {took:.0f} s |
| outlet pages archived, of those on catalogue outlets' hosts (the sixth real page's outlet is not in the catalogue) | {counts.get("archived", 0):,} of {counts.get("matched", 0):,} ({counts.get("archived", 0) / took:.1f}/s) |
| `arshif crawl` of the same {matched:,} outlet pages from 127.0.0.1 (sitemap, politeness off) | {crawl_pages:.1f} pages/s, {crawled:,} archived |
| peak memory of the importing process (workers aside) | {peak:.0f} MB |
"""
    write_section("WARC import (bench/import_warc.py)", body)


if __name__ == "__main__":
    main()
