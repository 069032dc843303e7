"""The web API on the Elasticsearch backend (a real noida-db server): the same hits and
exported rows as on the embedded index, with the backend's own facets."""

from __future__ import annotations

import io
import shutil
import socket
import sqlite3
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arshif.config import archive_path, warc_dir
from arshif.web.app import create_app
from indexer.archive import Archive
from indexer.es import ElasticIndex, ESConfig
from tests.test_es import drop, noida  # noqa: F401 - the noida-db server fixture


@pytest.fixture(scope="module")
def es_client(web_home: Path, noida, tmp_path_factory) -> Iterator[TestClient]:  # noqa: F811
    """A copy of the session archive (so its outbox stays the embedded index's), fed to a
    fresh Elasticsearch alias, served with that backend."""
    home = tmp_path_factory.mktemp("web-es") / "data"
    home.mkdir()
    with sqlite3.connect(archive_path(web_home)) as src, sqlite3.connect(archive_path(home)) as dst:
        src.backup(dst)
    shutil.copytree(warc_dir(web_home), warc_dir(home))
    config = ESConfig(urls=(noida.url,), replicas=0, alias=f"w{uuid.uuid4().hex[:10]}", retries=1)
    index = ElasticIndex(config)
    with Archive(archive_path(home)) as archive:
        archive.requeue_all()
        index.drain(archive)
    try:
        with TestClient(create_app(home, backend=index)) as client:
            yield client
    finally:
        drop(index)
        index.client.close()


def test_search_and_export_agree_with_the_embedded_index(
    es_client: TestClient, client: TestClient
) -> None:
    params = {"q": "سمرقند", "topic": "sco-summit", "limit": 50}
    on_es = es_client.get("/api/search", params=params)
    assert on_es.status_code == 200, on_es.text
    on_sqlite = client.get("/api/search", params=params).json()
    body = on_es.json()
    assert {h["id"] for h in body["hits"]} == {h["id"] for h in on_sqlite["hits"]}
    assert body["facets"]["outlet"] == {"sample": body["total"]}
    deduped = es_client.get("/api/search", params={**params, "dedup": True}).json()
    assert deduped["total"] == body["total"] - 1

    facets = es_client.get("/api/facets", params=params).json()
    assert sum(n for row in facets["coverage"].values() for n in row.values()) == body["total"]
    page = es_client.get("/", params={"q": "سمرقند"})
    assert page.status_code == 200 and "<mark>" in page.text and "<svg" in page.text

    def rows(c: TestClient) -> bytes:
        response = c.get("/api/export", params={**params, "format": "jsonl"})
        assert response.status_code == 200, response.text
        with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
            (name,) = [n for n in zf.namelist() if n.endswith(".jsonl")]
            return zf.read(name)

    assert rows(es_client) == rows(client)
    assert es_client.get("/api/search", params={"q": "?!"}).status_code == 400


def test_unreachable_cluster_is_a_503_with_its_address(web_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "data"
    home.mkdir()
    with sqlite3.connect(archive_path(web_home)) as src, sqlite3.connect(archive_path(home)) as dst:
        src.backup(dst)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    index = ElasticIndex(ESConfig(urls=(f"http://127.0.0.1:{port}",), retries=0, timeout=2))
    with TestClient(create_app(home, backend=index)) as down:
        api = down.get("/api/search", params={"q": "قمة"})
        assert api.status_code == 503 and f"127.0.0.1:{port}" in api.json()["detail"]
        page = down.get("/", params={"q": "قمة"})
        assert page.status_code == 503 and f"127.0.0.1:{port}" in page.text
