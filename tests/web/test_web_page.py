"""The search page's features in headless Chromium, one test per feature: errors and
accessibility (axe-core), the article page, downloads, the attention chart, dates, filters
and saved searches, what is in the results."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from tests.web.browser import (
    CHROMIUM,
    DRIVER,
    after_navigation,
    axe_source,
    axe_violations,
    navigate,
    viewport,
)

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


@pytest.fixture(scope="module")
def axe() -> str:
    source = axe_source()
    if source is None:
        pytest.skip("axe-core could not be packed from npm (no npm or no registry)")
    return source


PAGES = [
    "/",
    "/?q=قمة",
    "/?q=قمة&ui=en&measure=share&compare=بوتين",
    "/?q=!!!",
    "/?q=قمة&page=999&limit=1",
    "/?q=قمة&view=stories",
    "/?q=قمة&view=words",
    "/download?q=قمة",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_pass_axe_core(browser: WebDriver, base_url: str, axe: str, path: str) -> None:
    browser.get(base_url + path)
    assert browser.find_element(By.TAG_NAME, "h1").text
    violations = axe_violations(browser, axe)
    assert violations == [], violations


def test_article_page_passes_axe_core(
    browser: WebDriver, base_url: str, axe: str, articles: list[dict]
) -> None:
    busiest = max(articles, key=lambda a: sum(b["story_id"] == a["story_id"] for b in articles))
    browser.get(f"{base_url}/article/{busiest['id']}?ui=en")
    violations = axe_violations(browser, axe)
    assert violations == [], violations


def test_skip_link_is_first_and_moves_focus(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/?q=قمة")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.get_attribute("class") == "skip" and skip.is_displayed()
    skip.send_keys(Keys.ENTER)
    assert browser.execute_script("return location.hash") == "#results"
    assert browser.switch_to.active_element.get_attribute("id") == "results"


def test_bad_date_is_named_by_its_label_in_arabic(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/?q=قمة")
    since = browser.find_element(By.ID, "since")
    since.send_keys("٢٠٢٥-١٣-٠١")
    navigate(browser, browser.find_element(By.ID, "go"))
    error = browser.find_element(By.ID, "error").text
    assert "«من تاريخ»" in error and "since" not in error
    assert browser.find_element(By.ID, "since").get_attribute("aria-invalid") == "true"
    since = browser.find_element(By.ID, "since")
    since.clear()
    since.send_keys("٢٠٢٠-٠١-٠١")
    navigate(browser, browser.find_element(By.ID, "go"))
    assert not browser.find_elements(By.ID, "error")
    assert browser.find_element(By.ID, "since").get_attribute("value") == "2020-01-01"


def test_article_page_leads_back_to_the_search_in_a_browser(
    browser: WebDriver, base_url: str
) -> None:
    browser.get(base_url + "/?q=سمرقند&topic=sco-summit&ui=en")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "#hits .hit h2 a"))
    assert browser.find_element(By.TAG_NAME, "h1").text
    browser.find_element(By.CSS_SELECTOR, "#metadata summary").click()
    metadata = browser.find_element(By.ID, "metadata").text
    assert "Published" in metadata and "None" not in metadata
    navigate(browser, browser.find_element(By.ID, "back"))
    assert browser.find_element(By.ID, "q").get_attribute("value") == "سمرقند"
    assert "topic=sco-summit" in browser.current_url and "ui=en" in browser.current_url


def test_download_shows_the_dataset_card_first(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/?q=قمة")
    total = int(browser.find_element(By.CSS_SELECTOR, "#total strong").text)
    navigate(browser, browser.find_element(By.ID, "download"))
    assert int(browser.find_element(By.ID, "card-rows").text) == total
    first = browser.find_element(By.CSS_SELECTOR, "#downloads a.download")
    assert first.get_attribute("data-kind") == "csv_bom" and "bom=true" in first.get_attribute(
        "href"
    )
    assert first.get_attribute("download").startswith("arshif-قمة-")


def test_chart_bars_narrow_the_dates_by_click_and_drag(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/?q=قمة&since=2022-09-01&until=2022-09-30")
    columns = browser.find_elements(By.CSS_SELECTOR, "#chart .wide a.col")
    assert len(columns) == 30
    navigate(browser, columns[14])
    assert "since=2022-09-15" in browser.current_url and "until=2022-09-15" in browser.current_url
    assert browser.find_element(By.ID, "since").get_attribute("value") == "2022-09-15"

    browser.get(base_url + "/?q=قمة&since=2022-09-01&until=2022-09-30")
    columns = browser.find_elements(By.CSS_SELECTOR, "#chart .wide a.col .hit-area")
    drag = ActionChains(browser).click_and_hold(columns[20]).move_to_element(columns[10])
    after_navigation(browser, drag.release().perform)
    assert "since=2022-09-11" in browser.current_url and "until=2022-09-21" in browser.current_url


def test_chart_reads_on_a_phone_with_a_legend(browser: WebDriver, base_url: str) -> None:
    viewport(browser, 390, 844)
    try:
        browser.get(base_url + "/?q=قمة")
        assert not browser.find_element(By.CSS_SELECTOR, "#chart .wide svg").is_displayed()
        svg = browser.find_element(By.CSS_SELECTOR, "#chart .narrow svg")
        assert svg.is_displayed() and svg.size["width"] <= 390
        ticks = svg.find_elements(By.TAG_NAME, "text")
        heights = [t.rect["height"] for t in ticks if t.text.strip()]
        assert heights and min(heights) >= 11  # about 12 px type, not 3 px
        assert any("٠" in t.text or "١" in t.text for t in ticks)  # Arabic-Indic digits
        assert "أخبار العينة" in browser.find_element(By.ID, "legend").text
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 390
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_chart_compares_queries_and_switches_to_share(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/?q=بوتين&ui=en")
    box = browser.find_element(By.CSS_SELECTOR, "input.compare")
    box.send_keys("مودي")
    navigate(browser, browser.find_element(By.ID, "go"))
    legend = browser.find_element(By.ID, "legend").text
    assert "بوتين" in legend and "مودي" in legend
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart .wide polyline")) == 2
    navigate(browser, browser.find_element(By.ID, "measure-share"))
    assert "measure=share" in browser.current_url and "compare=" in browser.current_url
    assert "Share of all articles" in browser.find_element(By.CSS_SELECTOR, "#chart .wide").text


def test_presets_typed_dates_chips_and_clear_all(browser: WebDriver, base_url: str) -> None:
    from datetime import date, timedelta

    browser.get(base_url + "/?q=قمة&ui=en")
    navigate(browser, browser.find_element(By.CSS_SELECTOR, '#presets a[data-preset="30d"]'))
    since = browser.find_element(By.ID, "since").get_attribute("value")
    assert since == (date.today() - timedelta(days=30)).isoformat()
    for field, typed in (("since", "١٥/٠٩/٢٠٢٢"), ("until", "2022/9/16")):
        box = browser.find_element(By.ID, field)
        box.clear()
        box.send_keys(typed)
    navigate(browser, browser.find_element(By.ID, "go"))
    assert browser.find_element(By.ID, "since").get_attribute("value") == "2022-09-15"
    assert browser.find_element(By.ID, "until").get_attribute("value") == "2022-09-16"
    total = int(browser.find_element(By.CSS_SELECTOR, "#total strong").text)
    chips = browser.find_elements(By.CSS_SELECTOR, "#chips a.chip")
    assert [c.text.split(":")[0] for c in chips] == ["From", "To"]
    navigate(browser, chips[1])  # remove "To"
    assert "until=" not in browser.current_url and "since=2022-09-15" in browser.current_url
    assert int(browser.find_element(By.CSS_SELECTOR, "#total strong").text) >= total
    navigate(browser, browser.find_element(By.ID, "clear-all"))
    assert not browser.find_elements(By.ID, "chips") and "q=" in browser.current_url


def test_sort_help_permalink_and_saved_search(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/?q=قمة")
    help_panel = browser.find_element(By.ID, "help")
    assert not help_panel.find_element(By.TAG_NAME, "table").is_displayed()
    help_panel.find_element(By.TAG_NAME, "summary").click()
    assert "OR" in help_panel.text and "title:" in help_panel.text
    Select(browser.find_element(By.ID, "sort")).select_by_value("oldest")
    navigate(browser, browser.find_element(By.ID, "go"))
    dates = [
        e.get_attribute("datetime") for e in browser.find_elements(By.CSS_SELECTOR, "#hits time")
    ]
    assert dates == sorted(dates) and "sort=oldest" in browser.current_url
    permalink = browser.find_element(By.ID, "permalink").get_attribute("href")
    assert "sort=oldest" in permalink and "q=" in permalink
    name = browser.find_element(By.ID, "save-name")
    name.clear()
    name.send_keys("قمم بالترتيب")
    navigate(browser, browser.find_element(By.ID, "save"))
    browser.get(base_url + "/")
    link = browser.find_element(By.LINK_TEXT, "قمم بالترتيب")
    navigate(browser, link)
    assert browser.current_url == permalink
    item = browser.find_element(By.XPATH, "//section[@id='saved']//li[a[text()='قمم بالترتيب']]")
    navigate(browser, item.find_element(By.TAG_NAME, "button"))
    assert not browser.find_elements(By.LINK_TEXT, "قمم بالترتيب")


def test_story_view_and_words_view_in_a_browser(browser: WebDriver, base_url: str) -> None:
    browser.get(base_url + "/?q=سمرقند")
    total = int(browser.find_element(By.CSS_SELECTOR, "#total strong").text)
    navigate(browser, browser.find_element(By.CSS_SELECTOR, '#views a[data-view="stories"]'))
    rows = browser.find_elements(By.CSS_SELECTOR, "#stories tbody tr")
    sizes = [int(r.find_elements(By.TAG_NAME, "td")[-1].text) for r in rows]
    assert sum(sizes) == total and sizes == sorted(sizes, reverse=True)
    assert "أخبار العينة" in rows[0].text
    navigate(browser, browser.find_element(By.CSS_SELECTOR, '#views a[data-view="words"]'))
    cloud = browser.find_elements(By.CSS_SELECTOR, "#top_words .cloud span")
    sizes = {s.text: float(s.value_of_css_property("font-size")[:-2]) for s in cloud}
    top = browser.find_element(By.CSS_SELECTOR, "#top_words ol li a").text
    assert sizes and sizes[top] == max(sizes.values())  # the most used word is drawn largest
    navigate(browser, browser.find_element(By.CSS_SELECTOR, "#top_words ol li a"))
    assert browser.find_element(By.ID, "q").get_attribute("value").startswith('سمرقند "')


def test_article_show_all_pages_the_story_mates(
    browser: WebDriver, base_url: str, articles: list[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    import arshif.web.app as web

    monkeypatch.setattr(web, "CAP", 1)  # the sample's stories are small: cap them at one
    monkeypatch.setattr(web, "ALL_PAGE", 2)
    busiest = max(articles, key=lambda a: sum(b["story_id"] == a["story_id"] for b in articles))
    browser.get(f"{base_url}/article/{busiest['id']}")
    mates = browser.find_element(By.ID, "story-mates")
    assert len(mates.find_elements(By.CSS_SELECTOR, "ul li a")) == 1
    navigate(browser, mates.find_element(By.CSS_SELECTOR, "a.show-all"))
    seen = set()
    while True:
        mates = browser.find_element(By.ID, "story-mates")
        links = mates.find_elements(By.CSS_SELECTOR, "ul li a")
        assert 1 <= len(links) <= 2
        seen |= {a.get_attribute("href") for a in links}
        following = mates.find_elements(By.CSS_SELECTOR, "a.next")
        if not following:
            break
        navigate(browser, following[0])
    total = int(mates.find_element(By.TAG_NAME, "h2").text.split("(")[1].rstrip(")"))
    assert len(seen) == total > 2
