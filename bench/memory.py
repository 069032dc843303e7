"""Resident memory of a long crawl: does it stay bounded and flat?

Generates a local site of N article pages (default 50,000) with bench/pipeline.py's
generator, serves it on 127.0.0.1 and runs the real `arshif crawl` of it in a child process
(extraction workers: one per core unless --workers). Every ~2 s it reads from /proc:
  - the crawl process's resident memory (VmRSS);
  - its descendants' (the extraction workers and multiprocessing's resource tracker),
    summed RSS;
  - the proportional set size (PSS) of the whole process tree, which counts shared pages
    once, so it is the honest total;
and the number of articles in the archive so far. Writes the curve (every 5,000 articles,
or every tenth of N for smaller runs), the peaks and the growth after warm-up (from N/5
articles to the end of the crawl) to bench/RESULTS.md, and the figures to
bench/memory_last.json (bench/reliability.py reads the peak from there).

usage: python bench/memory.py [--pages 50000] [--workers 0] [--interval 2]
       python bench/memory.py --report   (rewrite the section from bench/memory_last.json)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, astuple, dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arshif.config import archive_path  # noqa: E402
from bench.pipeline import build_site, crawl_command  # noqa: E402
from bench.results import write_section  # noqa: E402
from crawler.sample_server import SampleServer  # noqa: E402

LAST = Path(__file__).with_name("memory_last.json")
MB = 1024 * 1024


@dataclass
class Sample:
    seconds: float
    archived: int
    main_rss: int  # bytes
    children_rss: int
    tree_pss: int
    children: int


def _status_kib(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def descendants(pid: int) -> list[int]:
    """Every live process below `pid`, from the parent links in /proc/*/stat."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                stat = fh.read()
        except OSError:
            continue
        # The command name may hold spaces and parentheses: fields follow the last ')'.
        parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found += kids
        frontier += kids
    return found


def archived_count(db_path: Path) -> int:
    if not db_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT count(*) FROM articles").fetchone()[0]
    except sqlite3.Error:
        return -1  # not created yet, or busy: the caller keeps the previous figure


def sample(pid: int, started: float, archived: int) -> Sample:
    kids = descendants(pid)
    return Sample(
        seconds=time.monotonic() - started,
        archived=archived,
        main_rss=_status_kib(pid, "VmRSS") * 1024,
        children_rss=sum(_status_kib(k, "VmRSS") for k in kids) * 1024,
        tree_pss=sum(_pss_kib(p) for p in [pid, *kids]) * 1024,
        children=len(kids),
    )


def measure(pages: int, workers: int, interval: float) -> tuple[list[Sample], str]:
    scratch = Path(tempfile.mkdtemp(prefix="arshif-memory-"))
    try:
        print(f"generating {pages} pages ...", flush=True)
        build_site(scratch / "site", pages)
        with SampleServer(root=scratch / "site") as server:
            args, env = crawl_command(server, workers, scratch)
            db_path = archive_path(Path(env["ARSHIF_HOME"]))
            log = scratch / "crawl.log"
            samples: list[Sample] = []
            with log.open("w") as out:
                proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=out)
                started = time.monotonic()
                archived = 0
                while proc.poll() is None:
                    archived = max(archived, archived_count(db_path))
                    row = sample(proc.pid, started, archived)
                    if row.main_rss:  # zero once the process has gone
                        samples.append(row)
                        print(
                            f"{row.seconds:6.0f} s  {row.archived:6d} archived  "
                            f"crawl {row.main_rss / MB:6.1f} MB  "
                            f"workers {row.children_rss / MB:6.1f} MB ({row.children})  "
                            f"tree PSS {row.tree_pss / MB:6.1f} MB",
                            flush=True,
                        )
                    time.sleep(interval)
            tail = log.read_text(encoding="utf-8", errors="replace")
            if proc.returncode != 0:
                raise SystemExit(f"crawl failed ({proc.returncode}):\n{tail[-3000:]}")
            final = archived_count(db_path)
            if samples and final >= 0:
                samples.append(Sample(time.monotonic() - started, final, 0, 0, 0, 0))
            return samples, tail
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _at(samples: list[Sample], archived: int) -> Sample | None:
    """The first sample at or past `archived` articles (memory taken while crawling)."""
    return next((s for s in samples if s.archived >= archived and s.main_rss), None)


def summarise(samples: list[Sample], pages: int, workers: int) -> dict:
    live = [s for s in samples if s.main_rss]
    final = samples[-1].archived
    step = 5000 if pages >= 20_000 else max(1, pages // 10)
    curve = []
    for mark in range(step, final + 1, step):
        s = _at(live, mark)
        if s is not None:
            curve.append(asdict(s) | {"mark": mark})
    # Warm-up: a fifth of the crawl; then the growth to the last sample taken while the
    # crawl still fetched (the final indexing is reported apart, in the peaks).
    warm = _at(live, pages // 5)
    crawling = [s for s in live if s.archived < final] or live
    end = max(crawling, key=lambda s: s.archived)
    peak_main = max(live, key=lambda s: s.main_rss)
    peak_tree = max(live, key=lambda s: s.tree_pss)
    peak_sum = max(live, key=lambda s: s.main_rss + s.children_rss)
    return {
        "pages": pages,
        "workers": workers,
        "archived": final,
        "seconds": round(samples[-1].seconds),
        "curve": curve,
        "warm": asdict(warm) if warm else None,
        "end": asdict(end),
        "peak_main_rss": peak_main.main_rss,
        "peak_main_at": peak_main.archived,
        "peak_children_rss": max(s.children_rss for s in live),
        "peak_tree_pss": peak_tree.tree_pss,
        "peak_tree_at": peak_tree.archived,
        "peak_sum_rss": peak_sum.main_rss + peak_sum.children_rss,
        "samples": len(live),
        # Every sample: seconds, archived, crawl RSS, workers RSS, tree PSS, children.
        "all": [[round(s.seconds, 1), *astuple(s)[1:]] for s in samples],
    }


def report(summary: dict) -> str:
    def mb(value: int) -> str:
        return f"{value / MB:.0f}"

    rows = [
        f"| {c['mark']:,} | {c['archived']:,} | {c['seconds']:.0f} | {mb(c['main_rss'])} | "
        f"{mb(c['children_rss'])} ({c['children']}) | {mb(c['tree_pss'])} |"
        for c in summary["curve"]
    ]
    warm, end = summary["warm"], summary["end"]
    growth = (
        f"From {warm['archived']:,} to {end['archived']:,} articles the crawl process's RSS "
        f"went from {mb(warm['main_rss'])} to {mb(end['main_rss'])} MB "
        f"({(end['main_rss'] - warm['main_rss']) / MB:+.0f} MB), the workers' from "
        f"{mb(warm['children_rss'])} to {mb(end['children_rss'])} MB "
        f"({(end['children_rss'] - warm['children_rss']) / MB:+.0f} MB) and the tree's PSS from "
        f"{mb(warm['tree_pss'])} to {mb(end['tree_pss'])} MB "
        f"({(end['tree_pss'] - warm['tree_pss']) / MB:+.0f} MB)."
        if warm
        else "The crawl was too short to have a warm-up point."
    )
    lines = [
        f"`arshif crawl` of {summary['pages']:,} generated article pages served on 127.0.0.1 "
        f"(bench/pipeline.py's site: one news sitemap, AutoThrottle and delays off, "
        f"ARSHIF_EXTRACT_WORKERS={summary.get('workers', 0)}); {summary['archived']:,} articles "
        "archived in "
        f"{summary['seconds']:,} s (the machine is shared: times are not a speed figure). "
        f"Sampled from /proc every ~2 s ({summary['samples']} samples): *crawl* is the crawl "
        "process's VmRSS; *workers* the summed VmRSS of its child processes (extraction "
        "workers and multiprocessing's resource tracker; pages they share are counted in "
        "each); *tree PSS* the proportional set size of the whole process tree, shared pages "
        "counted once (PSS also divides shared-library pages with unrelated processes that map "
        "them, so on a shared machine it moves with their number while every RSS stays put). "
        "MB are 2^20 bytes. Each row is the first sample at or past the mark.",
        "",
        "| articles | archived at sample | seconds | crawl RSS (MB) | workers RSS (MB) | "
        "tree PSS (MB) |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
        f"Peak: crawl process {mb(summary['peak_main_rss'])} MB RSS (at "
        f"{summary['peak_main_at']:,} articles), workers {mb(summary['peak_children_rss'])} MB "
        f"RSS summed, whole tree {mb(summary['peak_tree_pss'])} MB PSS (at "
        f"{summary['peak_tree_at']:,} articles; the last samples include the search indexing "
        "when the crawl ends)."
        + (
            f" The crawl's and the workers' RSS added up, shared pages counted twice: at most "
            f"{mb(summary['peak_sum_rss'])} MB."
            if "peak_sum_rss" in summary
            else ""
        ),
        "",
        f"After warm-up: {growth}",
        "",
        "Target: under 500 MB resident and flat after warm-up. Request fingerprints are in a "
        "SQLite file of the run (crawler/dupefilter.py), the scheduler's queue in the job "
        "folder, the dedup index in the archive.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50_000)
    parser.add_argument(
        "--workers", type=int, default=0, help="ARSHIF_EXTRACT_WORKERS (0: one per core)"
    )
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between samples")
    parser.add_argument(
        "--no-write", action="store_true", help="print only; leave RESULTS.md alone"
    )
    parser.add_argument(
        "--report", action="store_true", help=f"no crawl: rewrite the section from {LAST.name}"
    )
    args = parser.parse_args()
    if args.report:
        summary = json.loads(LAST.read_text(encoding="utf-8"))
        ended = datetime.fromtimestamp(LAST.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M")
        summary.setdefault("ended", ended)
    else:
        samples, _ = measure(args.pages, args.workers, args.interval)
        if not samples:
            raise SystemExit("no samples: the crawl ended before the first one")
        summary = summarise(samples, args.pages, args.workers)
        summary["ended"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
    text = report(summary)
    if args.report:
        text = (
            f"Crawl run ended {summary['ended']} UTC; section rewritten from {LAST.name}.\n\n{text}"
        )
    print(text)
    if not args.no_write:
        if not args.report:
            LAST.write_text(json.dumps(summary) + "\n", encoding="utf-8")
        write_section("Memory over a long crawl (bench/memory.py)", text)


if __name__ == "__main__":
    main()
