"""The demo's host pages, walked in Chromium: what they report is accepted and scored.

The pages used to send page-specific types (``pricing_view``, ...) that the server
refuses, which lost the batch's ``page_view`` with them: the demo never scored a view.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from playwright.sync_api import expect

from capture.db.models import Lead
from capture.demo.host_site import create_site
from capture.demo.runner import DEMO_FORM, DEMO_SEQUENCE, shipped_model
from capture.sites.publishing import publish_model
from tests.browser import snippet
from tests.browser.conftest import Live
from tests.browser.hostsite import serve


class Later:
    """A WSGI app set once its server's address is known (the site must allow that origin first)."""

    app: Any = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def northwind(live: Live) -> Iterator[str]:
    """The demo's host site on its own origin, embedding the demo form of a site that allows it."""
    later = Later()
    with serve(later) as served:
        form = live.publish(
            yaml.safe_load(DEMO_SEQUENCE.read_text(encoding="utf-8")), slug=DEMO_FORM, origins=(served.origin,)
        )
        with live.app.extensions["leadwheel"].db.write() as session:
            publish_model(session, shipped_model(), live.clock())
        later.app = create_site(live.api, form.site_key, DEMO_FORM)
        yield served.origin


def engagement(live: Live) -> float:
    (lead,) = live.rows(Lead)
    return float(lead.engagement)


def test_walking_the_demo_pages_after_giving_an_email_raises_the_leads_engagement(
    live: Live, open_page: Any, northwind: str
) -> None:
    page = open_page()
    batches: list[int] = []
    page.on("response", lambda r: batches.append(r.status) if r.url.endswith("/events") else None)

    def visit(path: str) -> None:
        sent = len(batches)
        with page.expect_response(lambda r: r.url.endswith("/events")):
            page.goto(f"{northwind}{path}?lang=en")
        assert len(batches) > sent

    visit("/")
    snippet.control(page, "email").fill("ada@example.com")
    if snippet.form(page).locator('[name="customer_type"]').count():
        snippet.form(page).locator('[name="customer_type"][value="b2b"]').check()
    snippet.submit(page)
    expect(snippet.control(page, "email")).to_have_count(0)
    before = engagement(live)

    visit("/pricing")
    after_pricing = engagement(live)
    visit("/pricing")
    after_twice = engagement(live)
    visit("/blog/the-office-coffee-budget")

    assert set(batches) == {202}, f"an event batch was refused: {batches}"
    assert before < after_pricing < after_twice, (before, after_pricing, after_twice)
    assert engagement(live) >= after_twice
