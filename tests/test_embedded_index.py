"""The embedded index's promises: a kill between the index commit and the outbox
acknowledgement loses nothing and doubles nothing; other processes read it while one writes;
an archive made by an older Arshif (SQLite FTS5) is migrated."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import tantivy

from arshif.config import archive_path
from arshif.record import Article
from indexer.archive import Archive
from indexer.embedded import SCHEMA, EmbeddedIndex, IndexBusy
from indexer.filters import Filters
from indexer.search import SearchQuery
from tests.conftest import ROOT, run_arshif


def make(n: int, **fields: object) -> Article:
    base: dict = {
        "id": f"a{n:04d}",
        "url": f"https://news.example/{n}",
        "canonical_url": f"https://news.example/{n}",
        "outlet": "alpha",
        "title": f"قمة رقم {n}",
        "text": f"انعقدت القمة في سمرقند، الخبر {n}.",
        "published": "2022-09-15T10:00:00+03:00",
        "language": "ar",
    }
    return Article(**{**base, **fields})


def python(code: str, *args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True, text=True, timeout=120, cwd=ROOT, **kwargs,  # type: ignore[arg-type]
    )  # fmt: skip


def copies_per_id(index: EmbeddedIndex, ids: list[str]) -> dict[str, int]:
    """How many live documents each id has in the index (read as another process would)."""
    searcher = tantivy.Index.open(str(index.path)).searcher()
    return {i: searcher.search(tantivy.Query.term_query(SCHEMA, "id", i), 10).count for i in ids}


KILLED_AFTER_COMMIT = """
    import os, signal, sys
    from indexer.archive import Archive
    from indexer.embedded import EmbeddedIndex

    def die(self, rows, backend):  # the index commit is done; the acknowledgement is next
        os.kill(os.getpid(), signal.SIGKILL)

    Archive.acknowledge = die
    with Archive(sys.argv[1]) as archive:
        EmbeddedIndex(archive).drain(archive, batch=int(sys.argv[2]))
"""


def test_kill_between_index_commit_and_ack_loses_nothing_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        for n in range(40):
            archive.upsert(make(n))
        index = EmbeddedIndex(archive)
        index.drain(archive)  # the first 40 are indexed and acknowledged
        for n in range(40, 100):
            archive.upsert(make(n))
        archive.upsert(make(3, title="قمة معدلة"))  # an update is pending too
    killed = python(KILLED_AFTER_COMMIT, str(path), "25")
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    ids = [f"a{n:04d}" for n in range(100)]
    with Archive(path) as archive:
        assert archive.pending_count() == 61, "the committed batch was never acknowledged"
        counts = copies_per_id(EmbeddedIndex(archive), ids)
        assert sum(counts.values()) == 40 + 25, "the first batch of 25 landed"
        index = EmbeddedIndex(archive)
        assert index.drain(archive) == 61
        assert archive.pending_count() == 0
        assert copies_per_id(index, ids) == dict.fromkeys(ids, 1), "each article exactly once"
        assert index.count("معدلة") == 1 and index.count("قمة") == 100


WRITER = """
    import sys
    from indexer.archive import Archive
    from indexer.embedded import EmbeddedIndex
    from tests.test_embedded_index import make

    with Archive(sys.argv[1]) as archive:
        writer = EmbeddedIndex(archive).writer()
        for step in range(4):
            for n in range(step * 10, step * 10 + 10):
                archive.upsert(make(n))
            writer.put(archive.pending_rows(100))
            writer.commit()
            print("committed", step, flush=True)
            sys.stdin.readline()  # the reader checks, then lets it go on
        writer.close()
"""


def test_other_processes_read_each_commit_while_one_writes(tmp_path: Path) -> None:
    path = tmp_path / "archive.sqlite"
    with Archive(path) as archive:
        EmbeddedIndex(archive).ensure()
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    assert writer.stdin and writer.stdout
    try:
        with Archive(path) as archive:
            index = EmbeddedIndex(archive)
            for step in range(4):
                assert writer.stdout.readline().strip() == f"committed {step}"
                assert index.count("قمة") == 10 * (step + 1), "the reader sees the commit"
                # Aggregations are kept per commit: each commit is counted afresh.
                assert index.facets("قمة", Filters())["outlet"] == {"alpha": 10 * (step + 1)}
                assert index.coverage("قمة", Filters(), "month") == {
                    "2022-09-01": {"alpha": 10 * (step + 1)}
                }
                assert archive.pending_count() == 0
                try:
                    index.drain(archive)
                    raise AssertionError("a second writer was allowed")
                except IndexBusy:
                    pass
                index.catch_up(archive)  # a reader does not wait for the writer
                found = run_arshif(tmp_path, "search", "سمرقند", "--json", "--limit", "100")
                assert found.returncode == 0, found.stderr
                assert json.loads(found.stdout)["total"] == 10 * (step + 1)
                writer.stdin.write("\n")
                writer.stdin.flush()
        assert writer.wait(timeout=60) == 0
    finally:
        writer.kill()


def old_archive(home: Path, count: int) -> None:
    """An archive as Arshif left it before tantivy: every article in an FTS5 table in the
    archive's own file, acknowledged by the "sqlite" backend."""
    with Archive(archive_path(home)) as archive:
        for n in range(count):
            archive.upsert(make(n))
        with archive.transaction() as db:
            db.execute(
                "CREATE VIRTUAL TABLE articles_fts USING fts5"
                "(title, text, tokenize = 'unicode61 remove_diacritics 0')"
            )
            db.execute(
                "INSERT INTO articles_fts (rowid, title, text) SELECT pk, title, text FROM articles"
            )
        archive.mark_all_indexed("sqlite")


def fts_tables(home: Path) -> list[str]:
    with sqlite3.connect(archive_path(home)) as db:
        return [r[0] for r in db.execute("SELECT name FROM sqlite_schema WHERE name LIKE '%fts%'")]


def test_an_fts5_archive_is_migrated_by_index_rebuild(tmp_path: Path) -> None:
    old_archive(tmp_path, 12)
    assert fts_tables(tmp_path)
    out = run_arshif(tmp_path, "index", "--rebuild")
    assert out.returncode == 0, out.stderr
    assert "old SQLite FTS5 index was dropped" in out.stdout
    assert "Rebuilt the embedded index: 12 articles" in out.stdout
    assert fts_tables(tmp_path) == []
    found = run_arshif(tmp_path, "search", "قمة", "--json", "--limit", "50")
    assert json.loads(found.stdout)["total"] == 12


def test_an_fts5_archive_is_migrated_automatically_with_a_message(tmp_path: Path) -> None:
    old_archive(tmp_path, 7)
    found = run_arshif(tmp_path, "search", "سمرقند", "--json", "--limit", "50")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["total"] == 7
    assert "old SQLite FTS5 index was dropped" in found.stderr
    assert fts_tables(tmp_path) == []
    with Archive(archive_path(tmp_path)) as archive:
        assert archive.pending_count() == 0
        indexed_by = archive.db.execute("SELECT DISTINCT indexed_by FROM articles").fetchall()
        assert indexed_by == [("tantivy",)]
    again = run_arshif(tmp_path, "search", "سمرقند", "--json")
    assert "FTS5" not in again.stderr, "migrated once"


def test_malformed_query_on_the_command_line_points_at_the_error(tmp_path: Path) -> None:
    old_archive(tmp_path, 2)
    out = run_arshif(tmp_path, "search", "(قمة OR سمرقند")
    assert out.returncode == 2
    assert "this ( is never closed (at character 1 of the query)" in out.stderr
    assert "(قمة OR سمرقند\n  ^" in out.stderr and "Traceback" not in out.stderr
    sorted_ = run_arshif(tmp_path, "search", "قمة", "--sort", "newest", "--json")
    assert sorted_.returncode == 0, sorted_.stderr


def test_a_reading_process_never_holds_the_writer(tmp_path: Path) -> None:
    """A reader opens no writer: after searches, another process can still write."""
    with Archive(tmp_path / "archive.sqlite") as archive:
        archive.upsert(make(1))
        index = EmbeddedIndex(archive)
        index.drain(archive)
        assert index.count("قمة") == 1
        index.facets("قمة", Filters())
        archive.upsert(make(2))
        out = python(
            "import sys\nfrom indexer.archive import Archive\nfrom indexer.embedded import "
            "EmbeddedIndex\nwith Archive(sys.argv[1]) as a: print(EmbeddedIndex(a).drain(a))",
            str(tmp_path / "archive.sqlite"),
        )
        assert out.returncode == 0 and out.stdout.strip() == "1", out.stderr
        assert index.count("قمة") == 2, "and this process reads its commit"


def test_large_drains_analyse_in_worker_processes_to_the_same_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: dict[str, list[tuple[str, int]]] = {}
    for mode, threshold in (("here", 10**9), ("workers", 0)):
        monkeypatch.setattr("indexer.embedded.PARALLEL_FROM", threshold)
        with Archive(tmp_path / mode / "archive.sqlite") as archive:
            for n in range(30):
                archive.upsert(make(n, text=f"نص الخبر رقم {n} عن القمة والاقتصاد" * (n % 3 + 1)))
            index = EmbeddedIndex(archive)
            assert index.drain(archive, batch=7) == 30
            made[mode] = sorted(
                (h.id, round(h.score, 4))
                for h in index.search(SearchQuery("القمة الاقتصاد", limit=30)).hits
            )  # equal scores come in segment order, which may differ
    assert made["workers"] == made["here"] and len(made["here"]) == 30


def test_dedup_flags_follow_a_cluster_whose_representative_changes(tmp_path: Path) -> None:
    """Only the siblings whose flag changes are written again: whichever member arrives,
    and whether the writer commits between arrivals or not, `--dedup` keeps one per
    cluster, the one the archive's own rule keeps."""
    days = ["2022-09-10", "2022-09-05", "2022-09-20", "2022-09-01", "2022-09-30"]
    for commit_each in (True, False):
        home = tmp_path / str(commit_each)
        with Archive(home / "archive.sqlite") as archive:
            index = EmbeddedIndex(archive)
            writer = index.writer()
            try:
                for n, day in enumerate(days):
                    archive.upsert(make(n, published=f"{day}T10:00:00+03:00", dup_cluster="c"))
                    archive.upsert(make(100 + n, dup_cluster=f"alone{n}"))
                    writer.put(archive.pending_rows(100))
                    if commit_each or n == len(days) - 1:
                        writer.commit()
                        kept = [a.id for a in archive.iter_articles(Filters(dedup=True))]
                        found = index.search(SearchQuery("قمة", Filters(dedup=True), limit=100))
                        assert sorted(h.id for h in found.hits) == sorted(kept)
                        assert found.total == 2 + n
            finally:
                writer.close()
