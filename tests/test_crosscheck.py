"""Arshif's body text settled against bare trafilatura's answer (`analysis.crosscheck`)."""

from __future__ import annotations

import json

import pytest

from analysis import extract as extract_module
from analysis.crosscheck import Evidence, settle
from analysis.extract import extract_article
from tests.test_extract import _record_modes

ARTICLE = [
    "التقى الرئيس الروسي فلاديمير بوتين اليوم نظيره الصيني في سمرقند على هامش القمة السنوية.",
    "وبحث الرئيسان سبل تعزيز التعاون الاقتصادي والتجاري بين البلدين خلال العام المقبل المقبل.",
    "وأكد الجانبان أهمية العمل المشترك في إطار المنظمة لمواجهة التحديات الأمنية في المنطقة.",
    "وقال المتحدث باسم الكرملين إن اللقاء تناول كذلك الأوضاع في أوكرانيا وملف الطاقة العالمي.",
]
HEADLINES = [
    "منتخب مصر يفوز على غانا في تصفيات كأس العالم",
    "ارتفاع أسعار الذهب في الأسواق المحلية مع بداية التعاملات",
    "طقس الغد: أمطار خفيفة على السواحل الشمالية وانخفاض الحرارة",
    "افتتاح معرض الكتاب الدولي بمشاركة خمسين دار نشر",
]
MENU = [f"قسم الأخبار رقم {i}" for i in range(20)]


def _evidence(article_body: str = "", lead: str = "", links: list[str] = ()) -> Evidence:
    return Evidence.of(article_body, lead, frozenset(" ".join(x.split()) for x in links), "", "")


def test_agreeing_texts_keep_arshifs_lines_and_get_back_a_lost_sentence() -> None:
    ours = [ARTICLE[0], ARTICLE[1], ARTICLE[3]]
    reference = [HEADLINES[0], *ARTICLE, HEADLINES[1]]
    assert settle(ours, reference, _evidence()) == ARTICLE


def test_a_lost_line_outside_the_shared_span_stays_out() -> None:
    """Before the first and after the last line both keep is page furniture."""
    ours = ARTICLE[:3]
    reference = [*ARTICLE, "وفي سياق آخر افتتح وزير الثقافة معرض الكتاب الدولي في دورته الجديدة."]
    assert settle(ours, reference, _evidence()) == ARTICLE[:3]


def test_an_article_body_decides_which_lost_lines_come_back() -> None:
    stray = "وفي سياق آخر افتتح وزير الثقافة معرض الكتاب الدولي في دورته الجديدة اليوم."
    ours = [ARTICLE[0], ARTICLE[3]]
    reference = [ARTICLE[0], stray, ARTICLE[1], ARTICLE[3]]
    evidence = _evidence(article_body=" ".join(ARTICLE))
    assert settle(ours, reference, evidence) == [ARTICLE[0], ARTICLE[1], ARTICLE[3]]


def test_link_lines_only_arshif_kept_go() -> None:
    ours = [*ARTICLE, HEADLINES[2]]
    assert settle(ours, ARTICLE, _evidence(links=HEADLINES)) == ARTICLE


def test_in_doubt_trafilaturas_answer_stands() -> None:
    """Arshif's text is the site menu where trafilatura's is the article: nothing on the
    page says Arshif is right, so trafilatura's answer stands."""
    assert settle(MENU, ARTICLE, _evidence()) == ARTICLE
    assert settle([], ARTICLE, _evidence()) == ARTICLE


def test_the_pages_evidence_can_side_with_arshif() -> None:
    other = [h + " وتفاصيل أخرى عن الخبر" for h in HEADLINES]
    assert settle(ARTICLE, other, _evidence(article_body=" ".join(ARTICLE))) == ARTICLE
    assert settle(ARTICLE, other, _evidence(lead=ARTICLE[0])) == ARTICLE
    # trafilatura's text is all links of the page, Arshif's none
    assert settle(ARTICLE, HEADLINES, _evidence(links=HEADLINES)) == ARTICLE


def test_a_widget_named_wrapper_around_the_article_does_not_lose_it() -> None:
    """Arshif prunes elements whose class names a widget unless they hold much of the
    page's text; behind a long menu and a related list, the article's own wrapper named
    `social-share-wrap` does not, and pruning takes the article with it. Bare trafilatura
    finds the article, and its answer stands."""
    menu = "".join(f'<li><a href="/s/{i}">{m}</a></li>' for i, m in enumerate(MENU))
    related = "".join(f'<li><a href="/r/{i}">{h}</a></li>' for i, h in enumerate(HEADLINES * 3))
    paragraphs = "".join(f"<p>{line}</p>" for line in ARTICLE * 2)
    page = f"""<html><head><meta charset="utf-8"><title>بوتين يلتقي شي</title></head><body>
    <ul class="menu">{menu}</ul><h1>بوتين يلتقي شي في سمرقند</h1>
    <div class="social-share-wrap"><div class="txt">{paragraphs}</div></div>
    <div class="sidebar"><h3>الأكثر قراءة</h3><ul>{related}</ul></div></body></html>"""
    text = extract_article(page.encode(), "https://news.example/a")["text"]
    assert all(line in text for line in ARTICLE)
    assert not any(m in text for m in MENU) and not any(h in text for h in HEADLINES)


def test_a_paragraph_wrapping_a_nested_document_keeps_the_article() -> None:
    """An outlet's CMS pasted a whole HTML document into the article's paragraph."""
    menu = "".join(f'<li><a href="/s/{i}">{m}</a></li>' for i, m in enumerate(MENU))
    nested = (
        '<html><head><meta charset="windows-1256"><title>Untitled</title><style>p{}</style>'
        '</head><body class="related-share">'
        + "".join(f"<p>{line}</p>" for line in ARTICLE)
        + "</body></html>"
    )
    ld = json.dumps({"@type": "NewsArticle", "headline": "بوتين يلتقي شي"}, ensure_ascii=False)
    page = f"""<html><head><meta charset="utf-8"><title>بوتين يلتقي شي</title>
    <script type="application/ld+json">{ld}</script></head><body>
    <ul class="menu">{menu}</ul><h1>بوتين يلتقي شي</h1><div class="post"><p>{nested}</p></div>
    <ul class="related">{"".join(f"<li><a href='/r'>{h}</a></li>" for h in HEADLINES)}</ul>
    </body></html>"""
    text = extract_article(page.encode(), "https://news.example/a")["text"]
    assert all(line in text for line in ARTICLE)
    assert not any(h in text for h in HEADLINES) and MENU[3] not in text


def test_a_page_nothing_rewrote_is_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trafilatura's second run is a third of a simple page's time: a trusted fast result
    on a page whose pruning removed links and a caption has nothing to be checked against;
    one where pruning removed prose on the scale of the text found does."""
    calls = _record_modes(monkeypatch)
    paragraphs = "".join(f"<p>{line}</p>" for line in ARTICLE)
    share = '<div class="share"><a href="/f">فيسبوك</a> <a href="/t">تويتر</a></div>'
    caption = f"<figcaption>{HEADLINES[1]}</figcaption>"
    page = (
        f"<html><body><h1>بوتين يلتقي شي</h1><article>{caption}{paragraphs}</article>{share}"
        "</body></html>"
    )
    extract_article(page, "https://news.example/a")
    assert extract_module._REFERENCE_FAST not in calls
    teasers = "".join(f"<p>{h} وتفاصيل أخرى عن الخبر في هذا التقرير.</p>" for h in HEADLINES)
    widget = f'<div class="related-stories">{teasers}</div>'
    extract_article(page.replace(share, widget), "https://news.example/a")
    assert extract_module._REFERENCE_FAST in calls
