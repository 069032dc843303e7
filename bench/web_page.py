"""Search page timings on a generated archive (default 10,000 articles, bench/index_throughput's
generator): each view of the page and the series API, in-process through FastAPI's test
client, median and slowest of a few runs. Figures are printed and written to bench/RESULTS.md.

usage: python bench/web_page.py [--articles 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from arshif.config import archive_path  # noqa: E402
from arshif.web.app import create_app  # noqa: E402
from bench.index_throughput import generate  # noqa: E402
from bench.results import write_section  # noqa: E402
from indexer.archive import Archive  # noqa: E402
from indexer.embedded import EmbeddedIndex  # noqa: E402

CASES = {
    "articles (chart by outlet, facets)": {"q": "قمة"},
    "articles, share of all articles": {"q": "قمة", "measure": "share"},
    "articles, 3 queries compared": {"q": "قمة", "compare": ["النفط", "اللاجئين"]},
    "articles, no query (whole archive)": {},
    "stories view": {"q": "قمة", "view": "stories"},
    "words view (sample of 1,000)": {"q": "قمة", "view": "words"},
    "dataset card before download": ("/download", {"q": "قمة"}),
    "/api/series (JSON)": ("/api/series", {"q": "قمة"}),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        with Archive(archive_path(home)) as archive:
            generate(archive, args.articles)
            EmbeddedIndex(archive).drain(archive)
        rows = []
        with TestClient(create_app(home)) as client:
            for name, case in CASES.items():
                path, params = case if isinstance(case, tuple) else ("/", case)
                times = []
                for _ in range(args.runs + 1):
                    start = time.perf_counter()
                    response = client.get(path, params=params)
                    times.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.text[:300]
                times = times[1:]  # the first run warms caches
                rows.append((name, statistics.median(times), max(times)))
                print(f"{name:40} median {rows[-1][1]:7.0f} ms   slowest {rows[-1][2]:7.0f} ms")
    table = "\n".join(f"| {n} | {m:.0f} | {s:.0f} |" for n, m, s in rows)
    write_section(
        "Search page (bench/web_page.py)",
        f"{args.articles:,} generated articles (4 outlets, 2020-2025), the query «قمة» "
        f"matching most of them, {args.runs} runs after one warm-up, in-process.\n\n"
        "| page | median ms | slowest ms |\n|---|---|---|\n" + table,
    )


if __name__ == "__main__":
    main()
