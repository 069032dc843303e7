"""Shared fixtures: a copy of the sample outlet served on 127.0.0.1, and a way to run the
real `arshif` command in a child process (Scrapy's reactor runs once per process)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.sample_server import SampleServer, load_manifest, sample_site_dir
from tests.services import (  # noqa: F401 (fixtures)
    postgres_server,
    postgres_url,
    redis_server,
    redis_url,
    s3_bucket,
    s3_server,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A private copy of the sample site, so a test may add or change pages."""
    return Path(shutil.copytree(sample_site_dir(), tmp_path / "site"))


@pytest.fixture
def server(site: Path) -> Iterator[SampleServer]:
    with SampleServer(root=site) as srv:
        yield srv


@pytest.fixture
def manifest() -> dict:
    return load_manifest()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "data"


def run_arshif(home: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run `arshif ARGS` as a user would, with its own data folder."""
    env = {**os.environ, "ARSHIF_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("ARSHIF_OUTLETS", None)
    return subprocess.run(
        [sys.executable, "-m", "arshif.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


FAST = ("--set", "DOWNLOAD_DELAY=0", "--set", "AUTOTHROTTLE_START_DELAY=0.05")


# bench/reliability.py names a file here; the reliability tests then append what they did
# (JSON lines) for its table. Unset, nothing is written.
REPORT_ENV = "ARSHIF_RELIABILITY_REPORT"
_examples: Counter[str] = Counter()


def reliability_fact(kind: str, **facts: Any) -> None:
    path = os.environ.get(REPORT_ENV)
    if path:
        # The test reporting it, so the report can pair facts with pass or fail.
        facts.setdefault("test", os.environ.get("PYTEST_CURRENT_TEST", "").rsplit(" ", 1)[0])
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"kind": kind, **facts}, ensure_ascii=False) + "\n")


def _counted(nodeid: str, test: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> Any:
        _examples[nodeid] += 1
        return test(*args, **kwargs)

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """For the report, count the examples each hypothesis property is run with."""
    if not os.environ.get(REPORT_ENV):
        return
    for item in items:
        handle = getattr(getattr(item, "obj", None), "hypothesis", None)
        if handle is not None:  # hypothesis calls `inner_test` once per example
            handle.inner_test = _counted(item.nodeid, handle.inner_test)


def pytest_sessionfinish(session: pytest.Session) -> None:
    for nodeid, examples in _examples.items():
        reliability_fact("property", test=nodeid, examples=examples)
