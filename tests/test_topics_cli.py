"""`arshif topics list|retag|explain|tag`, `--topic` on search and export with the dataset
card, and `stats --topic`, on a real archive in a temporary data folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from arshif.cli import main
from arshif.config import archive_path
from arshif.record import Article
from indexer.archive import Archive
from indexer.filters import Filters

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"


def seed_article(name: str, **fields: object) -> Article:
    (path,) = SEEDS.glob(f"{name}_*.txt")
    title, _, text = path.read_text(encoding="utf-8").partition("\n")
    base = dict(id=f"seed{name}", url=f"https://a.example/{name}", outlet="alpha", language="ar")
    return Article(canonical_url=base["url"], title=title, text=text, **{**base, **fields})  # type: ignore[arg-type]


def other(n: int, title: str, text: str, **fields: object) -> Article:
    url = f"https://b.example/{n}"
    base = dict(outlet="beta", language="ar", published=f"2025-01-{n:02d}T08:00:00+03:00")
    return Article(
        id=f"b{n}", url=url, canonical_url=url, title=title, text=text, **{**base, **fields}
    )  # type: ignore[arg-type]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An archive as an older Arshif left it: wrong or missing topics, everything indexed."""
    home = tmp_path / "data"
    with Archive(archive_path(home)) as archive:
        archive.upsert(seed_article("003", published="2022-09-15T12:00:00+02:00"))
        archive.upsert(seed_article("004", published="2024-07-03T11:49:00+00:00", outlet="beta"))
        archive.upsert(seed_article("000", published="2022-09-15T13:20:00+02:00", topics=["old"]))
        archive.upsert(
            other(14, "البنك المركزي يثبت أسعار الفائدة", "تراجع معدل التضخم السنوي إلى 12 في المئة.",
                  topics=["sco-summit"])
        )  # fmt: skip
        archive.upsert(other(15, "طقس", "أمطار خفيفة على السواحل.", published=None))
        archive.mark_all_indexed("sqlite")
    return home


def flat(text: str) -> str:
    """Terminal output with rich's line wrapping undone."""
    return " ".join(text.split())


def run(home: Path, *args: str) -> int:
    return main([*args, "--data-dir", str(home)])


def topics_of(home: Path) -> dict[str, list[str]]:
    with Archive(archive_path(home)) as archive:
        return {a.id: a.topics for a in archive.iter_articles()}


def test_retag_updates_archive_and_index(home: Path, capsys) -> None:
    assert run(home, "topics", "retag", "--no-progress") == 0
    assert "Re-tagged 5 articles" in flat(capsys.readouterr().out)
    assert topics_of(home) == {
        "seed003": ["sco-summit"],
        "seed004": ["sco-summit"],
        "seed000": ["sco-summit"],
        "b14": ["economy-inflation"],
        "b15": [],
    }
    with Archive(archive_path(home)) as archive:
        assert archive.pending_count() == 0  # the index caught up
    assert run(home, "search", "بوتين", "--topic", "sco-summit", "--json", "--limit", "50") == 0
    hits = json.loads(capsys.readouterr().out)["hits"]
    assert {h["id"] for h in hits} == {"seed003", "seed004", "seed000"}


def test_retag_one_topic_keeps_the_others(home: Path) -> None:
    assert run(home, "topics", "retag", "--topic", "economy-inflation", "--no-progress") == 0
    after = topics_of(home)
    assert after["b14"] == ["sco-summit", "economy-inflation"]  # sco-summit not re-decided
    assert after["seed000"] == ["old"] and after["seed003"] == []
    assert run(home, "topics", "retag", "--topic", "nope") == 2


def test_list_shows_counts(home: Path, capsys) -> None:
    run(home, "topics", "retag", "--no-progress")
    capsys.readouterr()
    assert run(home, "topics", "list") == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if "sco-summit" in line)
    assert "│ 3 " in line
    assert "rules version" in out


def test_explain_text_and_article(home: Path, capsys) -> None:
    assert run(home, "topics", "explain", "sco-summit", "قمة", "شنغهاي", "في", "أستانا") == 0
    out = flat(capsys.readouterr().out)
    assert "sco-summit: tagged" in out and "«شنغهاي» in text at word 1" in out
    assert run(home, "topics", "explain", "sco-summit", "--article", "b15", "--json") == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["matched"] for r in results] == [False, False]
    assert run(home, "topics", "explain", "sco-summit", "--article", "missing") == 2
    assert run(home, "topics", "explain", "sco-summit") == 2


def test_explain_shows_proximity_subject_and_rival_conditions(home: Path, capsys) -> None:
    text = ["قصف", "إسرائيلي", "على", "قطاع", "غزة", "وغارات", "على", "رفح", "الليلة"]
    assert run(home, "topics", "explain", "gaza-war", *text) == 0
    out = flat(capsys.readouterr().out)
    assert "gaza-war: tagged" in out
    assert "passed: 2 hits with every other group within 8 words" in out
    assert "passed: 0 `not_about` hits in the text, not more than its 2" in out
    covid = ["إغلاق", "في", "قطاع", "غزة", "بعد", "غارة", "لمواجهة", "كورونا", "كورونا", "كورونا"]
    assert run(home, "topics", "explain", "gaza-war", *covid) == 0
    out = flat(capsys.readouterr().out)
    assert "gaza-war: not tagged" in out and "`not_about` hits outnumber its 1" in out


def test_tag_jsonl_round_trip(tmp_path: Path, capsys) -> None:
    source, target = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    records = [
        {"title": "قمة شنغهاي في أستانا", "text": "", "extra": {"k": 1}, "topics": ["x"]},
        {"snippet": "ارتفعت أسعار النفط وبلغ خام برنت 80 دولارًا"},
        {"title": "طقس", "text": "أمطار"},
    ]
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    assert main(["topics", "tag", str(source), "-o", str(target), "--no-progress"]) == 0
    out = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [r["topics"] for r in out] == [["sco-summit"], ["opec-oil"], []]
    assert [{k: v for k, v in r.items() if k != "topics"} for r in out] == [
        {k: v for k, v in r.items() if k != "topics"} for r in records
    ]
    source.write_text('{"title": "x"}\nnot json\n')
    assert main(["topics", "tag", str(source), "-o", str(target), "--no-progress"]) == 2
    assert "in.jsonl, line 2: not JSON" in flat(capsys.readouterr().err)
    assert main(["topics", "tag", str(source), "-o", str(source)]) == 2


def test_topic_mode_any_and_all(home: Path) -> None:
    run(home, "topics", "retag", "--no-progress")
    with Archive(archive_path(home)) as archive:
        archive.upsert(other(16, "قمة شنغهاي والتضخم", "التضخم السنوي يرتفع. قمة شنغهاي."))
        both = ("sco-summit", "economy-inflation")
        assert archive.count(Filters(topics=both)) == 4  # b16 is not tagged yet
        assert archive.count(Filters(topics=both, topic_mode="all")) == 0
    run(home, "topics", "retag", "--no-progress")
    with Archive(archive_path(home)) as archive:
        assert [a.id for a in archive.iter_articles(Filters(topics=both, topic_mode="all"))] == [
            "b16"
        ]
    with pytest.raises(ValueError, match="--topic-mode"):
        Filters(topic_mode="some")


def test_export_topic_writes_dataset_card(home: Path, tmp_path: Path, capsys) -> None:
    run(home, "topics", "retag", "--no-progress")
    target = tmp_path / "sco.jsonl"
    args = ["export", "--format", "jsonl", "-o", str(target), "--topic", "sco-summit"]
    assert run(home, *args, "--no-progress") == 0
    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["id"] for r in rows) == ["seed000", "seed003", "seed004"]
    card = json.loads(Path(f"{target}.card.json").read_text(encoding="utf-8"))
    assert card["rows"] == 3 and card["format"] == "jsonl"
    assert card["filters"]["topics"] == ["sco-summit"] and card["filters"]["dedup"] is False
    assert card["counts"]["by_outlet"] == {"alpha": 2, "beta": 1}
    assert card["counts"]["by_day"] == {"2022-09-15": 2, "2024-07-03": 1}
    assert card["date_range"] == {"first": "2022-09-15", "last": "2024-07-03"}
    assert card["counts"]["by_language"] == {"ar": 3}
    rules = card["topic_rules"]
    assert rules["version"] and rules["topics"][0]["id"] == "sco-summit"
    assert rules["topics"][0]["definition"]["rules"][0]["name"] == "summit-of-the-organisation"
    assert card["arshif_version"] and card["created_at"]
    assert card["dedup_policy"].startswith("none")
    markdown = Path(f"{target}.card.md").read_text(encoding="utf-8")
    assert "# Dataset card: sco.jsonl" in markdown and rules["version"] in markdown
    assert "| alpha | 2 |" in markdown
    assert run(home, *args[:-1], "nope") == 2  # unknown topic: a user error, no file
    assert "unknown topic nope" in flat(capsys.readouterr().err)


def test_stats_topic_per_day_week_and_chart(home: Path, tmp_path: Path, capsys) -> None:
    run(home, "topics", "retag", "--no-progress")
    capsys.readouterr()
    assert run(home, "stats", "--topic", "sco-summit", "--json") == 0
    assert json.loads(capsys.readouterr().out) == {
        "2022-09-15": {"alpha": 2},
        "2024-07-03": {"beta": 1},
    }
    chart = tmp_path / "sco.png"
    assert run(home, "stats", "--topic", "sco-summit", "--by", "week", "--chart", str(chart)) == 0
    out = capsys.readouterr().out
    assert "2022-W37" in out and "2024-W27" in out
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert run(home, "stats", "--chart", str(chart)) == 2
