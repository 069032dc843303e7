"""The web page and JSON API of `arshif serve` (FastAPI, server-rendered templates).

Lives in `arshif`, not `indexer`, because it reads raw pages back from the WARC archive."""
