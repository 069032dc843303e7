"""End to end: a real crawl of the sample outlet tags the five seed articles sco-summit as
they are archived; list, export by topic, search by topic and re-extraction keep to it."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from arshif.config import archive_path
from tests.conftest import FAST, run_arshif
from tests.test_crawl_e2e import archived


def test_crawl_tags_seeds_then_export_by_topic(home, server, manifest, tmp_path: Path) -> None:
    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = archived(home)
    seeds = {a["path"] for a in manifest["articles"] if a["kind"] == "seed"}
    assert len(seeds) == 5
    for path, row in rows.items():
        assert ("sco-summit" in row["topics"]) == (path in seeds), (path, row["topics"])
    read_also = next(a["path"] for a in manifest["articles"] if a.get("seed", "").startswith("003"))
    assert rows[read_also]["topics"] == ["sco-summit"]

    listing = run_arshif(home, "topics", "list")
    line = next(line for line in listing.stdout.splitlines() if "sco-summit" in line)
    assert "│ 5 " in line

    target = tmp_path / "sco.parquet"
    out = run_arshif(
        home, "export", "--format", "parquet", "-o", str(target), "--topic", "sco-summit",
        "--no-progress",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    card = json.loads(Path(f"{target}.card.json").read_text(encoding="utf-8"))
    assert card["rows"] == 5 and card["counts"]["by_outlet"] == {"sample": 5}
    assert card["date_range"] == {"first": "2022-09-07", "last": "2024-07-03"}

    out = run_arshif(home, "search", "بوتين", "--topic", "sco-summit", "--json", "--limit", "50")
    hits = {re.sub(r"^https?://[^/]+", "", h["url"]) for h in json.loads(out.stdout)["hits"]}
    assert hits == seeds

    # Re-extraction rebuilds records from the WARC files; they keep their topics.
    with sqlite3.connect(archive_path(home)) as db:
        db.execute("UPDATE articles SET topics = '[]'")
    assert run_arshif(home, "reextract").returncode == 0
    tagged = {p for p, row in archived(home).items() if "sco-summit" in row["topics"]}
    assert tagged == seeds
