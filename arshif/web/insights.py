"""What is in the results: top words and recurring names of the matching articles, and the
stories they belong to.

Words are counted on the analysed terms the index uses (normalised, light-stemmed, stop words
out), each shown as its most frequent written form, and ranked by how many matching articles
use them. Names are the word pairs that recur across articles with no function word in them
("فلاديمير بوتين", "منظمة شنغهاي"): there is no Arabic named-entity tagger in Arshif, and in
news such recurring pairs are mostly people, places and organisations. Both are read from the
first SAMPLE matching articles, which the page says; stories are counted over every match.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice

from arshif.arabic import STOP_WORDS, stem, tokens
from arshif.record import Article

SAMPLE = 1000  # matching articles read for words and names
# Words of reporting that every news text uses, in normalised form.
NEWS_WORDS = frozenset(
    """
    قال قالت وقال وقالت يقول تقول اضاف اضافت واضاف واضافت اكد اكدت واكد واكدت اشار اشارت
    واشار اوضح واوضح ذكر ذكرت وذكر وفق وفقا حسب بحسب نقلا اليوم امس غدا يوم العام عام الان
    اكثر اقل كما وكان وكانت ولا ولم وهو وهي انه انها
    """.split()
)


def _ignored(token: str) -> bool:
    return token in STOP_WORDS or token in NEWS_WORDS or len(token) < 3 or token.isdigit()


@dataclass
class Story:
    story_id: str
    size: int = 0
    outlets: Counter[str] = field(default_factory=Counter)
    first: str | None = None
    last: str | None = None
    title: str = ""  # the earliest article's
    article_id: str = ""

    def add(self, article: Article) -> None:
        self.size += 1
        self.outlets[article.outlet] += 1
        day = (article.published or "")[:10] or None
        if day and (self.first is None or day < self.first):
            self.first, self.title, self.article_id = day, article.title, article.id
        elif not self.article_id:
            self.title, self.article_id = article.title, article.id
        if day and (self.last is None or day > self.last):
            self.last = day


@dataclass
class Words:
    words: list[tuple[str, int]]  # (written form, matching articles that use it)
    names: list[tuple[str, int]]
    sampled: int  # articles read


def top_words(articles: Iterable[Article], top: int = 40) -> Words:
    """Top words and names of the first SAMPLE articles (the rest is not read)."""
    by_stem: Counter[str] = Counter()
    forms: defaultdict[str, Counter[str]] = defaultdict(Counter)
    pairs: Counter[str] = Counter()
    sampled = 0
    for article in islice(articles, SAMPLE):
        sampled += 1
        words = tokens(f"{article.title}\n{article.text}")
        seen: set[str] = set()
        for word in words:
            if not _ignored(word):
                term = stem(word)
                forms[term][word] += 1
                seen.add(term)
        by_stem.update(seen)
        pairs.update({f"{a} {b}" for a, b in zip(words, words[1:], strict=False)
                      if not (_ignored(a) or _ignored(b))})  # fmt: skip
    words_top = [(forms[t].most_common(1)[0][0], n) for t, n in by_stem.most_common(top)]
    names_top = [(pair, n) for pair, n in pairs.most_common(top) if n > 1]
    return Words(words_top, names_top, sampled)


def stories(articles: Iterable[Article]) -> list[Story]:
    """Every matching article's story (an article without one is its own), largest first."""
    found: dict[str, Story] = {}
    for article in articles:
        key = article.story_id or f"article:{article.id}"
        found.setdefault(key, Story(key)).add(article)
    return sorted(found.values(), key=lambda s: (-s.size, s.first or "~", s.story_id))


def cloud(
    items: list[tuple[str, int]], smallest: float = 0.85, largest: float = 2.2
) -> list[tuple[str, int, float]]:
    """(word, count, font size in rem) for a word cloud, in alphabetical order so the eye
    reads size, not position, as weight."""
    if not items:
        return []
    low, high = min(n for _, n in items), max(n for _, n in items)
    span = (high - low) or 1
    sized = [(w, n, smallest + (largest - smallest) * (n - low) / span) for w, n in items]
    return sorted(sized)
