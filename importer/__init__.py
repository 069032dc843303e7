"""Importers: articles from files of other archives (Arshif's JSONL exports, other tools'
records, WARC files and Common Crawl's CC-NEWS), archived as a crawl archives them."""
