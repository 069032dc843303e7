"""Tags each article with its topics before it is archived (after RecordPipeline builds it).

The rules come from ARSHIF_TOPICS (a folder or file of topic YAML; empty: `ARSHIF_TOPICS` in
the environment, else the shipped topics). A bad topic file stops the crawl at start-up with
the message naming the file, topic and rule. ARSHIF_TOPICS_ENABLED = False turns tagging off.
"""

from __future__ import annotations

from typing import Self

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from analysis.items import PageItem
from indexer.topics import Topics, load_topics


class TopicsPipeline:
    """Sets `item.article.topics` from the topic rules; counts tags under arshif/topics/ID."""

    def __init__(self, crawler: Crawler, topics: Topics) -> None:
        self.crawler = crawler
        self.topics = topics

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        if not crawler.settings.getbool("ARSHIF_TOPICS_ENABLED", True):
            raise NotConfigured("topic tagging is off (ARSHIF_TOPICS_ENABLED)")
        return cls(crawler, load_topics(crawler.settings.get("ARSHIF_TOPICS") or None))

    def process_item(self, item: PageItem) -> PageItem:
        article = item.article
        if article is None:
            return item
        made = item.result.topics if item.result else None  # tagged by the page's work
        article.topics = made if made is not None else self.topics.tag_article(article)
        stats = self.crawler.stats
        for topic in article.topics:
            stats.inc_value(f"arshif/topics/{topic}")
        if not article.topics:
            stats.inc_value("arshif/topics/none")
        return item
