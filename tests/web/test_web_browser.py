"""The search page in headless Chromium (Debian's chromium and chromium-driver, driven by
Selenium; no browser download): type an Arabic query, filter by topic, switch dedup on, open
an article. A screenshot of the results page is saved under test-artifacts/."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from arshif.web.app import create_app
from tests.conftest import ROOT
from tests.test_dedup_e2e import COPY, ORIGINAL

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = pytest.mark.skipif(
    not (CHROMIUM and DRIVER),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(web_home: Path) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1, in a thread of the test process."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(web_home), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}", "--window-size=1280,1600",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.implicitly_wait(5)
    yield driver
    driver.quit()


def navigate(driver: WebDriver, element: WebElement) -> None:
    """Click a link or button and wait until the next page has replaced this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 10).until(expected_conditions.staleness_of(page))


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
    assert "sco-summit" in browser.find_element(By.ID, "topics").text
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
        assert "no searchable words" in browser.find_element(By.ID, "error").text
        browser.get(base_url + "/?q=" + "بوتين")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= browser.execute_script("return window.innerWidth")
    finally:
        browser.set_window_size(1280, 1600)
