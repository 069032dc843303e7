"""Topic rules: precision and recall per shipped topic on a labelled set, and tagging speed.

The labelled set (`bench/data/topics_labelled.jsonl`) holds original Arabic (and a few
English) sentences, each with the topics a reader would give it, including hard negatives
(«بورصة شنغهاي», «كأس العالم لكرة اليد», «تضخم الطحال»). Speed is measured on whole
articles: the five seed articles, each tagged against every shipped topic.

    .venv/bin/python bench/topics_eval.py [--seeds DIR] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402
from indexer.topics import load_topics  # noqa: E402

LABELLED = Path(__file__).with_name("data") / "topics_labelled.jsonl"
PRECISION, RECALL, SPEED = 0.95, 0.90, 2000
REPEATS = 5


def evaluate() -> tuple[list[tuple[str, int, int, int, float, float]], int]:
    """Per topic: (id, true positives, false positives, false negatives, precision, recall)."""
    topics = load_topics()
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    table = []
    for tid in topics.topics:
        tp = fp = fn = 0
        for row in rows:
            got = tid in topics.tag("", row["text"])
            want = tid in row["topics"]
            tp += got and want
            fp += got and not want
            fn += want and not got
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        table.append((tid, tp, fp, fn, precision, recall))
    return table, len(rows)


def speed(seeds: Path, rounds: int) -> tuple[float, int, int]:
    """Articles tagged per second over the seed articles; also their mean size in chars."""
    topics = load_topics()
    articles = []
    for path in sorted(seeds.glob("*.txt")):
        title, _, text = path.read_text(encoding="utf-8").partition("\n")
        articles.append((title, text))
    best = float("inf")
    # CPU time of this process, best of several runs as timeit does: on a shared machine the
    # wall clock also counts the time other processes held the core.
    for _ in range(REPEATS):
        start = time.process_time()
        for _ in range(rounds):
            for title, text in articles:
                topics.tag(title, text)
        best = min(best, time.process_time() - start)
    size = sum(len(t) + len(x) for t, x in articles) // len(articles)
    return rounds * len(articles) / best, size, len(topics)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "seeds"
    )
    parser.add_argument("--rounds", type=int, default=100)
    args = parser.parse_args()
    table, n = evaluate()
    rate, size, count = speed(args.seeds, args.rounds)
    lines = [
        f"Labelled set: {n} sentences ({LABELLED.relative_to(ROOT)}), {len(table)} topics.",
        "",
        "| topic | TP | FP | FN | precision | recall |",
        "|---|---|---|---|---|---|",
    ]
    failing = []
    for tid, tp, fp, fn, p, r in table:
        lines.append(f"| {tid} | {tp} | {fp} | {fn} | {p:.2f} | {r:.2f} |")
        if p < PRECISION or r < RECALL:
            failing.append(tid)
    lines += [
        "",
        f"Tagging speed: {rate:,.0f} articles/s for all {count} topics together "
        f"(seed articles, mean {size:,} characters, CPU time on one core, best of {REPEATS} runs; target ≥ {SPEED:,}).",
        "",
        "The labelled set was written together with the rules, so these figures show the "
        "rules do what they claim on it; they are not an independent held-out estimate.",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("Topic tagging (bench/topics_eval.py)", body)
    if failing or rate < SPEED:
        print(f"below target: {', '.join(failing) or 'speed'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
