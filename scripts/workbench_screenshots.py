"""Screenshots of the workbench's sequence editor and visit simulator, for the README.

    .venv/bin/python scripts/workbench_screenshots.py    # writes docs/images/workbench-*.png

It prepares the demo (its sequence and scoring model, on a throw-away SQLite database) with a few
dozen synthetic leads, signs in as the demo's admin in Debian's Chromium, and pictures the editor
and a simulated B2B visitor's first visits.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from dataclasses import replace
from pathlib import Path

from werkzeug.serving import make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capture.demo.runner import DEMO_FORM, prepare_demo  # noqa: E402
from capture.demo.synthetic import seed_leads  # noqa: E402
from capture.web.app import create_app  # noqa: E402
from capture.workbench.demo import ensure_demo_admin  # noqa: E402

IMAGES = ROOT / "docs" / "images"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync"]  # fmt: skip


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        config, key = prepare_demo(data, "127.0.0.1", 5001, say=lambda _line: None)
        seed_leads(config, key, DEMO_FORM, count=40)
        admin, password = ensure_demo_admin(config.database_url, data)
        app = create_app(replace(config, extra={"cookie_secure": False}))
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        origin = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1100, "height": 1300})
            page.goto(f"{origin}/workbench/sign-in")
            page.fill("input[name=email]", admin)
            page.fill("input[name=password]", password)
            with page.expect_navigation():
                page.click("main button[type=submit]")
            page.goto(f"{origin}/workbench/sequences/")
            with page.expect_navigation():
                page.locator("main table a").first.click()
            page.screenshot(
                path=str(IMAGES / "workbench-editor.png"), clip={"x": 0, "y": 0, "width": 1100, "height": 1300}
            )
            page.goto(f"{origin}/workbench/simulator/?kind=b2b&locale=da&visits-1-pages=/pricing")
            page.locator("section.visit").first.scroll_into_view_if_needed()
            page.locator("section.visit").first.screenshot(path=str(IMAGES / "workbench-simulator.png"))
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()
