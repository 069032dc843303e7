"""Canonical article URLs and the article id derived from them.

One article is often reachable by several URLs (tracking parameters, AMP and mobile hosts,
a trailing slash); folding them keeps one record per article and makes every write
idempotent.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_TRACKING = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|igshid|_ga|_gl"
    r"|ocid|cmpid|ito|xtor|at_\w+|ns_\w+|sr_share|share|ref|ref_src|amp|outputtype)$",
    re.IGNORECASE,
)
_HOST_PREFIX = re.compile(r"^(www\d?|m|mobile|amp)\.")
_AMP_PATH = re.compile(r"(/amp/?$|^/amp(?=/)|\.amp(?=\.html?$))", re.IGNORECASE)


def canonical_url(url: str) -> str:
    """Fold the URL variants of one article into one form."""
    parts = urlsplit(canonicalize_url(url.strip(), keep_fragments=False))
    host = (parts.hostname or "").lower()
    host = _HOST_PREFIX.sub("", host)
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80)
        or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    path = _AMP_PATH.sub("", parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/;") or "/"  # as w3lib drops an empty ";params"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        ]
    )
    return urlunsplit((parts.scheme, host, path, query, ""))


def article_id(url: str) -> str:
    """Stable 16-hex-digit id of the article behind `url` (any of its variants, http or https)."""
    key = canonical_url(url).removeprefix("http://").removeprefix("https://")
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


WEB_SCHEMES = frozenset({"http", "https"})


def scheme_refusal(url: str) -> str | None:
    """Why `url` may not be fetched by its scheme, or None for an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:  # a malformed port or IPv6 literal
        return f"{url[:80]!r} is not a valid URL"
    if parts.scheme.lower() not in WEB_SCHEMES:
        return f"{parts.scheme or 'no'} scheme: only http and https URLs are fetched"
    if not host:
        return "no host in the URL"
    return None
