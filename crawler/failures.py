"""What kind of failure a failed request is, for the crawl run's errors by kind.

A request reaches the spider's errback once, after Scrapy's retries, so each failed URL is
counted once, by its final outcome. Two refusals Scrapy reports as IgnoreRequest are really
failures of the server (a body too large once decompressed, a redirect loop); the other
IgnoreRequests (robots.txt, already archived, off the outlet's domains) are deliberate skips.
"""

from __future__ import annotations

from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.python.failure import Failure

# Final failures by exception class (first match wins); anything else keeps its class name.
_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (DownloadTimeoutError, "timeout"),
    (TimeoutError, "timeout"),
    (ResponseDataLossError, "connection_lost"),
    (DownloadConnectionRefusedError, "connection_refused"),
    (CannotResolveHostError, "dns"),
    (DownloadFailedError, "download_failed"),
)


def failure_kind(failure: Failure, request: Request, max_redirects: int) -> str | None:
    """The error kind of a request's final failure, or None for a deliberate skip."""
    exc = failure.value
    message = str(exc)
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status", None):
        return f"http_{response.status}"
    if isinstance(exc, IgnoreRequest):
        if "DOWNLOAD_MAXSIZE" in message:  # HttpCompressionMiddleware: a decompression bomb
            return "too_large"
        redirects = request.meta.get("redirect_times", 0)
        if "max redirections" in message or (max_redirects and redirects >= max_redirects):
            return "redirect_loop"
        return None
    if isinstance(exc, DownloadCancelledError):
        # Scrapy cancels a download only past DOWNLOAD_MAXSIZE (announced by Content-Length
        # or streamed past it); a timeout is DownloadTimeoutError, a spider's stop StopDownload.
        return "too_large"
    for cls, kind in _KINDS:
        if isinstance(exc, cls):
            return kind
    return type(exc).__name__ if failure.type else "error"
