"""The search page in headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium; no browser download): type an Arabic query, filter by topic, switch dedup on, open
an article. A screenshot of the results page is saved under test-artifacts/."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from indexer.topics import load_topics
from tests.conftest import ROOT
from tests.test_dedup_e2e import COPY, ORIGINAL
from tests.web.browser import CHROMIUM, DRIVER, navigate

ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


def hit_titles(driver: WebDriver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#hits .hit h2 a")]


def test_search_filter_dedup_and_article_in_a_browser(
    browser: WebDriver, base_url: str, articles: list[dict]
) -> None:
    original = next(a for a in articles if a["url"].endswith(ORIGINAL))
    copy = next(a for a in articles if a["url"].endswith(COPY))
    browser.get(base_url + "/")
    assert browser.execute_script("return getComputedStyle(document.body).direction") == "rtl"

    box = browser.find_element(By.ID, "q")
    box.send_keys("بوتين")
    navigate(browser, browser.find_element(By.ID, "go"))
    titles = hit_titles(browser)
    assert original["title"] in titles and copy["title"] in titles
    assert browser.find_elements(By.CSS_SELECTOR, "#hits mark")
    before = int(browser.find_element(By.ID, "total").text.split()[0])

    Select(browser.find_element(By.ID, "topic")).select_by_value("sco-summit")
    navigate(browser, browser.find_element(By.ID, "go"))
    assert "topic=sco-summit" in browser.current_url
    on_topic = {a["title"] for a in articles if "sco-summit" in a["topics"]}
    assert set(hit_titles(browser)) <= on_topic
    assert 0 < int(browser.find_element(By.ID, "total").text.split()[0]) <= before

    browser.find_element(By.ID, "dedup").click()
    navigate(browser, browser.find_element(By.ID, "go"))
    titles = hit_titles(browser)
    assert original["title"] in titles and copy["title"] not in titles
    hit = browser.find_element(By.CSS_SELECTOR, f'.hit[data-id="{original["id"]}"]')
    dups = hit.find_element(By.CSS_SELECTOR, "details.dups")
    assert not dups.find_element(By.TAG_NAME, "ul").is_displayed()
    dups.find_element(By.TAG_NAME, "summary").click()
    assert copy["title"] in dups.find_element(By.TAG_NAME, "ul").text
    assert browser.find_element(By.CSS_SELECTOR, "#chart svg rect")
    ARTIFACTS.mkdir(exist_ok=True)
    assert browser.save_screenshot(str(ARTIFACTS / "web-results.png"))

    navigate(browser, hit.find_element(By.CSS_SELECTOR, "h2 a"))
    assert browser.find_element(By.ID, "article-title").text == original["title"]
    topic = browser.find_element(By.CSS_SELECTOR, '#topics a[data-topic="sco-summit"]')
    assert topic.text == load_topics().topics["sco-summit"].labels["ar"]
    assert copy["title"] in browser.find_element(By.ID, "near-dups").text
    mates = browser.find_element(By.ID, "story-mates").text
    assert any(a["title"] in mates for a in articles if a["story_id"] == original["story_id"])

    navigate(browser, browser.find_element(By.ID, "ui-toggle"))
    assert browser.execute_script("return document.documentElement.dir") == "ltr"
    assert "Near-duplicates" in browser.find_element(By.ID, "near-dups").text


def test_bad_input_and_phone_width_in_a_browser(browser: WebDriver, base_url: str) -> None:
    browser.set_window_size(390, 844)
    try:
        browser.get(base_url + "/")
        browser.find_element(By.ID, "q").send_keys("؟!…")
        navigate(browser, browser.find_element(By.ID, "go"))
        assert "لا كلمات يُبحث عنها" in browser.find_element(By.ID, "error").text
        browser.get(base_url + "/?q=" + "بوتين")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")
    finally:
        browser.set_window_size(1280, 1600)
