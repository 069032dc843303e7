"""A local web server for the bundled sample outlet (`crawler/sample_site`).

`arshif demo` and the end-to-end tests crawl a real HTTP server instead of mocked
responses, so robots.txt, content types, charsets and link-following behave as they do on
the web. The site's files say `__BASE_URL__` wherever an absolute URL belongs, because the
port is only known once the server listens; the server fills it in on the way out.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import posixpath
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, cast
from urllib.parse import unquote, urlsplit

PLACEHOLDER = b"__BASE_URL__"
TEMPLATED = {".html", ".xml", ".txt"}
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain",
}
CP1256_TYPE = "text/html; charset=windows-1256"
DEFAULT_PORT = 8765  # the sample outlet's base_url in crawler/outlets.yaml


def sample_site_dir() -> Path:
    """The sample site shipped inside the package."""
    return Path(__file__).resolve().parent / "sample_site"


def load_manifest(root: Path | None = None) -> dict[str, Any]:
    """The site's ground truth: its articles (what each contains and where it is linked)
    and its other pages."""
    path = (root or sample_site_dir()) / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _cp1256_paths(root: Path) -> set[str]:
    """Pages stored in windows-1256, read per request so that a copied site can change."""
    try:
        articles = load_manifest(root)["articles"]
    except FileNotFoundError:
        return set()
    return {a["path"] for a in articles if a["kind"] == "cp1256"}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    sample: SampleServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up mid-reply (a stopped crawl) is no error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real sites; every reply has a length
    server_version = "ArshifSample/1.0"

    def do_GET(self) -> None:
        self._reply(body=True)

    def do_HEAD(self) -> None:
        self._reply(body=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the demo read `SampleServer.requests`, not stderr."""

    def _reply(self, body: bool) -> None:
        sample = cast(_Server, self.server).sample
        sample._record(self.path)
        found = _resolve(sample.root, self.path)
        if found is None:
            self._send(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", _NOT_FOUND, body)
            return
        file, url_path = found
        data = file.read_bytes()
        if file.suffix in TEMPLATED:
            data = data.replace(PLACEHOLDER, sample.base_url.encode("ascii"))
        self._send(HTTPStatus.OK, _content_type(sample.root, file, url_path), data, body)

    def _send(self, status: HTTPStatus, ctype: str, data: bytes, body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


_NOT_FOUND = b"<!DOCTYPE html><html><head><title>404</title></head><body><h1>404</h1></body></html>"


def _resolve(root: Path, target: str) -> tuple[Path, str] | None:
    """The file a request path names under `root` (`/` and folders mean their index.html),
    with its normalised URL path; None when missing or outside `root`."""
    url_path = posixpath.normpath(unquote(urlsplit(target).path))
    if not url_path.startswith("/"):
        return None
    base = root.resolve()
    file = (base / url_path.lstrip("/")).resolve()
    if file.is_dir():
        file, url_path = file / "index.html", posixpath.join(url_path, "index.html")
    if not file.is_relative_to(base) or not file.is_file():
        return None
    return file, url_path


def _content_type(root: Path, file: Path, url_path: str) -> str:
    if file.suffix == ".html" and (
        file.name.startswith("cp1256-") or url_path in _cp1256_paths(root)
    ):
        return CP1256_TYPE
    if file.suffix in CONTENT_TYPES:
        return CONTENT_TYPES[file.suffix]
    return mimetypes.guess_type(file.name)[0] or "application/octet-stream"


class SampleServer:
    """The sample site on 127.0.0.1, in a background thread.

    Files are read from disk on every request, so a test may add or change pages between
    two crawls; `requests` lists every request path in arrival order."""

    def __init__(self, root: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.root = Path(root) if root is not None else sample_site_dir()
        self.host = host
        self.port = port
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """`http://host:port` without a trailing slash; known once started."""
        if self._httpd is None:
            raise RuntimeError("SampleServer is not started")
        return f"http://{self.host}:{self._httpd.server_address[1]}"

    def start(self) -> SampleServer:
        """Listen (port 0 picks a free port) and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        httpd = _Server((self.host, self.port), _Handler)
        httpd.sample = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},  # a quick stop() between tests
            name="sample-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join()
        self._httpd = self._thread = None

    def _record(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def __enter__(self) -> SampleServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """`python -m crawler.sample_server`: serve the sample site until Ctrl-C."""
    parser = argparse.ArgumentParser(description="Serve the bundled sample news site.")
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"0 picks a free port (default {DEFAULT_PORT})",
    )
    parser.add_argument("--root", type=Path, default=None, help="site folder (default: bundled)")
    args = parser.parse_args(argv)
    server = SampleServer(root=args.root, port=args.port).start()
    print(f"Serving {server.root} at {server.base_url}/ (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
