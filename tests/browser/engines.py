"""The three browser engines behind one small interface, for the tests that must hold in each.

- Chromium (Blink): Debian's ``/usr/bin/chromium`` through Playwright, as the other browser tests.
- Firefox ESR (Gecko): ``/usr/bin/firefox-esr --headless`` spoken to over WebDriver BiDi, its
  own standard protocol, with a plain websocket (no geckodriver, nothing from a browser vendor).
- WebKitGTK (WebKit, Safari's engine): ``/usr/bin/WebKitWebDriver`` under ``xvfb-run`` through
  Selenium's remote driver.

What a test may do is what a visitor does (open a page, click, type) plus reading the page with
a script and taking a screenshot. Problems a developer must see (errors, console errors and
warnings, CSP refusals) are recorded by the host page's watch.js in sessionStorage, the same
way in every engine: WebKitGTK's console cannot be read over WebDriver.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

FIREFOX = Path("/usr/bin/firefox-esr")
WEBKIT_DRIVER = Path("/usr/bin/WebKitWebDriver")
XVFB_RUN = Path("/usr/bin/xvfb-run")
ENGINES = ("chromium", "firefox", "webkit")
#: How long a wait for what a visitor would see may take.
WAIT_SECONDS = 8.0
VIEWPORT = (1024, 768)


class Engine(Protocol):
    name: str

    def goto(self, url: str) -> None: ...
    def reload(self) -> None: ...
    def js(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        ...

    def click(self, selector: str) -> None: ...
    def type(self, selector: str, text: str) -> None: ...
    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        ...


def wait_for(engine: Engine, expression: str, what: str) -> Any:
    """Poll ``expression`` until it is truthy; its value. Fails with ``what`` and the page's problems."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        value = engine.js(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{engine.name}: {what} did not happen; page problems: {problems(engine)}")
        time.sleep(0.05)


def problems(engine: Engine) -> list[str]:
    """What went wrong in the page so far, as recorded by the host page's watch.js."""
    return list(engine.js('JSON.parse(sessionStorage.getItem("lw-test-problems") || "[]")') or [])


class Chromium:
    """A Playwright page: the engine the rest of the browser tests use."""

    name = "chromium"

    def __init__(self, page: Any):
        self.page = page

    def goto(self, url: str) -> None:
        self.page.goto(url)

    def reload(self) -> None:
        self.page.reload()

    def js(self, expression: str) -> Any:
        return self.page.evaluate(f"() => ({expression})")

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()

    def type(self, selector: str, text: str) -> None:
        self.page.locator(selector).first.fill(text)

    def screenshot(self) -> bytes:
        return bytes(self.page.screenshot())


class Firefox:
    """Firefox ESR, headless, over WebDriver BiDi."""

    name = "firefox"

    def __init__(self, url: str):
        import websocket

        self.socket = websocket.create_connection(url + "/session", suppress_origin=True, timeout=30)
        self.ids = 0
        self.command("session.new", capabilities={})
        self.context = self.command("browsingContext.getTree")["contexts"][0]["context"]
        self.command(
            "browsingContext.setViewport", context=self.context, viewport={"width": VIEWPORT[0], "height": VIEWPORT[1]}
        )

    def command(self, method: str, **params: Any) -> Any:
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.ids:
                if reply.get("type") == "error":
                    raise AssertionError(f"firefox: {method}: {reply.get('error')}: {reply.get('message')}")
                return reply["result"]

    def goto(self, url: str) -> None:
        self.command("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def reload(self) -> None:
        self.command("browsingContext.reload", context=self.context, wait="complete")

    def js(self, expression: str) -> Any:
        result = self.command(
            "script.evaluate",
            expression=f"JSON.stringify(({expression}) ?? null)",
            target={"context": self.context},
            awaitPromise=True,
        )
        if result["type"] != "success":
            raise AssertionError(f"firefox: {expression}: {result.get('exceptionDetails', {}).get('text')}")
        return json.loads(result["result"]["value"])

    def _element(self, selector: str) -> dict[str, Any]:
        found = self.command(
            "browsingContext.locateNodes", context=self.context, locator={"type": "css", "value": selector}
        )["nodes"]
        assert found, f"firefox: no {selector}"
        return {"sharedId": found[0]["sharedId"]}

    def click(self, selector: str) -> None:
        at = {"type": "element", "element": self._element(selector)}
        steps = [
            {"type": "pointerMove", "x": 0, "y": 0, "origin": at},
            {"type": "pointerDown", "button": 0},
            {"type": "pointerUp", "button": 0},
        ]
        self.command("input.performActions", context=self.context,
                     actions=[{"type": "pointer", "id": "mouse", "actions": steps}])  # fmt: skip

    def type(self, selector: str, text: str) -> None:
        self.click(selector)
        keys = [
            step for char in text for step in ({"type": "keyDown", "value": char}, {"type": "keyUp", "value": char})
        ]
        self.command("input.performActions", context=self.context,
                     actions=[{"type": "key", "id": "keyboard", "actions": keys}])  # fmt: skip

    def screenshot(self) -> bytes:
        return base64.b64decode(self.command("browsingContext.captureScreenshot", context=self.context)["data"])


class WebKit:
    """WebKitGTK's MiniBrowser through Selenium."""

    name = "webkit"

    def __init__(self, driver: Any):
        self.driver = driver

    def goto(self, url: str) -> None:
        self.driver.get(url)

    def reload(self) -> None:
        self.driver.refresh()

    def js(self, expression: str) -> Any:
        return json.loads(self.driver.execute_script(f"return JSON.stringify(({expression}) ?? null)"))

    def click(self, selector: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).click()

    def type(self, selector: str, text: str) -> None:
        from selenium.webdriver.common.by import By

        self.driver.find_element(By.CSS_SELECTOR, selector).send_keys(text)

    def screenshot(self) -> bytes:
        return bytes(self.driver.get_screenshot_as_png())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _process(command: list[str], **options: Any) -> Iterator[subprocess.Popen[str]]:
    """Run ``command`` in its own process group, ended (group and all) when the block ends."""
    process = subprocess.Popen(command, start_new_session=True, text=True, **options)
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def firefox() -> Iterator[Firefox]:
    profile = tempfile.mkdtemp(prefix="lw-firefox-")
    command = [str(FIREFOX), "--headless", "--no-remote", "--remote-debugging-port=0", "--profile", profile]
    try:
        with _process(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL) as process:
            assert process.stderr is not None
            for line in process.stderr:  # Firefox says where it listens, then keeps talking: stop reading
                found = re.search(r"WebDriver BiDi listening on (ws://\S+)", line)
                if found:
                    break
            else:
                raise AssertionError("firefox-esr exited before WebDriver BiDi listened")
            engine = Firefox(found.group(1))
            try:
                yield engine
            finally:
                engine.socket.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def webkit() -> Iterator[WebKit]:
    from selenium import webdriver
    from selenium.webdriver.remote.client_config import ClientConfig
    from selenium.webdriver.remote.remote_connection import RemoteConnection
    from selenium.webdriver.webkitgtk.options import Options

    port = _free_port()
    command = [str(XVFB_RUN), "-a", "-s", f"-screen 0 {VIEWPORT[0]}x{VIEWPORT[1] + 200}x24",
               str(WEBKIT_DRIVER), f"--port={port}"]  # fmt: skip
    with _process(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError("WebKitWebDriver did not listen") from None
                time.sleep(0.1)
        options = Options()
        options.add_argument("--automation")  # without it MiniBrowser cannot be matched to the session
        address = ClientConfig(remote_server_addr=f"http://127.0.0.1:{port}")
        driver = webdriver.Remote(command_executor=RemoteConnection(client_config=address), options=options)
        try:
            driver.set_window_rect(width=VIEWPORT[0], height=VIEWPORT[1])
            yield WebKit(driver)
        finally:
            driver.quit()


def missing(name: str) -> str | None:
    """Why engine ``name`` cannot run here, or None."""
    needs: dict[str, list[Path]] = {
        "chromium": [Path("/usr/bin/chromium")],
        "firefox": [FIREFOX],
        "webkit": [WEBKIT_DRIVER, XVFB_RUN],
    }
    absent = [str(path) for path in needs[name] if not path.exists()]
    return (
        f"{', '.join(absent)} missing: apt-get install chromium firefox-esr webkit2gtk-driver xvfb" if absent else None
    )


def launcher(name: str) -> Callable[[], Any]:
    return {"firefox": firefox, "webkit": webkit}[name]


# --- pixels: a small PNG reader, enough for screenshots (8-bit RGB/RGBA, not interlaced) ---


def png_pixels(data: bytes) -> tuple[int, int, Callable[[int, int], tuple[int, int, int]]]:
    """(width, height, pixel(x, y) -> (r, g, b)) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, chunks, header = 8, [], b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and not interlace, "an unexpected PNG format"
    size = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * size
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = row[i - size] if i >= size else 0
            up = previous[i]
            corner = previous[i - size] if i >= size else 0
            if kind == 1:
                row[i] = (row[i] + left) & 255
            elif kind == 2:
                row[i] = (row[i] + up) & 255
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                near = min((abs(guess - left), 0, left), (abs(guess - up), 1, up), (abs(guess - corner), 2, corner))
                row[i] = (row[i] + near[2]) & 255
        rows.append(row)
        previous = row

    def pixel(x: int, y: int) -> tuple[int, int, int]:
        row = rows[y]
        return row[x * size], row[x * size + 1], row[x * size + 2]

    return width, height, pixel


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
