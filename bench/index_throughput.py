"""Indexing throughput and search latency: the embedded (tantivy) index against Elasticsearch.

Generates N Arabic articles (default 50,000) into an archive, then for each backend:
  - drains the whole outbox into the index and reports documents per second;
  - runs 200 searches (one to three words drawn from the articles' vocabulary, some with a
    filter) and reports the median and 95th-percentile latency.
Elasticsearch here is the noida-db test server (the Elasticsearch 8.15 API in one local
process), started on a free port in a temporary folder: its figures say what Arshif's
client side costs and how the bulk path behaves, not what a real cluster would do.
Figures are printed and written to bench/RESULTS.md.

usage: python bench/index_throughput.py [--articles 50000] [--queries 200] [--es-queries N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arshif.record import Article  # noqa: E402
from bench.results import write_section  # noqa: E402
from indexer.archive import Archive  # noqa: E402
from indexer.embedded import EmbeddedIndex  # noqa: E402
from indexer.es import ElasticIndex, ESConfig  # noqa: E402
from indexer.filters import Filters  # noqa: E402
from indexer.search import SearchQuery  # noqa: E402

WORDS = (
    "قمة منظمة شنغهاي للتعاون سمرقند أستانا الرئيس الصيني الروسي اجتماع القادة الاقتصاد "
    "التجارة الطاقة الأمن الحدود الاتفاقية المفاوضات الوزير الخارجية البرلمان الانتخابات "
    "الحكومة المعارضة الجيش السلام الحرب الأزمة اللاجئين المساعدات الإنسانية الأمم المتحدة "
    "مجلس الأمن العقوبات النفط الغاز الأسعار التضخم البنك المركزي العملة الاستثمار الصادرات "
    "الواردات الزراعة المياه الجفاف المناخ الصحة التعليم الجامعة الطلاب المستشفى اللقاح"
).split()
OUTLETS = ("alpha", "beta", "gamma", "delta")


def generate(archive: Archive, n: int, seed: int = 7) -> None:
    """N articles of about 120 words each, spread over outlets and dates, in one
    transaction."""
    rng = random.Random(seed)
    with archive.transaction():
        for i in range(n):
            archive.upsert(
                Article(
                    id=f"bench{i:07d}",
                    url=f"https://news.example/{i}",
                    canonical_url=f"https://news.example/{i}",
                    outlet=OUTLETS[i % len(OUTLETS)],
                    title=" ".join(rng.choices(WORDS, k=6)),
                    text=" ".join(rng.choices(WORDS, k=120)),
                    published=f"20{20 + i % 6}-{1 + i % 12:02d}-{1 + i % 28:02d}T12:00:00+03:00",
                    language="ar",
                    fetched_at="2026-11-23T12:00:00+00:00",
                    topics=["sco-summit"] if i % 10 == 0 else [],
                )
            )


def queries(count: int, seed: int = 11) -> list[SearchQuery]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        text = " ".join(rng.sample(WORDS, k=1 + i % 3))
        filters = Filters(outlets=(OUTLETS[i % 4],)) if i % 4 == 0 else Filters()
        out.append(SearchQuery(text, filters=filters, limit=10))
    return out


def latency(backend: object, qs: list[SearchQuery]) -> tuple[float, float]:
    """Median and 95th-percentile milliseconds per search (after two warm-up searches)."""
    for q in qs[:2]:
        backend.search(q)  # type: ignore[attr-defined]
    times = []
    for q in qs:
        start = time.perf_counter()
        backend.search(q)  # type: ignore[attr-defined]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), statistics.quantiles(times, n=20)[18]


class Noida:
    """noida-db with only Elasticsearch, on a free port, in its own folder."""

    def __init__(self, folder: Path) -> None:
        self.binary = shutil.which("noida-db") or str(Path(sys.executable).with_name("noida-db"))
        self.folder = folder
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Noida:
        subprocess.run(
            [self.binary, "up", "--only", "elasticsearch", "--data-dir", str(self.folder),
             "--elasticsearch-port", str(self.port)],
            check=True, capture_output=True,
        )  # fmt: skip
        for _ in range(300):
            try:
                with urllib.request.urlopen(self.url, timeout=1):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"noida-db did not answer on {self.url}")

    def __exit__(self, *exc: object) -> None:
        subprocess.run(
            [self.binary, "down", "--data-dir", str(self.folder)], capture_output=True, check=False
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--es-queries",
        type=int,
        help="searches on Elasticsearch (default --queries; noida-db scans, so fewer on a "
        "large archive keeps the run short)",
    )
    args = parser.parse_args()
    qs = queries(args.queries)
    es_qs = qs[: args.es_queries or args.queries]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with Archive(folder / "archive.sqlite") as archive:
            start = time.perf_counter()
            generate(archive, args.articles)
            print(f"generated {args.articles:,} articles in {time.perf_counter() - start:.1f}s")

            embedded = EmbeddedIndex(archive)
            archive.requeue_all()
            start = time.perf_counter()
            indexed = embedded.drain(archive)
            seconds = time.perf_counter() - start
            rows.append(("tantivy (embedded)", indexed, seconds, *latency(embedded, qs)))
            print(rows[-1])

            archive.requeue_all()
            with Noida(folder / "noida") as server:
                es = ElasticIndex(ESConfig(urls=(server.url,), replicas=0, timeout=120))
                start = time.perf_counter()
                report = es.drain(archive)
                seconds = time.perf_counter() - start
                assert not report.failed, report.failed
                rows.append(
                    ("Elasticsearch (noida-db)", report.indexed, seconds, *latency(es, es_qs))
                )
                print(rows[-1])
                es.client.close()

    lines = [
        f"{args.articles:,} generated Arabic articles (about 120 words each), drained from the "
        f"archive's outbox in batches of 500; {args.queries} searches (Elasticsearch: "
        f"the first {len(es_qs)}) of one to three words, "
        "a quarter with an outlet filter, 10 hits each with snippets (and facets on "
        "Elasticsearch). Elasticsearch is the noida-db test server on the same machine.",
        "",
        "| backend | docs indexed | seconds | docs/s | search median ms | search p95 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, n, seconds, median, p95 in rows:
        lines.append(
            f"| {name} | {n:,} | {seconds:.1f} | {n / seconds:,.0f} | {median:.1f} | {p95:.1f} |"
        )
    print("\n".join(lines))
    write_section(
        "Index throughput and search latency (bench/index_throughput.py)", "\n".join(lines)
    )


if __name__ == "__main__":
    main()
