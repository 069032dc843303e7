"""`arshif import --cc-news YYYY-MM` against a local server laid out as Common Crawl's data
host: a month's gzipped path index and its WARC files, read as streams with ranges."""

from __future__ import annotations

import gzip
import http.server
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arshif.web.app import create_app
from indexer.archive import Archive
from tests.conftest import run_arshif
from tests.servers import RecordingServer
from tests.warcs import others, real_pages, write_warc


class DataHost(RecordingServer):
    """Files of a folder, with byte ranges as Common Crawl's host answers them."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.ranges: list[str] = []

    def handle(self, h: http.server.BaseHTTPRequestHandler, path: str, hit: int) -> None:
        file = self.root / path.lstrip("/")
        if not file.is_file():
            self.send(h, 404, b"not found")
            return
        data = file.read_bytes()
        wanted = re.match(r"bytes=(\d+)-$", h.headers.get("Range") or "")
        if wanted:
            start = int(wanted.group(1))
            self.ranges.append(f"{path}@{start}")
            self.send(h, 206, data[start:],
                      {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})  # fmt: skip
            return
        self.send(h, 200, data)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_cc_news_month_imported_in_order_and_resumable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pages = real_pages()
    month = tmp_path / "host" / "crawl-data" / "CC-NEWS" / "2022" / "09"
    month.mkdir(parents=True)
    names = ["CC-NEWS-20220901000000-00001.warc.gz", "CC-NEWS-20220902000000-00002.warc.gz"]
    write_warc(month / names[0], pages[:3] + others())
    write_warc(month / names[1], pages[3:])
    index = "".join(f"crawl-data/CC-NEWS/2022/09/{n}\n" for n in names)
    (month / "warc.paths.gz").write_bytes(gzip.compress(index.encode()))
    home = tmp_path / "data"
    with DataHost(tmp_path / "host") as host:
        monkeypatch.setenv("ARSHIF_CC_BASE", host.url)
        done = run_arshif(home, "import", "--cc-news", "2022-09", "--no-progress")
        assert done.returncode == 0, done.stderr
        out = flat(done.stdout)
        assert "CC-NEWS 2022-09: 2 WARC files" in out
        first, second = (out.index(n) for n in names)
        assert first < second  # in the index's order
        with Archive(home / "archive.sqlite") as archive:
            got = list(archive.iter_articles())
        assert {a.url for a in got} <= {p.url for p in pages} and len(got) >= 4
        assert all(a.warc_file.startswith(host.url) for a in got)
        # The raw page is read back from the data host, with a range from its offset.
        article = got[-1]
        response = TestClient(create_app(home)).get(f"/article/{article.id}/raw")
        page = next(p for p in pages if p.url == article.url)
        assert response.status_code == 200 and response.content == page.body
        assert f"{article.warc_file.removeprefix(host.url)}@{article.warc_offset}" in host.ranges
        # Run again: every file is done, nothing is added or fetched but the index.
        before = dict(host.hits)
        done = run_arshif(home, "import", "--cc-news", "2022-09", "--no-progress")
        assert done.returncode == 0, done.stderr
        assert flat(done.stdout).count("already imported, nothing to add") == 2
        fetched = {p for p, n in host.hits.items() if n != before.get(p)}
        assert fetched == {"/crawl-data/CC-NEWS/2022/09/warc.paths.gz"}
        done = run_arshif(home, "import", "--cc-news", "2022-13")
        assert done.returncode == 2 and "YYYY-MM" in done.stderr
