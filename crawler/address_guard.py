"""Keep the crawler off private networks: a downloader middleware that refuses requests to
hosts resolving to private, loopback, link-local, shared, reserved, multicast or unspecified
addresses, and to cloud metadata services.

A page of an outlet (a link, a redirect, a sitemap entry) could otherwise point the crawler
at the machine it runs on or at the network behind it. Two things lift the rule:

- the outlet's own configuration: a request to exactly a host and port that its base_url,
  feeds, sitemaps or start pages name is allowed (so an outlet served on 127.0.0.1, like the
  bundled sample, works with no setting);
- ARSHIF_ALLOW_PRIVATE_ADDRESSES = True, for crawls of mirrors and test servers on a private
  network.

Every request passes here, redirect targets too: RedirectMiddleware hands a redirect back to
the engine, which sends it through the downloader middlewares again before it is fetched.
Host names are looked up in a thread (not blocking the reactor) once per crawl; a name that
does not resolve is let through, as the download then fails on its own.

The download looks the name up again, and a name can answer a public address to the first
look-up and a private one to the second (DNS rebinding). So the crawl's resolver
(`GuardedResolver`, Scrapy's TWISTED_DNS_RESOLVER) applies the rule once more to the address
the connection will use.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, ClassVar, Self
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.base import ReactorBase
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError
from twisted.internet.threads import deferToThread
from w3lib.url import safe_url_string

from arshif.urls import scheme_refusal

if TYPE_CHECKING:
    from crawler.outlets import Outlet

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata.goog"})
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
DEFAULT_PORTS = {"http": 80, "https": 443}
STAT = "arshif/skip/private_address"


def address_kind(ip: IPAddress) -> str | None:
    """Why an address is off limits ('loopback', 'private', ...), or None for a public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared", isinstance(ip, ipaddress.IPv4Address) and ip in SHARED),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("reserved", not ip.is_global),  # documentation, benchmarking, ... ranges
    )
    return next((kind for kind, hit in checks if hit), None)


def _ip_literal(host: str) -> IPAddress | None:
    """The address a host written as an IP literal names ('[::1]', 'fe80::1%eth0')."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def host_kind(host: str) -> str | None:
    """address_kind of an IP literal or a metadata host name; None for other names."""
    host = host.strip("[]").rstrip(".").lower()
    if host in METADATA_HOSTS:
        return "cloud metadata"
    ip = _ip_literal(host)
    return address_kind(ip) if ip is not None else None


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    found: list[IPAddress] = []
    for info in infos:
        try:
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except ValueError:
            continue
    return found


def _endpoint(scheme: str, host: str | None, port: int | None) -> tuple[str, int]:
    return (host or "").lower(), port or DEFAULT_PORTS.get(scheme, 0)


def configured_endpoints(outlet: Outlet) -> set[tuple[str, int]]:
    """Host and port of every URL the outlet's configuration names."""
    found = set()
    for url in [*outlet.entry_urls, *([outlet.base_url] if outlet.base_url else [])]:
        parts = urlsplit(safe_url_string(url))  # as Scrapy's requests spell it (IDNA hosts)
        found.add(_endpoint(parts.scheme, parts.hostname, parts.port))
    return found


def host_verdict(host: str, port: int) -> str | None:
    """Why a host may not be fetched ('loopback', ...), or None; looks a name up (blocking)."""
    kind = host_kind(host)
    if kind is not None or _ip_literal(host) is not None:
        return kind  # a metadata name, or an IP literal: no lookup
    # One bad address is enough: the download may connect to any of them.
    return next((k for k in map(address_kind, _resolve(host, port)) if k is not None), None)


def refusal(url: str, configured: set[tuple[str, int]]) -> str | None:
    """The middleware's rule for plain HTTP clients (`arshif outlets check`): why `url` may
    not be fetched, or None. Only http(s) URLs pass (crawler/schemes.py)."""
    why = scheme_refusal(url)
    if why:
        return why
    parts = urlsplit(safe_url_string(url))
    host, port = _endpoint(parts.scheme, parts.hostname, parts.port)
    if (host, port) in configured:
        return None
    why = host_verdict(host, port)
    return f"{host} is a {why} address" if why else None


def _warn_once(warned: set[str], host: str, message: str, *args: object) -> None:
    """A warning the first time a host is refused, debug after: a line a host, not a URL."""
    logger.log(logging.DEBUG if host in warned else logging.WARNING, message, *args)
    warned.add(host)


class AddressGuardMiddleware:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.configured: set[tuple[str, int]] | None = None
        self.verdicts: dict[str, str | None] = {}  # host -> why refused (None: allowed)
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if crawler.settings.getbool("ARSHIF_ALLOW_PRIVATE_ADDRESSES"):
            raise NotConfigured("ARSHIF_ALLOW_PRIVATE_ADDRESSES: private addresses allowed")
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        parts = urlparse_cached(request)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            return None
        if self.configured is None:  # the spider, and so its outlet, exists by now
            outlet = getattr(self.crawler.spider, "outlet", None)
            self.configured = configured_endpoints(outlet) if outlet else set()
        host, port = _endpoint(parts.scheme, parts.hostname, parts.port)
        if (host, port) in self.configured:
            return None
        if host not in self.verdicts:  # looked up in a thread: the reactor must not block
            lookup = deferToThread(host_verdict, host, port)
            self.verdicts[host] = await maybe_deferred_to_future(lookup)
        why = self.verdicts[host]
        if why is None:
            return None
        self.crawler.stats.inc_value(STAT)
        _warn_once(
            self.warned,
            host,
            "Not fetching %s: %s is a %s address (not named by the outlet's configuration; "
            "ARSHIF_ALLOW_PRIVATE_ADDRESSES=True allows it)",
            request.url,
            host,
            why,
        )
        raise IgnoreRequest(f"{host} is a {why} address")


class GuardedResolver(CachingThreadedResolver):
    """Scrapy's caching resolver that will not hand a download a private address: the rule
    checked on the address the connection uses, not on an earlier look-up of the name.
    IP literals (checked by the middleware, they cannot change) and the host names an
    outlet's configuration names pass."""

    # Host names the outlets' configurations give, added by the crawls' spiders: the reactor
    # has one resolver for every crawl of the process.
    configured: ClassVar[set[str]] = set()

    def __init__(self, reactor: ReactorBase, cache_size: int, timeout: float) -> None:
        super().__init__(reactor, cache_size, timeout)
        self.allow_private = False  # from the settings, by from_crawler
        self.warned: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: ReactorBase) -> Self:
        resolver = super().from_crawler(crawler, reactor)
        resolver.allow_private = crawler.settings.getbool("ARSHIF_ALLOW_PRIVATE_ADDRESSES")
        return resolver

    @classmethod
    def allow_names(cls, names: Iterable[str]) -> None:
        cls.configured.update(name.lower() for name in names)

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        found = super().getHostByName(name, timeout)
        trusted = _ip_literal(name) is not None or name.rstrip(".").lower() in self.configured
        if not (self.allow_private or trusted):
            found.addCallback(self._checked, name)
        return found

    def _checked(self, address: str, name: str) -> str:
        why = address_kind(ipaddress.ip_address(address))
        if why:
            # Logged here: Twisted reports any failed look-up to Scrapy as "no results".
            _warn_once(
                self.warned,
                name,
                "Not connecting to %s: it now resolves to %s, a %s address "
                "(ARSHIF_ALLOW_PRIVATE_ADDRESSES=True allows it)",
                name,
                address,
                why,
            )
            raise DNSLookupError(f"{name} resolves to a {why} address")
        return address
