"""What is in the results: top words and names over analysed terms, stories grouped by
story_id; as plain functions on made-up articles and through the page on the sample archive."""

from __future__ import annotations

import re
from collections import Counter

from fastapi.testclient import TestClient

from arshif.arabic import stem, tokens
from arshif.record import Article
from arshif.web import insights


def _article(n: int, text: str, story: str, outlet: str = "a", day: str = "2025-09-01") -> Article:
    return Article(id=f"id{n}", url=f"https://x/{n}", canonical_url=f"https://x/{n}",
                   outlet=outlet, title="", text=text, story_id=story, published=day)  # fmt: skip


def test_words_are_analysed_terms_ranked_by_articles_without_stop_words() -> None:
    matches = [
        _article(1, "التقى الرئيس فلاديمير بوتين في القمة مع الرئيس شي", "s1"),
        _article(2, "وصل فلاديمير بوتين إلى قمة شنغهاي وقال إن القمة مهمة", "s1"),
        _article(3, "قمة أخرى عن المناخ في باكو", "s2", outlet="b", day="2025-09-03"),
    ]
    found = insights.top_words(iter(matches))
    counts = dict(found.words)
    top = found.words[0]
    assert stem(tokens(top[0])[0]) == stem(tokens("قمة")[0]) and top[1] == 3  # القمة, قمة
    assert not {"في", "مع", "قال", "وقال", "ان", "الي"} & set(counts)
    assert dict(found.names)["فلاديمير بوتين"] == 2
    assert all(n > 1 for _, n in found.names)
    ranked = insights.stories(matches)
    stories = {s.story_id: s for s in ranked}
    assert [s.story_id for s in ranked] == ["s1", "s2"]  # largest first
    assert stories["s1"].size == 2 and stories["s2"].outlets == Counter({"b": 1})
    assert (stories["s2"].first, stories["s2"].last) == ("2025-09-03", "2025-09-03")


def test_words_come_from_a_bounded_sample_but_stories_from_every_match(monkeypatch) -> None:
    monkeypatch.setattr(insights, "SAMPLE", 2)
    matches = [_article(n, "سمرقند", f"s{n % 2}") for n in range(5)]
    found = insights.top_words(iter(matches))
    assert found.sampled == 2 and dict(found.words)["سمرقند"] == 2
    assert sum(s.size for s in insights.stories(matches)) == 5


def test_cloud_sizes_follow_counts() -> None:
    sized = {w: size for w, _, size in insights.cloud([("a", 1), ("b", 5), ("c", 3)])}
    assert sized["a"] < sized["c"] < sized["b"]


def test_story_and_words_views_on_the_page(client: TestClient, articles: list[dict]) -> None:
    query = {"q": "سمرقند", "ui": "en"}
    total = client.get("/api/search", params=query).json()["total"]
    html = client.get("/", params={**query, "view": "stories"}).text
    table = html[html.index('id="stories"') : html.index("</table>", html.index('id="stories"'))]
    rows = re.findall(r'<tr data-story="([^"]+)">(.*?)</tr>', table)
    sizes = [int(re.findall(r"<td>(\d+)</td>", row)[-1]) for _, row in rows]
    assert sum(sizes) == total and len(rows) < total  # syndicated copies share a story
    assert len({story for story, _ in rows}) == len(rows) and 'id="hits"' not in html
    biggest = max(rows, key=lambda r: int(re.findall(r"<td>(\d+)</td>", r[1])[-1]))[0]
    assert sizes[0] == sum(1 for a in articles if a["story_id"] == biggest and a["id"] in {
        h["id"] for h in client.get("/api/search", params={**query, "limit": 100}).json()["hits"]
    })  # fmt: skip
    words = client.get("/", params={**query, "view": "words"}).text
    assert 'id="top_names"' in words and 'id="top_outlets"' in words
    top_words = words[words.index('id="top_words"') : words.index('id="top_names"')]
    assert "سمرقند" in top_words and 'class="cloud"' in top_words
    assert "%22%D8%B3%D9%85%D8%B1%D9%82%D9%86%D8%AF%22" in top_words  # a word refines the query
