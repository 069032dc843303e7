"""Raw WARC archive: records read back at their offsets, files rotate, tears are survived."""

import zlib
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.warc import WarcStore, iter_responses

PAGE = ("<html><body><p>" + "خبر عاجل من القمة. " * 40 + "</p></body></html>").encode()


def fill(folder: Path, n: int, max_bytes: int = 100_000) -> list[tuple[str, int]]:
    store = WarcStore(folder, max_bytes=max_bytes)
    locations = [
        store.write(
            f"http://news.example/{i}.html",
            200,
            {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"},
            PAGE,
            {"User-Agent": "Arshif"},
            "sample",
        )
        for i in range(n)
    ]
    store.close()
    return locations


def test_responses_read_back_at_recorded_offsets(tmp_path: Path) -> None:
    locations = fill(tmp_path, 5)
    pages = [p for f in sorted(tmp_path.iterdir()) for p in iter_responses(f)]
    assert [(p.warc_file, p.offset) for p in pages] == locations
    assert [p.url for p in pages] == [f"http://news.example/{i}.html" for i in range(5)]
    assert all(p.body == PAGE and p.outlet == "sample" and p.status == 200 for p in pages)
    # The decoded body is stored, so the transfer encoding header must not claim gzip.
    assert "Content-Encoding" not in pages[0].headers
    assert pages[0].headers["Content-Length"] == str(len(PAGE))


def test_request_records_accompany_responses(tmp_path: Path) -> None:
    fill(tmp_path, 2)
    (path,) = tmp_path.iterdir()
    with path.open("rb") as fh:
        kinds = [r.rec_type for r in ArchiveIterator(fh)]
    assert kinds == ["warcinfo", "response", "request", "response", "request"]


def test_files_rotate_by_size(tmp_path: Path) -> None:
    locations = fill(tmp_path, 6, max_bytes=1_024)
    files = sorted({f for f, _ in locations})
    assert len(files) >= 3
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    assert sum(1 for f in tmp_path.iterdir() for _ in iter_responses(f)) == 6


def test_torn_last_record_keeps_the_earlier_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    locations = fill(tmp_path, 3)
    (path,) = tmp_path.iterdir()
    data = path.read_bytes()
    path.write_bytes(data[: locations[2][1] + 200])  # cut inside the third response
    pages = list(iter_responses(path))
    assert [p.url for p in pages] == ["http://news.example/0.html", "http://news.example/1.html"]
    assert "torn last record" in caplog.text


def test_max_bytes_validated(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        WarcStore(tmp_path, max_bytes=10)


def test_each_record_is_a_gzip_member_of_its_own(tmp_path: Path) -> None:
    """Replay tools and `arshif reextract` seek straight to a recorded offset."""
    (name, offset), _ = fill(tmp_path, 2)
    data = (tmp_path / name).read_bytes()
    member = zlib.decompressobj(wbits=31)
    record = member.decompress(data[offset:])
    assert member.eof and record.startswith(b"WARC/1.0\r\n")
    assert b"\r\nWARC-Type: response\r\n" in record
    assert record.rstrip().endswith(PAGE)
    assert b"\r\nWARC-Type: request\r\n" in zlib.decompress(member.unused_data, wbits=31)
