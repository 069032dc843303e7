"""`arshif import FILE.warc(.gz)`: real outlet pages among other records, referenced in
place or copied, read back by `/article/ID/raw` and `reextract`; damaged files; resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arshif.web.app import create_app
from crawler.outlets import load_outlets
from importer.hosts import OutletHosts
from indexer.archive import Archive
from tests.conftest import run_arshif
from tests.test_import_jsonl import kill_import_midway
from tests.warcs import Page, others, real_pages, write_warc


def flat(text: str) -> str:
    return " ".join(text.split())


def articles(home: Path) -> list[dict]:
    with Archive(home / "archive.sqlite") as archive:
        return [a.to_dict() for a in archive.iter_articles()]


def raw(home: Path, article_id: str) -> bytes | None:
    response = TestClient(create_app(home)).get(f"/article/{article_id}/raw")
    return response.content if response.status_code == 200 else None


@pytest.fixture(scope="module")
def pages() -> list[Page]:
    return real_pages()


def test_real_records_archived_in_place_others_counted(tmp_path: Path, pages: list[Page]) -> None:
    source = write_warc(tmp_path / "cc.warc.gz", pages + others())
    home = tmp_path / "data"
    done = run_arshif(home, "import", str(source), "--no-progress")
    assert done.returncode == 0, done.stderr
    out = flat(done.stdout)
    for skipped in ("request record", "metadata record", "revisit record", "warcinfo record",
                    "skipped: not HTML", "skipped: not 200", "skipped: other host"):  # fmt: skip
        assert skipped in out, out
    got = articles(home)
    by_url = {a["url"]: a for a in got}
    assert set(by_url) <= {p.url for p in pages} and len(got) >= len(pages) - 1
    assert f"{len(got)} archived" in out
    catalogue = load_outlets()
    for article in got:
        assert article["language"] == "ar" and article["outlet"] in catalogue
        assert article["warc_file"] == str(source.resolve())
        page = next(p for p in pages if p.url == article["url"])
        assert raw(home, article["id"]) == page.body  # read where it is, at its offset
    assert not list((home / "warc").glob("*.warc.gz"))  # nothing copied
    # reextract reads the records in place too.
    done = run_arshif(home, "reextract")
    assert done.returncode == 0, done.stderr
    assert f"Re-extracted {len(got)} archived pages" in flat(done.stdout)
    # The same file again adds nothing.
    done = run_arshif(home, "import", str(source), "--no-progress")
    assert "already imported, nothing to add" in flat(done.stdout)
    assert len(articles(home)) == len(got)


@pytest.mark.parametrize("compression,flag", [("whole", None), ("member", "--copy")])
def test_copied_records(
    tmp_path: Path, pages: list[Page], compression: str, flag: str | None
) -> None:
    source = write_warc(tmp_path / "cc.warc.gz", pages, compression)
    home = tmp_path / "data"
    done = run_arshif(home, "import", str(source), "--no-progress", *([flag] if flag else []))
    assert done.returncode == 0, done.stderr
    if compression == "whole":
        assert "gzipped whole" in flat(done.stdout)
    got = articles(home)
    assert got
    for article in got:
        assert (home / "warc" / article["warc_file"]).is_file()
        page = next(p for p in pages if p.url == article["url"])
        assert raw(home, article["id"]) == page.body
    done = run_arshif(home, "reextract")
    assert f"Re-extracted {len(got)} archived pages" in flat(done.stdout)


def _cut(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_truncated_tail_and_wrong_length_end_the_file(tmp_path: Path, pages: list[Page]) -> None:
    whole = write_warc(tmp_path / "plain.warc", pages, "none").read_bytes()
    last = pages[-1].body
    end = whole.rindex(last) + len(last) // 2
    cut = _cut(tmp_path / "cut.warc", whole[:end])
    home = tmp_path / "cut"
    done = run_arshif(home, "import", str(cut), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "is cut short" in flat(done.stderr) and "everything before it is archived" in flat(
        done.stderr
    )
    urls = {a["url"] for a in articles(home)}
    assert pages[-1].url not in urls and len(urls) >= len(pages) - 2

    # A Content-Length too small for the third page's record: its header is wrong, the
    # next "record" starts in the middle of the page.
    third = whole.index(pages[2].body)
    header = whole.rindex(b"Content-Length: ", 0, third)
    header = whole.rindex(b"Content-Length: ", 0, header)  # the WARC header's, not HTTP's
    line_end = whole.index(b"\r\n", header)
    wrong = _cut(
        tmp_path / "wrong.warc", whole[:header] + b"Content-Length: 300" + whole[line_end:]
    )
    home = tmp_path / "wrong"
    done = run_arshif(home, "import", str(wrong), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "rest of this file is skipped" in flat(done.stderr)
    urls = {a["url"] for a in articles(home)}
    assert pages[2].url not in urls and {p.url for p in pages[:2]} & urls


def test_since_until_and_any_host(tmp_path: Path, pages: list[Page]) -> None:
    source = write_warc(tmp_path / "cc.warc.gz", pages + others())
    home = tmp_path / "dates"
    done = run_arshif(home, "import", str(source), "--since", "2030-01-01", "--no-progress")
    assert done.returncode == 0 and not articles(home)
    assert "before --since" in flat(done.stdout)
    home = tmp_path / "any"
    # (and the page work in this process, not in worker processes)
    done = run_arshif(home, "import", str(source), "--any-host", "--workers", "1", "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "skipped: not Arabic" in flat(done.stdout)  # the English page of another host


def test_resume_after_sigkill(tmp_path: Path, pages: list[Page]) -> None:
    many = [Page(f"{p.url}?copy={n}", p.body) for n in range(40) for p in pages]
    source = write_warc(tmp_path / "big.warc.gz", many)
    home = tmp_path / "data"
    kill_import_midway(home, source)
    kept = len(articles(home))
    assert kept > 0
    done = run_arshif(home, "import", str(source), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert "resumed at byte" in flat(done.stdout)
    # Over both runs every record was handled exactly once: none twice, none missed.
    with Archive(home / "archive.sqlite") as archive:
        total = json.loads(archive.db.execute("SELECT counts FROM imports").fetchone()[0])
    assert total["records"] == 1 + 3 * len(many) + 1
    hosts = OutletHosts(load_outlets().values())
    assert total["matched"] == sum(hosts.match(p.url) is not None for p in many)
    assert total["archived"] == total["matched"]
    assert {a["url"].split("?")[0] for a in articles(home)} == {
        p.url for p in pages if hosts.match(p.url)
    }
