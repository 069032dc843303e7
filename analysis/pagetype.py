"""What kind of outlet page this is: an article, an opinion column, a live blog, a video
page, a photo gallery, or a section listing that is not an article at all.

Feeds and sitemaps announce all of these, and users search and filter them differently (a
columnist's opinion is not a news report; a gallery's text is its captions). The page says
what it is in several ways, tried from the most to the least explicit: its structured data
(schema.org types, `og:type`, `article:section`), then its URL's path words in English and
Arabic, then its shape (many headline links to other pages and no article of its own).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from lxml.html import HtmlElement

from arshif.arabic import normalize

ARTICLE, OPINION, LIVE, VIDEO, GALLERY, LISTING = (
    "article", "opinion", "live", "video", "gallery", "listing",
)  # fmt: skip

# schema.org @type values, lower-cased, that name a page type outright.
_SCHEMA = {
    "liveblogposting": LIVE,
    "opinionnewsarticle": OPINION,
    "videoobject": VIDEO,
    "imagegallery": GALLERY,
    "mediagallery": GALLERY,
    "collectionpage": LISTING,
    "itemlist": LISTING,
}
_ARTICLE_SCHEMA = re.compile(r"article|posting|report|story", re.IGNORECASE)
# Whole path segments, English and Arabic (normalised: ة→ه, أ→ا), as outlets use them.
_PATH_WORDS = {
    VIDEO: {"video", "videos", "watch", "فيديو", "فيديوهات", "مرئيات"},
    LIVE: {"live", "liveblog", "live-blog", "live-updates", "مباشر", "بث-مباشر"},
    GALLERY: {"gallery", "galleries", "photos", "photo", "album", "albums", "صور", "البوم"},
    OPINION: {
        "opinion", "opinions", "op-ed", "oped", "views", "columns", "column", "columnists",
        "writers", "راي", "اراء", "مقالات-الراي", "كتاب", "كتاب-الراي",
    },
}  # fmt: skip
# `article:section` / articleSection values naming an opinion section.
_OPINION_SECTION = re.compile(r"^(?:راي|اراء|الراي|مقالات|مقال|كتاب|opinion|opinions|columns?)$")
_TEASER_MIN_WORDS = 4
_LISTING_TEASERS = 4  # headline links to other pages that make a page a listing
_LISTING_SHARE = 0.3  # share of the extracted lines that are those headlines
_NO_ARTICLE_CHARS = 200  # extraction's own floor for an article's text


def _schema_types(objects: list[dict[str, Any]]) -> list[str]:
    types: list[str] = []
    for obj in objects:
        value = obj.get("@type", "")
        for t in value if isinstance(value, list) else [value]:
            if isinstance(t, str):
                types.append(t.lower())
    return types


def _path_words(url: str) -> set[str]:
    """Whole path segments only: a slug's words ("...-video-of-...") are the headline's."""
    segments = unquote(urlsplit(url).path).lower().split("/")
    return {normalize(s).replace(" ", "-") for s in segments if s}


def teasers(tree: HtmlElement, url: str) -> dict[str, str]:
    """Headline-like anchors to other same-site pages (a link of several words in a
    heading, list item or card): their normalised text by target path."""
    here = urlsplit(url)
    teasers: dict[str, str] = {}
    for a in tree.iterfind(".//a[@href]"):
        parent = a.getparent()  # checked first: most links are not in headings or lists
        if parent is None or parent.tag not in ("h2", "h3", "h4", "h5", "li", "article"):
            continue
        words = a.text_content().split()
        if len(words) < _TEASER_MIN_WORDS:
            continue
        text = " ".join(words)
        target = urlsplit(urljoin(url, a.get("href", "")))
        if target.hostname and here.hostname and target.hostname != here.hostname:
            continue
        if target.path and target.path != here.path:
            teasers.setdefault(target.path, normalize(text))
    return teasers


def _is_listing(links: dict[str, str], text: str) -> bool:
    """Many headline links to other pages, and the extracted text is largely those
    headlines, or too short to be an article: a section front, not an article with a
    related-links box."""
    if len(links) < _LISTING_TEASERS:
        return False
    headlines = set(links.values())
    if len(text) < min(_NO_ARTICLE_CHARS, sum(map(len, headlines))):
        return True  # too little text of its own to be an article: say why
    lines = [normalize(line) for line in text.splitlines() if line.strip()]
    shared = sum(_is_headline(line, headlines) for line in lines)
    return shared >= 3 and shared >= _LISTING_SHARE * len(lines)


def _is_headline(line: str, headlines: set[str]) -> bool:
    """A line that is mostly one headline (a list item adds a bullet, a date)."""
    return any(h in line and len(h) >= 0.6 * len(line) for h in headlines)


def page_type(
    url: str,
    objects: list[dict[str, Any]],
    metas: dict[str, list[str]],
    text: str,
    links: dict[str, str],
) -> str:
    """The page's type from its structured data, URL and shape (`text` is the extracted
    body, `links` the page's `teasers` before pruning); `listing` means it has no article
    of its own."""
    types = _schema_types(objects)
    named = {_SCHEMA[t] for t in types if t in _SCHEMA}
    for kind in (LIVE, OPINION):
        if kind in named:
            return kind
    is_article = any(_ARTICLE_SCHEMA.search(t) for t in types)
    og_type = (metas.get("og:type") or [""])[0].lower()
    if og_type.startswith("video"):
        return VIDEO
    sections = [*metas.get("article:section", [])]
    for obj in objects:
        value = obj.get("articleSection") or []
        sections += [
            v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)
        ]
    if any(_OPINION_SECTION.match(normalize(s).strip()) for s in sections):
        return OPINION
    # A news article embeds videos and photo sets too; only a page whose own object is
    # the video or gallery is one.
    for kind in (VIDEO, GALLERY):
        if kind in named and not is_article:
            return kind
    words = _path_words(url)
    for kind in (LIVE, VIDEO, GALLERY, OPINION):
        if words & _PATH_WORDS[kind]:
            return kind
    says_article = is_article or og_type == "article" or "article:published_time" in metas
    says_listing = og_type == "website" or LISTING in named
    if (not says_article or says_listing) and _is_listing(links, text):
        return LISTING
    return ARTICLE
