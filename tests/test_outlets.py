"""Outlet file loading: one generic spider, outlets as configuration, clear errors."""

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
