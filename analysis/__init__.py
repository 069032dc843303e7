"""One page's analysis, the same for every entry point (crawl, import, reextract): decoding,
extraction, dates, boilerplate, page type, language, the record and the page work. Nothing
here needs Scrapy or a network."""
