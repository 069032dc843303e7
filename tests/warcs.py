"""WARC files shaped like other tools' (CC-NEWS, Heritrix), for the import tests: real
Arabic pages of catalogue outlets among request, metadata, revisit, warcinfo records and
pages of other sites, other types and other statuses."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

from w3lib.url import safe_url_string
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.conftest import ROOT

REALPAGES = ROOT.parent / "shared" / "realpages"


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    date: str = "2022-09-16T10:00:00Z"


def real_pages() -> list[Page]:
    """The real outlet pages of ../shared/realpages, at their own URLs (percent-encoded,
    as a crawler records them)."""
    with (REALPAGES / "MANIFEST.tsv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [
        Page(safe_url_string(row["url"]), (REALPAGES / f"{row['name']}.html").read_bytes())
        for row in rows
    ]


def others() -> list[Page]:
    """Records a CC-NEWS file holds besides them: other sites, images, errors."""
    paragraphs = "".join(
        f"<p>Paragraph {n}: the city council met on Tuesday to discuss the budget for the "
        f"coming year, and members argued about item {n} for most of the afternoon.</p>"
        for n in range(12)
    )
    english = (
        "<html><head><title>Council debates the budget</title></head><body><article>"
        f"<h1>Council debates the budget</h1>{paragraphs}</article>"
    ).encode()
    return [
        Page("https://news.example.org/2022/09/budget.html", english + b"</body></html>"),
        Page("https://www.youm7.com/images/logo.jpg", b"\xff\xd8\xff" + b"\0" * 500,
             content_type="image/jpeg"),
        Page("https://www.youm7.com/story/2022/9/16/missing/1", b"<html>gone</html>", status=404),
    ]  # fmt: skip


def records(writer: WARCWriter, pages: list[Page]) -> list:
    """warcinfo, then for each page request + response + metadata, and a revisit of the
    first page at the end."""
    out = [writer.create_warcinfo_record("test.warc.gz", {"software": "tests"})]
    for page in pages:
        http = StatusAndHeaders(
            f"{page.status} {'OK' if page.status == 200 else 'Not Found'}",
            [("Content-Type", page.content_type), ("Content-Length", str(len(page.body)))],
            protocol="HTTP/1.1",
        )
        response = writer.create_warc_record(
            page.url, "response", payload=io.BytesIO(page.body), http_headers=http,
            warc_headers_dict={"WARC-Date": page.date},
        )  # fmt: skip
        request = writer.create_warc_record(
            page.url, "request", payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(f"GET {page.url} HTTP/1.1", [], is_http_request=True),
        )  # fmt: skip
        metadata = writer.create_warc_record(
            page.url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
            warc_content_type="application/warc-fields",
        )  # fmt: skip
        out += [request, response, metadata]
    first = pages[0]
    out.append(
        writer.create_revisit_record(
            first.url, "sha1:AAAA", first.url, "2022-09-15T10:00:00Z",
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                          protocol="HTTP/1.1"),
        )
    )  # fmt: skip
    return out


def write_warc(path: Path, pages: list[Page], compression: str = "member") -> Path:
    """`compression`: 'member' (a gzip member per record, the convention), 'whole' (the
    file gzipped as one stream) or 'none'."""
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compression == "member")
    for record in records(writer, pages):
        writer.write_record(record)
    data = buffer.getvalue()
    path.write_bytes(gzip.compress(data) if compression == "whole" else data)
    return path
