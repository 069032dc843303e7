"""The Elasticsearch backend against a real server process: noida-db, which speaks the
Elasticsearch 8.15 REST API (its Arabic analysis is approximate, so these tests check
behaviour, not relevance). Each test uses its own alias, so tests share one server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from arshif.config import archive_path
from arshif.record import Article
from crawler.sample_server import SampleServer
from indexer.archive import Archive
from indexer.embedded import EmbeddedIndex
from indexer.es import ElasticIndex, ESConfig, ESError
from indexer.export import export
from indexer.filters import Filters
from indexer.search import SearchQuery
from tests.conftest import FAST, ROOT, run_arshif


class Noida:
    """A noida-db server with only Elasticsearch, on its own port and data folder."""

    def __init__(self, data_dir: Path) -> None:
        found = shutil.which("noida-db") or Path(sys.executable).with_name("noida-db")
        self.binary = str(found)
        self.data_dir = data_dir
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.binary, *args, "--data-dir", str(self.data_dir)],
            capture_output=True,
            text=True,
            timeout=60,
        )

    def up(self) -> None:
        out = self._run("up", "--only", "elasticsearch", "--elasticsearch-port", str(self.port))
        if out.returncode != 0:
            raise RuntimeError(out.stderr or out.stdout)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url, timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"noida-db did not answer on {self.url}")

    def down(self) -> None:
        self._run("down")


@pytest.fixture(scope="session")
def noida(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Noida]:
    server = Noida(tmp_path_factory.mktemp("noida"))
    try:
        server.up()
    except (OSError, RuntimeError, subprocess.SubprocessError) as exc:
        pytest.skip(f"noida-db (the Elasticsearch test server) cannot start: {exc}")
    yield server
    server.down()


@pytest.fixture
def config(noida: Noida) -> ESConfig:
    return ESConfig(urls=(noida.url,), replicas=0, alias=f"t{uuid.uuid4().hex[:10]}", retries=1)


@pytest.fixture
def es(config: ESConfig) -> Iterator[ElasticIndex]:
    index = ElasticIndex(config)
    yield index
    drop(index)
    index.client.close()


def drop(index: ElasticIndex) -> None:
    """Delete a test's indices and template (wildcard deletes are refused, as in ES 8)."""
    client = index.client.options(ignore_status=404)
    names = [n for n in client.indices.get(index=f"{index.alias}-v*") if n.startswith(index.alias)]
    if names:
        client.indices.delete(index=",".join(names))
    client.indices.delete_index_template(name=index.alias)


def es_env(config: ESConfig) -> dict[str, str]:
    return {
        "ARSHIF_ES_URL": config.urls[0],
        "ARSHIF_ES_INDEX": config.alias,
        "ARSHIF_ES_REPLICAS": "0",
    }


def make(n: int, **overrides: object) -> Article:
    fields: dict = {
        "id": f"id{n:05d}",
        "url": f"https://news.example/{n}",
        "canonical_url": f"https://news.example/{n}",
        "outlet": "alpha" if n % 2 else "beta",
        "title": f"القمة رقم {n}",
        "text": f"انعقدت قمة منظمة شنغهاي للتعاون في سمرقند، الخبر {n}.",
        "lead": "",
        "published": f"2022-09-{1 + n % 28:02d}T10:00:00+03:00",
        "language": "ar",
        "language_prob": 0.99,
        "fetched_at": "2026-11-23T10:00:00+00:00",
        "topics": ["sco-summit"] if n % 3 == 0 else [],
        "authors": ["مراسل"],
    }
    fields.update(overrides)
    return Article(**fields)


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive(tmp_path / "archive.sqlite") as db:
        fill(db)
        yield db


def fill(db: Any) -> None:
    """The articles the Elasticsearch tests index (any archive backend)."""
    for n in range(1, 31):
        db.upsert(make(n))
    db.upsert(make(31, title="Summit in Samarkand", text="Leaders met.", language="en"))
    db.upsert(make(32, dup_cluster="c1", title="خبر مكرر عن سمرقند"))
    db.upsert(make(33, dup_cluster="c1", dup_of=None, title="خبر مكرر آخر عن سمرقند"))
    db.upsert(make(34, dup_of="id00001", title="نسخة من خبر سمرقند"))
    db.upsert(make(35, published=None, title="خبر بلا تاريخ عن سمرقند"))
    db.upsert(make(36, published="2022-09-15T01:00:00+03:00", title="فجرا في سمرقند"))


def test_config_from_env_keeps_secrets_out_of_repr() -> None:
    assert ESConfig.from_env({}) is None
    config = ESConfig.from_env(
        {
            "ARSHIF_ES_URL": "https://u:pw@a:9200, https://b:9200",
            "ARSHIF_ES_API_KEY": "s3cret-key",
            "ARSHIF_ES_PASSWORD": "s3cret-pw",
            "ARSHIF_ES_SHARDS": "3",
        }
    )
    assert config is not None and config.urls == ("https://u:pw@a:9200", "https://b:9200")
    assert config.shards == 3 and config.api_key == "s3cret-key"
    assert "s3cret" not in repr(config) and "u:pw" not in repr(config)
    assert config.where == "https://***@a:9200, https://b:9200"
    with pytest.raises(ESError, match="ARSHIF_ES_TIMEOUT"):
        ESConfig.from_env({"ARSHIF_ES_URL": "http://a", "ARSHIF_ES_TIMEOUT": "soon"})


def test_unreachable_cluster_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    index = ElasticIndex(ESConfig(urls=(f"http://127.0.0.1:{port}",), retries=0, timeout=2))
    with pytest.raises(ESError, match=f"cannot reach Elasticsearch at http://127.0.0.1:{port}"):
        index.ensure()


def test_template_alias_and_strict_mapping(es: ElasticIndex, config: ESConfig) -> None:
    assert es.ensure() == f"{config.alias}-v1"
    assert es.ensure() == f"{config.alias}-v1", "ensure is idempotent"
    template = es.client.indices.get_index_template(name=config.alias)["index_templates"][0]
    assert template["index_template"]["index_patterns"] == [f"{config.alias}-v*"]
    mapping = es.client.indices.get_mapping(index=config.alias)[f"{config.alias}-v1"]
    props = mapping["mappings"]["properties"]
    assert mapping["mappings"]["dynamic"] == "strict"
    assert props["title"]["analyzer"] == "arshif_arabic"
    assert props["title"]["fields"]["exact"]["analyzer"] == "arshif_exact"
    assert props["outlet"]["type"] == props["topics"]["type"] == "keyword"
    assert props["published"]["type"] == "date"
    with pytest.raises(Exception, match="strict"):
        es.client.index(index=config.alias, id="x", document={"id": "x", "surprise": 1})
    tokens = es.client.indices.analyze(
        index=config.alias, analyzer="arshif_exact", text="القمّة إلى"
    )["tokens"]
    assert [t["token"] for t in tokens] == ["القمه", "الي"], "normalised, not stemmed"


def test_drain_acknowledges_only_what_was_indexed(es: ElasticIndex, archive: Archive) -> None:
    bad = make(99, published="not a date")
    archive.upsert(bad)
    report = es.drain(archive, batch=7)
    assert report.indexed == archive.count() - 1
    assert list(report.failed) == ["id00099"]
    assert archive.pending_count() == 1, "a refused document stays pending"
    assert es.count() == archive.count() - 1
    # Fixed in the archive, it goes out with the next drain; nothing is sent twice.
    archive.upsert(replace(bad, published="2022-09-20"))
    assert es.drain(archive).indexed == 1
    assert archive.pending_count() == 0
    assert es.count() == archive.count()


def test_search_filters_facets_and_collapse(es: ElasticIndex, archive: Archive) -> None:
    es.drain(archive)
    sqlite = EmbeddedIndex(archive)  # the embedded backend, the reference
    sqlite.drain(archive)
    cases = [
        Filters(),
        Filters(outlets=("alpha",)),
        Filters(languages=("en",)),
        Filters(topics=("sco-summit",)),
        Filters(since="2022-09-15", until="2022-09-15"),
        Filters(since="2022-09-10"),
        Filters(dedup=True),
    ]
    for filters in cases:
        ids = {a.id for a in archive.iter_articles(filters)}
        assert es.count(None, filters) == len(ids), filters
        result = es.search(SearchQuery("سمرقند", filters=filters, limit=100))
        sqlite_ids = {h.id for h in sqlite.search(SearchQuery("سمرقند", filters, 100)).hits}
        if not filters.dedup:
            assert {h.id for h in result.hits} == sqlite_ids, filters
    # The local date counts, as in the embedded backend: 01:00+03:00 is the 15th.
    day = es.search(SearchQuery("سمرقند", Filters(since="2022-09-15", until="2022-09-15")))
    assert "id00036" in {h.id for h in day.hits}

    result = es.search(SearchQuery("سمرقند", limit=5))
    matched = [archive.get(h.id) for h in sqlite.search(SearchQuery("سمرقند", limit=100)).hits]
    assert len(result.hits) == 5 and result.total == len(matched)
    facets = es.facets("سمرقند", Filters())
    assert facets == sqlite.facets("سمرقند", Filters())
    assert facets["outlet"] == dict(Counter(a.outlet for a in matched))
    assert facets["topics"] == dict(Counter(t for a in matched for t in a.topics))
    assert facets["language"] == {"ar": len(matched)}
    assert facets["month"] == {"2022-09": sum(1 for a in matched if a.published)}
    assert any("[" in h.snippet for h in result.hits), "highlighted snippets"

    deduped = es.search(SearchQuery("سمرقند", Filters(dedup=True), limit=100))
    ids = [h.id for h in deduped.hits]
    assert "id00034" not in ids, "recorded duplicates are left out"
    assert len({"id00032", "id00033"} & set(ids)) == 1, "one hit per duplicate cluster"
    assert deduped.total == len(ids)

    # Paging: pages join up without gaps or repeats.
    pages = [es.search(SearchQuery("سمرقند", limit=10, page=p)).hits for p in (1, 2, 3, 4)]
    paged = [h.id for page in pages for h in page]
    assert len(paged) == len(set(paged)) == 35
    with pytest.raises(ValueError, match="no searchable words"):
        es.search(SearchQuery("في"))


def test_deep_pages_use_search_after(es: ElasticIndex, archive: Archive, monkeypatch) -> None:
    es.drain(archive)
    monkeypatch.setattr("indexer.es.MAX_WINDOW", 10)
    direct = [h.id for h in es.search(SearchQuery("سمرقند", limit=5, page=3)).hits]
    monkeypatch.setattr("indexer.es.MAX_WINDOW", 10_000)
    assert direct == [h.id for h in es.search(SearchQuery("سمرقند", limit=5, page=3)).hits]


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_export_rows_identical_to_sqlite(es, archive, tmp_path, fmt) -> None:
    es.drain(archive, batch=4)
    for query, filters in ((None, Filters()), ("سمرقند", Filters(outlets=("alpha",)))):
        ours, theirs = tmp_path / f"es.{fmt}", tmp_path / f"sqlite.{fmt}"
        n = export(archive, ours, fmt, query=query, filters=filters, backend=es, progress=False)
        m = export(archive, theirs, fmt, query=query, filters=filters, progress=False)
        assert n == m > 0
        if fmt == "parquet":  # same rows; the files' metadata may differ
            assert pq.read_table(ours).equals(pq.read_table(theirs))
        else:
            assert ours.read_bytes() == theirs.read_bytes()
        ours.unlink()
        theirs.unlink()


def test_update_topics_in_place(es: ElasticIndex, archive: Archive) -> None:
    es.drain(archive)
    done = es.update_topics({"id00001": ["new-topic"], "missing": ["x"]})
    assert done == ["id00001"]
    assert es.count(None, Filters(topics=("new-topic",))) == 1
    assert es.client.get(index=es.alias, id="id00001")["_source"]["title"] == "القمة رقم 1"


def test_rebuild_switches_alias_atomically(es: ElasticIndex, archive: Archive, config) -> None:
    es.drain(archive)
    archive.upsert(make(50, title="جديد في سمرقند"))
    name, report = es.rebuild(archive)
    assert name == f"{config.alias}-v2" and report.indexed == archive.count()
    assert list(es.client.indices.get_alias(name=config.alias)) == [name]
    assert not es.client.indices.exists(index=f"{config.alias}-v1")
    assert es.count() == archive.count() and archive.pending_count() == 0
    name, _ = es.rebuild(archive)
    assert name == f"{config.alias}-v3"


# ---------------------------------------------------------------- through the command line


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, noida: Noida) -> tuple[Path, ESConfig]:
    """The sample outlet crawled once with Elasticsearch configured: the crawl's end drains
    the outbox into it."""
    config = ESConfig(urls=(noida.url,), alias=f"crawl{uuid.uuid4().hex[:8]}")
    home = tmp_path_factory.mktemp("es-home")
    with SampleServer() as server:
        out = run_es(home, config, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert out.returncode == 0, out.stderr[-3000:]
    return home, config


def run_es(home: Path, config: ESConfig, *args: str) -> subprocess.CompletedProcess[str]:
    """`arshif ARGS` with the Elasticsearch backend configured through the environment."""
    env = {**os.environ, **es_env(config), "ARSHIF_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "arshif.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        cwd=ROOT,
    )


def test_crawl_indexes_into_elasticsearch(crawled, tmp_path) -> None:
    home, config = crawled
    with Archive(archive_path(home)) as archive:
        total = archive.count()
        states = archive.db.execute("select distinct index_state, indexed_by from articles")
        assert states.fetchall() == [("indexed", "elasticsearch")]
    out = run_es(home, config, "search", "قمة", "--json", "--limit", "50")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["total"] >= 4 and data["facets"]["outlet"] == {"sample": data["total"]}
    readable = run_es(home, config, "search", "شنغهاي")
    assert "articles match" in readable.stdout and "outlet:" in readable.stdout

    ours, theirs = tmp_path / "es.jsonl", tmp_path / "sqlite.jsonl"
    out = run_es(home, config, "export", "--format", "jsonl", "-o", str(ours), "--no-progress")
    assert out.returncode == 0, out.stderr
    run_arshif(home, "export", "--format", "jsonl", "-o", str(theirs), "--no-progress")
    assert ours.read_text(encoding="utf-8") == theirs.read_text(encoding="utf-8")
    assert len(ours.read_text(encoding="utf-8").splitlines()) == total

    out = run_es(home, config, "index", "--rebuild")
    assert out.returncode == 0, out.stderr
    assert f"Rebuilt {config.alias}-v2 behind {config.alias}: {total} articles" in out.stdout


def test_backend_elasticsearch_needs_a_url(crawled) -> None:
    home, _ = crawled
    out = run_arshif(home, "index", "--backend", "elasticsearch")
    assert out.returncode == 2 and "needs ARSHIF_ES_URL" in out.stderr


def test_outage_mid_index_loses_nothing_and_duplicates_nothing(
    noida: Noida, config: ESConfig, tmp_path: Path
) -> None:
    home = tmp_path / "data"
    with Archive(archive_path(home)) as archive:
        for n in range(1, 1201):
            archive.upsert(make(n))
    index = ElasticIndex(config)
    batches = 0

    def stop_after_two(_: int) -> None:
        nonlocal batches
        batches += 1
        if batches == 2:
            noida.down()

    try:
        with Archive(archive_path(home)) as archive, pytest.raises(ESError, match="pending"):
            index.drain(archive, batch=100, progress=stop_after_two)
        # While the server is down, `arshif index` says so in one line and keeps everything.
        down = run_es(home, config, "index")
        assert down.returncode == 2
        assert f"cannot reach Elasticsearch at {config.urls[0]}" in down.stderr
        assert "Traceback" not in down.stderr
        with Archive(archive_path(home)) as archive:
            assert archive.pending_count() == 1000
    finally:
        noida.up()
    out = run_es(home, config, "index")
    assert out.returncode == 0, out.stderr
    assert "Indexed 1000 articles" in out.stdout
    try:
        with Archive(archive_path(home)) as archive:
            assert archive.pending_count() == 0
        index.refresh()
        assert index.count() == 1200, "every article indexed exactly once"
        ids = {h["_id"] for h in index.client.search(index=index.alias, size=2000)["hits"]["hits"]}
        assert len(ids) == 1200
    finally:
        drop(index)


def test_crawl_with_elasticsearch_down_archives_everything(config: ESConfig, tmp_path) -> None:
    home = tmp_path / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    down = replace(config, urls=(closed,))
    with SampleServer() as server:
        out = run_es(home, down, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"cannot reach Elasticsearch at {closed}" in out.stderr
    with Archive(archive_path(home)) as archive:
        total = archive.count()
        assert total > 0 and archive.pending_count() == total
    out = run_es(home, config, "index")
    assert out.returncode == 0, out.stderr
    assert f"Indexed {total} articles" in out.stdout
    index = ElasticIndex(config)
    try:
        assert index.count() == total
    finally:
        drop(index)
        index.client.close()
