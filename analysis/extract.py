"""One fetched page to the extracted fields of an article record.

A plain function, so the Scrapy pipeline can run it in worker processes and `arshif
extract` and re-extraction from the WARC archive can call it directly. The stages: bytes to
text (`encoding`), widget removal (`boilerplate.prune`), body text from trafilatura in two
modes reconciled by agreement (and with the page's JSON-LD `articleBody` when it matches
the visible text), Arabic boilerplate lines (`boilerplate.clean_text`), metadata from
JSON-LD and meta tags, dates (`dates`), language (`language`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from html import unescape
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from lxml.etree import ParserError, XPathError
from lxml.html import HtmlElement
from trafilatura import bare_extraction
from trafilatura.settings import Extractor
from trafilatura.utils import load_html

from analysis.boilerplate import clean_text, is_list_tail, prune
from analysis.crosscheck import Evidence, settle
from analysis.dates import article_json_ld, find_dates, json_ld, meta_values
from analysis.encoding import decode_html
from analysis.language import detect_language
from analysis.pagetype import GALLERY, LISTING, VIDEO, page_type, teasers
from arshif.arabic import STOP_WORDS, normalize, tokens

# Built once: trafilatura reads its configuration when an Extractor is made. `fast` skips
# trafilatura's fallback extractors (readability, jusText), a fifth of a page's time; the
# precision mode runs with them only when its fast result is in doubt (see `_body_text`).
_PRECISION_FAST = Extractor(output_format="python", precision=True, comments=False, fast=True)
_PRECISION = Extractor(output_format="python", precision=True, comments=False)
_RECALL = Extractor(output_format="python", recall=True, comments=False, fast=True)
# Bare trafilatura as `trafilatura.extract` runs it, on the page before any rewrite: the
# answer every step Arshif adds is checked against (`crosscheck.settle`). Its fallback
# extractors cost most of its time and are run only when the two answers disagree.
_REFERENCE_FAST = Extractor(output_format="python", fast=True)
_REFERENCE = Extractor(output_format="python")

_MB = 1024 * 1024
# A precision-mode text shorter than this (characters) that leaves out much of the page's
# paragraph text is checked against the recall mode.
_SHORT_TEXT = 2000
_HTML_TAG = re.compile(
    r"<\s*(?:!doctype\s+html|html|head|body|p|div|article|title|meta|h[1-6]|span|section|main|br|table)\b",
    re.IGNORECASE,
)
# XML documents that share tag names with HTML (<title>, <link>) but are feeds or sitemaps.
# A comment's text cannot run past its first "-->", so the leading comments can be read one
# way only: `<!--.*?-->` backtracked exponentially over a page opening with many comments.
_FEED = re.compile(
    r"\s*(?:<\?xml[^>]*>\s*)?(?:<!--(?:[^-]|-(?!->))*-->\s*)*"
    r"<(?:rss|feed|rdf:rdf|urlset|sitemapindex)\b",
    re.IGNORECASE | re.DOTALL,
)
# Tables that lay out a page: nested, with blocks in cells, or with article-long cells
# (paragraphs split by <br>).
_LAYOUT_TABLES = (
    "//table[.//table"
    " or .//td//*[self::p or self::div or self::ul or self::ol or self::h1 or self::h2"
    " or self::h3 or self::blockquote]"
    " or .//td[string-length(normalize-space()) > 400]"
    " or .//td[br and string-length(normalize-space()) > 150]]"
)
_BYLINE_PREFIX = re.compile(
    r"^(?:كتبت|كتبه|كتب|بقلم|بواسطة|إعداد|اعداد|تقرير|by|written by)(?=[\s:：-])\s*[:：-]?\s*",
    re.I,
)
# Text nodes that may open a visible byline (XPath has no regular expressions).
_BYLINE_TEXT = (
    "//body//text()["
    + " or ".join(
        f"starts-with(normalize-space(.), '{word}')" for word in ("كتب", "بقلم", "بواسطة")
    )
    + "]"
)
_BYLINE_WORDS = 8  # «كتب: محمد عبد الله - القاهرة» and no more
# Each separator starts where a run of spaces starts ((?<!\s)): tried at every space of a long
# run, it would cost the square of the run's length (a 30,000-space keywords meta: 13 s).
_NAME_SPLIT = re.compile(r"(?<!\s)\s*(?:[,،;|/]|\sو\s|\sand\s)\s*")
_NOT_A_NAME = re.compile(r"[\d()@]|://|\b(?:developed|designed|powered)\s+by\b", re.IGNORECASE)
# «حسام أبو العلا - القاهرة»: what follows a spaced dash in a byline is a place.
_DATELINE = re.compile(r"(?<!\s)\s+[-–—]\s+")
_TITLE_SPLIT = re.compile(r"(?<!\s)\s+[-|–—:]+\s+")
_TAG_SPLIT = re.compile(r"(?<!\s)\s*[,،;]\s*")


class ExtractionError(Exception):
    """A page that yields no article, with a short human reason ('empty page', 'no article
    text found', 'page is not HTML', 'page too large (12.3 MB > 10 MB)')."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ExtractOptions:
    """Per-outlet extraction settings; plain values, so they pickle to worker processes."""

    drop_selectors: tuple[str, ...] = ()  # CSS selectors removed before extraction
    max_bytes: int = 10 * _MB
    min_text_chars: int = 200  # below this the page has no article
    min_media_chars: int = 60  # a video or gallery page's description may be its text
    founded: int | None = None  # the outlet's first year: earlier dates are misreadings
    timezone: str | None = None  # IANA zone of page times that give no offset

    @classmethod
    def for_outlet(cls, outlet: Any) -> ExtractOptions:
        """The settings an outlet's configuration (`crawler.outlets.Outlet`) gives."""
        return cls(drop_selectors=outlet.drop_selectors, founded=outlet.founded, timezone=outlet.tz)


def extract_article(
    body: bytes | str,
    url: str,
    *,
    header_encoding: str | None = None,
    options: ExtractOptions = ExtractOptions(),  # noqa: B008 - frozen, shared safely
) -> dict[str, Any]:
    """The extracted fields of one page (a subset of `arshif.record.Article`).

    Raises ExtractionError for pages without an article; a library failure inside is
    reported the same way, so callers handle one exception type."""
    try:
        return _extract(body, url, header_encoding, options)
    except ExtractionError:
        raise
    except Exception as exc:  # the boundary: a library bug must not kill a crawl
        detail = f"{type(exc).__name__}: {exc}"[:160]
        raise ExtractionError(f"extraction failed ({detail})") from exc


def _extract(
    body: bytes | str, url: str, header_encoding: str | None, options: ExtractOptions
) -> dict[str, Any]:
    size = len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "replace"))
    if not body or not body.strip():
        raise ExtractionError("empty page")
    if size > options.max_bytes:
        raise ExtractionError(
            f"page too large ({size / _MB:.1f} MB > {options.max_bytes / _MB:g} MB)"
        )
    if isinstance(body, bytes):
        if b"\x00" in body[:1024] and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ExtractionError("page is not HTML")
        html, encoding = decode_html(body, header_encoding)
    else:
        html, encoding = body, None
    if not _HTML_TAG.search(html) or _FEED.match(html):
        raise ExtractionError("page is not HTML")
    try:
        tree = load_html(html)
    except (ParserError, ValueError) as exc:
        raise ExtractionError("page is not HTML") from exc
    if tree is None:
        raise ExtractionError("page is not HTML")

    objects, metas = json_ld(tree), meta_values(tree)  # once, for metadata, dates and type
    meta = _metadata(tree, url, objects, metas)
    published, modified = find_dates(
        tree,
        url,
        founded=options.founded,
        parsed=(objects, metas),
        tz=ZoneInfo(options.timezone) if options.timezone else None,
    )
    links = teasers(tree, url)
    removed = _drop_selected(tree, options.drop_selectors)
    unwrapped = _unwrap_layout_tables(tree)
    # A page that says it is a photo gallery has its captions for text.
    removed += prune(tree, keep_captions=page_type(url, objects, metas, "", {}) == GALLERY)
    article_body = meta.pop("_article_body")
    check = _Check(html, tree, removed, unwrapped, (article_body, meta["lead"], meta["title"]))
    text = _body_text(tree, meta["title"], article_body, meta["lead"], check)
    kind = page_type(url, objects, metas, text, links)
    if kind == LISTING:
        raise ExtractionError("section listing page")
    if len(text) < options.min_text_chars and kind in (VIDEO, GALLERY):
        # A video or gallery page's words are its description and captions.
        text = max(text, meta["lead"], key=len)
        if len(text) < options.min_media_chars:
            raise ExtractionError(f"{kind} page without a description")
    elif len(text) < options.min_text_chars:
        raise ExtractionError("no article text found")
    language, probability = detect_language(text)
    return {
        **meta,
        "text": text,
        "published": published,
        "modified": modified,
        "page_type": kind,
        "language": language,
        "language_prob": probability,
        "encoding": encoding,
    }


def _drop_selected(tree: HtmlElement, selectors: tuple[str, ...]) -> list[HtmlElement]:
    removed = []
    for selector in selectors:
        try:
            matches = tree.cssselect(selector)
        except (XPathError, ValueError, SyntaxError) as exc:
            raise ExtractionError(f"invalid drop selector {selector!r}") from exc
        for el in matches:
            if el.getparent() is not None:
                el.drop_tree()
                removed.append(el)
    return removed


def _unwrap_layout_tables(tree: HtmlElement) -> int:
    """Turn tables used for page layout into plain blocks, and say how many. Trafilatura
    renders a table cell as one line, which would merge an old-style page's paragraphs
    (and the prompts and credits among them) into one; data tables (short cells, no
    blocks) stay tables."""
    tables = tree.xpath(_LAYOUT_TABLES)
    for table in tables:
        for el in table.iter("table", "tbody", "thead", "tfoot", "tr", "td", "th"):
            el.tag = "div"
    return len(tables)


class _Check:
    """What Arshif's body text is checked against (`crosscheck.settle`): bare trafilatura
    on the page as it came, before any rewrite, and the page's own evidence. Computed
    only when a step may have changed which block is the article: trafilatura's run is a
    third of a simple page's time, and a trusted fast result on a page whose rewrite
    removed little prose next to the text found (captions, credits, short comments) has
    nothing to be checked."""

    def __init__(
        self,
        html: str,
        tree: HtmlElement,
        removed: list[HtmlElement],
        unwrapped: int,
        known: tuple[str, str, str],
    ) -> None:
        self._html, self._tree, self._removed, self._known = html, tree, removed, known
        self._unwrapped = unwrapped
        self._prose = sum(len(el.text_content()) - _link_chars(el) for el in removed)

    def needed(self, lines: list[str], doubtful: bool) -> bool:
        """Whether the result is to be checked: it was in doubt, layout tables were
        unwrapped, or pruning removed prose on the scale of the text found."""
        found = sum(map(len, lines))
        return (
            doubtful
            or bool(self._unwrapped)
            or self._prose >= max(_REWRITE_CHARS, _REWRITE_SHARE * found)
        )

    def reference(self) -> list[str]:
        """Trafilatura's lines without its fallback extractors."""
        return _lines(bare_extraction(load_html(self._html), options=_REFERENCE_FAST))

    def fuller(self) -> list[str]:
        """Trafilatura's lines as `trafilatura.extract` gives them, fallbacks included."""
        return _lines(bare_extraction(load_html(self._html), options=_REFERENCE))

    @cached_property
    def links(self) -> frozenset[str]:
        """The texts of the page's links, whitespace made one space."""
        return frozenset(" ".join(a.text_content().split()) for a in self._tree.iter("a"))

    def evidence(self) -> Evidence:
        article_body, lead, title = self._known
        removed = "\n".join(" ".join(el.text_content().split()) for el in self._removed)
        return Evidence.of(article_body, lead, self.links, removed, title)

    def settle(self, lines: list[str]) -> list[str]:
        return settle(lines, self.reference(), self.evidence(), self.fuller)


def _link_chars(el: HtmlElement) -> int:
    return sum(len(a.text_content()) for a in el.iter("a"))


# Text (not links) that pruning may remove before its choice needs checking: captions
# and credits, not paragraphs; and, of a long article, less than half its length.
_REWRITE_CHARS = 200
_REWRITE_SHARE = 0.5


# --- body text ------------------------------------------------------------------------


def _lines(document: Any) -> list[str]:
    if document is None or not document.text:
        return []
    return [line for line in (" ".join(raw.split()) for raw in document.text.splitlines()) if line]


def _body_text(
    tree: HtmlElement,
    title: str,
    article_body: str,
    lead: str,
    check: _Check,
) -> str:
    """Trafilatura's precision mode (without its fallback extractors first, with them when
    in doubt), checked against its recall mode when the result is short and leaves out
    paragraph text, or misses much of the page's JSON-LD `articleBody`. The two are
    reconciled by agreement: the recall output between the first and last line both modes
    share (recall also keeps subheadings and short paragraphs that precision drops, while
    what it adds before and after the article is page furniture). An `articleBody` that
    matches the page decides instead which lines are article. A result that was in doubt,
    or of a page that the rewrite changed, is settled against `check`, bare trafilatura's
    lines and the page's evidence; boilerplate lines go last."""
    paragraphs = {p: normalize(p.text_content()) for p in tree.iter("p")}
    article_words = tokens(article_body)
    for options in (_PRECISION_FAST, _PRECISION):
        precise = _lines(bare_extraction(tree, options=options))
        body_words = article_words
        if len(body_words) < max(30, 0.8 * len(tokens(" ".join(precise)))):
            body_words = []  # a teaser, not the article
        doubtful = (
            _share(body_words, _words(precise)) < 0.9
            or _may_miss_text(tree, precise)
            or _drops_structure(paragraphs, precise)
        )
        if not (doubtful or _fallback_would_act(paragraphs, precise)):
            break
    broad = _lines(bare_extraction(tree, options=_RECALL)) if doubtful else []
    lines = precise
    if body_words and _share(body_words, _words(broad or precise)) >= 0.8:
        reference = frozenset(body_words)
        lines = [line for line in broad or precise if _share(tokens(line), reference) >= 0.6]
    elif precise and broad:
        shared = {normalize(line) for line in precise}
        agreed = [i for i, line in enumerate(broad) if normalize(line) in shared]
        if agreed:
            lines = broad[agreed[0] : agreed[-1] + 1]
    elif broad:
        lines = broad
    lines = _with_standfirst(tree, paragraphs, _restore_subheads(paragraphs, lines), lead)
    if check.needed(lines, doubtful):
        lines = check.settle(lines)
    # A line that is a whole link and reads as a headline is another article's teaser.
    lines = [line for line in lines if not (line in check.links and is_list_tail(line))]
    return clean_text("\n".join(lines), title)


def _with_standfirst(
    tree: HtmlElement, paragraphs: Paragraphs, lines: list[str], lead: str
) -> list[str]:
    """Put back the standfirst that extractors leave out when the body has its own
    container: a paragraph (or a heading or block of bare text) that is the page's whole
    description, set before the first kept paragraph in its container or one of that
    container's two nearest ancestors."""
    shape = " ".join(normalize(lead).split())
    if not lines or not shape or shape in " ".join(normalize(" ".join(lines)).split()):
        return lines
    standfirst = next(
        (p for p, text in paragraphs.items() if " ".join(text.split()) == shape), None
    )
    if standfirst is None:
        size = len(lead)
        standfirst = next(
            (
                el
                for el in tree.iter("h2", "h3", "div", "span")
                if len(el) == 0
                and el.text
                and abs(len(el.text.strip()) - size) <= size // 5
                and " ".join(normalize(el.text).split()) == shape
            ),
            None,
        )
    kept = {normalize(line) for line in lines}
    first = next((p for p, text in paragraphs.items() if text in kept), None)
    if standfirst is None or first is None:
        return lines
    parent = standfirst.getparent()
    for ancestor in list(first.iterancestors())[:3]:
        if ancestor is parent:
            break
        first = ancestor
    else:
        return lines
    return [lead, *lines] if parent.index(standfirst) < parent.index(first) else lines


def _fallback_would_act(paragraphs: Paragraphs, lines: list[str]) -> bool:
    """Where trafilatura's fallback extractors would take another text, the fast result is
    not trusted: shorter than its minimum (jusText is tried), or under half the page's
    paragraph text (readability's, twice as long, wins)."""
    found = sum(map(len, lines))
    return found < _PRECISION.min_extracted_size or 2 * found < sum(map(len, paragraphs.values()))


def _may_miss_text(tree: HtmlElement, lines: list[str]) -> bool:
    """A short precision result that leaves out much of the page's paragraph text."""
    found = sum(map(len, lines))
    if found >= _SHORT_TEXT:
        return False
    paragraphs = sum(len(p.text_content().strip()) for p in tree.iter("p"))
    return found < 0.8 * paragraphs


Paragraphs = dict[HtmlElement, str]  # each <p> of the page and its normalised text


def _containers(paragraphs: Paragraphs, kept: Iterable[str]) -> set[HtmlElement]:
    """The elements holding the page's paragraphs whose normalised text was kept."""
    kept = set(kept)
    return {p.getparent() for p, text in paragraphs.items() if text in kept} - {None}


def _restore_subheads(paragraphs: Paragraphs, lines: list[str]) -> list[str]:
    """Put back the subheadings both modes drop when they recover an article from a
    container they do not know: a heading between two kept paragraphs of one container
    goes before the paragraph that follows it."""
    at = {normalize(line): i for i, line in enumerate(lines)}
    before: dict[int, list[str]] = {}
    for parent in _containers(paragraphs, at):
        children = list(parent)
        for i, child in enumerate(children):
            text = " ".join(child.text_content().split()) if child.tag in _HEADINGS else ""
            if not text or normalize(text) in at or len(text.split()) > 15:
                continue
            prev = [at.get(paragraphs[c]) for c in children[:i] if c in paragraphs]
            after = [at.get(paragraphs[c]) for c in children[i + 1 :] if c in paragraphs]
            prev, after = [j for j in prev if j is not None], [j for j in after if j is not None]
            if prev and after:
                before.setdefault(min(after), []).append(text)
    if not before:
        return lines
    return [x for i, line in enumerate(lines) for x in (*before.get(i, ()), line)]


_HEADINGS = frozenset({"h2", "h3", "h4"})


def _drops_structure(paragraphs: Paragraphs, lines: list[str]) -> bool:
    """Whether a subheading, list or quote sits among the paragraphs precision kept but is
    missing from its result: precision mode drops them in containers it does not know
    (a `div` with an outlet's own class rather than `<article>`), recall mode keeps them."""
    kept = {normalize(line) for line in lines}
    for parent in _containers(paragraphs, kept):
        for child in parent:
            if child.tag in _STRUCTURE and normalize(child.text_content()):
                inner = [normalize(t) for t in child.itertext() if t.strip()]
                if not any(t in kept or any(t in line for line in kept) for t in inner):
                    return True
    return False


_STRUCTURE = frozenset({"h2", "h3", "h4", "ul", "ol", "blockquote"})


def _words(lines: list[str]) -> frozenset[str]:
    return frozenset(tokens(" ".join(lines)))


def _share(words: list[str], known: frozenset[str]) -> float:
    """The share of `words` that are `known`; 1.0 when there are no words to miss."""
    return sum(w in known for w in words) / len(words) if words else 1.0


# --- metadata -------------------------------------------------------------------------


def _clean(value: Any) -> str:
    """A metadata value as a reader sees it: entities decoded (JSON-LD and meta tags often
    hold `&#8220;` or `&quot;` literally), whitespace runs made one space."""
    return " ".join(unescape(str(value)).split()) if value else ""


def _first(*values: Any) -> str:
    for value in values:
        if isinstance(value, list):
            value = value[0] if value else ""
        if isinstance(value, dict):
            value = value.get("url") or value.get("contentUrl") or value.get("name")
        text = _clean(value)
        if text:
            return text
    return ""


def _metadata(
    tree: HtmlElement, url: str, objects: list[dict[str, Any]], metas: dict[str, list[str]]
) -> dict[str, Any]:
    article = article_json_ld(objects)

    def meta(*keys: str) -> str:
        return _first(*(metas.get(k, [""])[0] for k in keys))

    site = meta("og:site_name", "application-name")
    canonical = tree.xpath(
        "string(//link[contains(concat(' ', normalize-space(@rel), ' '), ' canonical ')]/@href)"
    )
    canonical = _clean(canonical) or meta("og:url")
    image = meta("og:image", "og:image:url", "twitter:image", "twitter:image:src") or _first(
        article.get("image")
    )
    image = image or _clean(tree.xpath("string(//link[@rel='image_src']/@href)"))
    title = _title(tree, metas, article, _site_names(tree, url, objects, metas))
    return {
        "title": title,
        "lead": _lead(metas, article, site, title),
        "authors": _authors(
            tree, metas, article, (*metas.get("og:site_name", []), urlsplit(url).hostname or "")
        ),
        "image": urljoin(url, image) if image else None,
        "canonical_url": urljoin(url, canonical)
        if canonical and not canonical.startswith("#")
        else url,
        "section": meta("article:section") or _first(article.get("articleSection")) or None,
        "tags": _tags(metas, article),
        "_article_body": _first(article.get("articleBody")),
    }


def _lead(metas: dict[str, list[str]], article: dict[str, Any], site: str, title: str) -> str:
    """The description, unless it is the outlet's own blurb (as some CMSs fill it): one
    that names the outlet and shares no word with the headline. A lead naming the outlet
    in its dateline («طهران (الوكالة) - …») is about the article."""
    headline = set(tokens(title)) - STOP_WORDS
    for value in (
        *(metas.get(k, [""])[0] for k in ("og:description", "description", "twitter:description")),
        _first(article.get("description")),
    ):
        lead = _clean(value)
        if len(lead.split()) >= 4 and not (
            _same_outlet(lead, (site,)) and headline.isdisjoint(tokens(lead))
        ):
            return lead
    return ""


def _same_outlet(text: str, outlet: tuple[str, ...]) -> bool:
    """Whether `text` names the outlet (its site name or its host name)."""
    shape = normalize(text).replace(" ", "")
    for name in outlet:
        name = re.sub(r"^\w+://", "", normalize(name)).removeprefix("www.").split(".")[0]
        name = name.replace(" ", "")
        if len(name) >= 3 and (name in shape or shape in name):
            return True
    return False


def _title(
    tree: HtmlElement, metas: dict[str, list[str]], article: dict[str, Any], sites: list[str]
) -> str:
    """The visible headline (`<h1>`) that best matches a declared title (JSON-LD, og:title,
    `<title>`, which often carry the site name before or after it); otherwise the declared
    title without the site name. Sites put their logo or name in an `<h1>` too."""
    declared = [
        _first(article.get("headline")),
        *(metas.get(k, [""])[0] for k in ("og:title", "twitter:title")),
        _clean(tree.findtext(".//title")),
    ]
    declared = [_strip_site(_clean(t), sites) for t in declared if _clean(t)]
    headings = [_clean(h.text_content()) for h in tree.iter("h1")]
    best, best_ratio = "", 0.5
    for heading in headings:
        shape = normalize(heading)
        for declared_title in declared:
            other = normalize(declared_title)
            if len(shape) >= 8 and (shape in other or other in shape):
                ratio = min(len(shape), len(other)) / max(len(shape), len(other))
                if ratio > best_ratio:
                    best, best_ratio = heading, ratio
    if best:
        return best
    if declared:
        # A CMS may cut the JSON-LD headline short (to 110 characters): a longer declared
        # title that goes on from where it stops (not with a separator and a site name)
        # is the whole one.
        start = normalize(declared[0]).rstrip(" .…")
        whole = [
            t
            for t in declared
            if normalize(t).startswith(start) and not _TITLE_SPLIT.match(normalize(t)[len(start) :])
        ]
        return max(whole, key=len, default=declared[0])
    return next((h for h in headings if len(h.split()) >= 3), headings[0] if headings else "")


def _strip_site(title: str, names: list[str]) -> str:
    """The title without the site's name before or after it («… | بوابة …», «… - اليوم
    السابع»), cut at the separator so the rest keeps its own punctuation («وزير : …»)."""
    cuts = [(m.start(), m.end()) for m in _TITLE_SPLIT.finditer(title)]
    spans = list(
        zip(
            [0, *(end for _, end in cuts)], [*(start for start, _ in cuts), len(title)], strict=True
        )
    )
    while len(spans) > 1 and _is_site(title[slice(*spans[-1])], names):
        spans.pop()
    while len(spans) > 1 and _is_site(title[slice(*spans[0])], names):
        spans.pop(0)
    return title[spans[0][0] : spans[-1][1]]


def _is_site(part: str, names: list[str]) -> bool:
    """Whether a title segment is one of the site's names (or most of one)."""
    shape = normalize(part).replace(" ", "")
    for name in names:
        other = normalize(name).replace(" ", "")
        if len(shape) < 3 or not other:
            continue
        if (other in shape and len(shape) <= 2 * len(other)) or (
            shape in other and 2 * len(shape) >= len(other)
        ):
            return True
    return False


def _site_names(
    tree: HtmlElement, url: str, objects: list[dict[str, Any]], metas: dict[str, list[str]]
) -> list[str]:
    """What the site calls itself: its meta names, its organisation and website objects
    in JSON-LD, the article's publisher, the words and logo of its links to the home page,
    and its host name («cedarnews» for «Cedar News»)."""
    names = [
        v for k in ("og:site_name", "application-name", "apple-mobile-web-app-title")
        for v in metas.get(k, [])
    ]  # fmt: skip
    for obj in objects:
        kind = str(obj.get("@type", ""))
        if "Organization" in kind or "WebSite" in kind:
            names += _names_of(obj)
        names += _names_of(obj.get("publisher"))
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    home = [link for link in tree.iterfind(".//a[@href]") if _is_home(link.get("href", ""), host)]
    for link in home[:3]:
        names += [link.text_content(), *link.xpath(".//img/@alt | .//img/@title | @title")]
    names.append(host.split(".")[0])
    # A site's name is short and whole: not a page title that a CMS put in its place.
    return [
        name
        for name in dict.fromkeys(_clean(n) for n in names)
        if len(name) >= 3 and len(name.split()) <= 6 and not _TITLE_SPLIT.search(name)
    ]


def _is_home(href: str, host: str) -> bool:
    """Whether a link points at the site's home page («/», «https://www.host/»)."""
    href = href.strip().lower()
    if href in ("/", "./", "/index.html", "/index.php"):
        return True
    return "://" in href and href.split("://", 1)[1].rstrip("/").removeprefix("www.") == host


def _names_of(value: Any) -> list[str]:
    if isinstance(value, list):
        return [n for item in value for n in _names_of(item)]
    if isinstance(value, dict) and isinstance(value.get("name"), str):
        return [value["name"]]
    return []


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    if isinstance(value, dict):
        if "organization" in str(value.get("@type", "")).lower():
            return []
        value = value.get("name")
    return [_clean(value)] if isinstance(value, str) and _clean(value) else []


def _authors(
    tree: HtmlElement, metas: dict[str, list[str]], article: dict[str, Any], outlet: tuple[str, ...]
) -> list[str]:
    """Author names from JSON-LD, then meta tags, then byline elements. Outlet names,
    datelines («(أبوظبي - البيان)»), web credits, URLs and long phrases are not people."""
    for source in _author_sources(tree, metas, article):
        names: list[str] = []
        for raw in source:
            byline = _DATELINE.split(_BYLINE_PREFIX.sub("", raw))[0]
            for name in _NAME_SPLIT.split(byline):
                name = name.strip(" :-–")
                if (
                    name
                    and len(name.split()) <= 5
                    and not _NOT_A_NAME.search(name)
                    and not _same_outlet(name, outlet)
                    and name not in names
                ):
                    names.append(name)
        if names:
            return names
    return []


def _author_sources(
    tree: HtmlElement, metas: dict[str, list[str]], article: dict[str, Any]
) -> Iterator[list[str]]:
    """Candidate bylines, best source first; each is looked for only when the ones before
    it named nobody (searching a large page's every element for byline classes is not
    free). Visible bylines come last."""
    yield _names(article.get("author"))
    yield [
        v
        for k in ("author", "article:author", "dc.creator", "sailthru.author", "parsely-author")
        for v in metas.get(k, [])
    ]
    yield [
        _clean(el.text_content()) for el in tree.xpath("//*[@itemprop='author' or @rel='author']")
    ]
    yield [
        _clean(el.text_content())
        for el in tree.xpath(
            "//*[contains(concat(' ', @class, ' '), ' author ') or contains(concat(' ', @class, ' '), ' byline ')]"
        )
    ]
    yield _visible_bylines(tree)


def _visible_bylines(tree: HtmlElement) -> list[str]:
    """Short lines that open with a byline word («كتب: …», «بقلم …»), as many outlets print
    the author with no markup that names it; a sentence of the article that happens to
    start with «كتب» is longer than a byline, and only the first three are looked at."""
    found = []
    for node in tree.xpath(_BYLINE_TEXT):
        parent = node.getparent()
        if parent is not None and len(parent.text_content().split()) == 1:
            parent = parent.getparent()  # «<b>بقلم</b> سامي خليل»: the word is set apart
        line = _clean(parent.text_content()) if parent is not None else ""
        if line and _BYLINE_PREFIX.match(line) and len(line.split()) <= _BYLINE_WORDS:
            found.append(line)
        if len(found) == 3:
            break
    return found


def _tags(metas: dict[str, list[str]], article: dict[str, Any]) -> list[str]:
    keywords = article.get("keywords")
    if isinstance(keywords, str):
        keywords = [keywords]
    values = [
        *metas.get("article:tag", []),
        *(k for k in keywords or [] if isinstance(k, str)),
        *metas.get("news_keywords", []),
        *metas.get("keywords", []),
    ]
    tags: dict[str, str] = {}
    for value in values:
        for tag in _TAG_SPLIT.split(value):
            tag = _clean(tag)
            if tag and len(tag) <= 80:
                tags.setdefault(normalize(tag), tag)
    return list(tags.values())[:50]
