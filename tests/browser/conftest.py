"""Real-browser fixtures: Debian's Chromium driven by Playwright, the API and a host site on two origins.

One Chromium per test worker (never downloaded: ``/usr/bin/chromium``), a fresh
browser context per test. Each test gets its own API server (the real app on a
real clock, on the test's database) and shares the worker's host-site servers:
one on an origin the test's site allows, one on an origin it does not.

Without Chromium or axe-core the tests skip locally; with ``CI=true`` they fail,
because a silent skip in CI would hide that nothing was tested.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest
from sqlalchemy import func, select

from capture.config import Config
from capture.web.app import create_app
from tests.browser.hostsite import Served, host_app, page_url, serve
from tests.capture.conftest import Published
from tests.capture.conftest import publish_form as publish_form  # noqa: F401 - re-exported fixture
from tests.conftest import IN_CI, ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The snippet waits this long before it submits; short so the tests stay fast.
MIN_FILL = timedelta(milliseconds=300)
#: How long expect() waits for what a user would see.
EXPECT_TIMEOUT_MS = 5_000


def unavailable(reason: str) -> NoReturn:
    """Skip locally; fail in CI, where a missing browser or checker is a broken build, not a pass."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: browser tests must run, not skip)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """The worker's one browser."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: apt-get install chromium (never `playwright install`)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def axe_path() -> Path:
    """axe-core's axe.min.js, fetched once by scripts/axe from the npm registry."""
    path = ROOT / ".venv" / "axe" / "axe.min.js"
    if path.is_file() and path.stat().st_size > 0:
        return path
    try:
        result = subprocess.run([str(ROOT / "scripts" / "axe")], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        unavailable(f"scripts/axe could not run: {exc}")
    if result.returncode != 0:
        unavailable(f"scripts/axe could not fetch axe-core: {result.stderr.strip()}")
    path = Path(result.stdout.strip().splitlines()[-1])
    if not path.is_file():
        unavailable(f"scripts/axe printed {path}, which is not a file")
    return path


@pytest.fixture(scope="session")
def host() -> Iterator[Served]:
    """The customer's website: the origin the test sites allow."""
    with serve(host_app) as served:
        yield served


@pytest.fixture(scope="session")
def foreign_host() -> Iterator[Served]:
    """The same pages on another origin (another port), which no test site allows."""
    with serve(host_app) as served:
        yield served


@dataclass
class LiveClock:
    """The real clock, which a test can move forward (a later visit) without sleeping."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Live:
    """The form service on a real port, on this test's database, and what a test needs around it."""

    app: Any
    api: str
    host: str
    foreign: str
    clock: LiveClock
    publish: Callable[..., Published]

    def publish_form(self, document: dict[str, Any] | None = None, slug: str = "wheel") -> Published:
        """A site allowing only the host origin, with ``document`` published as form ``slug``."""
        return self.publish(document, slug=slug, origins=(self.host,))  # type: ignore[no-any-return]

    def add_form(self, site_key: str, document: dict[str, Any], slug: str) -> Published:
        """Publish ``document`` as another form of the site ``site_key``."""
        from capture.sites.publishing import find_site, publish
        from profiling.document import load

        now = self.clock()
        with self.app.extensions["leadwheel"].db.write() as session:
            site = find_site(session, site_key)
            result = publish(session, site, slug, load(document), now)
            return Published(site_key, slug, result.form.id, result.version.id, self.host)

    def url(self, site: str, forms: tuple[str, ...] = ("wheel",), *, foreign: bool = False, **options: Any) -> str:
        return page_url(self.foreign if foreign else self.host, self.api, site, forms, **options)

    def count(self, model: Any) -> int:
        with self.app.extensions["leadwheel"].db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def rows(self, model: Any, *where: Any) -> list[Any]:
        with self.app.extensions["leadwheel"].db.read() as session:
            statement = select(model).where(*where)
            if hasattr(model, "id"):
                statement = statement.order_by(model.id)
            return list(session.scalars(statement))

    def profile(self) -> dict[str, Any]:
        """Every profile field of every lead, as {field: value} (the tests have one lead at a time)."""
        from capture.db.models import Lead
        from capture.leads.profile_doc import values

        with self.app.extensions["leadwheel"].db.read() as session:
            documents = session.scalars(select(Lead.profile)).all()
        return {name: value for document in documents for name, value in values(document).items()}


@pytest.fixture
def live(config: Config, publish_form: Any, host: Served, foreign_host: Served) -> Iterator[Live]:  # noqa: F811
    """The API (real clock, short minimum fill time) served on its own origin for one test."""
    clock = LiveClock()
    application = create_app(replace(config, min_fill_time=MIN_FILL), clock=clock)
    with serve(application) as api:
        yield Live(application, api.origin, host.origin, foreign_host.origin, clock, publish_form)
    application.extensions["leadwheel"].db.dispose()


@dataclass
class Watched:
    """What went wrong in a page that a user would not see but a developer must: errors and CSP refusals."""

    errors: list[str] = field(default_factory=list)
    csp: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """open_page(url=None, **context_options) -> a Page in a fresh context (closed at teardown).

    Uncaught script errors and Content-Security-Policy refusals fail the test: the
    snippet must run cleanly under a strict policy.
    """
    contexts: list[Any] = []
    watched = Watched()

    def make(url: str | None = None, **options: Any) -> Any:
        options.setdefault("locale", "en-US")
        context = chromium.new_context(**options)
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: watched.errors.append(f"{page.url}: {exc}"))
        page.on(
            "console",
            lambda message: watched.csp.append(message.text) if "Content Security Policy" in message.text else None,
        )
        page.on("console", lambda message: print(f"console.{message.type}: {message.text}"))  # shown on failure
        if url:
            page.goto(url)
        return page

    yield make
    for context in contexts:
        context.close()
    assert not watched.errors, f"uncaught errors in the page: {watched.errors}"
    assert not watched.csp, f"the snippet broke the host's Content-Security-Policy: {watched.csp}"
