"""Configuration a careless (or hostile) hand wrote: every mistake is one line naming the
file and the field, exit status 2, never a traceback, a hang or a silent acceptance
(issue #15, item 9). Through the real command line, in this process."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from arshif.cli import main
from tests.conftest import reliability_fact

OUTLET = """outlets:
  - id: daily
    name: Daily
    language: ar
    base_url: https://daily.example
    feeds: ["/rss.xml"]
"""
TOPIC = """id: floods
labels: {ar: فيضانات, en: Floods}
rules:
  - name: words
    any: [فيضان, سيول]
"""
SCHEDULE = """schedules:
  - name: hourly
    interval: 1h
    outlets: [sample]
"""
# 9 levels of 9 aliases each: 387 million strings once expanded.
BOMB = "".join(
    f"    l{n}: &l{n} [" + ", ".join([f"*l{n - 1}" if n else '"lol"'] * 9) + "]\n" for n in range(9)
)


OUTLET_CASES = [
    ("windows-1256", OUTLET.replace("Daily", "الأهرام").encode("cp1256"), "not UTF-8 text"),
    ("impossible date", OUTLET + "    confirmed: {date: 2026-02-30}\n", "confirmed.date"),
    ("file feed", OUTLET.replace('"/rss.xml"', '"file:///etc/passwd"'), "'feeds'"),
    ("ftp feed", OUTLET.replace('"/rss.xml"', '"ftp://127.0.0.1/x"'), "'feeds'"),
    ("data sitemap", OUTLET + '    sitemaps: ["data:text/xml,<urlset/>"]\n', "'sitemaps'"),
    ("duplicate key", OUTLET + "    language: en\n", "key 'language' is given twice"),
    ("alias bomb", OUTLET + "    extraction:\n" + BOMB, "aliases (*l0) are not allowed"),
]


TOPIC_CASES = [
    ("impossible since", TOPIC + "since: 2025-13-45\n", "since must be a real date"),
    ("far until", TOPIC + "until: 9999-12-31\n", "until must be from 1800-01-01"),
    (
        "nan density",
        TOPIC.replace("    any:", "    min_density: .nan\n    any:"),
        "min_density",
    ),
    (
        "inf density",
        TOPIC.replace("    any:", "    min_density: .inf\n    any:"),
        "min_density",
    ),
    ("duplicate key", TOPIC + "labels: {ar: x, en: y}\n", "key 'labels' is given twice"),
]


SCHEDULE_CASES = [
    ("huge interval", SCHEDULE.replace("1h", "99999999999999999999d"), "interval"),
    ("inf interval", SCHEDULE.replace("1h", ".inf"), "interval"),
    ("huge jitter", SCHEDULE + "    jitter: 99999999999999999999d\n", "jitter"),
    ("nan jitter", SCHEDULE + "    jitter: .nan\n", "jitter"),
    ("inf grace", SCHEDULE + "    grace_time: .inf\n", "grace_time"),
    ("nan grace", SCHEDULE + "    grace_time: .nan\n", "grace_time"),
    ("alias bomb", SCHEDULE + "    settings:\n" + BOMB, "aliases"),
    ("duplicate key", SCHEDULE + "    interval: 2h\n", "key 'interval' is given twice"),
]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    started = time.monotonic()
    code = main(list(args))
    took = time.monotonic() - started
    err = capsys.readouterr().err
    assert code == 2, err
    assert took < 10, f"took {took:.0f} s"
    message = " ".join(err.split())  # rich wraps long lines for the terminal
    assert message.startswith("error: ") and "Traceback" not in err
    return message


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("case", "text", "expected"), OUTLET_CASES, ids=[c[0] for c in OUTLET_CASES]
)
def test_outlet_file_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, text: str | bytes, expected: str
) -> None:
    path = write(tmp_path, "outlets.yaml", text)
    message = run(capsys, "outlets", "list", "--outlets", str(path))
    assert str(path) in message and expected in message, message
    reliability_fact("hostile", group="config", case=f"outlets: {case}")


@pytest.mark.parametrize(("case", "text", "expected"), TOPIC_CASES, ids=[c[0] for c in TOPIC_CASES])
def test_topic_file_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, text: str, expected: str
) -> None:
    path = write(tmp_path, "floods.yaml", text)
    message = run(capsys, "topics", "list", "--topics", str(path))
    assert str(path) in message and expected in message, message
    reliability_fact("hostile", group="config", case=f"topics: {case}")


@pytest.mark.parametrize(
    ("case", "text", "field"), SCHEDULE_CASES, ids=[c[0] for c in SCHEDULE_CASES]
)
def test_schedule_file_mistakes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str, text: str, field: str
) -> None:
    path = write(tmp_path, "hourly.yaml", text)
    message = run(capsys, "schedule", "list", "--schedules", str(path))
    assert str(path) in message, message
    assert f"field '{field}'" in message or field in message, message
    if case.startswith(("huge", "inf", "nan")):
        assert f"field '{field}': a duration must be positive and at most 366 days" in message
    reliability_fact("hostile", group="config", case=f"schedules: {case}")


@pytest.mark.parametrize("command", ["search", "export"])
@pytest.mark.parametrize("option", ["--until", "--since"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2025-02-30"])
def test_dates_out_of_range_at_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, option: str, day: str
) -> None:
    """`--until 9999-12-31` made the day after it overflow (a traceback, and a 500 from
    the web API: tests/web/test_web_api.py)."""
    args = ["x"] if command == "search" else ["--format", "csv", "-o", str(tmp_path / "x.csv")]
    message = run(capsys, "--data-dir", str(tmp_path), command, *args, option, day)
    assert f"error: {option} must be" in message and day in message, message


@pytest.mark.parametrize("url", ["file:///etc", "ftp://127.0.0.1:21/", "data:text/html,x"])
@pytest.mark.parametrize("command", [("crawl", "sample"), ("outlets", "check", "sample")])
def test_a_base_url_that_is_not_http_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str, command: tuple[str, ...]
) -> None:
    message = run(capsys, "--data-dir", str(tmp_path), *command, "--base-url", url)
    assert f"error: --base-url {url}: " in message and "only http and https" in message
