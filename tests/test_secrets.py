"""Secrets (issue 8): read from the environment or from a file only its owner can read, and
never shown in messages, logs or exports."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import pytest

from arshif.credentials import SecretError, has_secret, read_secret, redact_url
from arshif.record import Article
from arshif.web.app import web_token
from indexer.archive import Archive
from indexer.es import ElasticIndex, ESConfig, ESError
from tests.conftest import run_arshif

PASSWORD = "Pa55-never-shown"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def secret_file(tmp_path: Path, text: str, mode: int = 0o600, name: str = "secret") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://alice:pw@es:9200", "http://***@es:9200"),
        ("https://u:p%40ss@a:9200, https://b:9200", "https://***@a:9200, https://b:9200"),
        ("https://token@es.example/x?y=1", "https://***@es.example/x?y=1"),
        ("cannot reach http://u:pw@h:1/ (ConnectionError)", "cannot reach http://***@h:1/ "
         "(ConnectionError)"),
        ("http://es:9200/a@b", "http://es:9200/a@b"),  # an @ in the path is no user
        ("no url here: user@example.org", "no url here: user@example.org"),
    ],
)  # fmt: skip
def test_redact_url(text: str, expected: str) -> None:
    assert redact_url(text) == expected


def test_secret_from_environment_or_private_file(tmp_path: Path) -> None:
    assert read_secret("ARSHIF_WEB_TOKEN", {}) is None
    assert read_secret("ARSHIF_WEB_TOKEN", {"ARSHIF_WEB_TOKEN": "t0k"}) == "t0k"
    path = secret_file(tmp_path, "t0k-from-file\n")
    env = {"ARSHIF_WEB_TOKEN_FILE": str(path)}
    assert has_secret("ARSHIF_WEB_TOKEN", env) and not has_secret("ARSHIF_ES_URL", env)
    assert read_secret("ARSHIF_WEB_TOKEN", env) == "t0k-from-file"
    with pytest.raises(SecretError, match="keep one of them"):
        read_secret("ARSHIF_WEB_TOKEN", {**env, "ARSHIF_WEB_TOKEN": "x"})
    with pytest.raises(SecretError, match="cannot read .*missing"):
        read_secret("ARSHIF_WEB_TOKEN", {"ARSHIF_WEB_TOKEN_FILE": str(tmp_path / "missing")})


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_secret_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = secret_file(tmp_path, PASSWORD, mode)
    with pytest.raises(SecretError) as info:
        read_secret("ARSHIF_ES_PASSWORD", {"ARSHIF_ES_PASSWORD_FILE": str(path)})
    message = str(info.value)
    assert f"chmod 600 {path}" in message and f"{mode:04o}" in message
    assert PASSWORD not in message


def test_es_config_and_web_token_from_files(tmp_path: Path, monkeypatch) -> None:
    url = secret_file(tmp_path, f"https://alice:{PASSWORD}@es1:9200,https://es2:9200\n", 0o400)
    key = secret_file(tmp_path, "api-key-value", name="key")
    config = ESConfig.from_env({"ARSHIF_ES_URL_FILE": str(url), "ARSHIF_ES_API_KEY_FILE": str(key)})
    assert config is not None
    assert config.urls == (f"https://alice:{PASSWORD}@es1:9200", "https://es2:9200")
    assert config.api_key == "api-key-value"
    assert config.where == "https://***@es1:9200, https://es2:9200"
    assert PASSWORD not in repr(config) and "api-key-value" not in repr(config)

    url.chmod(0o644)
    with pytest.raises(ESError, match="chmod 600"):
        ESConfig.from_env({"ARSHIF_ES_URL_FILE": str(url)})

    monkeypatch.delenv("ARSHIF_WEB_TOKEN", raising=False)
    monkeypatch.setenv("ARSHIF_WEB_TOKEN_FILE", str(secret_file(tmp_path, " tok \n", name="t")))
    assert web_token() == "tok"


def test_unreachable_cluster_error_and_log_hide_the_password(caplog) -> None:
    env = {
        "ARSHIF_ES_URL": f"http://alice:{PASSWORD}@127.0.0.1:{closed_port()}",
        "ARSHIF_ES_RETRIES": "0",
        "ARSHIF_ES_TIMEOUT": "2",
    }
    config = ESConfig.from_env(env)
    assert config is not None
    index = ElasticIndex(config)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(ESError) as info:
            index.ensure()
    finally:
        index.client.close()
    assert "cannot reach Elasticsearch at http://***@127.0.0.1" in str(info.value)
    assert PASSWORD not in str(info.value)
    assert caplog.records, "the Elasticsearch client logs its requests"
    assert PASSWORD not in caplog.text


def _small_archive(home: Path) -> None:
    with Archive(home / "archive.sqlite") as archive:
        for n in range(3):
            url = f"https://news.example/a/{n}"
            archive.upsert(
                Article(
                    id=f"id{n}", url=url, canonical_url=url, outlet="alpha",
                    title=f"القمة رقم {n}", text="نص الخبر", language="ar",
                )
            )  # fmt: skip


def test_cli_hides_the_password_and_refuses_open_files(
    tmp_path: Path, home: Path, monkeypatch
) -> None:
    _small_archive(home)
    url = f"http://alice:{PASSWORD}@127.0.0.1:{closed_port()}"
    path = secret_file(tmp_path, url + "\n", 0o644)
    monkeypatch.delenv("ARSHIF_ES_URL", raising=False)
    monkeypatch.setenv("ARSHIF_ES_URL_FILE", str(path))
    monkeypatch.setenv("ARSHIF_ES_RETRIES", "0")

    refused = run_arshif(home, "index", timeout=60)
    assert refused.returncode == 2, refused.stderr
    assert f"chmod 600 {path}" in " ".join(refused.stderr.split())
    assert "Traceback" not in refused.stderr

    path.chmod(0o600)  # the file is now accepted, so the backend is elasticsearch
    for args in (["index"], ["search", "القمة"], ["stats"]):
        result = run_arshif(home, *args, timeout=60)
        output = result.stdout + result.stderr
        assert PASSWORD not in output, args
        assert "Traceback" not in output, output
    assert result.returncode == 0  # stats reads the archive only
    unreachable = run_arshif(home, "index", timeout=60)
    assert unreachable.returncode == 2
    assert "cannot reach Elasticsearch at http://***@127.0.0.1" in unreachable.stderr


def test_exports_hold_no_credentials(tmp_path: Path, home: Path, monkeypatch) -> None:
    _small_archive(home)
    monkeypatch.setenv("ARSHIF_ES_PASSWORD", PASSWORD)
    monkeypatch.setenv("ARSHIF_WEB_TOKEN", PASSWORD + "-token")
    out = tmp_path / "out.jsonl"
    result = run_arshif(home, "export", "--format", "jsonl", "-o", str(out), "--backend", "sqlite")
    assert result.returncode == 0, result.stderr
    files = [out, Path(f"{out}.card.md"), Path(f"{out}.card.json")]
    assert all(f.exists() for f in files)
    for f in files:
        assert PASSWORD not in f.read_text(encoding="utf-8"), f
    assert PASSWORD not in result.stdout + result.stderr
    assert os.environ["ARSHIF_ES_PASSWORD"] == PASSWORD
