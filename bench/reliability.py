"""Reliability table: what the reliability tests tried, and what was lost.

Runs tests/test_kill.py, tests/test_misbehaving_servers.py, tests/test_hostile_input.py,
tests/test_hostile_sources.py, tests/test_config_errors.py and tests/test_properties.py with
pytest, with ARSHIF_RELIABILITY_REPORT naming a file where the tests append what they did
(tests/conftest.py `reliability_fact`; hypothesis examples are counted there too). From that file and pytest's JUnit report it writes, to bench/RESULTS.md:
kills survived, fault kinds the hostile server served, hostile inputs tried per kind,
property examples per property, articles lost, and the peak memory of bench/memory.py's
last run (bench/memory_last.json). Every figure comes from the run; one that a test did not
report (it failed first) says so.

usage: python bench/reliability.py [-k EXPR]   (-k is passed to pytest, for a partial run)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import write_section  # noqa: E402

FILES = [
    "tests/test_kill.py",
    "tests/test_misbehaving_servers.py",
    "tests/test_hostile_input.py",
    "tests/test_hostile_sources.py",
    "tests/test_config_errors.py",
    "tests/test_properties.py",
]
MEMORY = Path(__file__).with_name("memory_last.json")
GROUPS = {  # hostile input kinds, as tests/test_hostile_input.py names them: label, tries
    "xml-entities": (
        "feeds and sitemaps with entity attacks (billion laughs, external and parameter entities)",
        "parses",
    ),
    "broken-xml": (
        "broken, truncated, mis-encoded or non-XML feeds and sitemaps",
        "parses (feed and sitemap parser each)",
    ),
    "huge-sitemap": ("huge sitemaps, streamed", "parses"),
    "sitemap-gzip-bomb": ("gzip-bomb sitemap", "parses"),
    "hostile-html": (
        "HTML built to break extraction (deep nesting, huge attributes, mixed encodings, ...)",
        "extractions (no, right and bogus declared charset each)",
    ),
    "regex-backtracking": (
        "pages opening with thousands of comments, and article_patterns that backtrack "
        "catastrophically (`(a+)+$` and one alternating a and aa), on 40-character links",
        "tries",
    ),
    "extract-budget": (
        "a page over its extraction budget (ARSHIF_EXTRACT_TIMEOUT), in the crawl process "
        "and in workers: skipped as extract/timeout, raw copy kept",
        "crawls",
    ),
    "url-schemes": (
        "file:, ftp: and data: URLs in feeds, sitemap indexes, links, redirects and meta "
        "refresh, in a crawl and in `outlets check`",
        "runs",
    ),
    "sitemap-loops": (
        "sitemap indexes listing themselves, each other and ever deeper indexes",
        "crawls",
    ),
    "slow-answers": (
        "a feed sent a byte at a time to `outlets check --timeout 2`; a robots.txt "
        "`Crawl-delay: 1e308`",
        "runs",
    ),
    "config": (
        "configuration files: not UTF-8, impossible dates, huge/.inf/.nan durations and "
        "densities, alias bombs, duplicate keys, file:/ftp:/data: feeds",
        "files",
    ),
}


def run_tests(report: Path, junit: Path, select: str | None) -> int:
    env = {**os.environ, "ARSHIF_RELIABILITY_REPORT": str(report)}
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    args += [f"--junitxml={junit}", *FILES]
    if select:
        args += ["-k", select]
    print(" ".join(args[2:]), flush=True)
    return subprocess.run(args, cwd=ROOT, env=env).returncode


def outcomes(junit: Path) -> dict[str, str]:
    """Each test's node id (`tests/test_x.py::name[param]`): passed, failed or skipped."""
    found: dict[str, str] = {}
    if not junit.exists():
        return found
    for case in ET.parse(junit).iter("testcase"):
        module = case.get("classname", "").replace(".", "/") + ".py"
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        found[f"{module}::{case.get('name')}"] = outcome
    return found


def read_facts(report: Path) -> list[dict]:
    if not report.exists():
        return []
    lines = report.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _result(tests: dict[str, str], facts: list[dict]) -> str:
    """How the tests that reported these facts ended."""
    counts = Counter(tests.get(node, "not in the report") for node in {f["test"] for f in facts})
    if not counts:
        return "not run"
    parts = [f"{counts['passed']} passed"]
    parts += [f"**{counts['failed']} failed**"] if counts["failed"] else []
    parts += [f"{counts['skipped']} skipped"] if counts["skipped"] else []
    parts += [f"{counts['not in the report']} unknown"] if counts["not in the report"] else []
    return ", ".join(parts)


def build(facts: list[dict], tests: dict[str, str], elapsed: float) -> tuple[str, int]:
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for fact in facts:
        by_kind[fact["kind"]].append(fact)
    rows, lost_total, lost_known = [], 0, True

    kills = by_kind.get("kill", [])
    if kills:
        k = kills[-1]
        lost_total += k["lost"]
        rows.append(
            (
                "SIGKILL of `arshif crawl` at seeded random points, restarted each time",
                f"{k['kills']} kills survived ({k['mid_crawl']} after article fetches began; "
                f"{k['finished']} runs ended on their own before a kill landed), then one run to "
                "the end",
                f"{k['lost']} of {k['articles']} articles lost",
                _result(tests, kills),
            )
        )
    else:
        lost_known = False
        rows.append(("SIGKILL at random points", "not reported", "not measured", "—"))

    faults = by_kind.get("faults", [])
    if faults:
        f = faults[-1]
        lost_total += f["lost"]
        served = [f"{p.strip('/').removesuffix('.html')} ×{n}" for p, n in f["hits"].items() if n]
        unserved = [p for p, n in f["hits"].items() if not n]
        errors = ", ".join(f"{k} {v}" for k, v in sorted(f["errors"].items())) or "none"
        tried = (
            f"{len(served)} fault kinds served (requests each): {', '.join(served)}"
            + (f"; {len(unserved)} never requested, as intended: {', '.join(unserved)}")
            * bool(unserved)
            + f". Crawl run errors by kind: {errors}"
        )
        rows.append(
            (
                "misbehaving server (one crawl against all faults)",
                tried,
                f"{f['lost']} of {f['reachable']} reachable articles lost",
                _result(tests, faults),
            )
        )
    else:
        lost_known = False
        rows.append(("misbehaving server", "not reported", "not measured", "—"))

    hostile = by_kind.get("hostile", [])
    per_group: dict[str, list[dict]] = defaultdict(list)
    for h in hostile:
        per_group[h["group"]].append(h)
    for group, (label, unit) in GROUPS.items():
        cases = per_group.get(group, [])
        documents = len({json.dumps(c["case"]) for c in cases})
        tried = f"{documents} document{'s' * (documents != 1)}"
        if len(cases) != documents:
            tried += f", {len(cases)} {unit}"
        rows.append(
            (f"hostile input: {label}", tried if cases else "not run", "—", _result(tests, cases))
        )

    properties = by_kind.get("property", [])
    total = sum(p["examples"] for p in properties)
    detail = ", ".join(
        f"`{p['test'].rsplit('::', 1)[-1]}` {p['examples']}"
        for p in sorted(properties, key=lambda p: p["test"])
    )
    rows.append(
        (
            "property tests (hypothesis)",
            f"{len(properties)} properties, {total:,} examples run: {detail}"
            if properties
            else "—",
            "—",
            _result(tests, properties),
        )
    )

    if MEMORY.exists():
        m = json.loads(MEMORY.read_text(encoding="utf-8"))
        stamp = datetime.fromtimestamp(MEMORY.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M")
        memory = (
            f"crawl process {m['peak_main_rss'] / 2**20:.0f} MB RSS, whole process tree "
            f"{m['peak_tree_pss'] / 2**20:.0f} MB PSS"
            + (
                f" ({m['peak_sum_rss'] / 2**20:.0f} MB adding up every process's RSS)"
                if "peak_sum_rss" in m
                else ""
            )
            + f", over a {m['pages']:,}-page crawl (bench/memory.py, {stamp} UTC; target "
            "under 500 MB)"
        )
    else:
        memory = "not measured: run bench/memory.py"

    table = [
        "| check | tried | lost | tests |",
        "|---|---|---|---|",
        *(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows),
    ]
    lost = f"**{lost_total}**" if lost_known else f"{lost_total} (incomplete: see above)"
    failed = sum(outcome == "failed" for outcome in tests.values())
    passed = sum(outcome == "passed" for outcome in tests.values())
    lines = [
        "`pytest` of " + ", ".join(f"`{f}`" for f in FILES) + f" ({passed} passed, "
        f"{failed} failed, {elapsed / 60:.0f} min); the figures are what the tests reported "
        "while running (ARSHIF_RELIABILITY_REPORT).",
        "",
        *table,
        "",
        f"Articles lost: {lost} (must be 0).",
        "",
        f"Peak memory: {memory}.",
    ]
    return "\n".join(lines), failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-k", dest="select", help="pytest -k expression (a partial run)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="arshif-reliability-") as scratch:
        report, junit = Path(scratch) / "facts.jsonl", Path(scratch) / "junit.xml"
        started = time.monotonic()
        code = run_tests(report, junit, args.select)
        elapsed = time.monotonic() - started
        text, failed = build(read_facts(report), outcomes(junit), elapsed)
    print(text)
    if not args.no_write and not args.select:
        write_section("Reliability (bench/reliability.py)", text)
    if code != 0 or failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
