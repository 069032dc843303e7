"""Assemble the archive record from a fetched page and its extracted fields.

Shared by the crawl pipeline and `arshif reextract`, so a re-extracted article gets exactly
the id and fields a fresh crawl would give it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from arshif.fingerprints import content_hash
from arshif.record import Article
from arshif.urls import article_id, canonical_url, scheme_refusal


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.").removeprefix("m.")


def build_article(
    fields: dict[str, Any],
    *,
    url: str,
    outlet: str,
    fetched_at: str,
    status: int,
    warc_file: str | None,
    warc_offset: int | None,
    domains: Iterable[str] = (),
) -> Article:
    """The record of one page. The page's own canonical URL names the article (so AMP,
    mobile and tracking variants meet) only when it is an http(s) URL (not, say,
    `javascript://news.example/...`) of the outlet's own site."""
    fields = dict(fields)
    page_canonical = fields.pop("canonical_url", None) or url
    allowed = {_host(url), *(d.removeprefix("www.") for d in domains)}
    host = _host(page_canonical)
    if scheme_refusal(page_canonical) or not any(
        host == d or host.endswith("." + d) for d in allowed if d
    ):
        page_canonical = url
    return Article.from_dict(
        {
            **fields,
            "id": article_id(page_canonical),
            "url": url,
            "canonical_url": canonical_url(page_canonical),
            "outlet": outlet,
            "fetched_at": fetched_at,
            "http_status": status,
            "warc_file": warc_file,
            "warc_offset": warc_offset,
            "content_hash": content_hash(fields.get("text") or ""),
        }
    )
