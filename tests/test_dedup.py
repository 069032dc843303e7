"""Near-duplicates and stories: fingerprints, the persistent index, the --dedup filter, stats."""

from __future__ import annotations

import math
import os
import random
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from arshif.dedup import DedupParams, Fingerprinter, shingles
from arshif.record import Article
from bench.dedup_eval import VARIANTS, Doc, originals
from indexer import dedup_store
from indexer.archive import Archive
from indexer.dedup_store import DedupIndex
from indexer.filters import Filters
from indexer.stats import stats

SAMARKAND = "/news/2022/09/15/putin-xi-first-meeting-since-ukraine-war.html"


@pytest.fixture(scope="module")
def docs() -> dict[str, Doc]:
    return {d.id: d for d in originals()}


def seeds(docs: dict[str, Doc]) -> list[Doc]:
    return [d for d in docs.values() if d.id.startswith(("/news/2022/", "/news/2024/07/"))]


def add(index: DedupIndex, doc: Doc):  # noqa: ANN201 - the Assignment
    return index.add(doc.id, doc.title, doc.text, doc.published)


def test_params_are_checked_and_stored_with_the_data(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bands must divide"):
        DedupParams(num_perm=120, bands=7)
    with pytest.raises(ValueError, match="near_dup"):
        DedupParams(near_dup=0)
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        DedupIndex.for_archive(archive, DedupParams(seed=5))
    with Archive(path) as archive:
        assert DedupIndex.for_archive(archive).params.seed == 5  # the stored settings win
        with pytest.raises(ValueError, match="other settings"):
            DedupIndex.for_archive(archive, DedupParams(seed=6))


def test_shingles_fold_spelling_marks_and_digits() -> None:
    plain = shingles("قمة منظمة شنغهاي عام 2022", 3)
    assert plain == shingles("قِمّـــة منظمه شنغهاي عام ٢٠٢٢", 3)
    assert len(plain) == 3


@pytest.mark.parametrize("kind", sorted(VARIANTS))
def test_each_variant_kind_joins_its_original(kind: str, docs: dict[str, Doc]) -> None:
    index = DedupIndex.in_memory()
    for doc in docs.values():
        add(index, doc)
    original = docs[SAMARKAND]
    variant = replace(VARIANTS[kind](original, random.Random(1), list(docs.values())), id="copy")
    result = add(index, variant)
    assert result.dup_cluster == SAMARKAND, kind
    assert result.dup_of == SAMARKAND
    assert result.story_id == index.assignment(SAMARKAND).story_id
    # Marks, tatweel and digits are folded before hashing: those copies are exact.
    exact = {"new_headline", "tashkeel_tatweel", "indic_digits"}
    assert result.kind == ("exact" if kind in exact else "near")
    assert 0.45 <= result.similarity <= 1.0


@pytest.mark.parametrize("order", [1, -1])
def test_seeds_are_not_duplicates_but_samarkand_is_one_story(
    order: int, docs: dict[str, Doc]
) -> None:
    index = DedupIndex.in_memory()
    results = {d.id: add(index, d) for d in seeds(docs)[::order]}
    assert len(results) == 5
    assert all(r.dup_of is None and r.dup_cluster == i for i, r in results.items())
    samarkand = {r.story_id for i, r in results.items() if i.startswith("/news/2022/")}
    astana = next(r.story_id for i, r in results.items() if "astana" in i)
    assert len(samarkand) == 1 and astana not in samarkand


def test_unrelated_articles_in_the_same_week_stay_out_of_the_story(
    docs: dict[str, Doc],
) -> None:
    index = DedupIndex.in_memory()
    for doc in seeds(docs):
        add(index, doc)
    story = index.assignment(SAMARKAND).story_id
    others = [d for d in docs.values() if d not in seeds(docs)]
    for doc in others:
        result = index.add(doc.id, doc.title, doc.text, "2022-09-14")
        assert result.story_id == doc.id and result.dup_of is None
    assert index.assignment(SAMARKAND).story_id == story


def test_exact_copy_readd_and_changed_text(docs: dict[str, Doc]) -> None:
    index = DedupIndex.in_memory()
    first = add(index, docs[SAMARKAND])
    assert first.kind == "new" and first.similarity is None
    copy = index.add("copy", "عنوان آخر", docs[SAMARKAND].text, None)
    assert (copy.kind, copy.dup_of, copy.similarity) == ("exact", SAMARKAND, 1.0)
    assert add(index, docs[SAMARKAND]).kind == "unchanged"
    other = next(d for d in docs.values() if "flu" in d.id)
    changed = index.add("copy", other.title, other.text, other.published)
    assert changed.dup_of is None and changed.dup_cluster == "copy"
    assert index.add("empty", "", "", None).dup_cluster == "empty"


def test_index_persists_in_the_archive_across_connections(
    tmp_path: Path, docs: dict[str, Doc]
) -> None:
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        for doc in docs.values():
            add(DedupIndex.for_archive(archive), doc)
    # The «اقرأ أيضاً» headlines come from the seeds: a pool that does not change when the
    # sample outlet gains pages (the draw, and so the variant, would).
    variant = replace(
        VARIANTS["combined"](docs[SAMARKAND], random.Random(2), seeds(docs)), id="late"
    )
    with Archive(path) as archive:
        result = add(DedupIndex.for_archive(archive), variant)
    assert result.dup_cluster == SAMARKAND
    with Archive(path) as archive:
        matches = DedupIndex.for_archive(archive).similar(SAMARKAND)
    kinds = {m.id: m.relation for m in matches}
    assert kinds["late"] == "near_dup"
    mates = {i for i, k in kinds.items() if k == "story"}
    assert mates == {d.id for d in seeds(docs) if d.id.startswith("/news/2022/")} - {SAMARKAND}
    with pytest.raises(KeyError):
        DedupIndex.in_memory().similar("missing")


def test_copies_are_found_before_and_after_the_lsh_merge(
    monkeypatch: pytest.MonkeyPatch, docs: dict[str, Doc]
) -> None:
    """New LSH entries wait as one row per document and are merged in bulk: a copy must
    meet its original wherever each one's entries are, and a re-added article must leave
    both."""
    monkeypatch.setattr(dedup_store, "MERGE_MIN", 3)
    index = DedupIndex.in_memory()
    originals_ = list(docs.values())[:4]
    for doc in originals_:
        add(index, doc)
    lsh = "SELECT (SELECT count(*) FROM dedup_lsh), (SELECT count(*) FROM dedup_lsh_pending)"
    merged, pending = index.db.execute(lsh).fetchone()
    assert merged == 3 * index.params.bands and pending == 1
    for n, doc in enumerate(originals_):  # three in the merged table, one not yet merged
        copy = index.add(f"copy{n}", "عنوان", "عمان - " + doc.text[:-100], doc.published)
        assert copy.dup_of == doc.id, n
    moved = replace(originals_[0], paragraphs=originals_[1].paragraphs)  # another text
    assert add(index, moved).dup_of == originals_[1].id
    stale = index.db.execute(
        "SELECT count(*) FROM (SELECT doc FROM dedup_lsh UNION ALL SELECT doc FROM "
        "dedup_lsh_pending) WHERE doc NOT IN (SELECT doc FROM dedup_docs)"
    ).fetchone()[0]
    assert stale == 0, "no bucket entry outlives its document"


def test_pending_entries_survive_a_restart_and_another_connection_sees_them(
    tmp_path: Path, docs: dict[str, Doc]
) -> None:
    """Pending LSH entries are in the archive, not only in memory: an index opened later,
    or on another connection while this one places, finds copies of those articles."""
    original, other = list(docs.values())[:2]
    with Archive(tmp_path / "a.sqlite") as first, Archive(tmp_path / "a.sqlite") as second:
        mine, theirs = DedupIndex.for_archive(first), DedupIndex.for_archive(second)
        add(mine, other)
        add(theirs, original)  # placed by the other connection after this one opened
        copy = mine.add("copy", "عنوان", "عمان - " + original.text[:-100], original.published)
        assert copy.dup_of == original.id
    with Archive(tmp_path / "a.sqlite") as again:
        later = DedupIndex.for_archive(again)
        copy = later.add("copy2", "عنوان", "بغداد - " + other.text[:-80], other.published)
        assert copy.dup_of == other.id


def test_an_index_with_new_entries_as_rows_is_migrated(
    monkeypatch: pytest.MonkeyPatch, docs: dict[str, Doc]
) -> None:
    """Indexes made before entries waited as one row per document kept them as rows of
    `dedup_lsh_new`: those join the main table, and their copies are still found."""
    monkeypatch.setattr(dedup_store, "MERGE_MIN", 1)  # the entries go to dedup_lsh at once
    index = DedupIndex.in_memory()
    original = next(iter(docs.values()))
    add(index, original)
    db = index.db
    db.execute("CREATE TABLE dedup_lsh_new (bucket INTEGER, doc INTEGER)")
    db.execute("INSERT INTO dedup_lsh_new SELECT bucket, doc FROM dedup_lsh")
    db.execute("DELETE FROM dedup_lsh")
    again = DedupIndex(db, index._transaction)
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "dedup_lsh_new" not in tables
    copy = again.add("copy", "عنوان", "عمان - " + original.text[:-100], original.published)
    assert copy.dup_of == original.id


def test_story_vector_cache_smaller_than_the_candidates(
    monkeypatch: pytest.MonkeyPatch, docs: dict[str, Doc]
) -> None:
    """Story candidates outnumbering the decoded-vector cache give the same stories."""
    monkeypatch.setattr(dedup_store, "VECTOR_CACHE", 2)
    small, full = DedupIndex.in_memory(), DedupIndex.in_memory()
    monkeypatch.setattr(full, "_remember", lambda key, vector: None)  # never caches
    for doc in docs.values():
        assert add(small, doc).story_id == add(full, doc).story_id, doc.id
    assert len(small._vector_cache) == 2


def _unit(rng: random.Random, terms: list[str]) -> dict[str, float]:
    weights = {term: rng.random() for term in rng.sample(terms, rng.randint(1, 40))}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {term: w / norm for term, w in weights.items()}


def test_batch_cosines_equal_the_sum_over_shared_terms() -> None:
    rng = random.Random(5)
    vocabulary = [f"كلمة{i}" for i in range(60)]
    query = _unit(rng, vocabulary)
    others = [_unit(rng, vocabulary) for _ in range(30)] + [{"غيرها": 1.0}]
    expected = [math.fsum(query[t] * o[t] for t in query.keys() & o.keys()) for o in others]
    got = dedup_store.cosines(query, [dedup_store.Packed.of(o) for o in others])
    assert got == pytest.approx(expected, abs=1e-12)
    assert got[-1] == 0.0 and max(got) > 0.5
    assert dedup_store.cosines({}, [dedup_store.Packed.of(query)]) == [0.0]
    assert dedup_store.cosines(query, []) == []


def test_batch_cosines_do_not_depend_on_the_process_hash_seed() -> None:
    """Term hashes change with PYTHONHASHSEED; the sums run in stored order, so a story
    decision made by one process is made the same by the next."""
    script = (
        "import random, sys; sys.path.insert(0, '.');"
        "from tests.test_dedup import _unit; from indexer.dedup_store import Packed, cosines;"
        "rng = random.Random(9); v = [f't{i}' for i in range(80)];"
        "q = _unit(rng, v); o = [Packed.of(_unit(rng, v)) for _ in range(40)];"
        "print(repr(cosines(q, o)))"
    )
    root = Path(__file__).resolve().parents[1]
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(outputs) == 1 and "0." in outputs.pop()


def test_each_heavy_term_is_looked_up_in_its_latest_window_articles_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A term a whole busy story shares costs no more than a rare one: the story lookup
    reads the latest POSTINGS window articles of each heavy term, not all of them."""
    rng = random.Random(2)
    words = [f"كلمة{i}" for i in range(12)]  # fewer than the probes: every word is one
    index = DedupIndex.in_memory()
    for day in range(1, 7):
        text = " ".join(rng.choice(words) for _ in range(300))
        index.add(f"d{day}", "عنوان", text, f"2024-03-0{day}")
    doc, *stored = index.db.execute(
        "SELECT doc, vector, title, packed FROM dedup_docs WHERE id = 'd6'"
    ).fetchone()
    vector, _ = dedup_store._read_vector(*stored)

    def candidates() -> set[str]:
        found = index._story_candidates(vector, "2024-03-06", exclude=doc)
        return {c.id for c in found}

    assert candidates() == {"d1", "d2", "d3", "d4", "d5"}
    monkeypatch.setattr(dedup_store, "POSTINGS", 2)
    assert candidates() == {"d4", "d5"}


def test_lsh_buckets_depend_on_every_band() -> None:
    fp = Fingerprinter(DedupParams())
    a = fp.fingerprint("واحد اثنان ثلاثة اربعة خمسة ستة سبعة ثمانية تسعة عشرة")
    assert a is not None and len(set(fp.buckets(a))) == DedupParams().bands
    assert fp.fingerprint("  ...  ") is None


def test_lsh_bucket_keys_are_the_mixed_rows_modulo_two_to_the_64() -> None:
    """Bucket keys are stored in archives, so they are pinned to their formula in plain
    integers: each band's rows times the row multipliers, summed modulo 2**64 (the sums
    wrap around), the band's number mixed in, as a signed 64-bit key."""
    params = DedupParams()
    fp = Fingerprinter(params)
    a = fp.fingerprint("واحد اثنان ثلاثة اربعة خمسة ستة سبعة ثمانية تسعة عشرة احد عشر")
    assert a is not None
    rows, mix, wrap = a.signature.tolist(), fp._row_mix.tolist(), 2**64
    expected = []
    for band in range(params.bands):
        row = rows[band * params.rows : (band + 1) * params.rows]
        total = sum(v * m for v, m in zip(row, mix, strict=True)) % wrap
        key = ((total ^ (band + 1)) * 0x9E3779B97F4A7C15) % wrap
        expected.append(key - wrap if key >= 2**63 else key)
    assert fp.buckets(a) == expected


def article(n: int, cluster: str | None, published: str | None, text: str, **kw) -> Article:
    return Article(
        id=f"id{n}", url=f"https://x.example/{n}", canonical_url=f"https://x.example/{n}",
        outlet=kw.pop("outlet", "alpha"), text=text, published=published,
        dup_cluster=cluster, **kw,
    )  # fmt: skip


def test_dedup_filter_keeps_earliest_published_then_longest(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as archive:
        DedupIndex.for_archive(archive)  # adds the dup_cluster index the filter uses
        rows = [
            article(1, "c1", "2022-09-16", "نص طويل جدا"),  # first seen, published later
            article(2, "c1", "2022-09-15", "نص", dup_of="id1", outlet="beta"),
            article(3, "c2", "2022-09-15", "قصير"),
            article(4, "c2", "2022-09-15", "أطول من ذلك", dup_of="id3", outlet="beta"),
            article(5, "c3", None, "بلا تاريخ"),
            article(6, "c3", "2022-09-20", "مؤرخ", dup_of="id5"),
            article(7, None, None, "قديم"),
            article(8, None, None, "قديم", dup_of="id7"),
        ]
        for row in rows:
            archive.upsert(row)
        kept = [a.id for a in archive.iter_articles(Filters(dedup=True))]
        assert kept == ["id2", "id4", "id6", "id7"]
        assert archive.count(Filters(dedup=True, outlets=("alpha",))) == 2
        dupes = stats(archive)["duplicates_by_outlet"]
    assert dupes == {
        "beta": {"articles": 2, "duplicates": 2, "rate": 1.0},
        "alpha": {"articles": 6, "duplicates": 2, "rate": 0.3333},
    }


def test_pending_buckets_found_folded_removed_and_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-memory pending buckets answer the same before and after they are folded into
    the sorted arrays, and forget removed documents and those another connection merged."""
    from indexer import lsh_pending

    monkeypatch.setattr(lsh_pending, "FOLD", 4)  # the second document's add folds
    pending = lsh_pending.PendingBuckets()
    pending.add(1, [10, 20])
    pending.add(2, [20, 30])
    pending.add(3, [30, 40])  # still in the dictionary
    pending.add_rows([(4, "[40, 50]")])
    assert pending.documents([20]) == {1, 2}
    assert pending.documents([30, 40]) == {2, 3, 4}
    assert pending.documents([99]) == set()
    pending.remove(2)
    assert pending.documents([20, 30]) == {1, 3}
    pending.drop_below(4)  # 1 and 3 were merged elsewhere
    assert pending.documents([10, 20, 30, 40, 50]) == {4} and len(pending) == 1
