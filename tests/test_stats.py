"""Archive statistics and their rendering."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from rich.console import Console

from arshif.record import Article
from indexer.archive import Archive
from indexer.stats import DAYS, render_stats, stats


def make(n: int, **fields: object) -> Article:
    base = dict(
        id=f"id{n}",
        url=f"https://news.example/{n}",
        canonical_url=f"https://news.example/{n}",
        outlet="alpha",
        title=f"خبر رقم {n}",
        text="نص قصير عن اجتماع المنظمة.",
        published=None,
        language="ar",
    )
    return Article(**{**base, **fields})  # type: ignore[arg-type]


@pytest.fixture
def archive(tmp_path: Path):
    first = date(2024, 6, 1)
    with Archive(tmp_path / "archive.sqlite") as archive:
        # 32 dated articles on 32 days, alternating outlets; two on the last day.
        for n in range(32):
            day = (first + timedelta(days=n)).isoformat()
            outlet = "alpha" if n % 2 else "beta"
            archive.upsert(make(n, published=f"{day}T08:00:00+03:00", outlet=outlet))
        archive.upsert(make(100, published="2024-07-02T20:00:00Z", topics=["sco-summit"]))
        archive.upsert(make(101, language=None, topics=["sco-summit", "energy"]))
        archive.upsert(make(102, language="en", outlet="gamma"))
        archive.mark_indexed(["id0", "id1", "id2"], "sqlite")
        run = archive.start_run("alpha")
        archive.finish_run(
            run, status="finished", pages=40, new_articles=33, skipped=4, errors={"timeout": 1}
        )
        archive.start_run("beta")
        yield archive


def test_counts(archive: Archive) -> None:
    d = stats(archive)
    assert d["total"] == 35
    assert d["undated"] == 2
    assert d["by_outlet"] == {"alpha": 18, "beta": 16, "gamma": 1}
    assert list(d["by_outlet"]) == ["alpha", "beta", "gamma"]  # largest first
    assert d["by_language"] == {"ar": 33, "en": 1, "unknown": 1}
    assert d["by_index_state"] == {"indexed": 3, "pending": 32}
    assert d["by_topic"] == {"sco-summit": 2, "energy": 1}
    days = d["by_day"]
    assert len(days) == DAYS == 30
    assert list(days) == sorted(days)
    assert min(days) == "2024-06-03"  # the two oldest dates fall outside the last 30
    assert days["2024-07-02"] == 2
    assert [r["status"] for r in d["runs"]] == ["running", "finished"]
    assert d["runs"][1]["errors"] == {"timeout": 1}
    json.dumps(d)  # ready for `arshif stats --json`


def test_empty_archive(tmp_path: Path) -> None:
    with Archive(tmp_path / "archive.sqlite") as archive:
        d = stats(archive)
    assert d == {
        "total": 0,
        "undated": 0,
        "by_outlet": {},
        "by_topic": {},
        "by_day": {},
        "by_language": {},
        "by_index_state": {},
        "runs": [],
        "duplicates_by_outlet": {},
        "health": {},
    }
    out = io.StringIO()
    render_stats(d, Console(file=out, width=120))
    assert "0 articles" in out.getvalue() and "No crawl runs" in out.getvalue()


def test_render_shows_every_table(archive: Archive) -> None:
    out = io.StringIO()
    render_stats(stats(archive), Console(file=out, width=140))
    text = out.getvalue()
    assert "35 articles (2 undated); index: 3 indexed, 32 pending" in text
    for expected in ("By outlet", "By topic", "By language", "By day", "Latest crawl runs"):
        assert expected in text
    assert "gamma" in text and "sco-summit" in text and "2024-07-02" in text
    assert "timeout 1" in text and "running" in text
    assert "51%" in text  # alpha's share, 18 of 35
