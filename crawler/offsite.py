"""Keep each crawl on its outlet's allowed domains, redirects and listing pages included.

Scrapy's OffsiteMiddleware lets any request with `dont_filter` through, and a redirect
keeps the flag of the request it came from. Feeds, sitemaps and start pages are requested
with `dont_filter` (they are fetched on every crawl), so a feed redirected to another site,
or a sitemap index naming another site's sitemaps, would lead the crawler away. Here
`dont_filter` does not matter: a request leaves the outlet's domains only when its URL is
one the outlet's configuration names, or when it carries the `allow_offsite` meta key. To
crawl another domain, add it to the outlet's `allowed_domains`.
"""

from __future__ import annotations

from scrapy import Request, Spider
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware


class OutletOffsiteMiddleware(OffsiteMiddleware):
    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        if request.dont_filter:
            if request.url in self._configured_urls():
                return None
            # Scrapy's check without its dont_filter exemption (a copy only for these few).
            request = request.replace(dont_filter=False)
        return super().process_request(request)

    def _configured_urls(self) -> set[str]:
        urls = getattr(self, "_urls", None)
        if urls is None:
            outlet = getattr(self.crawler.spider, "outlet", None)
            urls = set(outlet.entry_urls) if outlet is not None else set()
            self._urls = urls
        return urls
