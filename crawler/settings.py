"""Scrapy settings for Arshif: polite by default, every ARSHIF_* setting in one place."""

from arshif import __version__
from arshif.config import data_dir

BOT_NAME = "arshif"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Politeness: a User-Agent that names the project, robots.txt, AutoThrottle, few requests
# per domain, bounded downloads and a few retries.
USER_AGENT = f"Arshif/{__version__} (Arabic news archiver; +https://pypi.org/project/arshif/)"
ROBOTSTXT_OBEY = True
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
# Scrapy starts one task per concurrent item for every response's output; our responses
# yield one item or a list of requests, so a small number saves work per page.
CONCURRENT_ITEMS = 16
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 10 * 1024 * 1024
DOWNLOAD_WARNSIZE = 3 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False

# Requests already seen in this crawl go to a SQLite file of this run only (memory stays
# flat): a resumed crawl re-reads its feeds and asks the archive (not a stale seen-file)
# what is still missing.
DUPEFILTER_CLASS = "crawler.dupefilter.DiskDupeFilter"

DOWNLOADER_MIDDLEWARES = {
    # Only http(s), whatever named the URL (crawler/schemes.py): first, before anything else.
    "crawler.schemes.SchemeGuardMiddleware": 40,
    # Scrapy's offsite filter lets dont_filter requests (listings, their redirects) leave.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.offsite.OutletOffsiteMiddleware": 50,
    "crawler.middlewares.SkipArchivedMiddleware": 50,
    # Before robots.txt (100) and redirects (600): redirect targets come back through it.
    "crawler.address_guard.AddressGuardMiddleware": 60,
    "crawler.retry_after.RetryAfterMiddleware": 560,  # waits for Retry-After, then 550 retries
    # Feeds and sitemaps asked for with the last crawl's ETag / Last-Modified (304: unchanged).
    "crawler.conditional.ConditionalListingMiddleware": 580,
}
# Defence in depth for the rule above: no handler reads local files, FTP, data: or S3.
DOWNLOAD_HANDLERS = {"file": None, "ftp": None, "data": None, "s3": None}
# The address rule applied again to the address a download connects to (DNS rebinding).
TWISTED_DNS_RESOLVER = "crawler.address_guard.GuardedResolver"
ITEM_PIPELINES = {
    "crawler.pipelines.WarcPipeline": 100,
    "crawler.pipelines.ExtractPipeline": 200,
    "crawler.pipelines.RecordPipeline": 250,
    "crawler.pipelines_topics.TopicsPipeline": 260,
    "crawler.pipelines_dedup.DedupPipeline": 280,
    "crawler.pipelines.ArchivePipeline": 300,
    "crawler.pipelines_index.SearchIndexPipeline": 400,
}
EXTENSIONS = {
    "crawler.extensions.CrawlRunRecorder": 500,
    "crawler.extensions.IndexOnClose": 600,
    "crawler.extensions.JobDirCleanup": 700,
    "crawler.crawl_delay.CrawlDelay": 800,  # robots.txt Crawl-delay, floor under AutoThrottle
}

# Arshif's own settings (overridable with -s NAME=VALUE or from `arshif` options).
ARSHIF_HOME = str(data_dir())
ARSHIF_OUTLETS = ""  # empty: ARSHIF_OUTLETS env or the shipped catalogue
ARSHIF_REFRESH = False  # fetch articles again even when already archived
ARSHIF_WARC_MAX_BYTES = 100 * 1024 * 1024
# Sitemap indexes followed below a configured sitemap (an index of indexes: 2); each
# sitemap is asked for once per crawl, so indexes that list themselves or each other end.
ARSHIF_SITEMAP_DEPTH = 2
# The longest robots.txt Crawl-delay obeyed (seconds); a longer one is cut to this, with a
# warning, so a site cannot stall a crawl for good.
ARSHIF_MAX_CRAWL_DELAY = 300.0
ARSHIF_EXTRACT_WORKERS = 0  # 0: one extraction process per core; 1: extract in-process
# Seconds one page's extraction may take; past it the page is skipped (extract/timeout),
# its WARC copy kept, and the crawl goes on. 0: no limit.
ARSHIF_EXTRACT_TIMEOUT = 60.0
ARSHIF_COMMIT_ITEMS = 64  # archive writes grouped in one commit (crawler/archive_session.py)
ARSHIF_COMMIT_SECONDS = 1.0  # ... or committed after this long, whichever comes first
# Index from the crawl: the embedded index as articles are archived, Elasticsearch (and
# whatever is still pending) when the crawl ends.
ARSHIF_INDEX_ON_CLOSE = True
ARSHIF_RUN_INFO: dict[str, str] = {}  # JSON kept with the crawl run (a scheduled run's id)
ARSHIF_BACKEND = ""  # embedded | elasticsearch; empty: elasticsearch when ARSHIF_ES_URL is set
ARSHIF_DEDUP = True  # near-duplicate clusters and stories (crawler/pipelines_dedup.py)
ARSHIF_DEDUP_STORIES = True  # off: near-duplicates only, each cluster its own story
ARSHIF_TOPICS = ""  # topic rules folder or file; empty: ARSHIF_TOPICS env or the shipped ones
ARSHIF_TOPICS_ENABLED = True  # tag articles with their topics (crawler/pipelines_topics.py)
# Fetch private, loopback, link-local and metadata addresses that an outlet's pages lead to
# (crawler/address_guard.py); the host:port its own configuration names is always allowed.
ARSHIF_ALLOW_PRIVATE_ADDRESSES = False

LOG_LEVEL = "INFO"
# The pipeline that refuses a page logs it once with its reason; Scrapy's own drop message
# would print the whole item again.
DEFAULT_DROPITEM_LOG_LEVEL = "DEBUG"
FEED_EXPORT_ENCODING = "utf-8"
