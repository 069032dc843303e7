"""Outlet file loading: one generic spider, outlets as configuration, clear errors."""

import re
from pathlib import Path

import pytest

from crawler.outlets import OutletConfigError, load_outlets

GOOD = """
outlets:
  - id: daily
    name: Daily News
    language: ar
    country: EG
    feeds: ["https://daily.example/rss"]
    sitemaps: ["https://daily.example/news-sitemap.xml"]
    start_pages: ["https://www.daily.example/"]
    article_pattern: '/story/\\d+'
    extraction: {drop_selectors: [".promo"]}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "outlets.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_entry_loads_with_defaults(tmp_path: Path) -> None:
    outlet = load_outlets(write(tmp_path, GOOD))["daily"]
    assert outlet.feeds == ("https://daily.example/rss",)
    assert outlet.drop_selectors == (".promo",)
    assert outlet.domains == ("daily.example", "www.daily.example")
    assert outlet.is_article_url("https://daily.example/story/123")
    assert not outlet.is_article_url("https://daily.example/about")


def test_shipped_catalogue_loads() -> None:
    outlets = load_outlets()
    assert "sample" in outlets
    assert outlets["sample"].with_base_url("http://127.0.0.1:9999/").domains == ("127.0.0.1",)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (("language: ar", "language: ''"), "language"),
        (("'/story/\\d+'", "'/story/(\\d+'"), "article_pattern"),
        (('feeds: ["https://daily.example/rss"]', "feeds: rss"), "feeds"),
        (("    country: EG", "    country: EG\n    colour: red"), "colour"),
        (('extraction: {drop_selectors: [".promo"]}', "extraction: {drop: 1}"), "extraction"),
        (("    article_pattern: '/story/\\d+'\n", ""), "article_pattern"),
    ],
)
def test_bad_entry_names_outlet_and_field(
    tmp_path: Path, change: tuple[str, str], field: str
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(OutletConfigError) as err:
        load_outlets(write(tmp_path, text))
    assert "outlet 'daily'" in str(err.value)
    assert f"field '{field}'" in str(err.value)


def test_bad_id_and_duplicates(tmp_path: Path) -> None:
    with pytest.raises(OutletConfigError, match="field 'id'"):
        load_outlets(write(tmp_path, GOOD.replace("id: daily", "id: Daily News")))
    doubled = GOOD + GOOD.split("outlets:\n", 1)[1]
    with pytest.raises(OutletConfigError, match="defined twice"):
        load_outlets(write(tmp_path, doubled))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(OutletConfigError, match="cannot read"):
        load_outlets(tmp_path / "missing.yaml")
    with pytest.raises(OutletConfigError, match="not valid YAML"):
        load_outlets(write(tmp_path, "outlets: [\n"))
    with pytest.raises(OutletConfigError, match="top-level 'outlets:'"):
        load_outlets(write(tmp_path, "- id: x\n"))


# Article URLs of saved real pages (../shared/realpages/MANIFEST.tsv) and the outlet each
# belongs to: the catalogue's patterns must recognise them.
REAL_ARTICLE_URLS = {
    "youm7": "https://www.youm7.com/story/2020/8/24/وزير-الرى-يشهد-توقيع-عقد-دراسة-تحديد-السحب-الآمن-للخزانات/4943459",
    "alyaum": "https://www.alyaum.com/articles/6291787/القارات-السبع/طهران-تدفن-زادة-وتتهم-المعارضة-الإيرانية-باغتياله",
    "albayan": "https://www.albayan.ae/across-the-uae/news-and-reports/2020-06-03-1.3874341",
    "cnn-arabic": "http://arabic.cnn.com/2013/middle_east/8/3/syria.clashes/index.html",
}


def test_catalogue_has_twenty_real_outlets_each_confirmed() -> None:
    outlets = load_outlets()
    real = {oid: o for oid, o in outlets.items() if oid != "sample"}
    assert len(real) >= 20
    for oid, outlet in real.items():
        assert outlet.feeds or outlet.sitemaps, oid
        assert outlet.language == "ar", oid
        assert outlet.article_pattern, oid
        re.compile(outlet.article_pattern)
        assert set(outlet.confirmed) >= {"date", "how"}, oid
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", outlet.confirmed["date"]), oid
        assert outlet.founded and 1800 <= outlet.founded <= 2026, oid
        for url in (*outlet.feeds, *outlet.sitemaps):
            assert url.startswith("https://"), (oid, url)
            assert not outlet.is_article_url(url), (oid, url)


@pytest.mark.parametrize(("oid", "url"), sorted(REAL_ARTICLE_URLS.items()))
def test_patterns_recognise_real_article_urls(oid: str, url: str) -> None:
    outlets = load_outlets()
    assert outlets[oid].is_article_url(url)
    assert not outlets[oid].is_article_url(url.split("/", 3)[0] + "//" + url.split("/")[2] + "/")
    others = [o for k, o in outlets.items() if k not in (oid, "sample")]
    assert not any(o.is_article_url(url) for o in others)


def test_founded_must_be_a_year(tmp_path: Path) -> None:
    assert load_outlets(write(tmp_path, GOOD + "    founded: 1996\n"))["daily"].founded == 1996
    with pytest.raises(OutletConfigError, match="field 'founded'"):
        load_outlets(write(tmp_path, GOOD + "    founded: 'old'\n"))


def test_timezone_is_the_configured_one_or_the_countrys(tmp_path: Path) -> None:
    assert load_outlets(write(tmp_path, GOOD))["daily"].tz == "Africa/Cairo"  # country EG
    gulf = GOOD + "    timezone: Asia/Dubai\n"
    assert load_outlets(write(tmp_path, gulf))["daily"].tz == "Asia/Dubai"
    several = GOOD.replace("country: EG", "country: RU")  # Russia keeps several zones
    assert load_outlets(write(tmp_path, several))["daily"].tz is None
    with pytest.raises(OutletConfigError, match="field 'timezone'"):
        load_outlets(write(tmp_path, GOOD + "    timezone: Cairo/Egypt\n"))
    assert all(outlet.tz for outlet in load_outlets().values() if outlet.country in ("RU", "EG"))
