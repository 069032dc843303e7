"""One real archive for every web test: the sample outlet, plus a syndicated copy of one
article (so dedup has a near-duplicate to show), crawled once per test session through the
`arshif` command line into a temporary data folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from selenium.webdriver.remote.webdriver import WebDriver

from arshif.config import archive_path
from arshif.web.app import create_app
from crawler.sample_server import SampleServer, load_manifest, sample_site_dir
from indexer.archive import Archive
from tests.conftest import FAST, run_arshif
from tests.test_dedup_e2e import add_syndicated_copy
from tests.web.browser import chrome, serve


@pytest.fixture(scope="session")
def web_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web")
    site = Path(shutil.copytree(sample_site_dir(), folder / "site"))
    add_syndicated_copy(site, load_manifest())
    home = folder / "data"
    with SampleServer(root=site) as server:
        result = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert result.returncode == 0, result.stderr[-3000:]
    return home


@pytest.fixture(scope="session")
def client(web_home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(web_home)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def articles(web_home: Path) -> list[dict]:
    with Archive(archive_path(web_home)) as archive:
        return [a.to_dict() for a in archive.iter_articles()]


@pytest.fixture(scope="session")
def base_url(web_home: Path) -> Iterator[str]:
    """The app served by uvicorn on 127.0.0.1, in a thread of the test process."""
    with serve(create_app(web_home)) as url:
        yield url


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    driver = chrome(tmp_path_factory.mktemp("chromium"))
    yield driver
    driver.quit()
