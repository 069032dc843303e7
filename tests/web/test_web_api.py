"""The web application through FastAPI's test client, on a real archive of the sample outlet:
JSON API, the search page, the archived copy, export, bad input and the access token."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

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
    if message:
        assert message in page.text


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
    assert f'href="/article/{original["id"]}"' in html
    assert f'href="{original["url"]}"' in html
    assert "<mark>" in html and "<svg" in html and 'data-facet="topics"' in html
    assert "/api/export?" in html and "format=parquet" in html

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
    assert "sco-summit" in html and copy["title"] in html
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
    assert set(files) == {
        "arshif-export.jsonl",
        "arshif-export.jsonl.card.json",
        "arshif-export.jsonl.card.md",
    }
    cli_out = tmp_path / "cli.jsonl"
    args = ["--query", "سمرقند", "--topic", "sco-summit", "--dedup", "--no-progress"]
    result = run_arshif(web_home, "export", "--format", "jsonl", "-o", str(cli_out), *args)
    assert result.returncode == 0, result.stderr
    assert files["arshif-export.jsonl"] == cli_out.read_bytes()
    card = json.loads(files["arshif-export.jsonl.card.json"])
    assert card["query"] == "سمرقند" and card["filters"]["dedup"] is True
    assert card["rows"] == len(cli_out.read_text().splitlines())

    for fmt in ("csv", "parquet"):
        other = client.get("/api/export", params={**params, "format": fmt})
        assert other.status_code == 200
        assert f"arshif-export.{fmt}" in _unzip(other.content)


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
