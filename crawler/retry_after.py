"""Honour `Retry-After` on 429 and 503 responses before Scrapy's RetryMiddleware retries.

Sits just outside RetryMiddleware (responses pass through it first): when the response will be
retried and names a delay of at most ARSHIF_RETRY_AFTER_MAX seconds, it waits that long
without blocking the reactor, then hands the response on to be retried. A longer delay (or an
HTTP date beyond the cap) is not waited for; Scrapy's usual retry applies.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

logger = logging.getLogger(__name__)

STATUSES = (429, 503)


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds named by a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class RetryAfterMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("RETRY_ENABLED"):
            raise NotConfigured
        self.crawler = crawler
        self.cap = settings.getfloat("ARSHIF_RETRY_AFTER_MAX", 60.0)
        self.max_retry_times = settings.getint("RETRY_TIMES")
        self.retry_codes = {int(x) for x in settings.getlist("RETRY_HTTP_CODES")}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Response:
        if response.status not in STATUSES or response.status not in self.retry_codes:
            return response
        if request.meta.get("dont_retry", False):
            return response
        retries = request.meta.get("retry_times", 0)
        if retries >= request.meta.get("max_retry_times", self.max_retry_times):
            return response  # RetryMiddleware gives up: no point waiting
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None or delay <= 0 or delay > self.cap:
            return response
        logger.info("%s: Retry-After %.0f s, waiting before the retry", request.url, delay)
        self.crawler.stats.inc_value("arshif/retry_after/waited")
        await asyncio.sleep(delay)
        return response
