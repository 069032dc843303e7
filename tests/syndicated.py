"""Several outlets serving the same sample site, each on its own 127.0.0.1 port: every
article is published by each of them (syndicated copies across outlets)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import yaml

from crawler.outlets import load_outlets
from crawler.sample_server import SampleServer

OUTLETS_YAML = Path(__file__).resolve().parent.parent / "crawler" / "outlets.yaml"


@contextmanager
def syndicated_outlets(folder: Path, count: int) -> Iterator[tuple[Path, dict[str, SampleServer]]]:
    """Start `count` servers and write an outlet file naming them sample1..N."""
    shipped = yaml.safe_load(OUTLETS_YAML.read_text(encoding="utf-8"))
    (sample,) = [o for o in shipped["outlets"] if o["id"] == "sample"]
    with ExitStack() as stack:
        servers = {f"sample{n}": stack.enter_context(SampleServer()) for n in range(1, count + 1)}
        outlets = [
            # A copy each: shared lists would be written as YAML aliases, which outlet
            # files refuse.
            {
                **copy.deepcopy(sample),
                "id": oid,
                "name": f"sample {oid}",
                "base_url": server.base_url,
            }
            for oid, server in servers.items()
        ]
        path = folder / "outlets.yaml"
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump({"outlets": outlets}, allow_unicode=True), encoding="utf-8")
        load_outlets(path)  # a file the crawl refuses would fail every test using it
        yield path, servers
