"""`arshif search` output: piped or redirected it is never wrapped (a URL stays whole for grep
and scripts); on a terminal it wraps at the terminal's width; `--format csv` and `--json`."""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from tests.conftest import ROOT, run_arshif


def test_piped_search_keeps_every_url_on_one_line(web_home: Path, articles: list[dict]) -> None:
    result = run_arshif(web_home, "search", "قمة", "--limit", "50")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    urls = [line.strip() for line in lines if line.strip().startswith("http")]
    assert urls and set(urls) <= {a["url"] for a in articles}
    assert any(len(line) > 80 for line in lines)  # long lines are not cut at 80 columns


def test_terminal_search_wraps_at_the_terminal_width(web_home: Path) -> None:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
    env = {**os.environ, "ARSHIF_HOME": str(web_home), "COLUMNS": "", "TERM": "xterm"}
    env.pop("COLUMNS")
    process = subprocess.Popen(
        [sys.executable, "-m", "arshif.cli", "search", "قمة", "--limit", "3"],
        stdout=slave, stderr=subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert process.wait(60) == 0
    os.close(master)
    ansi = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x1b]*\x1b\\")
    text = ansi.sub("", b"".join(chunks).decode())
    lines = text.replace("\r", "").splitlines()
    assert len(lines) > 6 and max(len(line) for line in lines) <= 50


def test_search_as_csv_and_json(web_home: Path) -> None:
    as_json = json.loads(run_arshif(web_home, "search", "قمة", "--json").stdout)
    table = run_arshif(web_home, "search", "قمة", "--format", "csv")
    assert table.returncode == 0, table.stderr
    rows = list(csv.DictReader(io.StringIO(table.stdout)))
    assert [r["id"] for r in rows] == [h["id"] for h in as_json["hits"]]
    assert rows[0]["rank"] == "1" and rows[0]["url"].startswith("http")
    assert "[" not in rows[0]["snippet"]  # no highlight markers in a spreadsheet
    same = json.loads(run_arshif(web_home, "search", "قمة", "--format", "json").stdout)
    assert same == as_json
