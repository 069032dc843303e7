"""The web application through FastAPI's test client, on a real archive of the sample outlet:
JSON API, the search page, the archived copy, export, bad input and the access token."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient

from arshif.web.app import create_app
from tests.conftest import ROOT, run_arshif
from tests.test_dedup_e2e import COPY, ORIGINAL


def by_path(articles: list[dict], path: str) -> dict:
    return next(a for a in articles if a["url"].endswith(path))


def test_search_api_matches_every_spelling_with_marked_snippets(client: TestClient) -> None:
    totals = set()
    for spelling in ("قمة", "القمة", "قمه", "والقمة"):
        response = client.get("/api/search", params={"q": spelling, "limit": 50})
        assert response.status_code == 200, response.text
        body = response.json()
        totals.add(body["total"])
        assert body["hits"] and all("<mark>" in h["snippet"] for h in body["hits"])
    assert len(totals) == 1 and totals.pop() >= 4
    assert body["facets"]["outlet"] == {"sample": body["total"]}
    assert body["facets"]["topics"]["sco-summit"] >= 4


def test_search_api_topic_filter_and_dedup(client: TestClient, articles: list[dict]) -> None:
    original, copy = by_path(articles, ORIGINAL), by_path(articles, COPY)
    assert copy["dup_cluster"] == original["dup_cluster"]
    params = {"q": "سمرقند", "topic": "sco-summit", "limit": 50}
    every = client.get("/api/search", params=params).json()
    ids = {h["id"] for h in every["hits"]}
    assert {original["id"], copy["id"]} <= ids
    assert all("sco-summit" in by_id["topics"] for by_id in articles if by_id["id"] in ids)

    deduped = client.get("/api/search", params={**params, "dedup": True}).json()
    hits = {h["id"]: h for h in deduped["hits"]}
    assert original["id"] in hits and copy["id"] not in hits
    assert deduped["total"] == every["total"] - 1
    assert [d["id"] for d in hits[original["id"]]["duplicates"]] == [copy["id"]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "قمة", "outlet": "nowhere"}, "unknown outlet"),
        ({"q": "قمة", "topic": "no-such-topic"}, "unknown topic"),
        ({"q": "قمة", "lang": "xx"}, "unknown language"),
        ({"q": "قمة", "since": "2024-13-01"}, "YYYY-MM-DD"),
        ({"q": "قمة", "until": "yesterday"}, "YYYY-MM-DD"),
        ({"q": "قمة", "until": "9999-12-31"}, "from 1800-01-01 to 2199-12-31"),
        ({"q": "قمة", "since": "0001-01-01"}, "from 1800-01-01 to 2199-12-31"),
        ({"q": "قمة", "since": "2025-01-01", "until": "2024-01-01"}, "after"),
        ({"q": "!!! ؟؟ ..."}, "no searchable words"),
        ({"q": "(قمة OR"}, "OR needs a word"),
        ({"q": "قمة", "sort": "random"}, None),
        ({"q": "قمة", "page": "100000000000000000000"}, None),
        ({"q": "قمة", "page": "0"}, None),
        ({"q": "قمة", "limit": "abc"}, None),
    ],
)
def test_bad_input_is_a_4xx_with_a_message(
    client: TestClient, params: dict, message: str | None
) -> None:
    for path in ("/api/search", "/api/facets", "/api/export"):
        if path != "/api/search" and set(params) & {"page", "limit", "sort"}:
            continue
        response = client.get(path, params=params)
        assert 400 <= response.status_code < 500, (path, response.text)
        if message:
            assert message in response.json()["detail"]
    page = client.get("/", params=params)
    assert page.status_code == 400
    assert 'role="alert"' in page.text


# Each bad value, the label of its field in each interface language, and its parameter name.
LABELLED = [
    ({"q": "قمة", "outlet": "nowhere"}, "المصدر", "Outlet", "outlet"),
    ({"q": "قمة", "since": "2024-13-01"}, "من تاريخ", "From", "since"),
    ({"q": "قمة", "until": "yesterday"}, "إلى تاريخ", "To", "until"),
    ({"q": "!!! ؟؟ ..."}, "كلمات البحث", "Search words", "q="),
    ({"q": "قمة", "page": "0"}, "الصفحة", "Page", "page"),
]


@pytest.mark.parametrize(("params", "arabic", "english", "name"), LABELLED)
def test_page_errors_speak_the_ui_language_and_name_the_label(
    client: TestClient, params: dict, arabic: str, english: str, name: str
) -> None:
    ar = client.get("/", params=params).text
    error = ar[ar.index('id="error"') :]
    error = error[: error.index("</div>")]
    assert f"«{arabic}»" in error and name not in error
    en = client.get("/", params={**params, "ui": "en"}).text
    error = en[en.index('id="error"') :]
    assert f"“{english}”" in error[: error.index("</div>")]


def test_typed_dates_in_arabic_digits_and_day_first_are_read(client: TestClient) -> None:
    iso = client.get("/api/search", params={"q": "قمة", "since": "2024-01-01"}).json()
    for typed in ("٢٠٢٤-٠١-٠١", "2024/1/1", "01/01/2024", "۲۰۲۴-۰۱-۰۱"):
        same = client.get("/api/search", params={"q": "قمة", "since": typed}).json()
        assert same["total"] == iso["total"], typed
    later = client.get("/api/search", params={"q": "قمة", "since": "٢١٠٠-٠١-٠١"}).json()
    assert later["total"] == 0 < iso["total"]


def test_page_past_the_end_says_so_and_links_the_last_page(client: TestClient) -> None:
    total = client.get("/api/search", params={"q": "قمة"}).json()["total"]
    html = client.get("/", params={"q": "قمة", "limit": "1", "page": str(total + 5)}).text
    assert 'id="past-end"' in html and 'id="no-results"' not in html
    assert 'id="hits"' in html and 'class="pager"' not in html
    assert f"page={total}" in html[html.index('id="past-end"') :]


def test_search_page_is_arabic_rtl_with_results_facets_chart(
    client: TestClient, articles: list[dict]
) -> None:
    page = client.get("/", params={"q": "سمرقند"})
    assert page.status_code == 200
    html = page.text
    assert '<html lang="ar" dir="rtl">' in html
    assert "Noto Naskh Arabic" in client.get("/static/style.css").text
    assert 'name="viewport"' in html
    original = by_path(articles, ORIGINAL)
    assert original["title"] in html
    assert f'href="/article/{original["id"]}?back=q%3D' in html
    assert f'href="{original["url"]}"' in html
    assert "<mark>" in html and "<svg" in html and 'data-facet="topics"' in html
    assert 'href="/download?q=' in html

    english = client.get("/", params={"q": "سمرقند", "ui": "en"})
    assert '<html lang="en" dir="ltr">' in english.text and "Near-duplicates" not in html
    assert "results" in english.text and "One per story" in english.text

    deduped = client.get("/", params={"q": "سمرقند", "dedup": "on"}).text
    assert 'class="dups"' in deduped and by_path(articles, COPY)["title"] in deduped

    paged = client.get("/", params={"q": "بوتين", "limit": "1", "page": "2"})
    assert paged.status_code == 200 and 'rel="prev"' in paged.text


def test_page_without_query_shows_the_form_and_the_archive_coverage(client: TestClient) -> None:
    page = client.get("/", params={"topic": "sco-summit"})
    assert page.status_code == 200
    assert "<svg" in page.text and 'id="hits"' not in page.text


def test_snippets_and_titles_are_escaped(client: TestClient) -> None:
    page = client.get("/", params={"q": "<script>alert(1)</script> قمة"})
    assert "<script>alert(1)</script>" not in page.text


def test_article_page_and_api_show_text_topics_duplicates_story(
    client: TestClient, articles: list[dict]
) -> None:
    original, copy = by_path(articles, ORIGINAL), by_path(articles, COPY)
    page = client.get(f"/article/{original['id']}")
    assert page.status_code == 200
    html = page.text
    assert original["title"] in html and original["text"].split("\n")[0] in html
    assert "قمم منظمة شنغهاي" in html and copy["title"] in html
    mates = {a["id"] for a in articles if a["story_id"] == original["story_id"]}
    mates -= {original["id"], copy["id"]}
    assert mates and all(f"/article/{m}" in html for m in mates)
    assert f"/article/{original['id']}/raw" in html

    api = client.get(f"/api/article/{original['id']}").json()
    assert api["article"] == original
    assert [d["id"] for d in api["near_duplicates"]] == [copy["id"]]
    assert {d["id"] for d in api["story_mates"]} == mates

    assert client.get("/api/article/0000").status_code == 404
    missing = client.get("/article/0000")
    assert missing.status_code == 404 and "0000" in missing.text


def test_raw_page_comes_from_the_warc_archive_sandboxed(
    client: TestClient, articles: list[dict]
) -> None:
    original = by_path(articles, ORIGINAL)
    raw = client.get(f"/article/{original['id']}/raw")
    assert raw.status_code == 200
    assert original["title"].encode() in raw.content
    assert b"<html" in raw.content.lower()
    assert raw.headers["content-security-policy"].startswith("sandbox")


def _unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def test_export_from_the_page_equals_the_command_line(
    client: TestClient, web_home: Path, tmp_path: Path
) -> None:
    params = {"q": "سمرقند", "topic": "sco-summit", "dedup": "true", "format": "jsonl"}
    response = client.get("/api/export", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    files = _unzip(response.content)
    stem = f"arshif-سمرقند-{date.today().isoformat()}"
    assert set(files) == {f"{stem}.jsonl", f"{stem}.jsonl.card.json", f"{stem}.jsonl.card.md"}
    assert f"{stem}.jsonl.zip" in unquote(response.headers["content-disposition"])
    cli_out = tmp_path / "cli.jsonl"
    args = ["--query", "سمرقند", "--topic", "sco-summit", "--dedup", "--no-progress"]
    result = run_arshif(web_home, "export", "--format", "jsonl", "-o", str(cli_out), *args)
    assert result.returncode == 0, result.stderr
    assert files[f"{stem}.jsonl"] == cli_out.read_bytes()
    card = json.loads(files[f"{stem}.jsonl.card.json"])
    assert card["query"] == "سمرقند" and card["filters"]["dedup"] is True
    assert card["rows"] == len(cli_out.read_text().splitlines())

    for fmt in ("csv", "parquet"):
        other = client.get("/api/export", params={**params, "format": fmt})
        assert other.status_code == 200
        assert f"{stem}.{fmt}" in _unzip(other.content)


def test_openapi_schema_documents_the_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/api/search", "/api/facets", "/api/article/{article_id}", "/api/export"} <= set(
        schema["paths"]
    )
    assert "/" not in schema["paths"]


def test_token_guards_every_request(web_home: Path) -> None:
    with TestClient(create_app(web_home, token="s3cret")) as guarded:
        assert guarded.get("/api/search", params={"q": "قمة"}).status_code == 401
        assert guarded.get("/").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert guarded.get("/api/search", params={"q": "قمة"}, headers=wrong).status_code == 401
        right = {"Authorization": "Bearer s3cret"}
        assert guarded.get("/api/search", params={"q": "قمة"}, headers=right).status_code == 200
        first = guarded.get("/", params={"token": "s3cret"})
        assert first.status_code == 200 and "arshif_token" in first.cookies
        assert guarded.get("/").status_code == 200  # the cookie carries the token on


def test_serve_binds_elsewhere_only_with_a_flag_and_a_token(web_home: Path) -> None:
    refused = run_arshif(web_home, "serve", "--host", "0.0.0.0")
    assert refused.returncode == 2 and "--allow-remote" in refused.stderr
    env = {**os.environ, "ARSHIF_HOME": str(web_home)}
    env.pop("ARSHIF_WEB_TOKEN", None)
    no_token = subprocess.run(
        [sys.executable, "-m", "arshif.cli", "serve", "--host", "0.0.0.0", "--allow-remote"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
    )  # fmt: skip
    assert no_token.returncode == 2 and "ARSHIF_WEB_TOKEN" in no_token.stderr


def test_article_page_caps_related_lists_and_pages_them_all(
    client: TestClient, articles: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    import arshif.web.app as web

    original = by_path(articles, ORIGINAL)
    cluster = original["dup_cluster"]
    mates = [
        a for a in articles
        if a["story_id"] == original["story_id"] and a["id"] != original["id"]
        and not (cluster and a["dup_cluster"] == cluster)
    ]  # fmt: skip
    assert len(mates) >= 2
    monkeypatch.setattr(web, "CAP", 1)
    monkeypatch.setattr(web, "ALL_PAGE", 1)
    html = client.get(f"/article/{original['id']}").text
    story = html[html.index('id="story-mates"') : html.index('id="metadata"')]
    assert story.count("<li>") == 1 and 'class="show-all"' in story
    seen = set()
    for n in range(1, len(mates) + 1):
        page = client.get(f"/article/{original['id']}", params={"all": "story", "p": n}).text
        story = page[page.index('id="story-mates"') : page.index('id="metadata"')]
        assert story.count("<li>") == 1 and ('rel="next"' in story) == (n < len(mates))
        seen |= {m["id"] for m in mates if f"/article/{m['id']}" in story}
    assert seen == {m["id"] for m in mates}


def test_article_page_reads_well_and_leads_back_to_the_search(
    client: TestClient, articles: list[dict]
) -> None:
    original = by_path(articles, ORIGINAL)
    search = client.get("/", params={"q": "سمرقند", "topic": "sco-summit"}).text
    start = search.index(f'href="/article/{original["id"]}?back=')
    link = search[start + 6 : search.index('"', start + 6)].replace("&amp;", "&")
    page = client.get(link).text
    back = page[: page.index('" id="back"')].rsplit('href="', 1)[1]
    assert back.startswith("/?q=%D8%B3") and "topic=sco-summit" in back
    metadata = page[page.index('id="metadata"') :]
    assert "None" not in metadata and "['" not in metadata and "تاريخ النشر" in metadata
    body = page[page.index('id="article"') : page.index('id="near-dups"')]
    first = original["text"].split("\n")[0]
    assert body.count(first[:40]) == 1  # the lead is not shown again above the text


def test_download_page_shows_the_card_then_csv_opens_in_excel(
    client: TestClient, articles: list[dict]
) -> None:
    search = client.get("/", params={"q": "قمة", "topic": "sco-summit"}).text
    start = search.index('href="/download?')
    link = search[start + 6 : search.index('"', start + 6)].replace("&amp;", "&")
    total = client.get("/api/search", params={"q": "قمة", "topic": "sco-summit"}).json()["total"]
    page = client.get(link + "&ui=en")
    assert page.status_code == 200
    html = page.text
    assert f'id="card-rows">{total}<' in html
    assert f"Shanghai Cooperation Organisation summits ({total})" in html  # a label, not a slug
    links = {
        kind: html[html.index(f'data-kind="{kind}"') - 300 : html.index(f'data-kind="{kind}"')]
        .rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
        for kind in ("csv_bom", "csv_plain")
    }  # fmt: skip
    with_bom = _unzip(client.get(links["csv_bom"]).content)
    plain = _unzip(client.get(links["csv_plain"]).content)
    (name,) = [n for n in with_bom if n.endswith(".csv")]
    assert name.startswith("arshif-قمة-") and name in plain
    assert with_bom[name].startswith(b"\xef\xbb\xbf") and not plain[name].startswith(b"\xef")
    assert with_bom[name][3:] == plain[name]
    rows = list(csv.DictReader(io.StringIO(with_bom[name].decode("utf-8-sig"))))
    assert len(rows) == total and all("sco-summit" in r["topics"] for r in rows)


def test_sort_by_newest_and_oldest(client: TestClient) -> None:
    dates = {}
    for sort in ("newest", "oldest"):
        body = client.get("/api/search", params={"q": "قمة", "sort": sort, "limit": 50}).json()
        dates[sort] = [h["published"] for h in body["hits"] if h["published"]]
    assert dates["newest"] == sorted(dates["newest"], reverse=True)
    assert dates["oldest"] == sorted(dates["oldest"]) and dates["oldest"][0] < dates["newest"][0]
    assert client.get("/api/search", params={"q": "قمة", "sort": "random"}).status_code == 422
    page = client.get("/", params={"q": "قمة", "sort": "oldest"}).text
    assert '<option value="oldest" selected' in page


def test_presets_chips_names_and_month_links(client: TestClient) -> None:
    from datetime import timedelta

    html = client.get("/", params={"q": "قمة", "topic": "sco-summit", "since": "2022-01-01"}).text
    week = (date.today() - timedelta(days=7)).isoformat()
    presets = html[html.index('id="presets"') : html.index("</nav>", html.index('id="presets"'))]
    assert f"since={week}&amp;until={date.today().isoformat()}" in presets
    assert 'data-preset="all"' in presets
    chips = html[html.index('id="chips"') : html.index("</nav>", html.index('id="chips"'))]
    assert "الموضوع: قمم منظمة شنغهاي للتعاون" in chips and "من تاريخ: ٢٠٢٢/٠١/٠١" in chips
    assert 'href="/?q=%D9%82%D9%85%D8%A9&amp;since=2022-01-01"' in chips  # topic removed
    assert 'href="/?q=%D9%82%D9%85%D8%A9" id="clear-all"' in chips
    assert '<option value="sco-summit" selected>قمم منظمة شنغهاي للتعاون</option>' in html
    assert ">العربية<" in html
    month = html[html.index('data-facet="month"') :]
    assert "since=2022-09-01&amp;until=2022-09-30" in month


def test_saved_searches_are_kept_in_the_archive(web_home: Path) -> None:
    with TestClient(create_app(web_home)) as fresh:
        query = "q=%D9%82%D9%85%D8%A9&topic=sco-summit"
        saved = fresh.post("/saved", data={"query": query, "name": "قمم"}, follow_redirects=False)
        assert saved.status_code == 303 and saved.headers["location"] == "/?" + query
    with TestClient(create_app(web_home)) as again:  # another server over the same archive
        html = again.get("/").text
        listing = html[html.index('id="saved"') :]
        assert f'href="/?{query.replace("&", "&amp;")}"' in listing and ">قمم<" in listing
        saved_id = listing.split('action="/saved/')[1].split("/")[0]
        gone = again.post(f"/saved/{saved_id}/delete", data={"back": ""}, follow_redirects=False)
        assert gone.status_code == 303 and 'id="saved"' not in again.get("/").text


def test_page_errors_off_the_search_page_speak_the_ui_language(client: TestClient) -> None:
    card = client.get("/download", params={"q": "قمة", "since": "٢٠٢٥-١٣-٠١"})
    assert card.status_code == 400 and "«من تاريخ»" in card.text and 'role="alert"' in card.text
    english = client.get("/download", params={"q": "قمة", "outlet": "nowhere", "ui": "en"})
    assert english.status_code == 400 and "“Outlet”" in english.text
    missing = client.get("/article/0000", params={"ui": "en"})
    assert missing.status_code == 404 and "Nothing in the archive" in missing.text


def test_one_copy_reads_in_the_singular(client: TestClient) -> None:
    arabic = client.get("/", params={"q": "سمرقند", "dedup": "on"}).text
    english = client.get("/", params={"q": "سمرقند", "dedup": "on", "ui": "en"}).text
    assert "يمثل نسخة أخرى واحدة" in arabic and "stands for 1 other copy<" in english


def test_a_parser_that_says_where_is_quoted_at_that_place() -> None:
    from arshif.web.app import _query_error
    from indexer.query import QueryError, parse

    with pytest.raises(QueryError) as caught:
        parse("بوتين (شي")
    error = _query_error("بوتين (شي", caught.value)
    assert error.position == 6 and error.values["column"] == 7 and error.field == "query"
    assert "الحرف ٧" in error.message("ar") and "character 7" in error.message("en")
    assert "this ( is never closed" in error.message("en")


def test_malformed_query_is_a_400_pointing_at_the_error(client: TestClient) -> None:
    response = client.get("/api/search", params={"q": 'قمة "شنغهاي'})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "this quote is never closed (at character 5 of the query)",
        "position": 4,
    }


def test_sort_by_date_over_the_api(client: TestClient) -> None:
    def dates(sort: str) -> list[str]:
        body = client.get("/api/search", params={"q": "قمة", "sort": sort, "limit": 50}).json()
        return [h["published"] for h in body["hits"]]

    newest, oldest = dates("newest"), dates("oldest")
    dated = [d for d in newest if d]
    assert len(dated) >= 4 and dated == sorted(dated, reverse=True)
    assert [d for d in oldest if d] == sorted(dated)
    assert set(map(str, newest)) == set(map(str, dates("relevance")))


def test_each_spelling_of_shanghai_finds_every_article_writing_any(
    client: TestClient, articles: list[dict]
) -> None:
    """The sample outlet (the demo's) writes the name three ways; any one finds them all."""
    spellings = ("شنغهاي", "شنجهاي", "شانغهاي")
    writing = {
        a["id"] for a in articles if any(s in f"{a['title']} {a['text']}" for s in spellings)
    }
    assert len(writing) >= 3
    for spelling in spellings:
        hits = client.get("/api/search", params={"q": spelling, "limit": 100}).json()["hits"]
        assert writing <= {h["id"] for h in hits}, spelling


def test_every_query_error_reads_in_arabic_on_the_arabic_page(client: TestClient) -> None:
    from arshif.web.i18n import query_reason
    from indexer.query import QueryError, parse
    from tests.test_query_language import MALFORMED

    for query, _, _ in MALFORMED:
        with pytest.raises(QueryError) as caught:
            parse(query)
        arabic = query_reason(caught.value.message, "ar")
        assert arabic != caught.value.message and any("\u0621" <= ch <= "\u064a" for ch in arabic)
    page = client.get("/", params={"q": "بوتين (شي"}).text
    assert "الحرف ٧: هذا القوس «(» لا يُغلق" in page and "never closed" not in page
