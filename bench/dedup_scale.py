"""Dedup at scale: place generated Arabic articles one by one in the persistent index.

Each document goes through `DedupIndex.add` as in a crawl: its text is prepared (content
hash, MinHash, story term counts: `arshif.dedup.prepare`) by two worker processes, as the
crawl's extraction workers and the import's record workers do, and placed (exact and LSH
lookups, story vector and candidates, writes) by the main process into an archive file on
disk. Articles are ~250 words drawn from the sample outlet's Arabic vocabulary with
Zipf-like frequencies, dated over two years; one in twenty is a syndicated copy (dateline,
cut ending) of an earlier one. Reported: documents per second over the last 1,000 documents
before each checkpoint (is the per-document cost flat as the archive grows?), the overall
rate, peak memory (max RSS of the placing process) and the database size. The time counted
is the main process's: waiting for prepared texts, and placing them.

Run: `python bench/dedup_scale.py [TOTAL]` (default 200,000).
"""

from __future__ import annotations

import os
import random
import resource
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arshif.arabic import tokens  # noqa: E402
from arshif.dedup import DedupParams, Prepared, prepare  # noqa: E402
from bench.dedup_eval import originals  # noqa: E402
from indexer.archive import Archive  # noqa: E402
from indexer.dedup_store import DedupIndex  # noqa: E402

CHECKPOINTS = (10_000, 50_000, 200_000)
WINDOW = 1_000
START = date(2024, 1, 1)


def generator(seed: int = 3):  # noqa: ANN201 - an iterator of (id, title, text, published)
    rng = random.Random(seed)
    vocabulary = sorted({w for d in originals() for w in tokens(d.text) if len(w) > 1})
    # Zipf-like weights, plus made-up names so documents differ as real ones do.
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    recent: list[tuple[str, str]] = []
    n = 0
    while True:
        n += 1
        day = (START + timedelta(days=(n * 730) // 200_000)).isoformat()
        if recent and rng.random() < 0.05:
            _, text = rng.choice(recent)
            cut = text[: int(len(text) * 0.8)]
            yield f"d{n}", "نسخة", "عمان - (وكالات) - " + cut, day
            continue
        words = rng.choices(vocabulary, weights, k=250)
        for i in rng.sample(range(250), 8):
            words[i] = "".join(rng.choices("ابتثجحخدذرزسشصضطظعغفقكلمنهوي", k=6))
        text = " ".join(words)
        recent = [*recent[-499:], (f"d{n}", text)]
        yield f"d{n}", " ".join(words[:8]), text, day


Doc = tuple[str, str, str, str]  # id, title, text, day
AHEAD = 4  # batches handed to the workers before the first is placed


def prepared(docs: list[Doc], stories: bool) -> list[Prepared]:
    """A worker's part: what placing needs from each text alone."""
    return [prepare(DedupParams(), title, text, stories=stories) for _, title, text, _ in docs]


def run(total: int, *, stories: bool, batch: int, checkpoints: tuple[int, ...]) -> list[str]:
    """Place `total` documents, `batch` per transaction; one table row per checkpoint."""
    mode = ("with stories" if stories else "near-duplicates") + (
        f", {batch} per transaction" if batch > 1 else ", one transaction each"
    )
    rows = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        Archive(Path(tmp) / "a.sqlite") as archive,
        ProcessPoolExecutor(2) as workers,
    ):
        index = DedupIndex.for_archive(archive, stories=stories)
        docs = generator()
        copies, elapsed = 0, 0.0
        recent: deque[tuple[int, float]] = deque()  # (documents, seconds) per transaction
        queued: deque[tuple[list[Doc], Future[list[Prepared]]]] = deque()
        starts = iter(range(0, total, batch))
        done = 0
        while done < total:
            while len(queued) < AHEAD and (start := next(starts, None)) is not None:
                chunk = [next(docs) for _ in range(min(batch, total - start))]
                queued.append((chunk, workers.submit(prepared, chunk, stories)))
            chunk, future = queued.popleft()
            began = time.perf_counter()
            ready = future.result()
            with index.batch():
                copies += sum(
                    index.add(*doc, prepared=p).kind != "new"
                    for doc, p in zip(chunk, ready, strict=True)
                )
            spent = time.perf_counter() - began
            elapsed += spent
            recent.append((len(chunk), spent))
            while sum(n for n, _ in recent) > WINDOW:
                recent.popleft()
            done += len(chunk)
            if done in checkpoints:
                rate = sum(n for n, _ in recent) / sum(t for _, t in recent)
                rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                size = sum(f.stat().st_size for f in Path(tmp).iterdir()) / 2**20
                rows.append(
                    f"| {mode} | {done:,} | {rate:,.0f} | {done / elapsed:,.0f} | "
                    f"{rss:,.0f} MB | {size:,.0f} MB | {os.getloadavg()[0]:.1f} |"
                )
                print(rows[-1], f"({copies:,} placed as copies)", flush=True)
    return rows


def main() -> None:
    total = int(sys.argv[1]) if len(sys.argv) > 1 else CHECKPOINTS[-1]
    checkpoints = tuple(c for c in CHECKPOINTS if c <= total) or (total,)
    rows = run(total, stories=True, batch=500, checkpoints=checkpoints)
    small = (checkpoints[0],)
    rows += run(small[0], stories=False, batch=500, checkpoints=small)
    rows += run(small[0], stories=True, batch=1, checkpoints=small)
    body = "\n".join(
        [
            "Generated Arabic articles (~250 words from the sample outlet's vocabulary, Zipf-"
            "like, 8 made-up names each, dated over two years; 5% syndicated copies with a "
            "dateline and a cut ending), each through `DedupIndex.add` into an archive file "
            "on disk, as in a crawl: two worker processes prepare the texts (content hash, "
            "MinHash of 120 permutations over 3-word shingles, story term counts) and the "
            "main process places them: exact and LSH lookups and writes (40 bands); *with "
            "stories* adds the TF-IDF story vector, document frequencies, the lookup of "
            "candidates near the date and the comparison with their stories' centroids. "
            "Rates are the placing process's: waiting for prepared texts plus placing them; "
            "text generation is left out.",
            "",
            "| mode | documents | docs/s (last 1,000) | docs/s overall | peak memory "
            "(max RSS) | database | load average |",
            "|---|---|---|---|---|---|---|",
            *rows,
            "",
            "The load average column is the machine's 1-minute load when the row was taken "
            "(2 cores, shared with other work): above 2, the rates are lower than on an "
            "idle machine.",
        ]
    )
    from bench.results import write_section

    write_section("Dedup at scale (bench/dedup_scale.py)", body)


if __name__ == "__main__":
    main()
