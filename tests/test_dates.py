"""Published and modified dates: structured sources, URLs and visible Arabic date lines."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from lxml import html

from analysis.dates import find_dates, parse_date, text_dates

NOW = datetime(2025, 1, 1, 12, 0)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Egyptian / Gulf month names, «ص/م», Arabic-Indic digits
        ("الأربعاء، 07 أكتوبر 2020 - 12:09 م", "2020-10-07T12:09:00"),
        ("الخميس ١٥ سبتمبر ٢٠٢٢ - ٠٣:٣٠ م", "2022-09-15T15:30:00"),
        ("الخميس ۱۵ سبتمبر ۲۰۲۲", "2022-09-15"),
        ("السبت 12 إبريل 2019 09:05 ص", "2019-04-12T09:05:00"),
        ("3 أبريل 2019", "2019-04-03"),
        ("12 يونية 2019", "2019-06-12"),
        ("4 يوليه 2018", "2018-07-04"),
        ("1 يناير 2021 12:15 ص", "2021-01-01T00:15:00"),
        ("نشر في: 24 أغسطس 2020 الساعة 09:23 صباحاً", "2020-08-24T09:23:00"),
        ("الثلاثاء 30 نوفمبر 2021 10:45 مساءً", "2021-11-30T22:45:00"),
        # Levantine / Iraqi names, alone or combined with the Egyptian ones
        ("5 تشرين الثاني 2020", "2020-11-05"),
        ("3 كانون الثاني 2021", "2021-01-03"),
        ("20 كانون الأول 2019", "2019-12-20"),
        ("1 تشرين الأول 2019", "2019-10-01"),
        ("14 شباط 2022", "2022-02-14"),
        ("21 آذار 2023", "2023-03-21"),
        ("9 نيسان 2003", "2003-04-09"),
        ("السبت 1 أيار 2021", "2021-05-01"),
        ("13 حزيران 2020", "2020-06-13"),
        ("17 تموز 2019", "2019-07-17"),
        ("الأربعاء، 28 آب/اغسطس 2013", "2013-08-28"),
        ("11 أيلول 2001", "2001-09-11"),
        ("الخميس 15 سبتمبر/أيلول 2022", "2022-09-15"),
        ("15 سبتمبر / أيلول 2022", "2022-09-15"),
        ("نوفمبر/ تشرين الثاني 12، 2024", "2024-11-12"),
        ("السبت 1 أيار (مايو) 2021", "2021-05-01"),
        # Maghrebi names
        ("الإثنين 12 جويلية 2021", "2021-07-12"),
        ("3 جوان 2020", "2020-06-03"),
        ("8 أوت 2019", "2019-08-08"),
        # numeric forms and GMT
        ("11:49 GMT 03.07.2024", "2024-07-03T11:49:00+00:00"),
        ("الأربعاء، 28 آب/اغسطس 2013، 14:00 (GMT+0400)", "2013-08-28T14:00:00+04:00"),
        ("2020/08/24 09:23", "2020-08-24T09:23:00"),
        ("15/09/2022 - 10:30 UTC", "2022-09-15T10:30:00+00:00"),
        ("24-08-2020", "2020-08-24"),
        ("10:15 بتوقيت غرينتش 5 مارس 2023", "2023-03-05T10:15:00+00:00"),
        ("August 24, 2020 9:23 pm", "2020-08-24T21:23:00"),
    ],
)
def test_visible_arabic_dates(line: str, expected: str) -> None:
    found = text_dates(line)
    assert found, line
    assert found[0].stamp.iso() == expected


@pytest.mark.parametrize(
    "line",
    [
        "15 صفر 1444 هـ",
        "الخميس 19 صفر 1444 هـ",
        "1 رمضان 1445",
        "12 ربيع الأول 1446 هـ",
        "٢٠ ذو الحجة ١٤٤٣ هـ",
        "1444/02/15 هـ",
        "15/02/1444 هـ",
    ],
)
def test_hijri_is_not_read_as_gregorian(line: str) -> None:
    assert text_dates(line) == []


def test_hijri_next_to_gregorian() -> None:
    found = text_dates("الأحد 15 صفر 1444 هـ الموافق 11 سبتمبر 2022 م")
    assert [f.stamp.iso() for f in found] == ["2022-09-11"]


def test_update_line_is_modified_not_published() -> None:
    found = text_dates("11:49 GMT 03.07.2024 (تم التحديث: 15:35 GMT 03.07.2024)")
    assert [(f.kind, f.stamp.iso()) for f in found] == [
        ("unknown", "2024-07-03T11:49:00+00:00"),
        ("modified", "2024-07-03T15:35:00+00:00"),
    ]
    lone = text_dates("الأربعاء، 28 آب/اغسطس 2013، آخر تحديث 14:00 (GMT+0400)")
    assert [(f.kind, f.stamp.iso()) for f in lone] == [
        ("unknown", "2013-08-28"),
        ("modified", "2013-08-28T14:00:00+04:00"),
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-06-03T03:01+0400", "2020-06-03T03:01:00+04:00"),
        ("2020-08-24T09:23:13Z", "2020-08-24T09:23:13+00:00"),
        ("2020-08-24T09:23:13.000+03:00", "2020-08-24T09:23:13+03:00"),
        ("2020-12-01 02:00:00", "2020-12-01T02:00:00"),
        ("2020-03-15 20:18:45 GST", "2020-03-15T20:18:45+04:00"),
        ("2020-8-4", "2020-08-04"),
        ("Mon, 24 Aug 2020 09:23:13 GMT", "2020-08-24T09:23:13+00:00"),
        ("1598260993", "2020-08-24T09:23:13+00:00"),
        ("الأربعاء، 07 أكتوبر 2020 - 12:09 م", "2020-10-07T12:09:00"),
    ],
)
def test_structured_values(value: str, expected: str) -> None:
    stamp = parse_date(value)
    assert stamp is not None
    assert stamp.iso() == expected


def _page(head: str = "", body: str = "") -> html.HtmlElement:
    return html.fromstring(
        f"<html><head>{head}</head><body><header>الأحد 23 نوفمبر 2024</header>"
        f"<h1>عنوان الخبر</h1>{body}<p>نص الخبر.</p></body></html>"
    )


def _ld(obj: dict) -> str:
    return f'<script type="application/ld+json">{json.dumps(obj, ensure_ascii=False)}</script>'


def test_json_ld_first_and_inside_graph() -> None:
    ld = _ld(
        {
            "@graph": [
                {"@type": "WebSite", "name": "الموقع"},
                {
                    "@type": "NewsArticle",
                    "datePublished": "2022-09-15T10:30:00+03:00",
                    "dateModified": "2022-09-16T08:00:00+03:00",
                },
            ]
        }
    )
    meta = '<meta property="article:published_time" content="2021-01-01T00:00:00Z">'
    assert find_dates(_page(ld + meta), now=NOW) == (
        "2022-09-15T10:30:00+03:00",
        "2022-09-16T08:00:00+03:00",
    )


def test_json_ld_with_raw_newlines_in_strings() -> None:
    raw = '<script type="application/ld+json">{"@type": "NewsArticle", "articleBody": "سطر\nسطر", "datePublished": "2021-03-04"}</script>'
    assert find_dates(_page(raw), now=NOW)[0] == "2021-03-04"


@pytest.mark.parametrize(
    "meta",
    [
        '<meta property="article:published_time" content="2020-08-24T09:23:13Z">',
        '<meta property="og:published_time" content="2020-08-24T09:23:13Z">',
        '<meta name="pubdate" content="2020-08-24T09:23:13Z">',
        '<meta name="date" content="2020-08-24T09:23:13Z">',
        '<meta name="DC.date.issued" content="2020-08-24T09:23:13Z">',
        '<meta name="sailthru.date" content="2020-08-24T09:23:13Z">',
        '<meta itemprop="datePublished" content="2020-08-24T09:23:13Z">',
    ],
)
def test_meta_tags(meta: str) -> None:
    assert find_dates(_page(meta), now=NOW)[0] == "2020-08-24T09:23:13+00:00"


def test_itemprop_and_time_elements() -> None:
    body = '<span itemprop="datePublished" content="2019-05-06T07:08:09+02:00">6 مايو</span>'
    assert find_dates(_page(body=body), now=NOW)[0] == "2019-05-06T07:08:09+02:00"
    body = '<time datetime="2019-05-06T07:08">الإثنين</time>'
    assert find_dates(_page(body=body), now=NOW)[0] == "2019-05-06T07:08:00"


def test_visible_date_after_headline_not_header_today() -> None:
    body = '<div class="k2">نشر في: الخميس ١٥ سبتمبر ٢٠٢٢ - ٠٣:٣٠ م</div>'
    assert find_dates(_page(body=body), now=NOW) == ("2022-09-15T15:30:00", None)


def test_visible_published_and_updated() -> None:
    body = '<div class="date">11:49 GMT 03.07.2024 (تم التحديث: 15:35 GMT 03.07.2024)</div>'
    assert find_dates(_page(body=body), now=datetime(2025, 1, 1)) == (
        "2024-07-03T11:49:00+00:00",
        "2024-07-03T15:35:00+00:00",
    )


def test_modified_is_never_published() -> None:
    meta = '<meta property="article:modified_time" content="2020-08-24T09:23:13Z">'
    body = '<div class="updated">آخر تحديث: 24 أغسطس 2020</div>'
    published, modified = find_dates(_page(meta, body), now=NOW)
    assert published is None
    assert modified == "2020-08-24T09:23:13+00:00"


def test_modified_before_published_is_dropped() -> None:
    head = (
        '<meta property="article:published_time" content="2020-06-03T03:01+0400">'
        '<meta property="article:modified_time" content="2020-03-15T20:18+0400">'
    )
    assert find_dates(_page(head), now=NOW) == ("2020-06-03T03:01:00+04:00", None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.youm7.com/story/2020/8/24/slug/4943459", "2020-08-24"),
        ("https://www.albayan.ae/across-the-uae/news/2020-06-03-1.3874341", "2020-06-03"),
        ("https://example.com/2019/12/31/story.html", "2019-12-31"),
        ("http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html", "2013-08-03"),
        ("https://example.com/2019/photos/12/345/", None),
        ("https://example.com/news/123456", None),
    ],
)
def test_url_dates(url: str, expected: str | None) -> None:
    assert find_dates(_page(), url, now=NOW)[0] == expected


def test_url_beats_a_far_away_visible_date() -> None:
    body = '<div class="sidebar-date">1 يناير 2019</div>'
    assert find_dates(_page(body=body), "https://x.com/2020/8/24/a", now=NOW)[0] == "2020-08-24"


@pytest.mark.parametrize(
    "value",
    ["2031-01-01T00:00:00Z", "1985-05-05", "1444-02-15", "0001-01-01"],
)
def test_future_and_ancient_dates_are_rejected(value: str) -> None:
    meta = f'<meta property="article:published_time" content="{value}">'
    fallback = '<meta name="date" content="2021-02-03">'
    assert find_dates(_page(meta + fallback), now=NOW)[0] == "2021-02-03"


def test_tomorrow_is_tolerated_for_time_zones() -> None:
    meta = '<meta property="article:published_time" content="2025-01-02T01:00:00+03:00">'
    assert find_dates(_page(meta), now=NOW)[0] == "2025-01-02T01:00:00+03:00"


def test_plain_text_and_html_strings() -> None:
    assert find_dates("نشر في 3 كانون الثاني 2021 الساعة 10:15 مساءً", now=NOW) == (
        "2021-01-03T22:15:00",
        None,
    )
    assert (
        find_dates("<p>لا تاريخ هنا</p>", "https://x.com/2020/8/24/a", now=NOW)[0] == "2020-08-24"
    )
    assert find_dates("لا تاريخ هنا", now=NOW) == (None, None)


def test_htmldates_extended_search_is_the_last_resort() -> None:
    """No date in markup or visible text; the photo's path holds the day, which htmldate's
    extended search of the page finds."""
    body = '<img src="/uploads/news/2020/01/25/photo.jpg">'
    assert find_dates(_page(body=body), "https://x.com/news/527501", now=NOW)[0] == "2020-01-25"


def test_extended_search_guesses_are_not_dates() -> None:
    """From the header's «today» or a bare year, the extended search makes up a day that
    the page does not write for the article: none is better."""
    assert find_dates(_page(), "https://x.com/news/527501", now=NOW)[0] is None
    body = "<footer>© 2023 الموقع</footer>"
    assert find_dates(_page(body=body), "https://x.com/news/1", now=NOW)[0] is None


def test_the_urls_day_wins_over_a_far_away_declared_one() -> None:
    ld = _ld({"@type": "NewsArticle", "datePublished": "2019-01-01T10:00:00+03:00"})
    assert find_dates(_page(ld), "https://x.com/2020/8/24/a", now=NOW)[0] == "2020-08-24"
    near = _ld({"@type": "NewsArticle", "datePublished": "2020-08-24T10:00:00+03:00"})
    url = "https://x.com/2020/8/24/a"
    assert find_dates(_page(near), url, now=NOW)[0] == "2020-08-24T10:00:00+03:00"


def test_times_without_an_offset_are_on_the_outlets_clock() -> None:
    cairo = ZoneInfo("Africa/Cairo")
    body = '<div class="k2">نشر في: الخميس ١٥ سبتمبر ٢٠٢٢ - ٠٣:٣٠ م</div>'
    assert find_dates(_page(body=body), now=NOW, tz=cairo)[0] == "2022-09-15T15:30:00+02:00"
    winter = '<meta property="article:published_time" content="2020-01-13T09:55:24">'
    assert find_dates(_page(winter), now=NOW, tz=cairo)[0] == "2020-01-13T09:55:24+02:00"
    # a page that gives its offset keeps it; a bare day stays a day
    stated = '<meta property="article:published_time" content="2020-01-13T07:55:24Z">'
    assert find_dates(_page(stated), now=NOW, tz=cairo)[0] == "2020-01-13T07:55:24+00:00"
    day = '<meta property="article:published_time" content="2020-01-13">'
    assert find_dates(_page(day), now=NOW, tz=cairo)[0] == "2020-01-13"
