"""What story grouping costs on PostgreSQL: articles placed per second by one writer with
the SQLite index (in memory), and with PgClusters on a throwaway PostgreSQL 15 (loopback)
with stories off (near-duplicate clusters only, as before stories were shared) and on.
Each PostgreSQL placement is one transaction under the cluster lock, so this rate bounds
how fast all workers together archive new articles.

    .venv/bin/python -m bench.pg_dedup
"""

from __future__ import annotations

import random
import time
from dataclasses import replace

from bench.dedup_eval import VARIANTS, Doc, originals
from bench.results import write_section
from indexer.dedup_store import DedupIndex

COPIES = ("new_headline", "dateline", "read_also")


def corpus() -> list[Doc]:
    docs = originals()
    rng = random.Random(3)
    copies = [replace(VARIANTS[k](d, rng, docs), id=f"{d.id}#{k}") for d in docs for k in COPIES]
    return docs + copies


def rate(place, docs: list[Doc]) -> float:
    started = time.perf_counter()
    for doc in docs:
        place(doc)
    return len(docs) / (time.perf_counter() - started)


def main() -> None:
    import psycopg

    from indexer.archive_pg import PgArchive
    from indexer.dedup_pg import PgClusters
    from tests.services import running_postgres

    docs = corpus()
    rows = []
    warm = DedupIndex.in_memory()  # the fingerprinter's permutations, imports: not timed
    rate(lambda d: warm.add(d.id, d.title, d.text, d.published), docs[:50])
    single = DedupIndex.in_memory()
    rows.append(("SQLite (in memory), stories on",
                 rate(lambda d: single.add(d.id, d.title, d.text, d.published), docs)))  # fmt: skip
    with running_postgres() as server:
        for n, stories in enumerate((False, True)):
            with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE bench{n}")
            with PgArchive(f"{server}/bench{n}") as archive:
                index = PgClusters(archive, stories=stories)
                label = f"PostgreSQL, stories {'on' if stories else 'off'}"
                rows.append((label, rate(lambda d, i=index: i.add(d.id, d.title, d.text,
                                                                  d.published), docs)))  # fmt: skip
    table = "| index | articles placed/s |\n|---|---|\n" + "\n".join(
        f"| {label} | {value:,.0f} |" for label, value in rows
    )
    print(table)
    write_section(
        "Dedup placement on PostgreSQL",
        f"{len(docs)} articles ({len(docs) // (len(COPIES) + 1)} originals and "
        f"{len(COPIES)} copies of each), placed in order by one writer; the same run, side by "
        f"side.\n\n{table}\n\nOn PostgreSQL every placement is its own transaction under the "
        "cluster lock (one writer at a time across machines), so this rate bounds the new "
        "articles per second of all workers together.",
    )


if __name__ == "__main__":
    main()
