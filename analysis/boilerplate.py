"""Arabic news boilerplate: what an extractor leaves in that a reader does not want.

Two passes, both general rather than per outlet. Before extraction, elements whose class or
id names a widget (related, share, social, comments, newsletter, tags, caption, credit,
ads) are removed from the tree, with «اقرأ أيضاً»-style prompts and the link lists they
head. After extraction, lines are dropped by shape: a short line that *starts* with a
prompt («اقرأ أيضاً», «تابعنا على», «شارك», «اشترك في النشرة البريدية»), a photo credit, a
copyright line, a timestamp-only line, a repeated line. An article sentence that merely
contains such a word («شارك الرئيس في القمة») does not have the shape and stays.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lxml.html import HtmlElement

from analysis.dates import date_spans
from arshif.arabic import normalize, tokens

# --- elements -------------------------------------------------------------------------

_HINT_TOKENS = frozenset(
    """
    related share shares sharing sharebar sharethis addthis social socials socialmedia
    comment comments commentlist disqus newsletter newsletters subscribe subscription
    tag tags taglist keywords caption captions figcaption credit credits photocredit
    breadcrumb breadcrumbs readmore readalso alsoread follow followus ad ads advert
    advertisement adslot banner promo sponsored outbrain taboola
    """.split()
)
_HINT_COMPOUND = re.compile(
    r"read[-_]?(?:also|more)|also[-_]?read|more[-_]?(?:news|stories|articles)"
    r"|most[-_]?(?:read|popular|viewed)|you[-_]?may|recommend",
    re.IGNORECASE,
)
# A photo gallery's captions are its text: kept when `prune(keep_captions=True)`.
_CAPTION_TOKENS = frozenset({"caption", "captions", "figcaption"})
_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")
_PROTECTED = frozenset({"html", "body", "main", "article", "head"})
_DROP_TAGS = ("figcaption",)
_PROMPT_TAGS = frozenset({"h2", "h3", "h4", "h5", "h6", "p", "div", "span", "strong", "b"})
# Share of the page's text above which an element is taken for the article's wrapper,
# whatever its class says (`<div class="post has-comments">`).
_WRAPPER_SHARE = 0.4


def _hinted(el: HtmlElement, keep_captions: bool = False) -> bool:
    return _hint(el.get("class"), keep_captions) or _hint(el.get("id"), keep_captions)


@lru_cache(maxsize=4096)
def _hint(value: str | None, keep_captions: bool = False) -> bool:
    """Whether a class or id value names a widget; cached, as pages repeat their classes."""
    if not value:
        return False
    if _HINT_COMPOUND.search(value):
        return True
    hints = _HINT_TOKENS - _CAPTION_TOKENS if keep_captions else _HINT_TOKENS
    return any(t.lower() in hints for t in _SPLIT.split(value) if t)


def _link_share(el: HtmlElement) -> float:
    text = len(el.text_content().strip())
    links = sum(len(a.text_content().strip()) for a in el.iter("a"))
    return links / text if text else 0.0


def _removable(el: HtmlElement, page_chars: int) -> bool:
    """Not the page, not the article: an element with the headline, or with much of the
    page's text that is not links, stays whatever its class says."""
    if el.tag in _PROTECTED or el.get("itemprop", "").lower() == "articlebody":
        return False
    if next(el.iter("h1"), None) is not None:
        return False
    return len(el.text_content()) <= _WRAPPER_SHARE * page_chars or _link_share(el) >= 0.5


def _drop(el: HtmlElement) -> None:
    """Remove an element but keep its tail text, which belongs to the parent."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail and el.tail.strip():
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def prune(tree: HtmlElement, *, keep_captions: bool = False) -> list[HtmlElement]:
    """Remove widget elements and prompt-headed link lists from `tree`, in place, and
    return them (what was removed on purpose is not to come back from another extractor).
    `keep_captions` keeps photo captions, as paragraphs (a gallery's text); photo credits
    still go."""
    body = tree.find(".//body")
    if body is None:
        body = tree
    page_chars = len(body.text_content())
    doomed: list[HtmlElement] = []
    for el in body.iter():
        if not isinstance(el.tag, str):
            continue
        dropped_tag = el.tag in _DROP_TAGS and not keep_captions
        if (dropped_tag or _hinted(el, keep_captions)) and _removable(el, page_chars):
            doomed.append(el)
        elif el.tag in _PROMPT_TAGS and len(el) <= 3 and all(len(child) == 0 for child in el):
            text = el.text_content()
            if len(text) <= 200 and is_related_prompt(text, with_headline=True):
                doomed.extend(_prompt_block(el, page_chars))
    # lxml hands out one proxy per element while it is referenced (as here): a set works.
    marked = set(doomed)
    removed = []
    for el in doomed:
        if el.getparent() is not None and marked.isdisjoint(el.iterancestors()):
            _drop(el)
            removed.append(el)
    if keep_captions:  # extractors skip figures; a gallery's captions are its paragraphs
        for el in body.iter("figure", "figcaption"):
            el.tag = "p" if el.tag == "figcaption" else "div"
    return removed


def _prompt_block(prompt: HtmlElement, page_chars: int) -> list[HtmlElement]:
    """The prompt with the link list it heads: the largest link-dense ancestor, else the
    prompt and its next sibling if that is a list of links."""
    block = prompt
    for ancestor in prompt.iterancestors():
        if not _removable(ancestor, page_chars) or len(ancestor.text_content()) > 2000:
            break
        if _link_share(ancestor) >= 0.5:
            block = ancestor
    if block is not prompt:
        return [block]
    return [prompt, *_listed_after(prompt)]


def _listed_after(prompt: HtmlElement) -> list[HtmlElement]:
    """The siblings a prompt heads: a list of links, or, after a bare prompt
    («قد يهمك أيضاً:»), the run of link paragraphs and short headlines that follows it,
    up to the first sentence of text."""
    sibling = prompt.getnext()
    if sibling is not None and sibling.tag in ("ul", "ol", "div") and _link_share(sibling) >= 0.6:
        return [sibling]
    bare = is_related_prompt(prompt.text_content())
    listed: list[HtmlElement] = []
    while sibling is not None and len(listed) < _LISTED and sibling.tag in _PROMPT_TAGS:
        text = " ".join(sibling.text_content().split())
        linked = text and _link_share(sibling) >= 0.6 and len(tokens(text)) <= 25
        if not (linked or (bare and text and is_list_tail(text))):
            break
        listed.append(sibling)
        sibling = sibling.getnext()
    return listed


_LISTED = 15  # a related list longer than this is not one


# --- lines ----------------------------------------------------------------------------

_RELATED = re.compile(
    r"^(?:(?:اقرا|اقري|طالع|شاهد|اطلع|تابع)\s+(?:ايضا|كذلك|المزيد)"
    r"|(?:اخبار|مواضيع|موضوعات|مقالات|قصص)\s+(?:ذات\s+صله|متعلقه|مرتبطه|اخري)"
    r"|ذات\s+صله|قد\s+(?:يهمك|يعجبك)(?:\s+ايضا)?|الاكثر\s+(?:قراءه|مشاهده|تداولا)"
    r"|المزيد\s+(?:حول|عن)\s+(?:هذه|هذا)\s+(?:القصه|الموضوع|الخبر|الملف)"
    r"|read\s+(?:also|more)|see\s+also|related)(?!\w)"
)
_TAGS = re.compile(
    r"^(?:تصنيفات|التصنيفات|الكلمات\s+المفتاحيه|كلمات\s+مفتاحيه|الكلمات\s+الداله|وسوم|الوسوم"
    r"|الاوسمه|اوسمه|هاشتاج|tags|topics)(?!\w)"
)
_FOLLOW = re.compile(
    r"^(?:تابعنا|تابعونا|تابعوا|اتبعنا|follow\s+us)(?:\s+(?:علي|عبر|في|on))?(?!\w)"
)
_SHARE = re.compile(r"^(?:شارك|شاركها|شاركوا|شاركي|مشاركه|انشر|شير|share)(?!\w)")
_NEWSLETTER = re.compile(r"^(?:اشترك|اشتركوا|اشتركي|سجل|للاشتراك|subscribe|sign\s+up)(?!\w)")
_NEWSLETTER_WORDS = re.compile(r"النشره|نشرتنا|القائمه\s+البريديه|بريدك|newsletter")
_COMMENTS_HEADING = re.compile(r"^(?:عدد\s+)?(?:التعليقات|تعليقات|تعليق|comments?)(?:[\s\d():]*)$")
_COMMENTS_PROMPT = re.compile(
    r"^(?:اضف\s+تعليق|اضف\s+تعليقا|اترك\s+تعليقا|اكتب\s+تعليقك|شاركنا\s+رايك|شارك\s+برايك"
    r"|leave\s+a\s+comment|add\s+a?\s*comment)(?!\w)"
)
_COPYRIGHT = re.compile(r"جميع\s+الحقوق\s+محفوظه|حقوق\s+النشر\s+محفوظه|all\s+rights\s+reserved")
_CREDIT_PREFIX = re.compile(
    r"^(?:تصوير|صوره|الصوره|مصدر\s+الصوره|حقوق\s+الصوره|المصدر|photo|credit|source)\s*[:：]"
)
_CREDIT_LATIN = re.compile(
    r"(?:[-/|©—–(]\s*(?:reuters|afp|ap\s+photo|ap|epa(?:-efe)?|anadolu)"
    r"|(?:getty\s+images|shutterstock))\s*\)?\s*$"
)
_CREDIT_ARABIC = re.compile(
    r"(?:[-/|©—–(]\s*)(?:رويترز|ا\s*ف\s*ب|فرانس\s+برس|الاناضول|وكالات|ارشيفيه|صوره\s+ارشيفيه)\s*\)?\s*$"
)
_ADS = frozenset(
    {"اعلان", "الاعلانات", "مساحه اعلانيه", "advertisement", "sponsored", "محتوي مدفوع"}
)
_SOCIAL = frozenset(
    """
    فيسبوك فيس بوك تويتر اكس x واتساب واتس اب تلجرام تليجرام تيليجرام تلغرام تيليغرام لينكدان
    لينكد ان انستغرام انستجرام انستقرام يوتيوب تيك توك سناب شات ماسنجر بريد البريد الالكتروني
    ايميل طباعه نسخ الرابط facebook twitter whatsapp telegram linkedin instagram youtube
    tiktok snapchat email mail print copy link messenger pinterest reddit threads google news
    جوجل نيوز
    """.split()
)
_FILLERS = frozenset(
    "علي عبر في مع via on الخبر المقال المقاله الموضوع هذا هذه اصدقائك الان".split()
)
# Words a timestamp line may carry besides its dates and times.
_STAMP_WORDS = frozenset(
    """
    نشر نشرت تم النشر تاريخ بتاريخ في اخر تحديث التحديث محدث حدث الساعه بتوقيت غرينتش
    جرينتش مكه المكرمه القاهره gmt utc updated update published posted on at am pm ص م
    الموافق ه هـ منذ الاحد الاثنين الثلاثاء الاربعاء الخميس الجمعه السبت اليوم امس
    sunday monday tuesday wednesday thursday friday saturday
    """.split()
)
_RELATIVE_TIME = re.compile(
    r"^منذ\s+\d+\s+(?:ثانيه|ثواني|دقيقه|دقيقتين|دقائق|ساعه|ساعتين|ساعات|يوم|يومين|ايام|اسبوع|اسابيع)$"
)
# «لمزيد من أخبار المحافظات اضغط هنا»: a link line closing the article.
_CLICK_HERE = re.compile(
    r"^(?:للمزيد|لمزيد|لمتابعه|لقراءه|لمشاهده|للاطلاع)(?!\w).*(?:اضغط|انقر|اضغطوا)\s+هنا\W*$"
)
_DISCLAIMER = re.compile(
    r"لا\s+(?:تعبر|يعبر|تعكس|يعكس)(?:\s+بالضروره)?\s+عن\s+راي|تعبر\s+عن\s+راي\s+(?:كاتبها|اصحابها|صاحبها)"
    r"|التعليقات.*(?:نشرها|مراجعه|ارشادات|سياسه|المسيئه)"
)
_LIST_ITEM = re.compile(r"^\s*(?:[-•*▪●◦]|\d+[.)])\s+")
_SENTENCE_END = re.compile(r"[.!؟?:»\"”]\s*$")
_LEAD_PUNCT = re.compile(r"^[\W_]+")


def is_disclaimer(line: str) -> bool:
    """An outlet's notice that opinions or comments are not its own, or its comment policy."""
    return _DISCLAIMER.search(normalize(line)) is not None and len(tokens(line)) <= 80


def _shape(line: str) -> str:
    """The line as prompts are matched: normalised, without leading punctuation."""
    return _LEAD_PUNCT.sub("", normalize(line)).strip()


def is_related_prompt(line: str, *, with_headline: bool = False) -> bool:
    """«اقرأ أيضاً», «أخبار ذات صلة», «الأكثر قراءة», tag-list headings: alone (maybe with
    a colon) or, if `with_headline`, followed by one short headline."""
    return _related_prompt(_shape(line), with_headline)


def _related_prompt(shape: str, with_headline: bool) -> bool:
    match = _RELATED.match(shape) or _TAGS.match(shape)
    if not match:
        return False
    rest = tokens(shape[match.end() :])
    return not rest or (with_headline and len(rest) <= 18)


def _is_social_prompt(shape: str, words: list[str]) -> bool:
    """«تابعنا على», «شارك:», «شارك على فيسبوك تويتر», a bare row of network names."""
    if _FOLLOW.match(shape) and len(words) <= 15:
        return True
    if _SHARE.match(shape):
        return all(w in _SOCIAL or w in _FILLERS for w in words[1:])
    return len(words) >= 2 and all(w in _SOCIAL for w in words)


def _is_timestamp(line: str, shape: str) -> bool:
    if _RELATIVE_TIME.match(shape):
        return True
    spans = date_spans(line)
    if not spans:
        return False
    rest = []
    last = 0
    for start, end in spans:
        rest.append(line[last:start])
        last = max(last, end)
    rest.append(line[last:])
    left = [w for w in tokens(" ".join(rest)) if w not in _STAMP_WORDS]
    return len(left) <= 1


def is_boilerplate(line: str) -> bool:
    """Whether one line of extracted text is a prompt, credit, notice or timestamp."""
    lowered = normalize(line)
    return _boilerplate(line, lowered, _LEAD_PUNCT.sub("", lowered).strip())


def _boilerplate(line: str, lowered: str, shape: str) -> bool:
    words = tokens(shape)
    n = len(words)
    if not n:
        return True
    if n > 40:  # longer than any prompt, credit or timestamp line
        return _is_nav(line) or ("©" in line and _COPYRIGHT.search(lowered) is not None)
    return (
        (_related_prompt(shape, True) and n <= 25)
        or _is_social_prompt(shape, words)
        or (
            _NEWSLETTER.match(shape) is not None
            and n <= 25
            and (_NEWSLETTER_WORDS.search(shape) is not None or n <= 3)
        )
        or _COMMENTS_HEADING.match(shape) is not None
        or (_COMMENTS_PROMPT.match(shape) is not None and n <= 12)
        or (_CLICK_HERE.match(shape) is not None and n <= 15)
        or (_COPYRIGHT.search(lowered) is not None and (n <= 12 or "©" in line))
        or (line.lstrip().startswith(("©", "(c)", "(C)")))
        or ("©" in line and n <= 12)
        or (_CREDIT_PREFIX.match(shape) is not None and n <= 12)
        or _is_caption_credit(lowered, n)
        or " ".join(words) in _ADS
        or _is_nav(line)
        or (n <= 20 and _is_timestamp(line, shape))
    )


def _is_caption_credit(lowered: str, n: int) -> bool:
    """A caption ending in its photo agency («... - REUTERS», «... (أرشيفية)»); a dateline
    («موسكو-أ ف ب») has a single word before the agency and is the article's."""
    for pattern, longest in ((_CREDIT_LATIN, 40), (_CREDIT_ARABIC, 25)):
        match = pattern.search(lowered)
        if match and n <= longest and len(tokens(lowered[: match.start()])) >= 3:
            return True
    return False


def _is_nav(line: str) -> bool:
    """A row of menu entries: three or more short pieces between `|` or `•`."""
    pieces = [p for p in re.split(r"[|•]", line) if p.strip()]
    return len(pieces) >= 3 and all(len(tokens(p)) <= 4 for p in pieces)


def is_list_tail(line: str) -> bool:
    """A line that can belong to a related-links list: a list item or a bare headline."""
    if _LIST_ITEM.match(line):
        return True
    return len(tokens(line)) <= 14 and not _SENTENCE_END.search(line)


def clean_text(text: str, title: str = "") -> str:
    """Extracted text without boilerplate lines, paragraphs separated by a blank line.

    A bare related/tags prompt also takes the list under it. Disclaimers and comment
    policies are only dropped at the end of the text, where outlets put them."""
    title_shape = _shape(title) if title else None
    kept: list[str] = []
    previous = None
    in_list = 0
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if in_list and is_list_tail(line):
            in_list -= 1
            continue
        in_list = 0
        lowered = normalize(line)
        shape = _LEAD_PUNCT.sub("", lowered).strip()
        if _boilerplate(line, lowered, shape):
            if _related_prompt(shape, False):
                in_list = 15
            continue
        if shape in (title_shape, previous):
            continue
        kept.append(line)
        previous = shape
    while kept and is_disclaimer(kept[-1]):
        kept.pop()
    return "\n\n".join(kept)
