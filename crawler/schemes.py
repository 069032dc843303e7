"""One rule for every URL the crawl or `arshif outlets check` may fetch: http or https.

A feed item, a sitemap entry, a link, a redirect or a meta refresh can name any scheme.
Scrapy would read `file://` from the local disk (whatever host the URL names), connect
over `ftp://` (past the address guard, which knows only http) and decode `data:` into a
page, and the archive would keep and serve what it got. So a downloader middleware
refuses every other scheme before anything else sees the request, counted as a skip;
the configuration is checked by the same function (arshif/urls.py `scheme_refusal`), and the download
handlers for other schemes are switched off as well (crawler/settings.py).
"""

from __future__ import annotations

import logging
from typing import Self

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from arshif.urls import WEB_SCHEMES, scheme_refusal

logger = logging.getLogger(__name__)

STAT = "arshif/skip/scheme"


class SchemeGuardMiddleware:
    """Refuses requests whose URL is not http(s), whatever made them."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        scheme = urlparse_cached(request).scheme.lower()
        why = None if scheme in WEB_SCHEMES else scheme_refusal(request.url)
        if why is None:
            return None
        self.crawler.stats.inc_value(STAT)
        level = logging.DEBUG if scheme in self.warned else logging.WARNING
        self.warned.add(scheme)
        logger.log(level, "Not fetching %s: %s", request.url[:200], why)
        raise IgnoreRequest(why)
