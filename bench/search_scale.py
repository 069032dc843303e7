"""Search at archive scale: the API and the search page timed over HTTP on a large archive
built from real Arabic news sentences, loaded with `arshif import`.

Each generated article is one real story's sentences (../shared/realdata/*.jsonl and
../shared/seeds), a random share of them in a random order, with the story's title, one of
eight outlets and a date in 2019-2024: word frequencies are those of real news. They are
written as a JSONL file of the shape other tools give (url, title, text, outlet, published,
language) and loaded with `arshif import` (tagged, indexed as it archives); the import's
rate is timed. As every generated article is a near-copy of its story's others (a few
hundred each), dedup is measured apart, on the first `--dedup-sample` lines: import with
stories, near-duplicates only (`--no-stories`) and without (`--no-dedup`), which the full
import uses. The archive is served with `arshif serve` (uvicorn, 127.0.0.1) once per code
tree given: `--compare DIR` indexes a copy of the same archive with that tree's
`arshif index` and times it beside this tree, with the same queries.

    python bench/search_scale.py --articles 200000 --compare /tmp/arshif-before
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
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arshif.arabic import analyze, tokens  # noqa: E402
from arshif.record import Article  # noqa: E402
from bench.results import write_section  # noqa: E402

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


def write_jsonl(path: Path, articles: list[Article]) -> None:
    """The articles as another tool's records: what `arshif import` derives (id, canonical
    URL, content hash, topics, dedup fields) is left out."""
    with path.open("w", encoding="utf-8") as fh:
        for a in articles:
            record = {"url": a.url, "title": a.title, "text": a.text, "outlet": a.outlet,
                      "published": a.published, "language": a.language}  # fmt: skip
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def import_file(code: Path, home: Path, source: Path, *flags: str) -> dict[str, float]:
    """`arshif import SOURCE` of `code` into `home`: seconds, and the machine's load
    average (1 minute) sampled while it ran."""
    loads: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.wait(5):
            loads.append(os.getloadavg()[0])

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    child = arshif(code, home, "import", str(source), "--no-progress", *flags,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    status = child.wait()
    seconds = time.perf_counter() - started
    done.set()
    if status != 0:
        raise RuntimeError(f"arshif import {' '.join(flags)} failed with {code}")
    loads.append(os.getloadavg()[0])
    return {"seconds": seconds, "load": sum(loads) / len(loads)}


def dedup_share(
    source: Path, lines: int, compare: tuple[str, Path] | None = None
) -> dict[str, dict[str, float]]:
    """The first `lines` records imported with stories, near-duplicates only and without
    dedup, each into an empty archive; and by another tree (`compare`: label, code) as it
    imports by default."""
    work = Path(tempfile.mkdtemp(prefix="arshif-scale-dedup-"))
    try:
        sample = work / "sample.jsonl"
        with source.open("rb") as fh, sample.open("wb") as out:
            for _, line in zip(range(lines), fh, strict=False):
                out.write(line)
        out_: dict[str, dict[str, float]] = {}
        runs: list[tuple[str, Path, tuple[str, ...]]] = [
            ("without dedup (--no-dedup)", ROOT, ("--no-dedup",)),
            ("near-duplicates only (--no-stories)", ROOT, ("--no-stories",)),
            ("near-duplicates and stories (default)", ROOT, ()),
        ]
        if compare:
            runs.append((f"{compare[0]}: near-duplicates and stories (default)", compare[1], ()))
        for n, (label, code, flags) in enumerate(runs):
            home = work / str(n)
            out_[label] = import_file(code, home, sample, *flags)
            print(f"dedup sample, {label}: {out_[label]['seconds']:.0f} s", flush=True)
            shutil.rmtree(home, ignore_errors=True)
        return out_
    finally:
        shutil.rmtree(work, ignore_errors=True)


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


def index_copy(code: Path, source_home: Path) -> tuple[Path, float]:
    """A new data folder holding a copy of `source_home`'s archive (not its index), indexed
    by `code`'s `arshif index`; returns it and the seconds indexing took."""
    home = Path(tempfile.mkdtemp(prefix="arshif-scale-"))
    for part in source_home.glob("archive.sqlite*"):
        shutil.copy(part, home / part.name)
    started = time.perf_counter()
    done = arshif(code, home, "index", stdout=subprocess.DEVNULL)
    if done.wait() != 0:
        raise RuntimeError(f"arshif index failed with {code}")
    return home, time.perf_counter() - started


def measure(code: Path, home: Path, queries: dict[str, list[dict[str, str]]]) -> dict:
    """Serve `home` with `code`'s `arshif serve` and time the API and the page."""
    index_bytes = (
        folder_size(home / "search-index-v2") if (home / "search-index-v2").exists() else 0
    )
    total_size = sum(p.stat().st_size for p in home.glob("archive.sqlite*")) + index_bytes
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
        loads = [os.getloadavg()[0]]
        for name, cases in queries.items():
            api[name] = []
            for params in cases:
                path = "/api/search?" + urlencode({**params, "limit": 10})
                timed_get(conn, path)  # warm-up
                ms, status = timed_get(conn, path)
                statuses[status] += 1
                api[name].append(ms)
            loads.append(os.getloadavg()[0])
        page = []
        for params in queries["medium word"] + queries["common word"]:
            ms, status = timed_get(conn, "/?" + urlencode(params))
            statuses[status] += 1
            page.append(ms)
        loads.append(os.getloadavg()[0])
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "index_bytes": index_bytes,
        "total_bytes": total_size,
        "api": api,
        "page": page,
        "statuses": dict(statuses),
        "load": sum(loads) / len(loads),
    }


def p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(n: int, runs: dict[str, dict], dedup: dict[str, dict[str, float]], sample: int) -> str:
    names = list(runs)
    mine = runs[names[-1]]
    rate = n / mine["load_seconds"]
    lines = [
        f"{n:,} articles, each one real story's sentences ({len(stories())} stories from "
        "../shared/realdata and ../shared/seeds), 8 outlets, dates 2019-2024, loaded from a "
        "JSONL file of url, title, text, outlet, published and language with `arshif import "
        "--no-dedup` (record work in 2 worker processes; tagged, archived and indexed as it "
        "goes; dedup is measured apart below). Other trees index a copy of the same archive "
        f"with their `arshif index`. {REPEAT} queries per class, each timed once after a "
        "warm-up, over HTTP on 127.0.0.1; the page once per medium and common word (after "
        "the API asked the same query). Machine shared with other jobs (2 cores): compare "
        "columns, not runs.",
        "",
        "| measure | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]

    def row(label: str, values: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + " |")

    row("loaded by", [runs[k]["how"] for k in names])
    row("load time (s)", [f"{runs[k]['load_seconds']:.0f}" for k in names])
    row("articles/s", [f"{n / runs[k]['load_seconds']:,.0f}" for k in names])
    row("load average while loading", [f"{runs[k]['load_load']:.1f}" for k in names])
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
    row("load average while timing", [f"{runs[k]['load']:.1f}" for k in names])
    row("HTTP statuses", [str(runs[k]["statuses"]) for k in names])
    if dedup:  # `--dedup-sample 0` skips that part
        lines += ["", f"Dedup, on the first {sample:,} records (`arshif import` of this tree, "
                  "each into an empty archive):", "",
                  "| import | seconds | articles/s | share of the time in dedup | load average |",
                  "|---|---|---|---|---|"]  # fmt: skip
        bare = next(iter(dedup.values()))["seconds"]
        for label, run in dedup.items():
            share = 1 - bare / run["seconds"]
            lines.append(
                f"| {label} | {run['seconds']:.0f} | {sample / run['seconds']:,.0f} | "
                f"{'–' if run['seconds'] == bare or ':' in label else f'{share:.0%}'} | "
                f"{run['load']:.1f} |"
            )
    lines += [
        "",
        "Targets at 200,000 articles: /api/search p95 <= 20 ms, search page <= 100 ms, "
        "archive + index <= 4 KB per article, import >= 1,000 articles/s; at 1,000,000: "
        f"<= 50 ms / <= 200 ms. At this run's import rate ({rate:,.0f}/s) a 1,000,000-article "
        f"import takes about {1_000_000 / rate / 60:.0f} minutes.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200_000)
    parser.add_argument("--compare", type=Path, help="another code tree to measure beside this")
    parser.add_argument("--label", default="this tree")
    parser.add_argument("--compare-label", default="before")
    parser.add_argument("--dedup-sample", type=int, default=20_000,
                        help="records imported with and without dedup (0: skip)")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="arshif-scale-archive-"))
    homes = []
    try:
        articles = generate(args.articles)
        queries = pick_queries(articles, random.Random(7))
        source = work / "articles.jsonl"
        write_jsonl(source, articles)
        del articles
        compare = (args.compare_label, args.compare) if args.compare else None
        dedup = dedup_share(source, args.dedup_sample, compare) if args.dedup_sample else {}
        home = work / "data"
        loaded = import_file(ROOT, home, source, "--no-dedup")
        print(f"imported {args.articles:,} articles in {loaded['seconds']:.0f} s", flush=True)
        runs: dict[str, dict] = {}
        if args.compare:
            other, seconds = index_copy(args.compare, home)
            homes.append(other)
            print(f"{args.compare_label}: indexed in {seconds:.0f} s", flush=True)
            runs[args.compare_label] = {
                **measure(args.compare, other, queries),
                "how": "`arshif index` of a copy", "load_seconds": seconds,
                "load_load": os.getloadavg()[0],
            }  # fmt: skip
        runs[args.label] = {
            **measure(ROOT, home, queries),
            "how": "`arshif import --no-dedup`", "load_seconds": loaded["seconds"],
            "load_load": loaded["load"],
        }  # fmt: skip
        body = report(args.articles, runs, dedup, args.dedup_sample)
        print(body)
        write_section(f"Search at scale ({args.articles:,} articles)", body)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for other in homes:
            shutil.rmtree(other, ignore_errors=True)


if __name__ == "__main__":
    main()
