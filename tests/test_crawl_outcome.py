"""A crawl that did nothing says so (issue #15, item 11): run from a folder that holds
another `arshif`, the extraction workers still import the installed one; a crawl in which
every request failed, or whose pages were all lost to its own errors, exits non-zero
with one line saying why; `arshif demo` checks that its archive is not empty."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.run import crawl_failure
from tests.conftest import FAST, run_arshif
from tests.test_crawl_bounds import outlets_file


def test_demo_from_a_folder_holding_another_arshif(tmp_path: Path) -> None:
    """`arshif demo` run from a home folder into which the project was cloned: the fork
    server of the extraction workers used to import ./arshif and fail on every page."""
    (tmp_path / "arshif").mkdir()
    (tmp_path / "arshif" / "__init__.py").write_text("")  # not the real package
    command = Path(sys.executable).with_name("arshif")
    env = {**os.environ, "ARSHIF_HOME": str(tmp_path / "data"), "PYTHONUNBUFFERED": "1"}
    env.pop("ARSHIF_OUTLETS", None)
    result = subprocess.run(
        [str(command), "demo"], capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "The archive holds 0 articles" not in result.stdout
    assert "BrokenProcessPool" not in result.stderr


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_crawl_whose_every_request_failed_exits_non_zero(tmp_path: Path, home: Path) -> None:
    path = outlets_file(tmp_path, f"http://127.0.0.1:{_closed_port()}")
    result = run_arshif(
        home, "crawl", "local", "--outlets", str(path), *FAST, "--set", "RETRY_ENABLED=False"
    )
    assert result.returncode == 1, result.stderr[-3000:]
    assert (
        "error: every request of the crawl of local failed (connection_refused 1); nothing "
        "was archived" in " ".join(result.stderr.split())
    )


@pytest.mark.parametrize(
    ("stats", "why"),
    [
        ({"arshif/archived/new": 3, "arshif/error/http_404": 9}, None),
        ({"arshif/skip/archived": 12}, None),  # nothing new: not a failure
        ({"downloader/response_status_count/200": 4, "arshif/drop/extract/no_article": 3}, None),
        (
            {"downloader/response_status_count/200": 4, "arshif/error/pipeline_exception": 3},
            "the crawl of x archived nothing: 3 fetched pages were lost to errors in Arshif "
            "itself (see the log above)",
        ),
        (
            {
                "downloader/response_status_count/200": 1,
                "robotstxt/response_status_count/200": 1,
                "arshif/error/http_404": 1,
            },
            "every request of the crawl of x failed (http_404 1); nothing was archived",
        ),
        ({"downloader/response_status_count/200": 2, "arshif/error/http_404": 3}, None),
        (
            {"spider_exceptions/SyntaxError": 1, "finish_reason": "start_error"},
            "the crawl of x archived nothing: the spider failed 1 times (finish: start_error; "
            "see the log above)",
        ),
    ],
)
def test_crawl_failure(stats: dict, why: str | None) -> None:
    assert crawl_failure("x", stats) == why
