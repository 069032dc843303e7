"""Canonical URLs: the variants of one article fold into one id."""

import pytest

from arshif.urls import article_id, canonical_url

BASE = "https://example.com/news/2022/09/15/summit.html"


@pytest.mark.parametrize(
    "variant",
    [
        BASE,
        "http://example.com/news/2022/09/15/summit.html",
        "https://www.example.com/news/2022/09/15/summit.html",
        "https://m.example.com/news/2022/09/15/summit.html",
        "https://EXAMPLE.com/news/2022/09/15/summit.html#comments",
        "https://example.com/news/2022/09/15/summit.html?utm_source=tw&utm_medium=social",
        "https://example.com/news/2022/09/15/summit.html?fbclid=abc&gclid=def",
        "https://example.com/news/2022/09/15/summit.html/",
        "https://example.com/news/2022/09/15/summit.amp.html",
        "https://example.com:443/news/2022/09/15/summit.html",
    ],
)
def test_variants_share_one_id(variant: str) -> None:
    assert article_id(variant) == article_id(BASE)


def test_amp_paths_fold() -> None:
    assert canonical_url("https://example.com/amp/story/1") == "https://example.com/story/1"
    assert canonical_url("https://example.com/story/1/amp/") == "https://example.com/story/1"


def test_meaningful_query_and_path_are_kept() -> None:
    assert article_id(BASE + "?id=2") != article_id(BASE + "?id=3")
    assert canonical_url("https://example.com/a?b=2&a=1") == "https://example.com/a?a=1&b=2"
    assert article_id("https://example.com/news/1") != article_id("https://example.com/news/2")


def test_arabic_slug_raw_or_percent_encoded() -> None:
    raw = "https://www.youm7.com/story/2020/8/24/وزير-الري/4943459"
    encoded = "https://youm7.com/story/2020/8/24/%D9%88%D8%B2%D9%8A%D8%B1-%D8%A7%D9%84%D8%B1%D9%8A/4943459"
    assert article_id(raw) == article_id(encoded)


def test_local_port_is_part_of_identity() -> None:
    assert article_id("http://127.0.0.1:8000/a.html") != article_id("http://127.0.0.1:9000/a.html")
    assert len(article_id(BASE)) == 16
