"""WARC files on an object store (moto's S3 server on 127.0.0.1): uploaded when closed,
read back by ranged GET, and a killed writer's open file closed and uploaded on restart."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from arshif.config import archive_path, warc_dir
from arshif.web.queries import read_raw
from crawler.reextract import archived_responses
from crawler.warc import WarcStore
from crawler.warc_objects import OPEN_SUFFIX, WarcBucket, recover
from indexer.archive import Archive
from tests.conftest import FAST, ROOT, run_arshif


def page(n: int) -> bytes:
    noise = random.Random(n).randbytes(600).hex()  # does not compress: files rotate
    return f"<html><body><p>page {n} {noise}</p></body></html>".encode()


def write_pages(store: WarcStore, count: int) -> list[tuple[str, int]]:
    return [
        store.write(
            f"http://example.test/{n}", 200, {"Content-Type": "text/html"}, page(n), {}, "o"
        )
        for n in range(count)
    ]


def test_closed_files_go_to_the_bucket_and_are_read_back_by_range(tmp_path, s3_bucket) -> None:
    bucket = WarcBucket(s3_bucket)
    store = WarcStore(tmp_path, max_bytes=2048, bucket=bucket)  # rotates every couple of pages
    pointers = write_pages(store, 6)
    assert all(f.startswith(s3_bucket + "/") for f, _ in pointers)
    open_file = pointers[-1][0].rsplit("/", 1)[1]
    # Closed files are gone from the disk; only the open one is here, as .tmp.
    assert [p.name for p in tmp_path.iterdir()] == [open_file + OPEN_SUFFIX]
    # While open, the page reads from the local file.
    assert read_raw(tmp_path, *pointers[-1]).body == page(5)
    store.close()
    assert list(tmp_path.iterdir()) == []
    assert len(set(f for f, _ in pointers)) == len(list(bucket.names())) >= 3
    for n, (warc_file, offset) in enumerate(pointers):
        raw = read_raw(tmp_path, warc_file, offset)
        assert raw is not None and raw.body == page(n) and raw.url.endswith(f"/{n}")
    assert read_raw(tmp_path, pointers[0][0], 10**9) is None  # past the end: no page


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from crawler.warc import WarcStore
from crawler.warc_objects import WarcBucket
store = WarcStore(Path(sys.argv[1]), max_bytes=10**6, bucket=WarcBucket(sys.argv[2]))
for n in range(4):
    f, o = store.write(f"http://example.test/{n}", 200, {}, b"<p>%d</p>" % n, {}, "o")
    print(f, o, flush=True)
store._file.write(b"\\x1f\\x8b\\x08 torn")  # a record cut mid-write
store._file.flush()
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_writers_open_file_is_closed_and_uploaded_on_restart(tmp_path, s3_bucket) -> None:
    script = textwrap.dedent(KILLED_WRITER)
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path), s3_bucket],
        capture_output=True, text=True, cwd=ROOT, env=os.environ,
    )  # fmt: skip
    assert done.returncode == -signal.SIGKILL, done.stderr
    pointers = [(f, int(o)) for f, o in (line.split() for line in done.stdout.split("\n") if line)]
    bucket = WarcBucket(s3_bucket)
    assert list(bucket.names()) == []  # nothing was closed
    (left,) = tmp_path.iterdir()
    assert left.name.endswith(OPEN_SUFFIX)
    size = left.stat().st_size
    assert recover(tmp_path, bucket) == 1
    assert list(tmp_path.iterdir()) == []
    (name,) = bucket.names()
    assert (
        bucket.client.head_object(Bucket=bucket.bucket, Key=bucket.key(name))["ContentLength"]
        < size
    )  # the torn record was cut off
    for n, (warc_file, offset) in enumerate(pointers):
        assert read_raw(tmp_path, warc_file, offset).body == b"<p>%d</p>" % n


def test_an_open_file_of_a_live_writer_is_left_alone(tmp_path, s3_bucket) -> None:
    bucket = WarcBucket(s3_bucket)
    store = WarcStore(tmp_path, max_bytes=10**6, bucket=bucket)
    write_pages(store, 2)
    (open_file,) = tmp_path.iterdir()
    assert recover(tmp_path, bucket) == 0
    assert open_file.exists() and list(bucket.names()) == []
    store.close()
    assert len(list(bucket.names())) == 1


def test_crawl_with_an_object_store(home, server, manifest, s3_bucket, monkeypatch) -> None:
    monkeypatch.setenv("ARSHIF_WARC_URL", s3_bucket)
    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(warc_dir(home).glob("*.warc.gz*")) == []  # all uploaded, none kept
    with Archive(archive_path(home)) as archive:
        articles = list(archive.iter_articles())
    assert articles and all(a.warc_file.startswith(s3_bucket + "/") for a in articles)
    for article in articles:
        raw = read_raw(warc_dir(home), article.warc_file, article.warc_offset)
        assert raw is not None and raw.url == article.url
    # Re-extraction reads every page back from the bucket.
    urls = {page.url for page in archived_responses(home)}
    assert {a.url for a in articles} <= urls
    result = run_arshif(home, "reextract")
    assert result.returncode == 0, result.stderr[-3000:]
    with Archive(archive_path(home)) as archive:
        assert archive.count() == len(articles)


def test_bad_warc_url_is_a_clear_error(tmp_path: Path) -> None:
    try:
        WarcBucket("/local/folder")
    except ValueError as exc:
        assert "s3://bucket/prefix" in str(exc)
    else:
        raise AssertionError("a non-s3 URL was accepted")
