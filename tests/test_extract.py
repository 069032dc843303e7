"""Extraction of whole pages: the seeds in noisy news templates, the bundled sample site,
failures, and the properties the pipeline relies on (pickling, no Scrapy)."""

from __future__ import annotations

import json
import multiprocessing
import pickle
import random
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from html import escape
from pathlib import Path
from types import SimpleNamespace

import pytest
from trafilatura.settings import Extractor

from analysis import extract as extract_module
from analysis.extract import ExtractionError, ExtractOptions, extract_article
from arshif.arabic import tokens
from arshif.record import FIELDS

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
MANIFEST = ROOT / "crawler" / "sample_site" / "manifest.json"

# Unrelated headlines and widget text of our own making, as outlets surround articles with.
RELATED = [
    "منتخب مصر يفوز على غانا في تصفيات كأس العالم",
    "ارتفاع أسعار الذهب في الأسواق المحلية مع بداية التعاملات",
    "طقس الغد: أمطار خفيفة على السواحل الشمالية وانخفاض الحرارة",
    "افتتاح معرض الكتاب الدولي بمشاركة خمسين دار نشر",
]
WIDGETS = [
    "اشترك في النشرة البريدية",
    "أدخل بريدك الإلكتروني",
    "تابعنا على فيسبوك وتويتر",
    "جميع الحقوق محفوظة",
    "التعليقات",
    "تعليق رائع جدا من قارئ متابع للموقع منذ سنوات",
    "الوسوم",
    "الصفحة الرئيسية",
    "Getty Images",
    "© وكالة الأنباء",
    "شارك الخبر",
    "الأكثر قراءة",
    "منذ 3 ساعات",
]

# Lines the seed files carry that a reader does not want (see DESIGN.md, "Seeds").
SEED_JUNK = {
    "000": ["اقرأ أيضًا: رئيس الصين يصل كازاخستان في أول زيارة للخارج منذ جائحة كورونا"],
    "001": ["بكين- 4 فبراير 2022 - REUTERS", "اقرأ أيضاً:", "تصنيفات"],
    "003": ["السيتي يحول تاخر بهدف ويفوز على بوروسيا دورتموند"],
    "004": ["11:49 GMT 03.07.2024", "© Sputnik", "/ تابعنا عبر"],
}
SEED_DATES = {"000": "2022-09-15", "001": "2022-09-07", "002": "2022-09-15", "003": "2022-09-15"}
SEED_DATES["004"] = "2024-07-03"


def _seed_lines(path: Path) -> tuple[str, list[str]]:
    """(title, body lines) of a seed; seed 002 has no title line, so it gets one."""
    lines = [" ".join(line.split()) for line in path.read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    if path.name.startswith("002"):
        return "بوتين وشي جين بينغ يلتقيان في سمرقند", lines
    return lines[0], lines[1:]


def _is_junk(key: str, line: str) -> bool:
    if key == "003" and (line.startswith("- ") or line == "اقرأ أيضاً"):
        return True
    return any(junk in line for junk in SEED_JUNK.get(key, ()))


def _body_html(lines: list[str]) -> str:
    """Seed lines as an outlet's body markup: paragraphs, and `- ` items as a list."""
    out: list[str] = []
    items: list[str] = []
    for line in lines:
        if line.startswith("- "):
            items.append(f'<li><a href="/news/{len(items)}">{escape(line[2:])}</a></li>')
            continue
        if items:
            out.append("<ul>" + "".join(items) + "</ul>")
            items = []
        out.append(f"<p>{escape(line)}</p>")
    if items:
        out.append("<ul>" + "".join(items) + "</ul>")
    return "\n".join(out)


def modern_page(title: str, lines: list[str], published: str, *, article_body: bool) -> str:
    """A present-day template: semantic tags, JSON-LD, widgets with telling class names."""
    related = "".join(f'<li><a href="/r/{i}">{escape(h)}</a></li>' for i, h in enumerate(RELATED))
    mid = len(lines) // 2
    body = (
        _body_html(lines[:mid])
        + f'<p><strong>اقرأ أيضاً:</strong> <a href="/r/9">{escape(RELATED[0])}</a></p>'
        + _body_html(lines[mid:])
    )
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "Organization", "name": "شبكة الأخبار"},
            {
                "@type": "NewsArticle",
                "headline": title,
                "datePublished": f"{published}T10:30:00+03:00",
                "dateModified": f"{published}T12:00:00+03:00",
                "author": [{"@type": "Person", "name": "سارة محمود"}],
                "image": {"@type": "ImageObject", "url": "/img/main.jpg"},
                "articleSection": "عربي ودولي",
                "keywords": "روسيا, الصين, شنغهاي",
                **({"articleBody": "\n".join(lines)} if article_body else {}),
            },
        ],
    }
    return f"""<!DOCTYPE html>
<html lang="ar" dir="rtl"><head><meta charset="utf-8">
<title>{escape(title)} | شبكة الأخبار</title>
<meta property="og:title" content="{escape(title)}">
<meta property="og:site_name" content="شبكة الأخبار">
<meta name="description" content="{escape(lines[0][:150])}">
<link rel="canonical" href="/news/{published}/summit-42.html">
<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>
</head><body>
<header class="site-header"><div class="today">الأحد 23 نوفمبر 2025</div>
<a class="logo" href="/"><h1>شبكة الأخبار</h1></a>
<nav><ul><li><a href="/">الصفحة الرئيسية</a></li><li><a href="/world">عربي ودولي</a></li>
<li><a href="/sport">رياضة</a></li><li><a href="/eco">اقتصاد</a></li></ul></nav></header>
<div class="breadcrumb"><a href="/">الرئيسية</a> / <a href="/world">عربي ودولي</a></div>
<main><article>
<h1 class="article-title">{escape(title)}</h1>
<div class="byline">كتب: سارة محمود</div>
<time datetime="{published}T10:30:00+03:00">{published}</time>
<div class="share-bar"><span>شارك الخبر</span> <a href="#">فيسبوك</a> <a href="#">تويتر</a>
<a href="#">واتساب</a></div>
<figure><img src="/img/main.jpg" alt=""><figcaption>صورة أرشيفية للقاء - Getty Images</figcaption></figure>
<div class="article-body">{body}</div>
<div class="post-tags"><span>الوسوم:</span> <a href="/t/1">روسيا</a> <a href="/t/2">الصين</a></div>
</article>
<aside class="related-news"><h3>اقرأ أيضاً</h3><ul>{related}</ul></aside>
<div class="newsletter-box"><h4>اشترك في النشرة البريدية</h4><form><input placeholder="أدخل بريدك الإلكتروني">
<button>اشترك</button></form></div>
<section id="comments"><h3>التعليقات (2)</h3>
<div class="comment"><p>تعليق رائع جدا من قارئ متابع للموقع منذ سنوات طويلة، شكرا لكم على التغطية.</p></div>
<div class="comment"><p>نتمنى أن تنجح القمة في تحقيق أهدافها المعلنة لصالح شعوب المنطقة كلها.</p></div></section>
</main>
<div class="most-read"><h3>الأكثر قراءة</h3><ol>{related}</ol></div>
<footer><p>تابعنا على فيسبوك وتويتر</p><p>جميع الحقوق محفوظة © 2025 شبكة الأخبار</p></footer>
</body></html>"""


def legacy_page(title: str, lines: list[str], published: str) -> str:
    """An older template: tables, no JSON-LD, no telling class names, the date as visible
    Arabic text next to a Hijri one, prompts and credits only in the text."""
    day = datetime.fromisoformat(published)
    months = "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر".split()
    visible = f"الخميس {day.day} {months[day.month - 1]} {day.year} - 03:30 م"
    headlines = "".join(
        f'<tr><td><a href="/r/{i}">{escape(h)}</a></td></tr>' for i, h in enumerate(RELATED)
    )
    return f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">
<title>{escape(title)}</title><meta name="keywords" content="روسيا، الصين، قمة">
</head><body><table width="100%"><tr><td class="top">الأحد 23 نوفمبر 2025 | الصفحة الرئيسية | أخبار | رياضة | فن</td></tr>
<tr><td><table><tr><td class="k1"><font size="5"><b>{escape(title)}</b></font></td></tr>
<tr><td class="k2"><font size="2">{visible}</font><br><font size="2">19 صفر 1444 هـ</font></td></tr>
<tr><td class="k3"><img src="/pic.jpg"><br><font size="1">تصوير: أحمد علي</font></td></tr>
<tr><td class="k4">{_body_html(lines)}
<p>شارك الخبر: فيسبوك تويتر واتساب</p></td></tr>
<tr><td><b>اقرأ أيضا:</b></td></tr>{headlines}
<tr><td><p>تابعونا على تويتر وفيسبوك ويوتيوب</p><p>© وكالة الأنباء 2025 - جميع الحقوق محفوظة</p></td></tr>
</table></td></tr></table></body></html>"""


def _score(text: str, expected: list[str]) -> tuple[float, float]:
    """Token recall and precision of `text` against the `expected` paragraphs."""
    got = Counter(tokens(text))
    want = Counter(tokens(" ".join(expected)))
    common = sum((got & want).values())
    return common / sum(want.values()), common / max(1, sum(got.values()))


SEED_FILES = sorted(SEEDS.glob("*.txt")) if SEEDS.is_dir() else []
needs_seeds = pytest.mark.skipif(not SEED_FILES, reason="seed articles not found next to the repo")


@needs_seeds
@pytest.mark.parametrize("template", ["modern", "modern+articleBody", "legacy-1256"])
@pytest.mark.parametrize("seed", SEED_FILES, ids=lambda p: p.name[:3])
def test_seed_in_noisy_template(seed: Path, template: str) -> None:
    key = seed.name[:3]
    title, lines = _seed_lines(seed)
    published = SEED_DATES[key]
    if template == "legacy-1256":
        page: bytes | str = legacy_page(title, lines, published).encode("cp1256", "replace")
    else:
        page = modern_page(title, lines, published, article_body=template.endswith("articleBody"))
        page = page.encode("utf-8")
    url = f"https://news.example/world/{published.replace('-', '/')}/summit-42.html"
    record = extract_article(page, url)

    expected = [line for line in lines if not _is_junk(key, line)]
    expected = [line for i, line in enumerate(expected) if not i or line != expected[i - 1]]
    recall, precision = _score(record["text"], expected)
    assert recall >= 0.97, (recall, record["text"])
    assert precision >= 0.95, (precision, record["text"])
    for line in [*RELATED, *WIDGETS, *(SEED_JUNK.get(key, ()))]:
        assert line not in record["text"]
    if key == "003":  # the unrelated headlines under «اقرأ أيضاً»
        assert "بوروسيا دورتموند" not in record["text"]
        assert "سكودا الكهربائية" not in record["text"]
    if key == "004":  # the photo credit and the timestamp line
        assert "Sergey Guneev" not in record["text"]
        assert "GMT" not in record["text"]
    assert record["title"] == title
    assert record["published"][:10] == published
    assert record["language"] == "ar"
    assert set(record) == {
        "title", "text", "lead", "authors", "published", "modified", "image", "canonical_url",
        "section", "tags", "page_type", "language", "language_prob", "encoding",
    }  # fmt: skip
    assert set(record) <= set(FIELDS)
    if template == "legacy-1256":
        assert "صفر 1444" not in record["text"]  # the Hijri date line is a timestamp too
        assert record["encoding"] == "windows-1256"
        assert record["published"] == f"{published}T15:30:00"
        assert record["canonical_url"] == url
        assert record["tags"] == ["روسيا", "الصين", "قمة"]
    else:
        assert record["encoding"] == "utf-8"
        assert record["published"] == f"{published}T10:30:00+03:00"
        assert record["modified"] == f"{published}T12:00:00+03:00"
        assert record["authors"] == ["سارة محمود"]
        assert record["image"] == "https://news.example/img/main.jpg"
        assert record["canonical_url"] == f"https://news.example/news/{published}/summit-42.html"
        assert record["section"] == "عربي ودولي"
        assert record["tags"] == ["روسيا", "الصين", "شنغهاي"]


ARTICLE_LINES = [
    "التقى الرئيس الروسي فلاديمير بوتين اليوم نظيره الصيني في سمرقند على هامش القمة السنوية.",
    "وبحث الرئيسان سبل تعزيز التعاون الاقتصادي والتجاري بين البلدين خلال العام المقبل.",
    "وأكد الجانبان أهمية العمل المشترك في إطار المنظمة لمواجهة التحديات الأمنية في المنطقة.",
]


def test_layout_table_cell_with_br_paragraphs() -> None:
    """Old table layouts put the whole article in one cell, paragraphs split by <br>."""
    paragraphs = [*ARTICLE_LINES, "اقرأ أيضا: " + RELATED[1], "تصوير: محمد أحمد"]
    cell = "<br><br>".join(escape(p) for p in paragraphs)
    page = (
        "<html><head><title>بوتين يلتقي شي</title></head><body><table>"
        "<tr><td>الرئيسية | أخبار | رياضة | فن</td></tr>"
        f"<tr><td><b>بوتين يلتقي شي</b><br>{cell}</td></tr></table></body></html>"
    )
    record = extract_article(page.encode("cp1256"), "http://news.example/2022/9/15/a")
    assert record["text"].split("\n\n") == ARTICLE_LINES
    assert record["title"] == "بوتين يلتقي شي"
    assert record["published"] == "2022-09-15"


ARTICLE = [
    "شارك الرئيس في القمة التي عقدت في العاصمة بحضور قادة الدول الأعضاء في المنظمة.",
    "وقال المتحدث باسم الوزارة إن المباحثات تناولت التعاون الاقتصادي والأمني بين البلدين.",
    "وتابع الوزير على هامش الاجتماع لقاءاته مع نظرائه من الدول المشاركة في القمة.",
    "وأضاف أن البلدين اتفقا على زيادة حجم التبادل التجاري خلال السنوات الخمس المقبلة.",
]


def test_sentences_with_trigger_words_survive() -> None:
    page = modern_page("عنوان الخبر عن القمة", ARTICLE, "2022-09-15", article_body=False)
    text = extract_article(page, "https://news.example/a")["text"]
    for sentence in ARTICLE:
        assert sentence in text


def _manifest() -> list[dict]:
    if not MANIFEST.is_file():
        return []
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["articles"]


@pytest.mark.skipif(not MANIFEST.is_file(), reason="sample site manifest not built yet")
@pytest.mark.parametrize("entry", _manifest(), ids=lambda e: e["path"])
def test_sample_site_article(entry: dict) -> None:
    base = "http://127.0.0.1:8000"  # as the sample server fills in __BASE_URL__
    page = (MANIFEST.parent / entry["path"].lstrip("/")).read_bytes()
    page = page.replace(b"__BASE_URL__", base.encode())
    url = base + entry["path"]
    if entry["skip_reason"]:
        with pytest.raises(ExtractionError) as info:
            extract_article(page, url)
        assert info.value.reason == entry["skip_reason"]
        return
    record = extract_article(page, url)
    assert record["page_type"] == entry["page_type"]
    body = entry["body"]  # a caption printed twice is kept once, by design
    body = [p for i, p in enumerate(body) if not i or p != body[i - 1]]
    recall, precision = _score(record["text"], body)
    assert recall >= 0.97, recall
    assert precision >= 0.95, precision
    for junk in entry.get("boilerplate", []):
        assert junk not in record["text"]
    assert record["title"] == entry["title"]
    expected = entry["published"]
    if "T" in expected:
        assert datetime.fromisoformat(record["published"]) == datetime.fromisoformat(expected)
    else:
        assert record["published"][:10] == expected
    assert record["language"] == entry["language"]


def _minimal(body: str, head: str = "") -> str:
    return f"<html><head>{head}<title>عنوان</title></head><body><h1>عنوان</h1>{body}</body></html>"


LONG = "<p>" + " ".join(ARTICLE) + "</p><p>" + " ".join(reversed(ARTICLE)) + "</p>"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty page"),
        (b"   \n\t ", "empty page"),
        (b"%PDF-1.7\n\x00\x01\x02binary", "page is not HTML"),
        (b'{"items": [1, 2, 3], "next": null}', "page is not HTML"),
        (b"just some plain text, no markup at all", "page is not HTML"),
        (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
            "page is not HTML",
        ),
        (_minimal("<nav><a href='/'>الرئيسية</a></nav>").encode(), "no article text found"),
    ],
)
def test_pages_without_an_article(body: bytes, reason: str) -> None:
    with pytest.raises(ExtractionError) as info:
        extract_article(body, "https://news.example/x")
    assert info.value.reason == reason


def test_page_too_large() -> None:
    page = _minimal(LONG).encode() + b" " * (2 * 1024 * 1024)
    with pytest.raises(ExtractionError) as info:
        extract_article(
            page, "https://news.example/x", options=ExtractOptions(max_bytes=1024 * 1024)
        )
    assert info.value.reason == "page too large (2.0 MB > 1 MB)"


def test_min_text_chars_is_an_option() -> None:
    page = _minimal(LONG)
    assert extract_article(page, "https://news.example/x")["text"]
    with pytest.raises(ExtractionError, match="no article text found"):
        extract_article(page, "https://news.example/x", options=ExtractOptions(min_text_chars=5000))


def test_library_failure_becomes_extraction_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(extract_module, "bare_extraction", broken)
    with pytest.raises(ExtractionError) as info:
        extract_article(_minimal(LONG), "https://news.example/x")
    assert info.value.reason == "extraction failed (RuntimeError: boom)"


def _fake_modes(monkeypatch: pytest.MonkeyPatch, precise: list[str], broad: list[str]) -> None:
    """Trafilatura's two modes replaced by fixed outputs, to test how they are reconciled."""

    def fake(tree: object, options: Extractor) -> SimpleNamespace:
        lines = precise if options.focus == "precision" else broad
        return SimpleNamespace(text="\n".join(lines))

    monkeypatch.setattr(extract_module, "bare_extraction", fake)


A, B, C = ARTICLE_LINES
JUNK_TOP = "منتخب مصر يفوز على غانا في مباراة ودية أقيمت على ملعب القاهرة الدولي مساء الأحد."
JUNK_END = "افتتاح معرض الكتاب الدولي بمشاركة خمسين دار نشر من مختلف الدول العربية والأجنبية."


def test_recall_lines_between_agreed_lines_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_modes(monkeypatch, [A, C], [JUNK_TOP, A, B, C, JUNK_END])
    page = _minimal("".join(f"<p>{line}</p>" for line in (JUNK_TOP, A, B, C, JUNK_END)))
    assert extract_article(page, "https://news.example/x")["text"].split("\n\n") == [A, B, C]


def test_article_body_decides_which_recall_lines_are_article(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _fake_modes(monkeypatch, [A, C], [A, JUNK_TOP, B, C])
    ld = json.dumps(
        {"@type": "NewsArticle", "articleBody": " ".join([A, B, C])}, ensure_ascii=False
    )
    head = f'<script type="application/ld+json">{ld}</script>'
    page = _minimal("".join(f"<p>{line}</p>" for line in (A, JUNK_TOP, B, C)), head)
    assert extract_article(page, "https://news.example/x")["text"].split("\n\n") == [A, B, C]


def test_drop_selectors_remove_outlet_widgets() -> None:
    promo = '<div class="box-7"><p>' + "، ".join(RELATED) + ".</p></div>"
    page = _minimal(LONG.replace("</p><p>", "</p>" + promo + "<p>"))
    url = "https://news.example/x"
    assert RELATED[1] in extract_article(page, url)["text"]
    options = ExtractOptions(drop_selectors=(".box-7",))
    assert RELATED[1] not in extract_article(page, url, options=options)["text"]
    with pytest.raises(ExtractionError, match="invalid drop selector"):
        extract_article(page, url, options=ExtractOptions(drop_selectors=("div[",)))


@pytest.mark.parametrize(
    ("head", "canonical"),
    [
        ('<link rel="canonical" href="/news/1">', "https://news.example/news/1"),
        ('<meta property="og:url" content="https://news.example/og">', "https://news.example/og"),
        ("", "https://news.example/page?id=3"),
    ],
)
def test_canonical_url(head: str, canonical: str) -> None:
    record = extract_article(_minimal(LONG, head), "https://news.example/page?id=3")
    assert record["canonical_url"] == canonical


def test_header_encoding_is_used_and_checked() -> None:
    page = _minimal(LONG).encode("cp1256")
    record = extract_article(
        page, "https://news.example/x", header_encoding="text/html; charset=windows-1256"
    )
    assert record["encoding"] == "windows-1256"
    assert ARTICLE[1] in record["text"]
    wrong = extract_article(page, "https://news.example/x", header_encoding="utf-8")
    assert wrong["text"] == record["text"]


@pytest.mark.parametrize(
    "head",
    [
        "<title>أخبار العينة - عنوان الخبر الحقيقي عن القمة</title>",
        "<title>عنوان الخبر الحقيقي عن القمة | أخبار العينة</title>",
        '<meta property="og:title" content="عنوان الخبر الحقيقي عن القمة"><title>x</title>',
    ],
)
def test_title_is_the_headline_not_the_logo(head: str) -> None:
    body = "<h1>أخبار العينة</h1><h1>عنوان الخبر الحقيقي عن القمة</h1>" + LONG
    page = f"<html><head>{head}</head><body>{body}</body></html>"
    assert (
        extract_article(page, "https://news.example/x")["title"] == "عنوان الخبر الحقيقي عن القمة"
    )


def test_str_input_has_no_encoding() -> None:
    record = extract_article(_minimal(LONG), "https://news.example/x")
    assert record["encoding"] is None
    assert record["page_type"] == "article"


def test_error_and_options_pickle() -> None:
    error = pickle.loads(pickle.dumps(ExtractionError("empty page")))
    assert error.reason == "empty page"
    options = pickle.loads(pickle.dumps(ExtractOptions(drop_selectors=(".ad",))))
    assert options.drop_selectors == (".ad",)


def test_runs_in_a_spawned_worker_process() -> None:
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        record = pool.submit(
            extract_article, _minimal(LONG).encode(), "https://news.example/x"
        ).result()
        with pytest.raises(ExtractionError):
            pool.submit(extract_article, b"", "https://news.example/x").result()
    assert ARTICLE[0] in record["text"]


def test_page_analysis_does_not_import_scrapy() -> None:
    """Import, the crawl and reextract share the analysis package; it must stay free of Scrapy."""
    modules = sorted(p.stem for p in (ROOT / "analysis").glob("*.py") if p.stem != "__init__")
    assert "page_work" in modules and "extract" in modules
    code = (
        f"import sys; from analysis import {', '.join(modules)}; "
        "print(any(m.split('.')[0] in ('scrapy', 'twisted') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("byline", "authors"),
    [
        ('<span class="writeBy">كتب أحمد عبد الرحمن</span>', ["أحمد عبد الرحمن"]),
        ("<div>كتبت: هدى الرفاعي - القاهرة</div>", ["هدى الرفاعي"]),
        ("<p><b>بقلم</b> سامي خليل</p>", ["سامي خليل"]),
        (
            '<div class="meta"><span>كتب: <a href="/u/1">ليلى حداد</a></span> منذ ساعتين</div>',
            ["ليلى حداد"],
        ),
        # A sentence of the article that opens with «كتب» is not a byline.
        ("<p>كتب الرئيس على حسابه في منصة إكس أن القمة المقبلة ستعقد في موعدها المحدد</p>", []),
    ],
)
def test_visible_byline_gives_the_authors(byline: str, authors: list[str]) -> None:
    """Many outlets print the author as a plain line, with no markup that names it."""
    page = _minimal(byline + LONG)
    assert extract_article(page.encode(), "https://news.example/a.html")["authors"] == authors


def _record_modes(monkeypatch: pytest.MonkeyPatch) -> list[Extractor]:
    """The trafilatura modes each extraction runs, in order (the real ones still run)."""
    used: list[Extractor] = []
    real = extract_module.bare_extraction

    def recording(tree: object, options: Extractor) -> object:
        used.append(options)
        return real(tree, options=options)

    monkeypatch.setattr(extract_module, "bare_extraction", recording)
    return used


def test_fallback_extractors_run_only_when_the_fast_result_is_in_doubt(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Trafilatura's fallback extractors cost a fifth of a page's time. A clean article is
    extracted without them; the gallery, whose short captions the fast precision mode
    drops, is extracted again with them (and its captions are kept)."""
    used = _record_modes(monkeypatch)
    entries = _manifest()
    article = next(e for e in entries if e["seed"] and e["page_type"] == "article")
    gallery = next(e for e in entries if e["page_type"] == "gallery")
    for entry in (article, gallery):
        used.clear()
        page = (MANIFEST.parent / entry["path"].lstrip("/")).read_bytes()
        text = extract_article(page, "https://news.example" + entry["path"])["text"]
        assert all(line in text for line in entry["body"])
        fast = entry is article
        assert used[0] is extract_module._PRECISION_FAST
        assert (extract_module._PRECISION in used) is not fast, entry["path"]


def test_a_fast_result_leaving_out_most_paragraph_text_goes_to_the_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Long enough not to look short, but under half the page's paragraph text: where
    trafilatura's fallback would take readability's text, twice as long, it still does."""
    rng = random.Random(1)
    words = " ".join(ARTICLE_LINES).split()

    def paragraphs(n: int) -> str:
        return "".join(f"<p>{' '.join(rng.choices(words, k=25))}.</p>" for _ in range(n))

    page = _minimal(f"<article>{paragraphs(20)}</article><div>{paragraphs(60)}</div>")
    used = _record_modes(monkeypatch)
    text = extract_article(page, "https://news.example/x")["text"]
    assert used[:2] == [extract_module._PRECISION_FAST, extract_module._PRECISION]
    assert len(text) > 3 * len("".join(re.findall(r"<p>(.*?)</p>", page)[:20]))


def test_subheads_and_lists_in_an_unknown_container_are_kept() -> None:
    """The sample opinion column with its `<article>` turned into a plain `div`: trafilatura
    then recovers the paragraphs but drops the subheading and the list; both belong to the
    article and come back, while the related-articles box after it stays out."""
    entry = next(a for a in _manifest() if a["path"].endswith("cities-summer-cooling-bill.html"))
    html = (ROOT / "crawler" / "sample_site" / entry["path"].lstrip("/")).read_text("utf-8")
    html = re.sub(r"<article\b[^>]*>", "<div>", html).replace("</article>", "</div>")
    assert "<article" not in html
    text = extract_article(html.encode(), "https://news.example" + entry["path"])["text"]
    for line in entry["body"]:
        assert line in text, line
    assert "دروس من العمارة القديمة" in text
    assert "مقالات أخرى للكاتب" not in text


def test_extract_command_reads_times_on_the_outlets_clock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`arshif extract` gives a time without an offset the zone of the outlet the URL
    belongs to (youm7.com: Egypt), or the one --timezone names; else it stays as written."""
    from arshif.cli import main

    head = '<meta property="article:published_time" content="2020-01-13T09:55:24">'
    page = tmp_path / "page.html"
    page.write_text(_minimal(LONG, head), encoding="utf-8")

    def published(*args: str) -> str:
        assert main(["extract", str(page), *args]) == 0
        return json.loads(capsys.readouterr().out)["published"]

    assert published("--url", "https://www.youm7.com/story/1") == "2020-01-13T09:55:24+02:00"
    assert published("--url", "https://news.example/1") == "2020-01-13T09:55:24"
    zoned = published("--url", "https://news.example/1", "--timezone", "Asia/Riyadh")
    assert zoned == "2020-01-13T09:55:24+03:00"
    assert main(["extract", str(page), "--timezone", "Mars/Olympus"]) == 2
    assert main(["extract", str(page), "--outlet", "no-such-outlet"]) == 2


@pytest.mark.parametrize(
    ("head", "body", "title"),
    [
        # the site's name from its logo link to the home page; no h1 to match
        (
            "<title>وزير الري يشهد توقيع عقد دراسة | بوابة الأخبار</title>",
            '<a href="/"><img src="/logo.png" alt="بوابة الأخبار"></a>',
            "وزير الري يشهد توقيع عقد دراسة",
        ),
        # from the publisher in JSON-LD; the title's own « : » stays
        (
            '<script type="application/ld+json">{"@type": "WebPage", "publisher":'
            ' {"@type": "Organization", "name": "اليوم الإخباري"}}</script>'
            "<title>متحدث البرلمان : عقوبة التهرب غير رادعة - اليوم الإخباري</title>",
            "",
            "متحدث البرلمان : عقوبة التهرب غير رادعة",
        ),
        # from the host name; entities decoded, whitespace made one space
        (
            "<title>القصة   الكاملة &#8220;كورونا&#8221; | Cedar News</title>",
            "",
            "القصة الكاملة “كورونا”",
        ),
        # a JSON-LD headline that holds its entities literally
        (
            '<script type="application/ld+json">{"@type": "NewsArticle", "headline":'
            ' "بعد ظهور &#8220;كورونا&#8221; &amp; غيره"}</script>',
            "",
            "بعد ظهور “كورونا” & غيره",
        ),
    ],
)
def test_title_without_the_site_name(head: str, body: str, title: str) -> None:
    page = f"<html><head>{head}</head><body>{body}{LONG}</body></html>"
    assert extract_article(page, "https://www.cedarnews.net/x/1")["title"] == title


def test_a_headline_cut_short_gives_way_to_the_whole_title() -> None:
    whole = "وزير الري يشهد توقيع عقد دراسة تحديد السحب الآمن للخزانات الجوفية مع جامعة القاهرة"
    ld = json.dumps({"@type": "NewsArticle", "headline": whole[:40] + "…"}, ensure_ascii=False)
    head = f'<script type="application/ld+json">{ld}</script><meta property="og:title" content="{whole}">'
    page = f"<html><head>{head}</head><body>{LONG}</body></html>"
    assert extract_article(page, "https://news.example/x")["title"] == whole


STANDFIRST = "طهران - عقدت جلسة مباحثات رسمية بين النائب الأول للرئيس والوفد الحكومي الزائر برئاسة رئيس الوزراء."


@pytest.mark.parametrize("tag", ["p", "h2"])
def test_a_standfirst_above_the_body_is_kept(tag: str) -> None:
    """The description set above the article's own body container, which extractors that
    go for the body (`itemprop=articleBody`) leave out."""
    head = f'<meta property="og:description" content="{STANDFIRST}">'
    body = "".join(f"<p>{line}</p>" for line in ARTICLE_LINES * 2)
    page = (
        f"<html><head>{head}<title>مباحثات</title></head><body><article><h1>مباحثات</h1>"
        f'<div class="item"><{tag} class="summary">{STANDFIRST}</{tag}>'
        f'<div itemprop="articleBody">{body}</div></div></article></body></html>'
    )
    text = extract_article(page, "https://news.example/x")["text"]
    assert text.startswith(STANDFIRST) and text.count(STANDFIRST) == 1
    assert all(line in text for line in ARTICLE_LINES)


def test_a_description_elsewhere_on_the_page_is_not_a_standfirst() -> None:
    head = f'<meta property="og:description" content="{STANDFIRST}">'
    body = "".join(f"<p>{line}</p>" for line in ARTICLE_LINES * 2)
    page = (
        f"<html><head>{head}<title>مباحثات</title></head><body><article><h1>مباحثات</h1>"
        f'<div itemprop="articleBody">{body}</div></article>'
        f'<aside><div class="promo"><p>{STANDFIRST}</p></div></aside></body></html>'
    )
    assert STANDFIRST not in extract_article(page, "https://news.example/x")["text"]


def test_a_paragraph_that_is_a_whole_headline_link_is_left_out() -> None:
    """Outlets put other articles' headlines, linked, between the paragraphs with no prompt
    before them (trafilatura's recall mode keeps them); a sentence that merely holds a
    link stays."""
    linked = "".join(
        f'<p><a href="https://news.example/{i}">{h}</a></p>' for i, h in enumerate(RELATED)
    )
    inline = f'<p>وقال الوزير في <a href="/tag/x">مؤتمر صحفي</a> إن {ARTICLE_LINES[2]}</p>'
    body = "".join(f"<p>{line}</p>" for line in ARTICLE_LINES[:2]) + linked + inline
    page = _minimal(f'<div class="body-text">{body}</div>')
    text = extract_article(page, "https://news.example/x")["text"]
    assert not any(headline in text for headline in RELATED)
    assert "مؤتمر صحفي" in text and all(line in text for line in ARTICLE_LINES)


def test_a_whole_headline_does_not_take_on_an_unknown_site_name() -> None:
    whole = "وزير الري يشهد توقيع عقد دراسة تحديد السحب الآمن للخزانات الجوفية"
    ld = json.dumps({"@type": "NewsArticle", "headline": whole}, ensure_ascii=False)
    head = (
        f'<script type="application/ld+json">{ld}</script><title>{whole} - شبكة المعلومات</title>'
    )
    page = f"<html><head>{head}</head><body>{LONG}</body></html>"
    assert extract_article(page, "https://news.example/x")["title"] == whole
