"""Run crawls of one or more outlets in this process with Scrapy's CrawlerProcess.

Scrapy's reactor starts once per process, so one call crawls all the outlets asked for,
side by side, each with its own job folder so an interrupted crawl resumes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from arshif.config import job_dir
from crawler.jobdir import claim
from crawler.outlets import load_outlets
from crawler.spiders.news import NewsSpider


def project_settings(home: Path, **overrides: Any) -> Settings:
    """Arshif's Scrapy settings for a data folder, with ARSHIF_*/Scrapy overrides."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ARSHIF_HOME", str(home), priority="cmdline")
    for name, value in overrides.items():
        if value is not None:
            settings.set(name, value, priority="cmdline")
    return settings


def crawl(
    outlet_ids: list[str],
    home: Path,
    *,
    base_url: str | None = None,
    outlets_path: Path | None = None,
    since: str | None = None,
    until: str | None = None,
    **overrides: Any,
) -> dict[str, dict[str, Any]]:
    """Crawl the outlets until done or stopped (only what is dated `since`..`until`, when
    given); returns each outlet's final Scrapy stats."""
    outlets = load_outlets(outlets_path)
    unknown = [o for o in outlet_ids if o not in outlets]
    if unknown:
        known = ", ".join(sorted(outlets))
        raise ValueError(f"unknown outlet(s): {', '.join(unknown)} (known: {known})")
    settings = project_settings(
        home, ARSHIF_OUTLETS=str(outlets_path) if outlets_path else None, **overrides
    )
    process = CrawlerProcess(settings)
    crawlers: dict[str, Crawler] = {}
    for n, oid in enumerate(outlet_ids):
        own = settings.copy()
        own.set("JOBDIR", str(job_dir(home, oid)), priority="cmdline")
        claim(job_dir(home, oid))  # here, so a busy folder is a plain error, not a traceback
        # The first crawler installs the reactor, as CrawlerProcess does for its own.
        crawler = Crawler(NewsSpider, own, init_reactor=n == 0)
        crawlers[oid] = crawler
        process.crawl(crawler, outlet=oid, base_url=base_url, since=since, until=until)
    process.start()
    return {oid: c.stats.get_stats() for oid, c in crawlers.items()}
