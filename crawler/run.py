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
from crawler import workers
from crawler.jobdir import claim
from crawler.outlets import load_outlets
from crawler.spiders.news import NewsSpider
from crawler.workers import worker_count


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
    if base_url and outlet_ids:  # checked here: one line, not a Scrapy traceback
        outlets[outlet_ids[0]].with_base_url(base_url)
    settings = project_settings(
        home, ARSHIF_OUTLETS=str(outlets_path) if outlets_path else None, **overrides
    )
    if worker_count(settings.getint("ARSHIF_EXTRACT_WORKERS")) > 1:
        workers.start()  # before the reactor's threads: it sets the environment briefly
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


# Pages lost to Arshif's own errors: an exception in a pipeline (a broken worker pool, say),
# or a library failing inside extraction.
OWN_ERRORS = ("arshif/error/pipeline_exception", "arshif/drop/extract/extraction_failed")


def crawl_failure(outlet_id: str, stats: dict[str, Any]) -> str | None:
    """Why a crawl that ran has failed, in one line, or None. It failed when it archived
    nothing and either every request failed (no page but robots.txt answered 2xx) or pages
    were lost to its own errors. A crawl that found nothing new, or only pages that are not
    articles, has not failed."""
    if stats.get("arshif/archived/new", 0) or stats.get("arshif/archived/updated", 0):
        return None
    crashed = _total(stats, "spider_exceptions/")
    if crashed:
        return (
            f"the crawl of {outlet_id} archived nothing: the spider failed {crashed} times "
            f"(finish: {stats.get('finish_reason', '?')}; see the log above)"
        )
    own = sum(stats.get(key, 0) for key in OWN_ERRORS)
    if own:
        return (
            f"the crawl of {outlet_id} archived nothing: {own} fetched pages were lost to "
            "errors in Arshif itself (see the log above)"
        )
    failed = {
        k.removeprefix("arshif/error/"): v
        for k, v in stats.items()
        if k.startswith("arshif/error/")
    }
    answered = _total(stats, "downloader/response_status_count/2") - _total(
        stats, "robotstxt/response_status_count/2"
    )
    if failed and answered <= 0:
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(failed.items()))
        return f"every request of the crawl of {outlet_id} failed ({kinds}); nothing was archived"
    return None


def _total(stats: dict[str, Any], prefix: str) -> int:
    return sum(v for k, v in stats.items() if k.startswith(prefix))
