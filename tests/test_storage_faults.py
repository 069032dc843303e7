"""A full disk or a read-only data folder (issue 8): one clear error naming the folder and
what to do, a non-zero exit, no traceback, and an archive left consistent.

The full disk is a file size limit (RLIMIT_FSIZE, with SIGXFSZ ignored so writes fail with
EFBIG) set in the child process; the read-only folder is `chmod -R a-w`, and since root
ignores permissions, the command then runs as `nobody` (setpriv) when the tests run as root.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from arshif.config import archive_path
from arshif.storage import FULL, READ_ONLY, StorageError, check_writable, storage_problem
from crawler.sample_server import SampleServer
from crawler.warc import iter_responses
from indexer.archive import Archive, ArchiveError
from tests.conftest import FAST, ROOT

NOBODY = 65534


def arshif(
    home: Path, *args: str, fsize: int | None = None, user: int | None = None
) -> subprocess.CompletedProcess[str]:
    """`arshif ARGS` in a child process, optionally with a file size limit or as `user`."""
    env = {**os.environ, "ARSHIF_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("ARSHIF_OUTLETS", None)
    command = [sys.executable, "-m", "arshif.cli", *args]
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run(
        command, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
        preexec_fn=limit if fsize else None,
    )  # fmt: skip


def articles(home: Path) -> dict[str, tuple]:
    with Archive(archive_path(home)) as archive:
        return {
            a.id: (a.title, a.text, a.warc_file, a.warc_offset) for a in archive.iter_articles()
        }


def integrity(home: Path) -> str:
    conn = sqlite3.connect(f"file:{archive_path(home)}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def fingerprint(folder: Path) -> dict[str, str]:
    """Every file under `folder` with its SHA-256."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def server() -> Iterator[SampleServer]:
    with SampleServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def crawled(server: SampleServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding one crawl of the sample outlet (made once, copied per test)."""
    home = tmp_path_factory.mktemp("crawled") / "data"
    done = arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert done.returncode == 0, done.stderr[-3000:]
    return home


def crawl_args(server: SampleServer) -> list[str]:
    return ["crawl", "sample", "--refresh", "--base-url", server.base_url, *FAST,
            "--set", "ARSHIF_EXTRACT_WORKERS=1"]  # fmt: skip


def assert_clear_error(result: subprocess.CompletedProcess[str], home: Path, *words: str) -> None:
    message = " ".join(result.stderr.split())  # the console wraps long lines
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"error: cannot write to the data folder {home}" in message, message[-3000:]
    for word in words:
        assert word in message, message[-3000:]
    assert "Traceback" not in result.stderr + result.stdout, result.stderr[-3000:]


# ------------------------------------------------------------------ errors recognised


def test_storage_problems_are_recognised(tmp_path: Path) -> None:
    assert storage_problem(OSError(errno.ENOSPC, "No space left on device")) == FULL
    assert storage_problem(OSError(errno.EFBIG, "File too large")) == FULL
    assert storage_problem(OSError(errno.EROFS, "Read-only file system")) == READ_ONLY
    assert storage_problem(PermissionError(errno.EACCES, "Permission denied")) == READ_ONLY
    assert storage_problem(OSError(errno.ECONNRESET, "reset")) is None
    assert storage_problem(ValueError("disk is full")) is None

    conn = sqlite3.connect(tmp_path / "small.sqlite")
    conn.execute("CREATE TABLE t (x BLOB)")
    conn.execute("PRAGMA max_page_count = 4")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.execute("INSERT INTO t VALUES (zeroblob(100000))")
    conn.close()
    assert "database or disk is full" in str(full.value)
    assert storage_problem(full.value) == FULL

    ro = sqlite3.connect(f"file:{tmp_path / 'small.sqlite'}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as readonly:
        ro.execute("INSERT INTO t VALUES (1)")
    ro.close()
    assert storage_problem(readonly.value) == READ_ONLY
    try:  # as the archive reports it: an ArchiveError caused by the SQLite error
        raise ArchiveError("cannot open the archive") from full.value
    except ArchiveError as exc:
        assert storage_problem(exc) == FULL


def test_check_writable_names_the_folder(tmp_path: Path) -> None:
    check_writable(tmp_path / "data", "warc", "jobs")
    assert (tmp_path / "data" / "warc").is_dir() and not list((tmp_path / "data").glob(".arshif*"))
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError):  # not a storage problem: raised as it is
        check_writable(tmp_path / "file")
    if os.geteuid() != 0:
        (tmp_path / "data").chmod(0o555)
        with pytest.raises(StorageError, match="it is read-only"):
            check_writable(tmp_path / "data", "new")
        (tmp_path / "data").chmod(0o755)


def test_warc_store_leaves_no_torn_record_when_the_disk_fills(tmp_path: Path, caplog) -> None:
    """In a child with a 40 KB file size limit: writes fail with EFBIG, and the file is cut
    back to its last whole record each time."""
    script = f"""
import os, resource, signal, sys
from pathlib import Path
from crawler.warc import WarcStore
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))
store = WarcStore(Path({str(tmp_path)!r}) / "warc")
written, failed = 0, 0
for n in range(20):
    try:
        store.write(f"https://news.example/{{n}}", 200, {{"Content-Type": "text/html"}},
                    os.urandom(6000), {{}}, "example")
        written += 1
    except OSError as exc:
        assert exc.errno == 27, exc  # EFBIG
        failed += 1
store.close()
print(written, failed)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    written, failed = map(int, done.stdout.split())
    assert written >= 3 and failed >= 1
    files = sorted((tmp_path / "warc").iterdir())
    caplog.set_level(logging.WARNING, logger="crawler.warc")
    responses = [r for f in files for r in iter_responses(f)]
    assert len(responses) == written
    assert not caplog.records, caplog.text  # no torn or damaged record anywhere
    assert all(f.stat().st_size <= 40_000 for f in files)


# ------------------------------------------------------------------ full disk, for real


def test_full_disk_mid_crawl_stops_with_a_clear_error(
    crawled: Path, server: SampleServer, tmp_path: Path
) -> None:
    home = Path(shutil.copytree(crawled, tmp_path / "data"))
    before = articles(home)
    assert len(before) >= 10
    # No file may pass 40 KB: the refresh's new WARC file, and the archive's write-ahead
    # log when a group of writes is committed, run out of room a few pages in.
    limit = 40_000
    result = arshif(home, *crawl_args(server), fsize=limit)
    assert_clear_error(
        result, home, "the disk is full", "Free some space", "archived before is kept"
    )
    assert "finish: storage_error" in " ".join(result.stdout.split())

    assert integrity(home) == "ok"
    after = articles(home)
    assert after.keys() == before.keys()  # nothing archived before is lost
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    # Every archived article points at a whole record of a WARC file; no file ends torn.
    records = {
        (r.warc_file, r.offset): r.url for f in (home / "warc").iterdir() for r in iter_responses(f)
    }
    assert all((v[2], v[3]) in records for v in after.values())
    with Archive(archive_path(home)) as archive:
        statuses = [run["status"] for run in archive.runs()]
    assert statuses[0] != "finished", statuses  # the stopped crawl does not look complete

    # With space again, the same command completes.
    again = arshif(home, *crawl_args(server))
    assert again.returncode == 0, again.stderr[-3000:]
    assert integrity(home) == "ok" and articles(home).keys() == before.keys()


# ------------------------------------------------------------------ read-only data folder


@pytest.fixture
def readonly_home(crawled: Path) -> Iterator[tuple[Path, int | None]]:
    """A copy of the crawled data folder, made read-only; and the user to run as (nobody
    when the tests run as root, who would ignore the permissions)."""
    user = None
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root needs setpriv (util-linux) to drop privileges")
        user = NOBODY
    base = Path(tempfile.mkdtemp(prefix="arshif-ro-"))
    base.chmod(0o755)  # nobody must reach the folder (pytest's tmp_path is private to root)
    home = Path(shutil.copytree(crawled, base / "data"))
    for path in [home, *home.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        yield home, user
    finally:
        for path in [home, *home.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        shutil.rmtree(base)


def test_read_only_data_folder_is_one_clear_error(
    readonly_home: tuple[Path, int | None], server: SampleServer
) -> None:
    home, user = readonly_home
    before = fingerprint(home)
    out = home.parent / "out"  # a writable place for the export itself
    out.mkdir(mode=0o777)
    out.chmod(0o777)
    for args in (crawl_args(server), ["index", "--rebuild"]):
        result = arshif(home, *args, user=user)
        assert_clear_error(result, home, "it is read-only", "--data-dir / ARSHIF_HOME")
    # What only reads the archive works: a read-only copy can still be searched and exported.
    stats = arshif(home, "stats", user=user)
    assert stats.returncode == 0 and "sample" in stats.stdout, stats.stderr[-3000:]
    found = arshif(home, "search", "قمة", "--json", user=user)
    assert found.returncode == 0, found.stderr[-3000:]
    hits = json.loads(found.stdout)["hits"]
    assert hits, "the read-only archive's index is searched"
    similar = arshif(home, "similar", hits[0]["id"], "--json", user=user)
    assert similar.returncode == 0 and isinstance(json.loads(similar.stdout), list), similar.stderr[
        -3000:
    ]
    exported = arshif(home, "export", "--format", "jsonl", "-o", str(out / "all.jsonl"), user=user)
    assert exported.returncode == 0, exported.stderr[-3000:]
    uri = f"{archive_path(home).as_uri()}?mode=ro&immutable=1"
    with sqlite3.connect(uri, uri=True) as db:
        articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
    assert len((out / "all.jsonl").read_text(encoding="utf-8").splitlines()) == articles > 0
    assert fingerprint(home) == before  # not one byte changed
    assert integrity(home) == "ok"
