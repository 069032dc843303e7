"""Page types an outlet's feeds and sitemaps lead to: each is archived with its type, or
skipped with a reason the crawl counts. Pages are built the way outlets mark them up
(schema.org types, og:type, article:section, path words, section fronts)."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlsplit

import pytest

from analysis.extract import ExtractionError, ExtractOptions, extract_article
from arshif.config import archive_path
from indexer.archive import Archive
from tests.conftest import FAST, run_arshif

PARAGRAPHS = [
    "أعلنت وزارة النقل اليوم بدء تشغيل عشر سيارات كهربائية للعمل تاكسي في العاصمة الإدارية"
    " الجديدة ضمن خطة الدولة للتحول إلى وسائل النقل النظيفة وتقليل الانبعاثات الكربونية.",
    "وقال المتحدث باسم الوزارة إن المرحلة الأولى تشمل خطوطاً تربط الحي الحكومي بمحطات"
    " القطار الكهربائي الخفيف، على أن يزيد عدد السيارات تدريجياً خلال الأشهر المقبلة.",
    "وأضاف أن الأجرة ستكون مماثلة لأجرة سيارات التاكسي العادية، وأن التطبيق الخاص بالخدمة"
    " سيتيح الحجز المسبق والدفع الإلكتروني للركاب في جميع مناطق المدينة.",
]
HEADLINES = [
    "ارتفاع أسعار الذهب في السوق المحلية مع بداية تعاملات الأسبوع",
    "منتخب الشباب يتأهل إلى الدور النهائي من البطولة العربية",
    "الأرصاد تتوقع طقساً معتدلاً على أغلب المناطق خلال الأيام المقبلة",
    "افتتاح معرض دولي للكتاب بمشاركة مئات من دور النشر العربية",
    "البنك المركزي يبقي أسعار الفائدة دون تغيير في اجتماعه الأخير",
]


def page(body: str, *, head: str = "", title: str = "سيارات كهربائية تعمل تاكسي في العاصمة") -> str:
    return (
        f'<!DOCTYPE html><html lang="ar" dir="rtl"><head><meta charset="utf-8">'
        f"<title>{title}</title>{head}</head><body>"
        '<nav><a href="/">الرئيسية</a> <a href="/section/economy">اقتصاد</a></nav>'
        f"<main>{body}</main><footer><p>جميع الحقوق محفوظة</p></footer></body></html>"
    )


def article_body(title: str = "سيارات كهربائية تعمل تاكسي في العاصمة") -> str:
    return f"<article><h1>{title}</h1>" + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article>"


def related_box() -> str:
    items = "".join(
        f'<li><a href="/story/2024/5/{n}/item/{n}">{h}</a></li>' for n, h in enumerate(HEADLINES)
    )
    return f'<aside class="related"><h3>اقرأ أيضاً</h3><ul>{items}</ul></aside>'


def ld(obj: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj, ensure_ascii=False)}</script>'


def test_plain_news_article() -> None:
    head = '<meta property="og:type" content="article">'
    record = extract_article(
        page(article_body() + related_box(), head=head), "https://n.example/story/1"
    )
    assert record["page_type"] == "article"


def test_article_without_metadata_keeps_its_related_box_out_of_the_type() -> None:
    # No og:type or JSON-LD, five headline links beside it: still one article.
    record = extract_article(page(article_body() + related_box()), "https://n.example/a/1")
    assert record["page_type"] == "article"
    assert PARAGRAPHS[0][:40] in record["text"]


@pytest.mark.parametrize(
    ("head", "url"),
    [
        ('<meta property="article:section" content="رأي">', "https://n.example/a/77"),
        (ld({"@type": "OpinionNewsArticle", "headline": "x"}), "https://n.example/a/77"),
        ("", "https://n.example/opinion/2024/05/13/taxi-column"),
        ("", "https://n.example/%D9%83%D8%AA%D8%A7%D8%A8/77"),  # /كتاب/
    ],
)
def test_opinion_column(head: str, url: str) -> None:
    assert extract_article(page(article_body(), head=head), url)["page_type"] == "opinion"


def test_live_blog() -> None:
    head = ld({"@type": "LiveBlogPosting", "headline": "تغطية مباشرة", "coverageStartTime": "x"})
    updates = "".join(
        f'<div class="update"><time>10:{n}0</time><p>{p}</p></div>'
        for n, p in enumerate(PARAGRAPHS)
    )
    record = extract_article(
        page(f"<h1>تغطية مباشرة</h1>{updates}", head=head), "https://n.example/x/5"
    )
    assert record["page_type"] == "live"


def test_video_page_keeps_its_description_as_text() -> None:
    description = "مشاهد من أول رحلة لسيارات الأجرة الكهربائية في شوارع العاصمة الإدارية الجديدة"
    head = (
        '<meta property="og:type" content="video.other">'
        f'<meta property="og:description" content="{description}">'
    )
    body = '<h1>فيديو: أول رحلة</h1><div class="player"><video src="/v.mp4"></video></div>'
    record = extract_article(page(body, head=head), "https://n.example/video/2024/5/13/ride")
    assert record["page_type"] == "video"
    assert record["text"] == description


def test_gallery_by_path_and_schema() -> None:
    captions = "".join(
        f"<figure><img src='/{n}.jpg'><figcaption>{p}</figcaption></figure>"
        for n, p in enumerate(PARAGRAPHS)
    )
    record = extract_article(
        page(f"<h1>صور</h1>{captions}<p>{PARAGRAPHS[0]}</p>"),
        "https://n.example/photos/2024/5/13/taxi",
    )
    assert record["page_type"] == "gallery"
    head = ld({"@type": "ImageGallery", "name": "صور"}) + (
        f'<meta name="description" content="{PARAGRAPHS[1]}">'
    )
    record = extract_article(
        page("<h1>صور</h1><img src='/1.jpg'>", head=head), "https://n.example/g/9"
    )
    assert record["page_type"] == "gallery" and record["text"] == PARAGRAPHS[1]


def test_media_page_without_description_is_skipped_with_its_reason() -> None:
    head = '<meta property="og:type" content="video.other">'
    with pytest.raises(ExtractionError, match="video page without a description"):
        extract_article(page("<h1>فيديو</h1><video></video>", head=head), "https://n.example/v/1")


def test_section_listing_is_skipped() -> None:
    cards = "".join(
        f'<article class="card"><h3><a href="/story/2024/5/{n}/x/{n}">{h}</a></h3>'
        f"<p>{h} وتفاصيل أخرى.</p><span>13 مايو 2024</span></article>"
        for n, h in enumerate(HEADLINES)
    )
    html = page(f"<h1>اقتصاد</h1>{cards}", head='<meta property="og:type" content="website">')
    with pytest.raises(ExtractionError, match="section listing page"):
        extract_article(html, "https://n.example/section/economy")


def test_future_and_pre_founding_dates_are_rejected_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    future = ld(
        {"@type": "NewsArticle", "headline": "x", "datePublished": "2099-01-01T10:00:00+02:00"}
    )
    with caplog.at_level(logging.INFO, logger="analysis.dates"):
        record = extract_article(
            page(article_body(), head=future), "https://n.example/story/2024/5/13/x"
        )
    assert record["published"] == "2024-05-13"  # the URL's day, not the impossible one
    assert "2099-01-01T10:00:00+02:00 (after the fetch)" in caplog.text

    old = ld({"@type": "NewsArticle", "headline": "x", "datePublished": "2001-03-04"})
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="analysis.dates"):
        record = extract_article(
            page(article_body(), head=old),
            "https://n.example/a/1",
            options=ExtractOptions(founded=2008),
        )
    assert record["published"] is None
    assert "2001-03-04 (before 2008)" in caplog.text
    # Without the outlet's year, the same date stands.
    assert (
        extract_article(page(article_body(), head=old), "https://n.example/a/1")["published"]
        == "2001-03-04"
    )


def test_gallery_text_is_its_captions_and_an_articles_captions_go() -> None:
    credit = "تصوير: سامر خليل"
    figures = "".join(
        f"<figure><img src='/{n}.jpg'><figcaption class='gallery-caption'>{p}"
        f"<span class='photo-credit'>{credit}</span></figcaption></figure>"
        for n, p in enumerate(PARAGRAPHS)
    )
    head = ld({"@type": "ImageGallery", "name": "صور"})
    record = extract_article(page(f"<h1>صور</h1>{figures}", head=head), "https://n.example/g/9")
    assert record["page_type"] == "gallery"
    assert record["text"].split("\n\n") == PARAGRAPHS
    # In a news article the same figure is photo furniture: caption and credit go.
    caption = "سيارة أجرة كهربائية تنتظر الركاب أمام محطة القطار الخفيف في الحي الحكومي"
    figure = f"<figure><img src='/1.jpg'><figcaption>{caption}</figcaption></figure>"
    head = '<meta property="og:type" content="article">'
    record = extract_article(page(article_body() + figure, head=head), "https://n.example/a/9")
    assert record["page_type"] == "article"
    assert caption not in record["text"] and PARAGRAPHS[2] in record["text"]


def test_crawl_archives_each_type_and_counts_the_listing(home, site, server, manifest) -> None:
    """The real engine on the sample outlet, its feed extended with a video page, an
    opinion column and a section front, as outlets' feeds carry them."""
    video_head = (
        '<meta property="og:type" content="video.other">'
        f'<meta property="og:description" content="{PARAGRAPHS[0]}">'
    )
    extra = {
        "/video/2025/05/19/metro-ride.html": page("<h1>فيديو</h1><video></video>", head=video_head),
        "/opinion/2025/05/20/taxi-column.html": page(article_body()),
    }
    for path, html in extra.items():
        (site / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (site / path.lstrip("/")).write_text(html, encoding="utf-8")
    items = "".join(
        f"<item><title>x</title><link>__BASE_URL__{p}</link></item>"
        for p in (*extra, "/section/politics.html")
    )
    rss = (site / "rss.xml").read_text(encoding="utf-8")
    (site / "rss.xml").write_text(rss.replace("</channel>", items + "</channel>"), encoding="utf-8")

    result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    with Archive(archive_path(home)) as archive:
        types = {urlsplit(a.url).path: a.page_type for a in archive.iter_articles()}
        (run,) = archive.runs()
    assert types["/video/2025/05/19/metro-ride.html"] == "video"
    assert types["/opinion/2025/05/20/taxi-column.html"] == "opinion"
    assert "/section/politics.html" not in types
    listings = [a for a in manifest["articles"] if a["skip_reason"] == "section listing page"]
    assert run["errors"].get("extract/section_listing_page") == 1 + len(listings)
    assert "section listing page" in result.stderr


def test_article_embedding_a_video_stays_an_article() -> None:
    head = ld({"@type": "NewsArticle", "headline": "x", "articleSection": ["محليات"]}) + ld(
        {"@type": "VideoObject", "name": "فيديو مرافق"}
    )
    record = extract_article(
        page(article_body() + "<video></video>", head=head), "https://n.example/a/3"
    )
    assert record["page_type"] == "article"
