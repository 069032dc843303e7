"""Search at archive scale: the API and the search page timed over HTTP on a large archive
built from real Arabic news sentences.

Each generated article is one real story's sentences (../shared/realdata/*.jsonl and
../shared/seeds), a random share of them in a random order, with the story's title, one of
eight outlets and a date in 2019-2024: word frequencies are those of real news. The archive
is written through the archive API (`Archive.upsert`, the outbox), then indexed with
`arshif index` and served with `arshif serve` (uvicorn, 127.0.0.1) in subprocesses, once per
code tree given: so the same archive and the same queries measure this tree's index beside
an older tree's (`--compare DIR`: a checkout of the commit before tantivy, with FTS5).

    python bench/search_scale.py --articles 200000 --compare /tmp/arshif-fts5
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arshif.arabic import analyze, tokens  # noqa: E402
from arshif.record import Article  # noqa: E402
from bench.results import write_section  # noqa: E402
from indexer.archive import Archive  # noqa: E402

SHARED = ROOT.parent / "shared"
OUTLETS = [f"outlet{n}" for n in range(8)]
SENTENCE = re.compile(r"(?<=[.!؟?])\s+|\n+")
REPEAT = 25  # timed requests per query class (after one warm-up each)


def stories() -> list[tuple[str, list[str]]]:
    """(title, sentences) of every real story the shared folder holds."""
    found: list[tuple[str, str]] = []
    for path in sorted((SHARED / "realdata").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            for suffix in ("", "1", "2"):
                if row.get(f"text{suffix}"):
                    found.append((row.get(f"title{suffix}") or "", row[f"text{suffix}"]))
    for path in sorted((SHARED / "seeds").glob("*.txt")):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        found.append((title.strip(), text))
    out = []
    for title, text in found:
        sentences = [s.strip() for s in SENTENCE.split(text) if len(s.strip()) > 20]
        if len(sentences) >= 3:
            out.append((title, sentences))
    return out


def generate(n: int, seed: int = 18) -> list[Article]:
    rng = random.Random(seed)
    pool = stories()
    start = time.mktime((2019, 1, 1, 0, 0, 0, 0, 0, 0))
    span = 6 * 365 * 86400
    articles = []
    for i in range(n):
        title, sentences = pool[i % len(pool)]
        keep = rng.sample(sentences, max(3, int(len(sentences) * rng.uniform(0.6, 1.0))))
        day = time.strftime("%Y-%m-%dT%H:%M:%S+03:00", time.gmtime(start + rng.random() * span))
        url = f"https://bench.example/{i}"
        articles.append(
            Article(
                id=f"a{i:07d}",
                url=url,
                canonical_url=url,
                outlet=OUTLETS[rng.randrange(len(OUTLETS))],
                title=title,
                text="\n\n".join(keep),
                published=day,
                language="ar",
            )
        )
    return articles


def build_archive(path: Path, articles: list[Article]) -> float:
    """Write the articles through the archive API in groups of 1,000; returns seconds."""
    started = time.perf_counter()
    with Archive(path) as archive:
        for i, article in enumerate(articles):
            if i % 1000 == 0:
                archive.commit()
                archive.begin()
            archive.upsert(article)
    return time.perf_counter() - started


def pick_queries(articles: list[Article], rng: random.Random) -> dict[str, list[dict[str, str]]]:
    """Query classes from the corpus's own document frequencies (over the distinct stories:
    each is repeated, so its share of the archive is its share of the stories)."""
    seen: set[str] = set()
    df: Counter[str] = Counter()
    surface: dict[str, Counter[str]] = {}
    bigrams: Counter[tuple[str, str]] = Counter()
    texts = []
    for a in articles:
        if a.title in seen:
            continue
        seen.add(a.title or "")
        texts.append(a.text or "")
        words = re.findall(r"[\u0621-\u064a]+", a.text or "")
        for w in words:
            for term in analyze(w):
                surface.setdefault(term, Counter())[w] += 1
        df.update(set(analyze(a.text or "")))
        normal = tokens(a.text or "")
        bigrams.update(zip(normal, normal[1:], strict=False))
    docs = len(texts)

    def band(low: float, high: float) -> list[str]:
        terms = [t for t, n in df.items() if low * docs <= n <= high * docs and len(t) >= 3]
        words = [surface[t].most_common(1)[0][0] for t in terms if t in surface]
        rng.shuffle(words)
        return words[:REPEAT]

    rare, medium, common = band(0.002, 0.006), band(0.03, 0.08), band(0.25, 0.6)
    phrases = [f'"{a} {b}"' for (a, b), n in bigrams.most_common(400) if len(a) > 3 and len(b) > 3]
    rng.shuffle(phrases)
    prefixes = [w[:4] + "*" for w in medium if len(w) >= 5]

    def q(text: str, **extra: str) -> dict[str, str]:
        return {"q": text, **extra}

    return {
        "rare word": [q(w) for w in rare],
        "medium word": [q(w) for w in medium],
        "common word": [q(w) for w in common],
        "two words": [q(f"{a} {b}") for a, b in zip(medium, common, strict=False)],
        "phrase": [q(p) for p in phrases[:REPEAT]],
        "prefix": [q(p) for p in prefixes],
        "boolean": [
            q(f"({a} OR {b}) -{c}")
            for a, b, c in zip(medium, rare, common[1:] + common[:1], strict=False)
        ],
        "outlet filter": [q(w, outlet=OUTLETS[i % 8]) for i, w in enumerate(medium)],
        "date filter": [q(w, since="2021-01-01", until="2021-06-30") for w in medium],
        "sort by date": [q(w, sort="newest") for w in medium],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def arshif(code: Path, home: Path, *args: str, **popen: object) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(code), "ARSHIF_HOME": str(home)}
    env.pop("ARSHIF_ES_URL", None)
    command = [sys.executable, "-m", "arshif.cli", *args]
    return subprocess.Popen(command, env=env, cwd=code, **popen)  # type: ignore[call-overload]


def timed_get(conn: http.client.HTTPConnection, path: str) -> tuple[float, int]:
    started = time.perf_counter()
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return (time.perf_counter() - started) * 1000, response.status


def measure(code: Path, archive_file: Path, queries: dict[str, list[dict[str, str]]]) -> dict:
    """Index a copy of the archive with `code`'s `arshif index`, serve it, time the API."""
    home = Path(tempfile.mkdtemp(prefix="arshif-scale-"))
    try:
        shutil.copy(archive_file, home / "archive.sqlite")
        before = folder_size(home)
        started = time.perf_counter()
        done = arshif(code, home, "index", stdout=subprocess.DEVNULL)
        if done.wait() != 0:
            raise RuntimeError(f"arshif index failed with {code}")
        index_seconds = time.perf_counter() - started
        total_size = folder_size(home)
        port = free_port()
        server = arshif(code, home, "serve", "--port", str(port), stdout=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    timed_get(conn, "/api/search?q=test")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
            api: dict[str, list[float]] = {}
            statuses: Counter[int] = Counter()
            for name, cases in queries.items():
                api[name] = []
                for params in cases:
                    path = "/api/search?" + urlencode({**params, "limit": 10})
                    timed_get(conn, path)  # warm-up
                    ms, status = timed_get(conn, path)
                    statuses[status] += 1
                    api[name].append(ms)
            page = []
            for params in queries["medium word"] + queries["common word"]:
                ms, status = timed_get(conn, "/?" + urlencode(params))
                statuses[status] += 1
                page.append(ms)
        finally:
            server.terminate()
            server.wait(timeout=30)
        return {
            "index_seconds": index_seconds,
            "index_bytes": total_size - before,
            "total_bytes": total_size,
            "api": api,
            "page": page,
            "statuses": dict(statuses),
        }
    finally:
        shutil.rmtree(home, ignore_errors=True)


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(n: int, archive_seconds: float, runs: dict[str, dict]) -> str:
    names = list(runs)
    lines = [
        f"{n:,} articles, each one real story's sentences ({len(stories())} stories from "
        "../shared/realdata and ../shared/seeds), 8 outlets, dates 2019-2024. Written through "
        f"the archive API (`Archive.upsert`, the outbox; `arshif import` was not available "
        f"to this branch) in {archive_seconds:.0f} s ({n / archive_seconds:,.0f} articles/s), "
        "then `arshif index` and `arshif serve` (uvicorn) of each code tree on a copy of the "
        f"same archive; {REPEAT} queries per class, each timed once after a warm-up, over HTTP "
        "on 127.0.0.1. Machine shared with other jobs: compare columns, not runs.",
        "",
        "| measure | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("index time (s)", [f"{runs[k]['index_seconds']:.0f}" for k in names])
    row(
        "archive + index rate (articles/s)",
        [f"{n / (archive_seconds + runs[k]['index_seconds']):,.0f}" for k in names],
    )
    row("index size (MB)", [f"{runs[k]['index_bytes'] / 1e6:.0f}" for k in names])
    row(
        "archive + index per article (KB)",
        [f"{runs[k]['total_bytes'] / n / 1e3:.2f}" for k in names],
    )
    for name in runs[names[0]]["api"]:
        row(
            f"/api/search {name}: p50 / p95 (ms)",
            [
                f"{p(runs[k]['api'][name], 0.5):.1f} / {p(runs[k]['api'][name], 0.95):.1f}"
                for k in names
            ],
        )
    all_api = {k: [v for vs in runs[k]["api"].values() for v in vs] for k in names}
    row("/api/search, all classes: p50 / p95 (ms)",
        [f"{p(all_api[k], 0.5):.1f} / {p(all_api[k], 0.95):.1f}" for k in names])  # fmt: skip
    row("search page (hits, facets, chart): p50 / p95 (ms)",
        [f"{p(runs[k]['page'], 0.5):.0f} / {p(runs[k]['page'], 0.95):.0f}" for k in names])  # fmt: skip
    row("HTTP statuses", [str(runs[k]["statuses"]) for k in names])
    lines += [
        "",
        "Targets at 200,000 articles: /api/search p95 <= 20 ms, search page <= 100 ms, "
        "archive + index <= 4 KB per article, import >= 1,000 articles/s. The FTS5 tree has no "
        "query language: it answers prefix and boolean queries as plain words (`OR` and `*` "
        "are words to it, `-` is dropped) and ignores `sort`, so its figures for those classes "
        "time a different, wrong query.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--compare", type=Path, help="another code tree to measure beside this")
    parser.add_argument("--label", default="tantivy (this tree)")
    parser.add_argument("--compare-label", default="FTS5 (before)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="arshif-scale-archive-"))
    try:
        articles = generate(args.articles)
        queries = pick_queries(articles, random.Random(7))
        archive_file = work / "archive.sqlite"
        archive_seconds = build_archive(archive_file, articles)
        del articles
        print(f"archive: {args.articles:,} articles in {archive_seconds:.0f} s", flush=True)
        runs: dict[str, dict] = {}
        trees = [(args.label, ROOT)]
        if args.compare:
            trees.insert(0, (args.compare_label, args.compare))
        for label, code in trees:
            runs[label] = measure(code, archive_file, queries)
            print(f"{label}: indexed in {runs[label]['index_seconds']:.0f} s", flush=True)
        body = report(args.articles, archive_seconds, runs)
        print(body)
        write_section(f"Search at scale ({args.articles:,} articles)", body)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
