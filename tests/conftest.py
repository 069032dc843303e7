"""Shared fixtures: a copy of the sample outlet served on 127.0.0.1, and a way to run the
real `arshif` command in a child process (Scrapy's reactor runs once per process)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.sample_server import SampleServer, load_manifest, sample_site_dir

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
