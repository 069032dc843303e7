"""Every reading command on the PostgreSQL archive with Elasticsearch as its search index:
the same sample site (with a syndicated copy) is crawled into SQLite (embedded index) and
into a real PostgreSQL 15 (noida-db's Elasticsearch), and `search`, `export`, `stats`,
`similar`, `reextract`, `serve` and the web page give the same answers on both."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from arshif.config import archive_path
from crawler.sample_server import SampleServer, load_manifest, sample_site_dir
from indexer.archive import Archive
from indexer.archive_pg import PgArchive
from indexer.es import ElasticIndex, ESConfig
from tests.conftest import FAST, ROOT, run_arshif
from tests.services import free_port, new_database
from tests.test_dedup_e2e import add_syndicated_copy
from tests.test_es import Noida, drop, es_env, noida  # noqa: F401 (the server fixture)

QUERY = "سمرقند"


@dataclass
class Pg:
    home: Path
    url: str
    config: ESConfig

    def env(self) -> dict[str, str]:
        return {**os.environ, **es_env(self.config), "ARSHIF_HOME": str(self.home),
                "ARSHIF_DATABASE_URL": self.url, "PYTHONUNBUFFERED": "1"}  # fmt: skip

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`arshif ARGS` on PostgreSQL + Elasticsearch."""
        return subprocess.run(
            [sys.executable, "-m", "arshif.cli", *args],
            capture_output=True, text=True, timeout=240, env=self.env(), cwd=ROOT,
        )  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("site")
    site = Path(shutil.copytree(sample_site_dir(), folder / "site"))
    add_syndicated_copy(site, load_manifest())
    return site


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[SampleServer]:
    """One server for both crawls: the same URLs, so the same article ids."""
    with SampleServer(root=site) as running:
        yield running


@pytest.fixture(scope="module")
def sqlite_home(server: SampleServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("sqlite") / "data"
    out = run_arshif(home, "crawl", "sample", "--base-url", server.base_url, *FAST)
    assert out.returncode == 0, out.stderr[-3000:]
    return home


@pytest.fixture(scope="module")
def pg(
    server: SampleServer,
    postgres_server: str,
    noida: Noida,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pg]:
    config = ESConfig(urls=(noida.url,), replicas=0, alias=f"c{uuid.uuid4().hex[:10]}", retries=1)
    with new_database(postgres_server) as url:
        setup = Pg(tmp_path_factory.mktemp("pg") / "data", url, config)
        out = setup.run("crawl", "sample", "--base-url", server.base_url, *FAST)
        assert out.returncode == 0, out.stderr[-3000:]
        assert not archive_path(setup.home).exists(), "nothing was written to SQLite"
        index = ElasticIndex(config)
        try:
            yield setup
        finally:
            drop(index)
            index.client.close()


def groups(by_id: dict[str, str | None]) -> set[frozenset[str]]:
    """The grouping itself (story ids name whichever member a crawl placed first)."""
    found: dict[str | None, set[str]] = {}
    for article_id, group in by_id.items():
        found.setdefault(group, set()).add(article_id)
    return {frozenset(g) for g in found.values()}


def _json(out: subprocess.CompletedProcess[str]) -> object:
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_search_export_and_stats_agree_with_sqlite(
    pg: Pg, sqlite_home: Path, tmp_path: Path
) -> None:
    args = ("search", QUERY, "--json", "--limit", "100")
    on_pg, on_sqlite = _json(pg.run(*args)), _json(run_arshif(sqlite_home, *args))
    assert on_pg["total"] > 0 and on_pg["total"] == on_sqlite["total"]
    assert {h["id"] for h in on_pg["hits"]} == {h["id"] for h in on_sqlite["hits"]}

    def exported(out: subprocess.CompletedProcess[str], path: Path) -> dict[str, str]:
        assert out.returncode == 0, out.stderr[-3000:]
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        return {r["id"]: r["title"] for r in rows}

    export = ("export", "--format", "jsonl", "--no-progress", "--query", QUERY, "-o")
    pg_rows = exported(pg.run(*export, str(tmp_path / "pg.jsonl")), tmp_path / "pg.jsonl")
    sqlite_file = tmp_path / "sqlite.jsonl"
    sqlite_rows = exported(run_arshif(sqlite_home, *export, str(sqlite_file)), sqlite_file)
    assert pg_rows and pg_rows == sqlite_rows

    stats_pg, stats_sqlite = (
        _json(pg.run("stats", "--json")),
        _json(run_arshif(sqlite_home, "stats", "--json")),
    )
    for key in ("total", "undated", "by_outlet", "by_topic", "by_day", "by_language",
                "by_index_state", "duplicates_by_outlet"):  # fmt: skip
        assert stats_pg[key] == stats_sqlite[key], key
    assert stats_pg["duplicates_by_outlet"]["sample"]["duplicates"] == 1
    assert [r["outlet"] for r in stats_pg["runs"]] == ["sample"]
    assert "queue" not in stats_pg  # no ARSHIF_REDIS_URL


def test_similar_and_reextract_on_postgresql(pg: Pg, sqlite_home: Path) -> None:
    with PgArchive(pg.url) as archive:
        copy = next(a for a in archive.iter_articles() if a.dup_of)
        before = {a.id: (a.dup_cluster, a.title) for a in archive.iter_articles()}
        before_story = {a.id: a.story_id for a in archive.iter_articles()}
    found = _json(pg.run("similar", copy.id, "--json"))
    assert [m["id"] for m in found if m["relation"] == "near_dup"] == [copy.dup_of]
    on_sqlite = _json(run_arshif(sqlite_home, "similar", copy.id, "--json"))
    assert {m["id"] for m in on_sqlite if m["relation"] == "near_dup"} == {copy.dup_of}
    mates = {m["id"] for m in found if m["relation"] == "story"}
    assert mates and mates == {m["id"] for m in on_sqlite if m["relation"] == "story"}
    with Archive(archive_path(sqlite_home)) as archive:
        stories = {a.id: a.story_id for a in archive.iter_articles()}
    assert groups(before_story) == groups(stories), "the same stories as on SQLite"

    out = pg.run("reextract")
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"{len(before)} articles updated, 0 new" in out.stdout
    with PgArchive(pg.url) as archive:
        after = {a.id: (a.dup_cluster, a.title) for a in archive.iter_articles()}
        assert after == before and archive.pending_count() == 0  # re-indexed at the end


def test_web_page_and_api_on_postgresql(
    pg: Pg, sqlite_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from arshif.web.app import create_app

    monkeypatch.setenv("ARSHIF_DATABASE_URL", pg.url)
    index = ElasticIndex(pg.config)
    with TestClient(create_app(pg.home, backend=index)) as client:
        search = {"q": QUERY, "limit": 50}
        every = client.get("/api/search", params=search).json()["hits"]
        kept = client.get("/api/search", params={**search, "dedup": True}).json()["hits"]
        with Archive(archive_path(sqlite_home)) as archive:
            copy = next(a for a in archive.iter_articles() if a.dup_of)
        ids = {h["id"] for h in kept}
        assert ids < {h["id"] for h in every}, "--dedup leaves some copies out"
        for hit in kept:  # one article per cluster: no kept hit is another's copy
            assert not {d["id"] for d in hit["duplicates"]} - {hit["id"]} & ids
        assert any(hit["duplicates"] for hit in kept)
        page = client.get("/", params={"q": QUERY, "outlet": "sample"})
        assert page.status_code == 200 and "<mark>" in page.text
        article = client.get(f"/article/{copy.id}")
        assert article.status_code == 200 and copy.dup_of in article.text  # its cluster
        raw = client.get(f"/article/{copy.id}/raw")
        assert raw.status_code == 200 and QUERY in raw.text
        saved = client.post("/saved", data={"name": "قمة", "query": f"q={QUERY}"})
        assert saved.status_code == 200 and "قمة" in saved.text
        assert client.get("/", params={"outlet": "nowhere"}).status_code == 400
    index.client.close()
    with PgArchive(pg.url) as archive:
        assert [s[1] for s in archive.saved_searches()] == ["قمة"]


def test_serve_answers_from_postgresql(pg: Pg) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "arshif.cli", "serve", "--port", str(port)],
        env=pg.env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline, body = time.monotonic() + 120, None
        while body is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            try:
                url = f"http://127.0.0.1:{port}/api/search?q={urllib.request.quote(QUERY)}"
                with urllib.request.urlopen(url, timeout=10) as response:
                    body = json.load(response)
            except OSError:
                time.sleep(0.5)
        assert body is not None and body["total"] > 0
    finally:
        proc.terminate()
        proc.wait(30)


def test_embedded_index_is_refused_on_postgresql(pg: Pg) -> None:
    out = pg.run("search", QUERY, "--backend", "embedded")
    assert out.returncode == 2 and "Elasticsearch" in out.stderr


def test_topic_commands_on_postgresql(pg: Pg, sqlite_home: Path) -> None:
    listed = pg.run("topics", "list")
    assert listed.returncode == 0, listed.stderr[-3000:]
    on_sqlite = run_arshif(sqlite_home, "topics", "list")
    assert " ".join(listed.stdout.split()) == " ".join(on_sqlite.stdout.split())
    coverage = ("stats", "--topic", "sco-summit", "--json")
    assert _json(pg.run(*coverage)) == _json(run_arshif(sqlite_home, *coverage))
    retag = pg.run("topics", "retag", "--no-progress")
    assert retag.returncode == 0, retag.stderr[-3000:]
    assert "0 changed" in retag.stdout  # the rules the crawl tagged with
