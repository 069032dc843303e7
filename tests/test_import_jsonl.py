"""`arshif import FILE.jsonl`: exact round trip of exports, other tools' records, bad lines,
resume after a kill, the same file twice."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer.archive import Archive
from tests.conftest import ROOT, run_arshif

REALDATA = ROOT.parent / "shared" / "realdata" / "topics_dev.jsonl"


def real_records(copies: int = 1) -> list[dict]:
    """Real articles in another tool's shape (id, url, title, text, topics, note)."""
    rows = [json.loads(line) for line in REALDATA.read_text(encoding="utf-8").splitlines()]
    out = []
    for n in range(copies):
        for row in rows:
            out.append({**row, "url": row["url"] + (f"?page={n}" if n else "")})
    return out


def write_jsonl(path: Path, records: list, extra_lines: dict[int, str] | None = None) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for at, line in sorted((extra_lines or {}).items()):
        lines.insert(at - 1, line)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def flat(text: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(text.split())


def archived(home: Path) -> list[dict]:
    with Archive(home / "archive.sqlite") as archive:
        return [a.to_dict() for a in archive.iter_articles()]


def test_round_trip_is_exact(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "other.jsonl", real_records())
    first, second = tmp_path / "one", tmp_path / "two"
    done = run_arshif(first, "import", str(source), "--no-progress")
    assert done.returncode == 0, done.stderr
    articles = archived(first)
    assert len(articles) == len({json.loads(x)["url"] for x in source.read_text().splitlines()})
    # Another tool's record gets what a crawl gives: id from the URL, outlet, language,
    # content hash, dedup fields and topics from our rules (not the tool's).
    a = articles[0]
    assert a["language"] == "ar" and a["content_hash"] and a["dup_cluster"] and a["story_id"]
    assert a["outlet"] == "alquds" or "." in a["outlet"]
    assert any(x["topics"] for x in articles)
    exported = tmp_path / "a.jsonl"
    assert run_arshif(first, "export", "--format", "jsonl", "-o", str(exported)).returncode == 0
    done = run_arshif(second, "import", str(exported), "--no-progress")
    assert done.returncode == 0, done.stderr
    again = tmp_path / "b.jsonl"
    assert run_arshif(second, "export", "--format", "jsonl", "-o", str(again)).returncode == 0
    assert again.read_bytes() == exported.read_bytes()
    # ...and the moved archive is searchable and deduplicates what comes next.
    found = run_arshif(second, "search", articles[0]["title"].split()[0], "--json")
    assert json.loads(found.stdout)["total"] >= 1
    with Archive(second / "archive.sqlite") as archive:
        docs = archive.db.execute("SELECT count(*) FROM dedup_docs").fetchone()[0]
    assert docs == len(articles)


def test_bad_lines_are_named_and_skipped_or_stop(tmp_path: Path) -> None:
    records = real_records()[:6]
    bad = {3: "{not json", 5: json.dumps({"url": "https://x.example/1", "title": "t"})}
    source = write_jsonl(tmp_path / "in.jsonl", records, bad)
    home = tmp_path / "skip"
    done = run_arshif(home, "import", str(source), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "line 3: not valid JSON" in flat(done.stderr)
    assert "line 5: missing field 'text'" in flat(done.stderr)
    assert "6 new articles" in flat(done.stdout) and "2 bad lines" in flat(done.stdout)
    assert len(archived(home)) == 6

    home = tmp_path / "stop"
    done = run_arshif(home, "import", str(source), "--stop-on-error", "--no-progress")
    assert done.returncode == 2
    assert "line 3: not valid JSON" in flat(done.stderr) and "stopped at line 3" in flat(
        done.stderr
    )
    assert len(archived(home)) == 2  # the lines before it
    lines = source.read_text(encoding="utf-8").splitlines()
    del lines[2]  # the user fixes the file: the import goes on from there
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_arshif(home, "import", str(source), "--stop-on-error", "--no-progress")
    assert "stopped at line 4" in flat(done.stderr)  # the old line 5
    assert len(archived(home)) == 3


def test_same_file_twice_adds_nothing(tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", real_records()[:5])
    home = tmp_path / "data"
    assert run_arshif(home, "import", str(source), "--no-progress").returncode == 0
    before = archived(home)
    done = run_arshif(home, "import", str(source), "--no-progress")
    assert done.returncode == 0 and "already imported, nothing to add" in flat(done.stdout)
    assert archived(home) == before


def _position(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT position FROM imports").fetchone()
    except sqlite3.Error:
        return 0
    return row[0] if row else 0


def kill_import_midway(home: Path, source: Path) -> None:
    """Run `arshif import SOURCE` and SIGKILL it once it saved its first position."""
    env = {**os.environ, "ARSHIF_HOME": str(home)}
    env.pop("ARSHIF_OUTLETS", None)
    child = subprocess.Popen(
        [sys.executable, "-m", "arshif.cli", "import", str(source), "--no-progress"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _position(home / "archive.sqlite") == 0:
        assert child.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()


def test_resume_after_sigkill_loads_nothing_twice(tmp_path: Path) -> None:
    records = real_records(copies=6)
    source = write_jsonl(tmp_path / "big.jsonl", records)
    home = tmp_path / "data"
    kill_import_midway(home, source)
    kept = len(archived(home))
    assert 0 < kept < len(records)
    done = run_arshif(home, "import", str(source), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "resumed at line" in flat(done.stdout)
    assert " 0 updated" in flat(done.stdout)  # nothing archived before the kill was loaded again
    new = int(done.stdout.split(": ", 1)[1].split(" new")[0])
    final = archived(home)
    assert len(final) == len({r["url"] for r in records}) == kept + new


@pytest.mark.parametrize("name", ["notes.txt"])
def test_unknown_kind_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("x")
    done = run_arshif(tmp_path / "data", "import", str(tmp_path / name))
    assert done.returncode == 2 and "cannot tell what" in flat(done.stderr)


def test_record_workers_archive_and_index_what_one_process_does(tmp_path: Path) -> None:
    """The record work in worker processes (in file order) gives the archive and the index
    that working each line in the importing process gives."""
    records = real_records(copies=2)
    source = write_jsonl(tmp_path / "records.jsonl", records, {5: "{broken"})
    kept = ("id", "url", "outlet", "language", "content_hash", "topics", "dup_cluster",
            "dup_of", "story_id", "title", "text")  # fmt: skip
    found = {}
    for workers in ("1", "2"):
        home = tmp_path / workers
        done = run_arshif(home, "import", str(source), "--workers", workers, "--no-progress")
        assert done.returncode == 0, done.stderr
        assert "line 5" in flat(done.stderr)
        rows = [{k: a[k] for k in kept} for a in archived(home)]
        word = records[0]["title"].split()[0]
        search = run_arshif(home, "search", word, "--json", "--limit", "100")
        assert search.returncode == 0, search.stderr
        found[workers] = (rows, sorted(h["id"] for h in json.loads(search.stdout)["hits"]))
    assert len(found["1"][0]) == len({r["url"] for r in records})
    assert found["1"] == found["2"]
    assert found["2"][1], "the search finds what was imported"
