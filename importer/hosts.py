"""Which catalogue outlet a URL belongs to, by host name: the outlet's domains and their
subdomains. One dictionary lookup per label of the host, so a WARC of millions of records
of other sites is sorted cheaply."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from crawler.outlets import Outlet


def url_host(url: str) -> str:
    """The host of a URL, lowercased, without `www.`; "" when it has none."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return ""
    return host.removeprefix("www.")


class OutletHosts:
    def __init__(self, outlets: Iterable[Outlet]) -> None:
        self._by_domain: dict[str, Outlet] = {}
        for outlet in outlets:
            for domain in outlet.domains:
                self._by_domain.setdefault(domain.lower().removeprefix("www."), outlet)

    def match(self, url: str) -> Outlet | None:
        host = url_host(url)
        while host:
            outlet = self._by_domain.get(host)
            if outlet is not None:
                return outlet
            _, _, host = host.partition(".")
        return None
