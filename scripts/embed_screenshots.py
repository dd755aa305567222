"""Screenshots of the embedded form at each stage of the demo, on a desktop and on a phone, for docs/embed.md.

    .venv/bin/python scripts/embed_screenshots.py      # writes docs/images/embed-*.png

It runs the demo (the demo's sequence and host pages, on a throw-away SQLite database) with a clock
it moves an hour on between visits, and walks the form in Debian's Chromium the way a B2B visitor
would: each visit it answers what is asked (one optional question left with "Not now" on the second
visit, to show how that looks) until the thank-you, and pictures what the first visit shows once
its questions are sent. Each picture is the form's own box.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from capture.demo.host_site import create_site  # noqa: E402
from capture.demo.runner import DEMO_FORM, prepare_demo  # noqa: E402
from capture.web.app import create_app  # noqa: E402

IMAGES = ROOT / "docs" / "images"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}
#: What the visitor answers, by question type (the first option of radios, selects and multi-selects).
TYPED = {"email": "ada@example.com", "text": "Ada", "number": "120", "tel": "+45 12 34 56 78", "textarea": "—"}
MAX_VISITS = 8


class Clock:
    """The real clock, moved on an hour per visit."""

    offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Quiet(WSGIRequestHandler):
    def log_request(self, *args: Any) -> None:
        pass


@contextmanager
def serving(app: Any, port: int) -> Iterator[None]:
    server = make_server("127.0.0.1", port, app, threaded=True, request_handler=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()


def answer(page: Any, visit: int) -> None:
    """Answer the questions on show; on the second visit leave the first optional one for later."""
    fields = page.locator("form.lw-form .lw-field")
    skipped = False
    for index in range(fields.count()):
        field = fields.nth(index)
        kind = next(c.removeprefix("lw-field--") for c in field.get_attribute("class").split() if "--" in c)
        not_now = field.locator(".lw-skip")
        if visit == 2 and not skipped and not_now.count():
            not_now.click()
            skipped = True
        elif kind in ("radio", "multi-select", "checkbox", "consent"):
            field.locator("input").first.check()
        elif kind == "select":
            field.locator("select").select_option(index=1)
        else:
            field.locator("input, textarea").first.fill(TYPED.get(kind, "Ada"))


def main() -> int:
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    for old in IMAGES.glob("embed-*.png"):
        old.unlink()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for device, viewport in VIEWPORTS.items():
            with tempfile.TemporaryDirectory() as data:
                forms_port, site_port = free_port(), free_port()
                config, site_key = prepare_demo(Path(data), "127.0.0.1", site_port)
                clock = Clock()
                forms = f"http://127.0.0.1:{forms_port}"
                with (
                    serving(create_app(config, clock=clock), forms_port),
                    serving(create_site(forms, site_key, DEMO_FORM), site_port),
                ):
                    context = browser.new_context(viewport=viewport, locale="en-US")
                    page = context.new_page()
                    page.goto(f"http://127.0.0.1:{site_port}/?lang=en")
                    host = page.locator("[data-leadwheel-form]")
                    for visit in range(1, MAX_VISITS + 1):
                        page.locator("form.lw-form .lw-field, .lw-thanks").first.wait_for()
                        page.wait_for_timeout(300)
                        done = page.locator(".lw-thanks").count() > 0
                        if visit > 1 and not done:
                            answer(page, visit)  # filled in: ticked boxes, and on visit 2 a pressed "Not now"
                        name = IMAGES / f"embed-{visit}-{device}.png"
                        host.screenshot(path=str(name))
                        print(name.relative_to(ROOT))
                        if done:
                            break
                        if visit == 1:
                            answer(page, visit)
                        page.locator(".lw-submit").click()
                        page.locator(".lw-status").filter(has_text="Sending").wait_for(state="detached")
                        if visit == 1:  # what the visitor sees once the visit's questions are answered
                            page.wait_for_timeout(300)
                            name = IMAGES / f"embed-1-sent-{device}.png"
                            host.screenshot(path=str(name))
                            print(name.relative_to(ROOT))
                        clock.offset += timedelta(hours=1)
                        page.reload()
                    context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
