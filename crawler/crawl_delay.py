"""Honour robots.txt `Crawl-delay`, which Scrapy's RobotsTxtMiddleware reads but ignores.

When a site's robots.txt gives a Crawl-delay for Arshif's User-Agent (or for `*`), the
download slot of that host gets at least that delay between two requests, with no random
variation below it. AutoThrottle adjusts slot delays after every response; the floor is put
back right after it does and again before each request is queued, so it never goes lower.
Needs ROBOTSTXT_OBEY (the delay comes from the robots.txt that Scrapy fetches anyway).
"""

from __future__ import annotations

import logging
from typing import Any, Self

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

logger = logging.getLogger(__name__)


class CrawlDelay:
    def __init__(self, crawler: Crawler) -> None:
        if not crawler.settings.getbool("ROBOTSTXT_OBEY"):
            raise NotConfigured
        self.crawler = crawler
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or ""
        self.delays: dict[str, float] = {}  # download slot key -> seconds

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        ext = cls(crawler)
        # Connected after AutoThrottle (an extension built before this one), so on each
        # response this runs after AutoThrottle has changed the delay.
        crawler.signals.connect(ext.robots_parsed, signal=signals.robots_parsed)
        crawler.signals.connect(ext.floor, signal=signals.request_reached_downloader)
        crawler.signals.connect(ext.floor, signal=signals.response_downloaded)
        return ext

    def robots_parsed(self, robotparser: Any, request: Request) -> None:
        agent = self.user_agent or request.headers.get(b"User-Agent") or ""
        if not agent:
            agent = self.crawler.settings.get("USER_AGENT", "")
        delay = robotparser.crawl_delay(agent)
        if not delay or delay <= 0:
            return
        downloader = self.crawler.engine.downloader
        key = downloader.get_slot_key(request)
        most = self.crawler.settings.getfloat("ARSHIF_MAX_CRAWL_DELAY")
        if float(delay) > most:  # `Crawl-delay: 1e308` would stop the crawl for good
            logger.warning(
                "robots.txt of %s asks for Crawl-delay %g s, more than ARSHIF_MAX_CRAWL_DELAY: "
                "waiting %g s between requests",
                key,
                delay,
                most,
            )
            delay = most
        delay = max(float(delay), self.delays.get(key, 0.0))
        self.delays[key] = delay
        # A slot made later (or again, after an idle one is dropped) starts with the delay.
        slot_settings = downloader.per_slot_settings.setdefault(key, {})
        slot_settings["delay"] = max(delay, float(slot_settings.get("delay", 0)))
        slot_settings["jitter"] = 0
        logger.info("robots.txt of %s asks for Crawl-delay %g s: obeyed", key, delay)
        self.crawler.stats.set_value(f"arshif/crawl_delay/{key}", delay)
        self.floor(request)

    def floor(self, request: Request, **kwargs: Any) -> None:
        """Raise the request's download slot to its Crawl-delay, if it has one."""
        if not self.delays:
            return
        downloader = self.crawler.engine.downloader
        key = request.meta.get(downloader.DOWNLOAD_SLOT) or downloader.get_slot_key(request)
        delay = self.delays.get(key)
        slot = downloader.slots.get(key)
        if delay is None or slot is None:
            return
        slot.jitter = 0
        if slot.delay < delay:
            slot.delay = delay
