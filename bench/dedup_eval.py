"""Near-duplicate and story evaluation on a labelled set; picks and checks the thresholds.

The set: every Arabic article of the sample outlet (the five SCO seeds among them) and the
real pages' reference texts in ../shared/realpages, each with the syndication variants of
`VARIANTS` (new headline, dateline, cut ending, «اقرأ أيضاً» block, spelling variants,
tashkeel and tatweel, Arabic-Indic digits, paragraphs reordered, a foreign paragraph
inserted, and all of the first four at once). An original and its variants form one true
cluster; the seeds, four independent write-ups of one event, are the hard negatives.
Pairwise precision and recall of `dup_cluster` at the defaults and over a threshold sweep,
then story grouping of the seeds; then stories on real coverage: the SemEval-2022 Task 8
Arabic dev pairs in ../shared/realdata, through `arshif dedup` with no dates and with every
record given one day, in file order and shuffled (the pairs come as neighbours in the file),
with a sweep of the story threshold. Run: `python bench/dedup_eval.py`.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from arshif.dedup import DedupParams  # noqa: E402
from crawler.sample_server import load_manifest  # noqa: E402
from indexer.dedup_file import dedup_jsonl  # noqa: E402
from indexer.dedup_store import DedupIndex  # noqa: E402

REALPAGES = ROOT.parent / "shared" / "realpages"
PAIRS = ROOT.parent / "shared" / "realdata" / "semeval_pairs_dev.jsonl"
SAME, UNRELATED = 1.5, 3.5  # Overall score at or below: same story; at or above: unrelated
ONE_DAY = "2020-03-25"
ORDERS = (None, 1, 2)  # file order, then two shuffles

# Transliteration pairs that outlets spell both ways (g as غ or ج, and the like).
SPELLINGS = (
    ("شنغهاي", "شنجهاي"),
    ("بينغ", "بينج"),
    ("هونغ كونغ", "هونج كونج"),
    ("منغوليا", "منجوليا"),
    ("قرغيزستان", "قيرجيزستان"),
    ("الإنكليزية", "الإنجليزية"),
    ("أوزبكستان", "أوزباكستان"),
    ("طاجيكستان", "طاجكستان"),
    ("كوفيد", "كوڤيد"),
)
SEEDS = (7, 8, 9)
DATELINE = "موسكو - (أ ف ب) - "
_HARAKAT = "\u064e\u064f\u0650\u0652"


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    paragraphs: tuple[str, ...]
    published: str | None

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def _retitle(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    return replace(doc, title="عاجل | " + doc.title[::-1][:20][::-1])


def _dateline(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    return replace(doc, paragraphs=(DATELINE + doc.paragraphs[0], *doc.paragraphs[1:]))


def _cut(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    keep = max(1, round(len(doc.paragraphs) * 0.65))
    return replace(doc, paragraphs=doc.paragraphs[:keep])


def _read_also(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    headlines = [d.title for d in rng.sample(pool, 4) if d.id != doc.id]
    return replace(doc, paragraphs=(*doc.paragraphs, "اقرأ أيضاً:", *headlines))


def _spelling(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    text = doc.text
    for a, b in SPELLINGS:
        text = text.replace(a, "\0").replace(b, a).replace("\0", b)
    # Texts without those names still get the «ه/ة» and «ي/ى» endings outlets mix.
    text = re.sub(r"ة\b", "ه", text)
    text = re.sub(r"ى\b", "ي", text)
    return replace(doc, paragraphs=tuple(text.split("\n")))


def _tashkeel(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    def mark(word: str) -> str:
        if len(word) < 4 or not re.match(r"^[\u0621-\u064a]+$", word) or rng.random() < 0.6:
            return word
        i = rng.randrange(1, len(word) - 1)
        extra = "\u0640" if rng.random() < 0.3 else rng.choice(_HARAKAT)
        return word[:i] + extra + word[i:]

    return replace(
        doc, paragraphs=tuple(" ".join(mark(w) for w in p.split(" ")) for p in doc.paragraphs)
    )


def _digits(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    table = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    return replace(doc, paragraphs=tuple(p.translate(table) for p in doc.paragraphs))


def _reorder(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    paragraphs = list(doc.paragraphs)
    rng.shuffle(paragraphs)
    return replace(doc, paragraphs=tuple(paragraphs))


def _insert(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    other = rng.choice([d for d in pool if d.id != doc.id])
    middle = len(doc.paragraphs) // 2
    foreign = max(other.paragraphs, key=len)
    return replace(doc, paragraphs=(*doc.paragraphs[:middle], foreign, *doc.paragraphs[middle:]))


def _combined(doc: Doc, rng: random.Random, pool: list[Doc]) -> Doc:
    for make in (_retitle, _dateline, _cut, _read_also):
        doc = make(doc, rng, pool)
    return doc


Variant = Callable[[Doc, random.Random, list[Doc]], Doc]
VARIANTS: dict[str, Variant] = {
    "new_headline": _retitle,
    "dateline": _dateline,
    "ending_cut": _cut,
    "read_also": _read_also,
    "spelling": _spelling,
    "tashkeel_tatweel": _tashkeel,
    "indic_digits": _digits,
    "reordered": _reorder,
    "foreign_paragraph": _insert,
    "combined": _combined,
}


def originals() -> list[Doc]:
    """The sample outlet's Arabic articles (seeds included) and the real pages' texts."""
    docs = [
        Doc(a["path"], a["title"], tuple(a["body"]), a["published"])
        for a in load_manifest()["articles"]
        if a["language"] == "ar" and a["body"]
    ]
    for path in sorted(REALPAGES.glob("*.txt")):
        lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
        docs.append(Doc(path.stem, lines[0][:80], tuple(lines), None))
    return docs


def labelled_set(seed: int = 7) -> list[tuple[str, Doc]]:
    """(true cluster, document) for every original and every variant of it, shuffled."""
    rng = random.Random(seed)
    base = originals()
    rows = [(d.id, d) for d in base]
    for d in base:
        for kind, make in VARIANTS.items():
            rows.append((d.id, replace(make(d, rng, base), id=f"{d.id}#{kind}")))
    rng.shuffle(rows)
    return rows


def pairwise(rows: list[tuple[str, Doc]], params: DedupParams) -> tuple[float, float]:
    """Pairwise precision and recall of the index's dup_cluster against the truth."""
    index = DedupIndex.in_memory(params)
    predicted = {
        doc.id: index.add(doc.id, doc.title, doc.text, doc.published).dup_cluster for _, doc in rows
    }
    tp = fp = fn = 0
    for (ta, a), (tb, b) in itertools.combinations(rows, 2):
        same, said = ta == tb, predicted[a.id] == predicted[b.id]
        tp += same and said
        fp += said and not same
        fn += same and not said
    return tp / ((tp + fp) or 1), tp / ((tp + fn) or 1)


def per_kind(rows: list[tuple[str, Doc]], params: DedupParams) -> dict[str, float]:
    """Share of each variant kind placed in its original's cluster (originals added first)."""
    index = DedupIndex.in_memory(params)
    for truth, doc in rows:
        if doc.id == truth:
            index.add(doc.id, doc.title, doc.text, doc.published)
    found: dict[str, list[bool]] = {}
    for truth, doc in rows:
        if doc.id != truth:
            cluster = index.add(doc.id, doc.title, doc.text, doc.published).dup_cluster
            found.setdefault(doc.id.split("#")[1], []).append(cluster == truth)
    return {kind: sum(v) / len(v) for kind, v in found.items()}


def seed_stories(params: DedupParams, *, dated: bool = True) -> dict[str, str]:
    """Story id of each seed, with the other sample articles dated into the same week (or
    every article undated)."""
    index = DedupIndex.in_memory(params)
    stories = {}
    for doc in originals():
        seed = doc.id.startswith("/news/2022/") or "astana" in doc.id
        published = (doc.published if seed else "2022-09-14") if dated else None
        stories[doc.id] = index.add(doc.id, doc.title, doc.text, published).story_id
    return stories


@dataclass(frozen=True)
class PairScore:
    """Story decisions on labelled pairs of real articles."""

    grouped: int  # same-story pairs sharing a story_id
    same: int
    apart: int  # unrelated pairs not sharing one
    unrelated: int
    copies: int  # unrelated pairs placed as near-duplicates of each other
    halves: tuple[tuple[int, int, int, int], ...] = ()  # (grouped, same, apart, unrelated)

    def __str__(self) -> str:
        return (
            f"{self.grouped}/{self.same} ({self.grouped / self.same:.2f}) | "
            f"{self.apart}/{self.unrelated} ({self.apart / self.unrelated:.2f}) | {self.copies}"
        )


def pair_records(path: Path, day: str | None) -> tuple[list[dict], list[dict]]:
    """(records for `arshif dedup`, one per article; the pairs), every record dated `day`
    when given, else with no `published` at all."""
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    records: dict[str, dict] = {}
    for pair in pairs:
        for n, article in zip("12", pair["pair_id"].split("_"), strict=True):
            record = {"id": article, "title": pair[f"title{n}"], "text": pair[f"text{n}"]}
            records[article] = {**record, "url": pair[f"url{n}"]} | (
                {"published": day} if day else {}
            )
    return list(records.values()), pairs


def pair_stories(
    params: DedupParams, path: Path = PAIRS, day: str | None = None, order: int | None = None
) -> PairScore:
    """Run the pairs' articles through `dedup_jsonl` (in file order, or shuffled with the
    seed `order`) and count the pairs it grouped and kept apart."""
    records, pairs = pair_records(path, day)
    if order is not None:
        random.Random(order).shuffle(records)
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        source.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
        dedup_jsonl(source, target, params=params)
        placed = {r["id"]: r for r in map(json.loads, target.read_text("utf-8").splitlines())}
    grouped = same = apart = unrelated = copies = 0
    halves = [[0, 0, 0, 0], [0, 0, 0, 0]]  # the pairs at even and at odd lines of the file
    for n, pair in enumerate(pairs):
        a, b = (placed[i] for i in pair["pair_id"].split("_"))
        overall = float(pair["labels"]["Overall"])
        half = halves[n % 2]
        if overall <= SAME:
            same += 1
            grouped += a["story_id"] == b["story_id"]
            half[0] += a["story_id"] == b["story_id"]
            half[1] += 1
        elif overall >= UNRELATED:
            unrelated += 1
            apart += a["story_id"] != b["story_id"]
            copies += a["dup_cluster"] == b["dup_cluster"]
            half[2] += a["story_id"] != b["story_id"]
            half[3] += 1
    return PairScore(grouped, same, apart, unrelated, copies, tuple(map(tuple, halves)))


def real_coverage(defaults: DedupParams) -> list[str]:
    """The dev pairs at the defaults (both date modes, three orders) and a sweep."""
    if not PAIRS.exists():
        return ["", f"Real coverage: {PAIRS} not found; skipped."]
    modes = (("no dates", None), ("one day", ONE_DAY))
    lines = [
        "",
        "Stories on real coverage: the SemEval-2022 Task 8 Arabic dev pairs "
        "(`../shared/realdata/semeval_pairs_dev.jsonl`; same story: Overall ≤ 1.5, "
        "unrelated: Overall ≥ 3.5), each article one record through `arshif dedup`; "
        "*no dates*: records without `published` (the URL's date where it has one, else text "
        f"alone), *one day*: every record published {ONE_DAY}. The pairs sit side by side in "
        "the file, so each run is also made in two shuffled orders. Targets: same-story "
        "grouped ≥ 0.90, unrelated kept apart ≥ 0.95, no unrelated pair merged as copies. "
        "Before the title overlap and centroids (plain cosine 0.2 with the best single "
        "article, dates a gate): no dates 1/33 and 60/60, one day 30/33 and 49/60. Before "
        "plain term counts (1 + log(count), title weight 0.7, bar 0.5), file order: no "
        "dates 28/33 and 57/60, one day 29/33 and 56/60.",
        "",
        "| dates | order | same-story grouped | unrelated kept apart | unrelated as copies |",
        "|---|---|---|---|---|",
    ]
    for (mode, day), order in itertools.product(modes, ORDERS):
        shown = "file" if order is None else f"shuffled ({order})"
        lines.append(f"| {mode} | {shown} | {pair_stories(defaults, day=day, order=order)} |")
    lines += [
        "",
        "Sweep of the story threshold (`story`, the bar for the same day; undated sides add "
        f"`story_undated` = {defaults.story_undated}: with 0.03, the no-dates columns are "
        "those of the row 0.03 higher), file order, over all pairs and over "
        "each half of them (A: the pairs on even lines of the file, B: on odd lines; a "
        "threshold picked on one half is checked on the other):",
        "",
        "| story | no dates: grouped | apart | one day: grouped | apart | half A (no dates; "
        "one day) | half B (no dates; one day) |",
        "|---|---|---|---|---|---|---|",
    ]
    for bar in (0.5, 0.55, 0.6, 0.625, 0.65, 0.675, 0.7, 0.75):
        params = replace(defaults, story=bar)
        undated, dated = (pair_stories(params, day=day) for _, day in modes)
        halves = [
            "; ".join(f"{g}/{s} {a}/{u}" for g, s, a, u in (undated.halves[h], dated.halves[h]))
            for h in (0, 1)
        ]
        mark = " **(default)**" if bar == defaults.story else ""
        lines.append(
            f"| {bar}{mark} | {undated.grouped}/{undated.same} | "
            f"{undated.apart}/{undated.unrelated} | {dated.grouped}/{dated.same} | "
            f"{dated.apart}/{dated.unrelated} | {halves[0]} | {halves[1]} |"
        )
    return lines


def main() -> None:
    defaults = DedupParams()
    rows = labelled_set()
    runs = [pairwise(labelled_set(seed), defaults) for seed in SEEDS]
    precision = min(p for p, _ in runs)
    recall = min(r for _, r in runs)
    lines = [
        f"Labelled set: {len(originals())} original Arabic articles (5 SCO seeds, the sample "
        f"outlet's other Arabic articles, 2 real pages) + {len(VARIANTS)} variants of each = "
        f"{len(rows)} documents, {len(rows) * (len(rows) - 1) // 2:,} pairs; built and "
        f"shuffled with {len(SEEDS)} random seeds.",
        "",
        f"**Defaults** (`{defaults.to_json()}`): near-duplicate pairwise precision "
        f"**{precision:.3f}**, recall **{recall:.3f}** (worst of the {len(SEEDS)} sets; each: "
        + ", ".join(f"{p:.3f}/{r:.3f}" for p, r in runs)
        + "; targets 0.98 / 0.95).",
        "",
        "| variant kind | found in the original's cluster |",
        "|---|---|",
        *(f"| {k} | {v:.0%} |" for k, v in per_kind(rows, defaults).items()),
        "",
        "Threshold sweep on the first set (Jaccard `near_dup` × `containment`):",
        "",
        "| near_dup | containment | precision | recall |",
        "|---|---|---|---|",
    ]
    for near, cont in itertools.product((0.3, 0.45, 0.6, 0.8), (0.6, 0.8, 1.0)):
        # containment 1.0: only an exact subset passes, i.e. containment nearly off
        p, r = pairwise(rows, replace(defaults, near_dup=near, containment=cont))
        lines.append(f"| {near} | {cont} | {p:.3f} | {r:.3f} |")
    for dated in (True, False):
        stories = seed_stories(defaults, dated=dated)
        samarkand = {s for d, s in stories.items() if d.startswith("/news/2022/")}
        astana = next(s for d, s in stories.items() if "astana" in d)
        others = {
            s for d, s in stories.items() if not d.startswith(("/news/2022/", "/news/2024/07"))
        }
        lines += [
            "",
            ("Stories, dated" if dated else "Stories, every article undated")
            + f": the four 2022 Samarkand seeds share one story: **{len(samarkand) == 1}**; "
            f"the 2024 Astana seed has its own: **{astana not in samarkand}**; other articles "
            f"{'dated into the Samarkand week ' if dated else ''}stay out of it: "
            f"**{not others & samarkand}**.",
        ]
    lines += real_coverage(defaults)
    body = "\n".join(lines)
    print(body)
    if "--no-write" not in sys.argv:
        from bench.results import write_section

        write_section("Near-duplicates and stories (bench/dedup_eval.py)", body)


if __name__ == "__main__":
    main()
