"""Dedup end to end: two real crawls of the sample outlet, then `similar`, `search --dedup`,
`stats`, and `arshif dedup` on JSONL files, each through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

from arshif.config import archive_path
from arshif.urls import article_id
from indexer.archive import Archive
from tests.conftest import run_arshif
from tests.test_crawl_e2e import crawl

ORIGINAL = "/news/2022/09/15/putin-meets-xi-in-samarkand.html"
COPY = "/news/2022/09/16/wire-putin-xi-samarkand.html"


def add_syndicated_copy(site: Path, manifest: dict) -> None:
    """A wire copy of a seed under another URL: new headline, a dateline, the last
    paragraph cut, published a day later; listed in the feed."""
    original = next(a for a in manifest["articles"] if a["path"] == ORIGINAL)
    page = (site / ORIGINAL.lstrip("/")).read_text(encoding="utf-8")
    first, last = original["body"][0], original["body"][-1]
    page = (
        page.replace(ORIGINAL, COPY)
        .replace(original["title"], "الكرملين: لقاء بوتين وشي في سمرقند يبحث التجارة")
        .replace(first, "سمرقند - (وكالات) - " + first)
        .replace(last, "")
        .replace("2022-09-15T13:20:00+02:00", "2022-09-16T09:00:00+02:00")
    )
    target = site / COPY.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    rss = (site / "rss.xml").read_text(encoding="utf-8")
    item = f"<item><title>نسخة</title><link>__BASE_URL__{COPY}</link></item>"
    (site / "rss.xml").write_text(rss.replace("</channel>", item + "</channel>"), encoding="utf-8")


def test_copy_in_a_later_crawl_joins_the_first_copys_cluster(
    home, server, site, manifest, tmp_path
) -> None:
    crawl(home, server)
    seeds = [a["path"] for a in manifest["articles"] if a["kind"] == "seed"]
    with Archive(archive_path(home)) as archive:
        rows = {a.url.removeprefix(server.base_url): a for a in archive.iter_articles()}
    assert all(r.dup_cluster == r.id and r.dup_of is None for r in rows.values())
    stories = {p: rows[p].story_id for p in seeds}
    samarkand = {s for p, s in stories.items() if p.startswith("/news/2022/")}
    assert len(samarkand) == 1
    assert stories["/news/2024/07/03/putin-meetings-at-sco-summit-astana.html"] not in samarkand

    add_syndicated_copy(site, manifest)
    result = crawl(home, server)  # a new process: the LSH index comes from the archive file
    assert "1 new articles" in result.stdout
    original_id = rows[ORIGINAL].id
    with Archive(archive_path(home)) as archive:
        copy = archive.get(article_id(server.base_url + COPY))
    assert copy is not None
    assert (copy.dup_cluster, copy.dup_of) == (original_id, original_id)
    assert copy.story_id in samarkand

    out = run_arshif(home, "similar", original_id, "--json")
    assert out.returncode == 0, out.stderr
    matches = {m["id"]: m for m in json.loads(out.stdout)}
    assert matches[copy.id]["relation"] == "near_dup"
    assert 0.45 <= matches[copy.id]["similarity"] <= 1
    mates = {rows[p].id for p in seeds if p.startswith("/news/2022/")} - {original_id}
    assert {i for i, m in matches.items() if m["relation"] == "story"} == mates
    readable = run_arshif(home, "similar", original_id)
    assert "near-duplicate" in readable.stdout and "same story" in readable.stdout

    def hits(*extra: str) -> set[str]:
        out = run_arshif(home, "search", "سمرقند", "--json", "--limit", "50", *extra)
        assert out.returncode == 0, out.stderr
        return {h["id"] for h in json.loads(out.stdout)["hits"]}

    assert {original_id, copy.id} <= hits()
    deduped = hits("--dedup")
    assert original_id in deduped and copy.id not in deduped  # the earlier one is kept

    target = tmp_path / "dedup.jsonl"
    out = run_arshif(home, "export", "--format", "jsonl", "-o", str(target), "--dedup")
    assert out.returncode == 0, out.stderr
    exported = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert copy.id not in {r["id"] for r in exported}
    assert all(r["dup_cluster"] and r["story_id"] for r in exported)

    stats = json.loads(run_arshif(home, "stats", "--json").stdout)
    sample = stats["duplicates_by_outlet"]["sample"]
    assert sample["duplicates"] == 1 and sample["articles"] == len(rows) + 1
    assert "Duplicates by outlet" in run_arshif(home, "stats").stdout

    missing = run_arshif(home, "similar", "0000000000000000")
    assert missing.returncode == 2 and "no article 0000000000000000" in missing.stderr


def test_dedup_jsonl_round_trip(home, manifest, tmp_path) -> None:
    records = [
        {"id": a["path"], "title": a["title"], "text": "\n".join(a["body"]),
         "published": a["published"], "url": "https://x.example" + a["path"], "extra": [n]}
        for n, a in enumerate(manifest["articles"]) if a["language"] == "ar" and a["body"]
    ]  # fmt: skip
    seed = next(r for r in records if r["id"] == ORIGINAL)
    records.append(
        {"id": "copy", "title": "عنوان جديد", "text": "القاهرة - " + seed["text"][:-300]}
    )
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    out = run_arshif(home, "dedup", str(source), "-o", str(target))
    assert out.returncode == 0, out.stderr
    assert f"Wrote {len(records)} records" in out.stdout
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [r["id"] for r in records]
    for before, after in zip(records, rows, strict=True):
        assert {k: after[k] for k in before} == before  # every field kept as it was
        assert after["content_hash"] and after["dup_cluster"] and after["story_id"]
    copy = rows[-1]
    assert (copy["dup_cluster"], copy["dup_of"]) == (ORIGINAL, ORIGINAL)
    assert sum(r["dup_of"] is not None for r in rows) == 1
    samarkand = {r["story_id"] for r in rows if r["id"].startswith("/news/2022/")}
    assert len(samarkand) == 1
    assert not archive_path(home).exists(), "the archive is not touched"


def test_dedup_bad_record_names_the_line(home, tmp_path) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    good = json.dumps({"id": "a", "title": "t", "text": "نص"}, ensure_ascii=False)
    for bad, message in (
        (json.dumps({"id": "b", "title": "t"}), "line 3: field 'text' must be a string"),
        ("{not json", "line 3: not valid JSON"),
        ("[1, 2]", "line 3: expected a JSON object"),
    ):
        source.write_text(f"{good}\n\n{bad}\n{good}\n", encoding="utf-8")
        out = run_arshif(home, "dedup", str(source), "-o", str(target))
        assert out.returncode == 2
        assert f"in.jsonl {message}" in out.stderr, out.stderr
        assert not target.exists() and not list(tmp_path.glob(".out.jsonl*"))
    out = run_arshif(home, "dedup", str(tmp_path / "missing.jsonl"), "-o", str(target))
    assert out.returncode == 2 and "no such file" in " ".join(out.stderr.split())
