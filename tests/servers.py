"""A real HTTP server on 127.0.0.1 for crawl tests, recording every request it gets.

Subclasses say how to answer (`handle`); this starts and stops the server, and keeps the
log of (path, arrival time) and the count of requests per path (query string aside).
"""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from typing import Self


class RecordingServer:
    """Serves on a free port of 127.0.0.1 while used as a context manager."""

    def __init__(self) -> None:
        self.log: list[tuple[str, float]] = []
        self.hits: dict[str, int] = {}
        lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?")[0]
                with lock:
                    outer.log.append((self.path, time.monotonic()))
                    outer.hits[path] = hit = outer.hits.get(path, 0) + 1
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    outer.handle(self, path, hit)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client hanging up (on a hostile page, say) is not the server's error

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def handle(self, h: http.server.BaseHTTPRequestHandler, path: str, hit: int) -> None:
        """Answer one request: `hit` is how many times this path was asked for so far."""
        raise NotImplementedError

    @property
    def paths(self) -> list[str]:
        return [p for p, _ in self.log]

    @staticmethod
    def send(
        h: http.server.BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
