"""End to end: the real Scrapy engine crawls the sample outlet over HTTP on 127.0.0.1,
archives, indexes; then search, export, incremental and resumed crawls."""

from __future__ import annotations

import csv
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

from arshif.config import archive_path, job_dir, warc_dir
from crawler.sample_server import SampleServer
from crawler.warc import iter_responses
from indexer.archive import Archive
from tests.conftest import FAST, ROOT, run_arshif


def crawl(home: Path, server: SampleServer, *extra: str) -> subprocess.CompletedProcess[str]:
    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST, *extra)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def article_paths(manifest: dict, kinds: tuple[str, ...] | None = None) -> set[str]:
    return {a["path"] for a in manifest["articles"] if kinds is None or a["kind"] in kinds}


def fetched_articles(server: SampleServer, manifest: dict) -> list[str]:
    paths = article_paths(manifest)
    return [p for p in server.requests if p in paths]


def archived(home: Path) -> dict[str, dict]:
    """Archived articles keyed by URL path."""
    with Archive(archive_path(home)) as archive:
        return {re.sub(r"^https?://[^/]+", "", a.url): a.to_dict() for a in archive.iter_articles()}


def good(manifest: dict) -> set[str]:
    """The articles a crawl archives: all but those the manifest says are skipped."""
    return {a["path"] for a in manifest["articles"] if not a["skip_reason"]}


def test_first_crawl_archives_every_article_once(home, server, manifest) -> None:
    # Two workers whatever this machine's cores: the forked worker pool is what runs here.
    result = crawl(home, server, "--set", "ARSHIF_EXTRACT_WORKERS=2")
    rows = archived(home)
    assert set(rows) == good(manifest)
    fetched = fetched_articles(server, manifest)
    assert sorted(fetched) == sorted(article_paths(manifest)), "each article fetched exactly once"
    assert "/private/admin.html" not in server.requests, "robots.txt must be obeyed"
    assert "/robots.txt" in server.requests

    by_path = {a["path"]: a for a in manifest["articles"]}
    for path, row in rows.items():
        expected = by_path[path]
        assert row["title"] == expected["title"], path
        assert (row["published"] or "").startswith(expected["published"][:10]), path
        assert row["language"] == expected["language"], path
        assert row["page_type"] == expected["page_type"], path
        assert row["warc_file"] and row["warc_offset"] is not None
        assert row["content_hash"]
    # The raw page sits in the WARC file at the recorded offset.
    pages = {
        (p.warc_file, p.offset): p
        for f in warc_dir(home).glob("*.warc.gz")
        for p in iter_responses(f)
    }
    for row in rows.values():
        assert pages[(row["warc_file"], row["warc_offset"])].url == row["url"]

    # Each page the manifest says is skipped is skipped with its reason, and counted.
    skipped = [a for a in manifest["articles"] if a["skip_reason"]]
    with sqlite3.connect(archive_path(home)) as db:
        seen = dict(db.execute("select url, status from urls"))
    for entry in skipped:
        url = f"{server.base_url}{entry['path']}"
        assert f"Skipped {url}: {entry['skip_reason']}" in result.stderr
        assert seen[url] == f"skipped:{entry['skip_reason']}"
    cp1256 = next(a for a in manifest["articles"] if a["kind"] == "cp1256")
    assert rows[cp1256["path"]]["encoding"] in ("cp1256", "windows-1256")
    assert cp1256["body"][0][:40] in rows[cp1256["path"]]["text"]

    with Archive(archive_path(home)) as archive:
        (run,) = archive.runs()
        assert archive.pending_count() == 0, "the crawl indexes what it archived"
    assert run["status"] == "finished"
    assert run["new_articles"] == len(good(manifest))
    assert run["pages"] >= len(article_paths(manifest))
    reasons = Counter(a["skip_reason"].replace(" ", "_") for a in skipped)
    for reason, count in reasons.items():
        assert run["errors"][f"extract/{reason}"] == count, run["errors"]
    assert not job_dir(home, "sample").exists(), "a finished crawl leaves no job folder"


def test_second_crawl_fetches_only_what_is_new(home, server, site, manifest) -> None:
    crawl(home, server)
    before = len(server.requests)
    # A new article appears on the site and in its feed between the two crawls.
    src = next(a for a in manifest["articles"] if a["kind"] == "arabic")["path"]
    new_path = "/news/2026/11/20/new-story.html"
    page = (site / src.lstrip("/")).read_text(encoding="utf-8")
    (site / new_path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
    (site / new_path.lstrip("/")).write_text(
        page.replace(src, new_path).replace("</h1>", " (محدث)</h1>", 1), encoding="utf-8"
    )
    rss = (site / "rss.xml").read_text(encoding="utf-8")
    item = f"<item><title>جديد</title><link>__BASE_URL__{new_path}</link></item>"
    (site / "rss.xml").write_text(rss.replace("</channel>", item + "</channel>"), encoding="utf-8")

    result = crawl(home, server)
    second = server.requests[before:]
    assert [p for p in second if p.startswith("/news/")] == [new_path]
    assert "/rss.xml" in second, "feeds are read again on every crawl"
    assert "1 new articles" in result.stdout
    assert new_path in archived(home)
    with Archive(archive_path(home)) as archive:
        assert [r["new_articles"] for r in archive.runs()] == [1, len(good(manifest))]


def test_refresh_fetches_archived_articles_again(home, server, manifest) -> None:
    crawl(home, server)
    before = len(server.requests)
    crawl(home, server, "--refresh")
    again = [p for p in server.requests[before:] if p in article_paths(manifest)]
    assert sorted(again) == sorted(article_paths(manifest))
    assert set(archived(home)) == good(manifest)


def test_interrupted_crawl_resumes_without_loss_or_duplicates(home, server, manifest) -> None:
    first = crawl(
        home, server, "--set", "CLOSESPIDER_PAGECOUNT=8", "--set", "CONCURRENT_REQUESTS=1"
    )
    assert "closespider_pagecount" in first.stdout
    assert job_dir(home, "sample").exists(), "an interrupted crawl keeps its job folder"
    partial = set(archived(home))
    assert 0 < len(partial) < len(good(manifest))
    before = len(server.requests)
    crawl(home, server)
    assert set(archived(home)) == good(manifest)
    refetched = [p for p in server.requests[before:] if p in partial]
    assert refetched == [], "articles archived before the interruption are not fetched again"
    with sqlite3.connect(archive_path(home)) as db:
        (dupes,) = db.execute("select count(*) - count(distinct url) from articles").fetchone()
    assert dupes == 0


def test_job_folder_of_a_killed_crawl_is_not_trusted(home, server, manifest) -> None:
    """A killed crawl's queues are torn (they are saved only on close): the next crawl drops
    them and starts from the feeds; one still running is not disturbed."""
    folder = job_dir(home, "sample")
    (folder / "requests.queue").mkdir(parents=True)
    (folder / "requests.queue" / "q00000").write_bytes(b"\x00\x00\x07torn")
    gone = subprocess.Popen(["true"])
    gone.wait()
    (folder / "running").write_text(str(gone.pid), encoding="utf-8")
    result = crawl(home, server)
    assert "request queues cannot be trusted" in result.stderr
    assert set(archived(home)) == good(manifest)
    assert not folder.exists(), "the finished crawl removed its job folder"

    folder.mkdir(parents=True)
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "arshif"]) as live:
        (folder / "running").write_text(str(live.pid), encoding="utf-8")
        busy = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
        live.kill()
    assert busy.returncode != 0 and f"still running (process {live.pid})" in busy.stderr
    assert (folder / "running").read_text(encoding="utf-8") == str(live.pid)


def test_scrapy_crawl_from_project_root(home, server, manifest) -> None:
    env = {**os.environ, "ARSHIF_HOME": str(home)}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "outlet=sample",
         "-a", f"base_url={server.base_url}", "-s", "DOWNLOAD_DELAY=0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert set(archived(home)) == good(manifest)


def test_search_and_export_after_crawl(home, server, manifest, tmp_path) -> None:
    crawl(home, server)
    seeds = {a["path"] for a in manifest["articles"] if a["kind"] == "seed"}
    results = {}
    for variant in ("قمة", "القمة", "قمه", "والقمة"):
        out = run_arshif(home, "search", variant, "--json", "--limit", "50")
        assert out.returncode == 0, out.stderr
        hits = json.loads(out.stdout)["hits"]
        results[variant] = {re.sub(r"^https?://[^/]+", "", h["url"]) for h in hits}
        assert all(h["snippet"] and h["title"] for h in hits)
    assert len({frozenset(v) for v in results.values()}) == 1
    assert seeds <= results["قمة"]

    out = run_arshif(home, "search", "شنغهاي", "--lang", "en", "--json")
    assert json.loads(out.stdout)["total"] == 0
    readable = run_arshif(home, "search", "قمة شنغهاي")
    assert "articles match" in readable.stdout

    target = tmp_path / "out.csv"
    out = run_arshif(home, "export", "--format", "csv", "-o", str(target), "--lang", "ar", "--bom")
    assert out.returncode == 0, out.stderr
    with target.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    ar = {a["path"] for a in manifest["articles"] if a["language"] == "ar"} & good(manifest)
    assert len(rows) == len(ar)

    stats = json.loads(run_arshif(home, "stats", "--json").stdout)
    assert stats["total"] == len(good(manifest))


def test_reextract_rebuilds_from_warc(home, server, manifest) -> None:
    crawl(home, server)
    with sqlite3.connect(archive_path(home)) as db:
        db.execute("update articles set text = 'x', title = 'x'")
    out = run_arshif(home, "reextract")
    assert out.returncode == 0, out.stderr
    assert f"{len(good(manifest))} articles updated" in out.stdout
    rows = archived(home)
    assert all(r["title"] != "x" and len(r["text"]) > 100 for r in rows.values())


def test_demo_runs_offline_and_fast(home) -> None:
    out = run_arshif(home, "demo", timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "new articles" in out.stdout
    match = re.search(r"(\d+) matches\. Done in ([\d.]+)s", out.stdout)
    assert match and int(match.group(1)) >= 4
    assert float(match.group(2)) < 60


def test_bad_worker_count_is_a_plain_error(home) -> None:
    result = run_arshif(home, "crawl", "sample", "--set", "ARSHIF_EXTRACT_WORKERS=many")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "ARSHIF_EXTRACT_WORKERS takes a number of processes" in result.stderr
