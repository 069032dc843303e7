"""A real browser for the web tests and the screenshot script: the app served by uvicorn on
127.0.0.1 in a thread, headless Debian chromium driven by Selenium (no browser download), and
axe-core (from npm, vendored into tests/web/vendor/ on first use) to check accessibility."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
AXE = Path(__file__).with_name("vendor") / "axe.min.js"
AXE_PACKAGE = "axe-core@4"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """The app on a free 127.0.0.1 port for the duration; yields its base URL."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def chrome(profile: Path, width: int = 1280, height: int = 1600) -> WebDriver:
    """Headless chromium that talks to nothing but the pages it is sent to."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", f"--user-data-dir={profile}", f"--window-size={width},{height}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=DRIVER))
    driver.implicitly_wait(5)
    return driver


def viewport(driver: WebDriver, width: int, height: int) -> None:
    """Lay the page out at exactly width x height CSS pixels, as a phone of that size would
    (a headless window cannot be made narrower than about 500 px)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def navigate(driver: WebDriver, element: WebElement) -> None:
    """Click a link or button and wait until the next page has replaced this one."""
    after_navigation(driver, element.click)


def after_navigation(driver: WebDriver, act: Callable[[], object]) -> None:
    """Run act (a click, a drag) and wait until a new document has fully loaded.

    The old page is marked with a window property that only a new document lacks: asking
    whether an element of the old page went stale can itself fail mid-swap ("node does not
    belong to the document"), a marker cannot."""
    driver.execute_script("window.__arshifOldPage = true")
    act()

    def loaded(d: WebDriver) -> bool:
        return bool(
            d.execute_script("return !window.__arshifOldPage && document.readyState === 'complete'")
        )

    WebDriverWait(driver, 15, ignored_exceptions=(WebDriverException,)).until(loaded)


def axe_source() -> str | None:
    """axe.min.js, packed from npm into tests/web/vendor/ the first time; None without npm."""
    if not AXE.exists():
        npm = shutil.which("npm")
        if npm is None:
            return None
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                [npm, "pack", AXE_PACKAGE, "--pack-destination", tmp],
                capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            packs = list(Path(tmp).glob("axe-core-*.tgz"))
            if done.returncode != 0 or not packs:
                return None
            with tarfile.open(packs[0]) as tar:
                member = tar.extractfile("package/axe.min.js")
                assert member is not None
                AXE.parent.mkdir(exist_ok=True)
                AXE.write_bytes(member.read())
    return AXE.read_text(encoding="utf-8")


def axe_violations(driver: WebDriver, source: str) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA violations on the current page: [{id, help, nodes}]."""
    driver.execute_script(source)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));"
    )
    return list(result)
