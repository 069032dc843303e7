"""Extraction quality and cost: Arshif's `extract_article` against bare trafilatura.

Quality on the real outlet pages in ../shared/realpages (text F1 over Arabic-normalised
word tokens, as that folder's `score.py` computes it, and dates) and, page by page, on the
annotated pages of other outlets in its `outlets/` folder (article sentences kept,
boilerplate sentences leaked, title, date, as its `score_snippets.py` matches them); time
per page on those pages and on the bundled sample outlet's articles. Bare trafilatura is
`trafilatura.extract(with_metadata=True)`, the baseline the issue names; both run in this
process, so start-up cost is left out.

    python bench/extraction.py [REALPAGES_DIR]
"""

from __future__ import annotations

import importlib.util
import json
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import trafilatura
from lxml import html as lxml_html

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # `python bench/extraction.py` from anywhere

from analysis.encoding import decode_html  # noqa: E402
from analysis.extract import ExtractionError, extract_article  # noqa: E402
from bench.results import write_section  # noqa: E402
from crawler.sample_server import load_manifest, sample_site_dir  # noqa: E402

REALPAGES = ROOT.parent / "shared" / "realpages"
REPEATS = 5


def _tokens(text: str) -> Counter[str]:
    """Word tokens with harakat and tatweel dropped and alef, taa marbuta and alef maqsura
    folded: the realpages README's "Arabic-normalised word tokens"."""
    text = re.sub(r"[\u064B-\u0652\u0640]", "", text or "")
    text = re.sub("[إأآ]", "ا", text).replace("ة", "ه").replace("ى", "ي")
    return Counter(re.findall(r"\w+", text.lower()))


def text_f1(got: str, gold: str) -> tuple[float, float, float]:
    """Token precision, recall and F1 of `got` against `gold`."""
    g, w = _tokens(got), _tokens(gold)
    overlap = sum((g & w).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    p, r = overlap / sum(g.values()), overlap / sum(w.values())
    return p, r, 2 * p * r / (p + r)


_ARABIC_LETTER = re.compile(r"[\u0621-\u064A]")
# A class or id that names a photo caption: «caption», «uplCaption», «img-cap».
_CAPTION_NAME = re.compile(r"caption|(?:^|[\W_])cap(?:$|[\W_])", re.IGNORECASE)


def missed_words(html: bytes, record: dict[str, Any], gold: str) -> dict[str, int]:
    """Where the reference words that Arshif's text leaves out are on the page, counted
    in this order: the headline (Arshif keeps it in `title`), photo captions (dropped
    with credits as boilerplate, as the sample outlet's manifest has them), reference
    lines without an Arabic letter (on a real page, a rendered player's controls, which
    the fetched HTML does not hold) and `other`. Only `other` can be article text lost,
    so it is the figure a change must not raise."""
    missed = _tokens(gold) - _tokens(record.get("text") or "")
    tree = lxml_html.fromstring(decode_html(html)[0])
    captions = [
        el.text_content()
        for el in tree.iter()
        if isinstance(el.tag, str)
        and (
            el.tag == "figcaption"
            or any(_CAPTION_NAME.search(el.get(a) or "") for a in ("class", "id"))
        )
    ]
    places = {
        "headline": record.get("title") or "",
        "captions": "\n".join(captions),
        "lines without Arabic": "\n".join(
            line for line in gold.splitlines() if not _ARABIC_LETTER.search(line)
        ),
    }
    counts = {}
    for place, text in places.items():
        found = missed & _tokens(text)
        counts[place] = sum(found.values())
        missed -= found
    counts["other"] = sum(missed.values())
    return counts


def visible_text(html: bytes) -> str:
    """All the text a reader of the saved page sees (scripts, styles and templates out),
    headline and captions included."""
    tree = lxml_html.fromstring(decode_html(html)[0])
    for el in tree.xpath("//script|//style|//noscript|//template"):
        el.drop_tree()
    return tree.text_content()


def gold_for(folder: Path, name: str, url: str) -> dict[str, str]:
    """A page's known text (NAME.txt) or known publication date (NAME.json)."""
    if (folder / f"{name}.txt").exists():
        return {
            "kind": "text",
            "text": (folder / f"{name}.txt").read_text(encoding="utf-8"),
            "url": url,
        }
    known = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return {"kind": "date", "date": known["date"], "url": known.get("url") or url}


def ours(html: bytes, url: str) -> dict[str, Any]:
    try:
        return extract_article(html, url)
    except ExtractionError:
        return {}


def bare(html: bytes, url: str) -> dict[str, Any]:
    out = trafilatura.extract(html, url=url, with_metadata=True, output_format="json")
    record = json.loads(out) if out else {}
    return {
        "text": record.get("text") or "",
        "title": record.get("title") or "",
        "published": record.get("date"),
    }


def snippet_scorer(folder: Path) -> ModuleType:
    """The outlet pages' own scorer (`score_snippets.py`), so that matching here is
    exactly the one its README describes."""
    spec = importlib.util.spec_from_file_location("score_snippets", folder / "score_snippets.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def outlet_pages(folder: Path) -> list[tuple[str, bytes, dict[str, Any]]]:
    """(id, page bytes, annotation) of each annotated outlet page."""
    return [
        (ann.stem, (folder / f"{ann.stem}.html").read_bytes(), json.loads(ann.read_text("utf-8")))
        for ann in sorted(folder.glob("*.json"))
    ]


def snippet_score(scorer: ModuleType, record: dict[str, Any], ann: dict[str, Any]) -> dict:
    """Article sentences kept, boilerplate sentences leaked, title and date right, for
    one extraction of one annotated page (None where the page has no such annotation)."""
    text = scorer.norm(record.get("text") or "")
    published = str(record.get("published") or "")[:10]
    return {
        "must": sum(scorer.norm(s) in text for s in ann["must"]),
        "must_n": len(ann["must"]),
        "leaked": sum(scorer.norm(s) in text for s in ann["must_not"]),
        "leak_n": len(ann["must_not"]),
        "title": scorer.title_ok(ann["title"], record.get("title") or "")
        if ann.get("title")
        else None,
        "date": published == ann["published"] if ann.get("published") else None,
    }


def _mark(ok: bool | None) -> str:
    return "–" if ok is None else ("✓" if ok else "✗")


def outlets(folder: Path) -> tuple[list[str], list[tuple[bytes, str]]]:
    """Per-page figures of both extractors on the annotated outlet pages, with each
    page's time (median of REPEATS runs), and their totals."""
    scorer = snippet_scorer(folder)
    rows = [
        "| page | outlet | sentences kept (bare / Arshif) | boilerplate leaked (bare / Arshif)"
        " | title | date | ms/page (bare / Arshif) |",
        "|---|---|---|---|---|---|---|",
    ]
    totals = {who: Counter() for who in ("bare", "ours")}
    pages = []
    for name, html, ann in outlet_pages(folder):
        url = ann.get("url") or ""
        pages.append((html, url))
        scores = {"bare": snippet_score(scorer, bare(html, url), ann)}
        scores["ours"] = snippet_score(scorer, ours(html, url), ann)
        ms = dict(zip(("bare", "ours"), (t * 1000 for t in _time([(html, url)])), strict=True))
        for who, score in scores.items():
            totals[who].update({k: int(v or 0) for k, v in score.items()})
            totals[who].update({"title_n": score["title"] is not None})
            totals[who].update({"date_n": score["date"] is not None})
        b, o = scores["bare"], scores["ours"]
        rows.append(
            f"| {name} | {ann.get('outlet_host', '')} | {b['must']} / {o['must']} of {b['must_n']}"
            f" | {b['leaked']} / {o['leaked']} of {b['leak_n']}"
            f" | {_mark(b['title'])} / {_mark(o['title'])} | {_mark(b['date'])} / {_mark(o['date'])}"
            f" | {ms['bare']:.1f} / {ms['ours']:.1f} |"
        )
    for who, label in (("bare", "bare trafilatura"), ("ours", "Arshif")):
        t = totals[who]
        rows.append(
            f"\n{label}: sentences kept **{t['must']}/{t['must_n']}**"
            f" ({t['must'] / max(1, t['must_n']):.1%}), boilerplate leaked"
            f" **{t['leaked']}/{t['leak_n']}** ({t['leaked'] / max(1, t['leak_n']):.1%}),"
            f" titles **{t['title']}/{t['title_n']}**, dates **{t['date']}/{t['date_n']}**."
        )
    return rows, pages


def _time(pages: list[tuple[bytes, str]]) -> tuple[float, float]:
    """Mean seconds per page of bare trafilatura and of Arshif, each the median over
    REPEATS runs; the two take turns in every run, so that a change in the machine's load
    weighs on both alike."""
    runs: dict[Callable[[bytes, str], Any], list[float]] = {bare: [], ours: []}
    for _ in range(REPEATS):
        for fn, times in runs.items():
            start = time.perf_counter()
            for html, url in pages:
                fn(html, url)
            times.append((time.perf_counter() - start) / len(pages))
    return statistics.median(runs[bare]), statistics.median(runs[ours])


def realpages(folder: Path) -> tuple[list[str], list[tuple[bytes, str]], dict[str, Any]]:
    urls = {}
    for row in (folder / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        cols = row.split("\t")
        urls[cols[0]] = cols[5]
    rows = ["| page | kind | bare trafilatura | Arshif |", "|---|---|---|---|"]
    pages, f1 = [], {"bare": [], "ours": []}
    dates = {"bare": 0, "ours": 0, "n": 0}
    missed: list[str] = []
    best: list[float] = []  # each text page's F1 ceiling for any extractor
    for html_path in sorted(folder.glob("*.html")):
        name = html_path.stem
        gold = gold_for(folder, name, urls.get(name, ""))
        url = gold["url"]
        html = html_path.read_bytes()
        pages.append((html, url))
        results = {"bare": bare(html, url), "ours": ours(html, url)}
        cells = []
        for who in ("bare", "ours"):
            record = results[who]
            if gold["kind"] == "text":
                p, r, f = text_f1(record.get("text") or "", gold["text"])
                f1[who].append(f)
                cells.append(f"F1 {f:.3f} (P {p:.3f}, R {r:.3f})")
            else:
                got = str(record.get("published") or "")[:10]
                ok = got == gold["date"]
                dates[who] += ok
                cells.append(f"{got or 'none'} {'✓' if ok else '✗ (want ' + gold['date'] + ')'}")
        dates["n"] += gold["kind"] == "date"
        if gold["kind"] == "text":
            counts = missed_words(html, results["ours"], gold["text"])
            total = sum(_tokens(gold["text"]).values())
            ceiling = 1 - (sum(counts.values()) - counts["other"]) / total
            where = ", ".join(f"{place} {n}" for place, n in counts.items())
            # Reference words found nowhere in the page's visible text: an extractor that
            # only returns what a reader of the page sees cannot produce them.
            absent = sum((_tokens(gold["text"]) - _tokens(visible_text(html))).values())
            reachable = 1 - absent / total
            best.append(2 * reachable / (1 + reachable))
            missed.append(
                f"- {name}: {sum(counts.values())} of {total} words ({where});"
                f" recall ceiling {ceiling:.3f}. {absent} reference words appear nowhere in"
                f" the page's visible text: no extractor of that text passes F1 {best[-1]:.3f}"
            )
        rows.append(f"| {name} | {gold['kind']} | {cells[0]} | {cells[1]} |")
    summary = {
        "bare_f1": statistics.mean(f1["bare"]),
        "ours_f1": statistics.mean(f1["ours"]),
        "bare_dates": dates["bare"],
        "ours_dates": dates["ours"],
        "dates": dates["n"],
        "missed": missed,
        "best_f1": statistics.mean(best) if best else None,
    }
    return rows, pages, summary


def sample_pages() -> list[tuple[bytes, str]]:
    root = sample_site_dir()
    base = "http://127.0.0.1:8765"
    return [
        ((root / a["path"].lstrip("/")).read_bytes(), base + a["path"])
        for a in load_manifest()["articles"]
    ]


def main(argv: list[str]) -> None:
    folder = Path(argv[0]) if argv else REALPAGES
    outlet_folder = folder / "outlets"
    lines: list[str] = []
    timing = [
        "| pages | bare trafilatura (ms/page) | Arshif (ms/page) | ratio |",
        "|---|---|---|---|",
    ]
    sets: list[tuple[str, list[tuple[bytes, str]]]] = [("sample outlet articles", sample_pages())]
    if (folder / "MANIFEST.tsv").exists():
        rows, pages, s = realpages(folder)
        sets.insert(0, (f"realpages ({len(pages)})", pages))
        lines += [
            f"Real outlet pages from `{folder.name}/` (MANIFEST.tsv there names their sources):"
            " token F1 over Arabic-normalised words, as its `score.py` computes it, and dates.",
            "",
            *rows,
            "",
            f"Mean text F1: bare trafilatura **{s['bare_f1']:.3f}**, Arshif **{s['ours_f1']:.3f}**"
            " (target 0.97). Dates right: bare "
            f"**{s['bare_dates']}/{s['dates']}**, Arshif **{s['ours_dates']}/{s['dates']}**.",
            "",
            "Reference words Arshif's text leaves out, by where they are on the page. The"
            " headline is kept in `title`; photo captions are boilerplate (as the sample"
            " outlet's manifest has them); lines without an Arabic letter are a rendered"
            " player's controls. Only `other` can be article text lost; the recall ceiling"
            " is the share of the reference left once the first three are set aside:",
            "",
            *s["missed"],
            "",
            f"So the mean text F1 that any extractor of a page's visible text can reach here"
            f" is {s['best_f1']:.3f}, and only by returning every other word of the references"
            " (the youm7 headline and captions, which the CNN reference leaves out).",
            "",
        ]
    else:
        lines += [f"{folder} not found: real-page quality not measured.", ""]
    if (outlet_folder / "score_snippets.py").exists():
        rows, pages = outlets(outlet_folder)
        sets.insert(0, (f"other outlets ({len(pages)})", pages))
        lines += [
            f"Annotated pages of other outlets (`{folder.name}/outlets/`), page by page:"
            " hand-picked sentences of the article the text must hold and of boilerplate it"
            " must not, matched as its `score_snippets.py` matches them (targets: ≥ 98% kept,"
            " ≤ 1% leaked, every title and date right, never worse than bare on any page).",
            "",
            *rows,
            "",
        ]
    for label, pages in sets:
        t_bare, t_ours = _time(pages)
        timing.append(
            f"| {label} | {t_bare * 1000:.1f} | {t_ours * 1000:.1f} | {t_ours / t_bare:.2f}× |"
        )
    lines += [
        f"Time per page, in one process, median of {REPEATS} runs (Arshif includes"
        " encoding detection, dates, page type and language; bare is trafilatura's own"
        " text and metadata):",
        "",
        *timing,
        "",
        "Target: at most 1.5× bare trafilatura's time.",
    ]
    body = "\n".join(lines)
    print(body)
    write_section("Extraction quality and time (bench/extraction.py)", body)


if __name__ == "__main__":
    main(sys.argv[1:])
