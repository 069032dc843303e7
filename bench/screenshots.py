"""Screenshots of the search page at 1280 and 390 px (a desktop and a phone), so a reader sees
the page: the bundled sample outlet crawled into a temporary data folder, served on
127.0.0.1, photographed by headless Debian chromium. Writes docs/search-1280.png and
docs/search-390.png.

    python -m bench.screenshots [--home DATA_FOLDER] [--out docs]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from arshif.web.app import create_app
from crawler.sample_server import SampleServer, sample_site_dir
from tests.web.browser import CHROMIUM, DRIVER, chrome, serve, viewport

ROOT = Path(__file__).resolve().parent.parent
PAGE = "/?q=قمة&since=2022-09-08&until=2022-09-22"  # a search whose chart has day bars
SHOTS = {
    "search-1280.png": (1280, 1100, PAGE),
    "search-390.png": (390, 1500, PAGE),
}


def crawl_sample(home: Path) -> None:
    """The sample outlet, crawled through the command line as a user would."""
    with SampleServer(root=sample_site_dir()) as server:
        subprocess.run(
            [sys.executable, "-m", "arshif.cli", "--data-dir", str(home), "crawl", "sample",
             "--base-url", server.base_url, "--set", "DOWNLOAD_DELAY=0"],
            check=True, capture_output=True, cwd=ROOT,
        )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, help="an existing data folder (else the sample)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    if not (CHROMIUM and DRIVER):
        print("needs chromium and chromedriver (apt-get install chromium chromium-driver)")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        home = args.home
        if home is None:
            home = Path(tmp) / "data"
            crawl_sample(home)
        args.out.mkdir(parents=True, exist_ok=True)
        with serve(create_app(home)) as base:
            for name, (width, height, path) in SHOTS.items():
                driver = chrome(Path(tmp) / f"profile-{width}", width, height)
                try:
                    viewport(driver, width, height)
                    driver.get(base + path)
                    driver.save_screenshot(str(args.out / name))
                finally:
                    driver.quit()
                print(f"wrote {args.out / name} ({width} px wide)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
