"""Near-duplicate clusters in PostgreSQL placed by concurrent writers (one connection each,
as on separate machines): copies arriving at the same moment end in one cluster, and the
clusters equal those one process makes with the SQLite index."""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

import pytest

from bench.dedup_eval import VARIANTS, Doc, originals
from indexer.archive_pg import PgArchive
from indexer.dedup_pg import PgClusters
from indexer.dedup_store import DedupIndex

# Variants that are near-duplicates of each other too, not only of their original.
CLOSE = ("new_headline", "dateline", "spelling", "tashkeel_tatweel", "indic_digits")


@pytest.fixture(scope="module")
def docs() -> list[Doc]:
    return originals()


def together(url: str, batches: list[list[Doc]]) -> dict[str, str]:
    """Each batch placed by its own writer, all starting at the same moment."""
    with PgArchive(url) as archive:
        PgClusters(archive)  # schema and parameters first
    barrier = threading.Barrier(len(batches))
    clusters: dict[str, str] = {}
    errors: list[BaseException] = []

    def place(batch: list[Doc]) -> None:
        try:
            with PgArchive(url) as archive:
                index = PgClusters(archive)
                barrier.wait()
                for doc in batch:
                    clusters[doc.id] = index.add(doc.id, doc.title, doc.text).dup_cluster
        except BaseException as exc:
            errors.append(exc)

    run_all([lambda b=b: place(b) for b in batches])
    assert not errors, errors
    return clusters


def run_all(jobs: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def partition(clusters: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for doc, cluster in clusters.items():
        groups[cluster].add(doc)
    return {frozenset(g) for g in groups.values()}


def copies(doc: Doc, kinds: tuple[str, ...], pool: list[Doc]) -> list[Doc]:
    rng = random.Random(doc.id)
    return [replace(VARIANTS[k](doc, rng, pool), id=f"{doc.id}#{k}") for k in kinds]


def test_copies_placed_at_the_same_moment_make_one_cluster(postgres_url, docs) -> None:
    originals_ = docs[:4]
    batches = [[] for _ in range(len(CLOSE) + 1)]
    for doc in originals_:  # writer n places copy n of every original, all at once
        for n, copy in enumerate([doc, *copies(doc, CLOSE, docs)]):
            batches[n].append(copy)
    clusters = together(postgres_url, batches)
    groups = partition(clusters)
    assert len(groups) == len(originals_)
    for doc in originals_:
        assert {d for d in clusters if d.split("#")[0] == doc.id} in groups


def test_clusters_equal_those_of_one_process(postgres_url, docs) -> None:
    chosen = docs[::3]
    variants = [c for doc in chosen[:8] for c in copies(doc, tuple(sorted(VARIANTS)), docs)]
    single = DedupIndex.in_memory()
    expected = {d.id: single.add(d.id, d.title, d.text, d.published).dup_cluster for d in chosen}
    for d in variants:
        expected[d.id] = single.add(d.id, d.title, d.text, d.published).dup_cluster
    # Four writers: first the originals, then the copies, each set dealt out at random.
    rng = random.Random(7)
    shuffled = rng.sample(chosen, len(chosen))
    got = together(postgres_url, [shuffled[n::4] for n in range(4)])
    shuffled = rng.sample(variants, len(variants))
    got |= together(postgres_url, [shuffled[n::4] for n in range(4)])
    assert partition(got) == partition(expected)


def test_stories_equal_those_of_one_sqlite_index(postgres_url, docs) -> None:
    """Placed in the same order, PostgreSQL groups the same stories as the SQLite index
    (and `similar` finds the same story mates); an article placed again with new text
    leaves its old story's centroid."""
    chosen = docs[:60]
    variants = [c for doc in chosen[:6] for c in copies(doc, CLOSE[:2], docs)]
    single = DedupIndex.in_memory()
    with PgArchive(postgres_url) as archive:
        index = PgClusters(archive)
        expected, got = {}, {}
        for d in [*chosen, *variants]:
            expected[d.id] = single.add(d.id, d.title, d.text, d.published).story_id
            got[d.id] = index.add(d.id, d.title, d.text, d.published).story_id
        assert len(set(got.values())) < len(chosen), "some articles share a story"
        assert partition(got) == partition(expected)
        for d in chosen[:10]:
            mates = {m.id: m.relation for m in index.similar(d.id)}
            assert mates == {m.id: m.relation for m in single.similar(d.id)}
        grouped = next(d for d in chosen if list(got.values()).count(got[d.id]) > 1)
        other = next(d for d in chosen if got[d.id] != got[grouped.id])
        moved = index.add(grouped.id, other.title, other.text, other.published)
        again = single.add(grouped.id, other.title, other.text, other.published)
        assert moved.story_id == again.story_id
