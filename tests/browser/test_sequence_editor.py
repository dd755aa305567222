"""The sequence editor in Chromium, under the workbench's CSP, with the keyboard alone; then a visitor's page.

A marketer signs in, changes a question's Danish label and moves a question to the top of its stage,
publishes, and the snippet on the host page shows the new label for a Danish visitor. axe-core finds
nothing serious on the editor's pages; a viewer sees no control to change anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from capture.config import Config
from capture.web.app import create_app
from capture.workbench.accounts import create_user
from tests.browser import snippet
from tests.browser.conftest import MIN_FILL, Live, LiveClock
from tests.browser.hostsite import Served, serve
from tests.browser.test_accessibility import tab_to
from tests.browser.test_workbench import PASSWORD, follow, keyboard_sign_in, serious_violations_fresh


@pytest.fixture
def editing(config: Config, publish_form: Any, host: Served, foreign_host: Served) -> Iterator[Live]:
    """The service (workbench and API) on a real port, over plain http, with a marketer and a viewer."""
    clock = LiveClock()
    application = create_app(replace(config, min_fill_time=MIN_FILL, extra={"cookie_secure": False}), clock=clock)
    services = application.extensions["leadwheel"]
    with services.db.write() as session:
        create_user(session, "marketer@example.com", PASSWORD, "marketer", clock())
        create_user(session, "viewer@example.com", PASSWORD, "viewer", clock())
        create_user(session, "sales@example.com", PASSWORD, "sales", clock())
    with serve(application) as api:
        yield Live(application, api.origin, host.origin, foreign_host.origin, clock, publish_form)
    services.db.dispose()


def _card_order(page: Page, stage: str) -> list[str]:
    cards = page.locator(f"section[aria-labelledby='stage-{stage}'] li.card")
    return [(card.get_attribute("id") or "").removeprefix("q-") for card in cards.all()]


def test_a_marketer_edits_a_danish_label_by_keyboard_publishes_and_a_visitor_sees_it(
    editing: Live, open_page: Any, axe_path: Path
) -> None:
    form = editing.publish(None, slug="wheel", origins=(editing.host,), consent_policy="not_required")
    page = open_page()
    keyboard_sign_in(page, editing.api, "marketer@example.com")
    tab_to(page, "nav a[href='/workbench/sequences/']")
    follow(page)
    tab_to(page, "main table a")
    follow(page)
    assert _card_order(page, "basics") == ["first_name", "email", "customer_type"]
    assert serious_violations_fresh(page, axe_path) == []

    tab_to(page, "button[aria-label='Move to top: customer_type']")  # reorder with the keyboard
    follow(page)
    assert _card_order(page, "basics") == ["customer_type", "first_name", "email"]

    tab_to(page, "a[href$='/questions/email']")
    follow(page)
    assert serious_violations_fresh(page, axe_path) == []
    tab_to(page, "input[name=label_da]")
    page.keyboard.press("Control+A")
    page.keyboard.type("Din arbejdsmail")
    tab_to(page, "main button[type=submit]")
    follow(page)
    expect(page.locator("pre.diff")).to_contain_text("da: Din arbejdsmail")

    tab_to(page, "form[action$='/publish'] button", back=True)  # near the page's end: Shift+Tab
    follow(page)
    expect(page.get_by_role("status")).to_have_text("Published.")
    expect(page.locator("main")).to_contain_text("marketer@example.com")

    visitor = open_page(editing.url(form.site_key, lang="da"))
    snippet.wait_for_step(visitor, 1)
    expect(snippet.field(visitor, "email")).to_contain_text("Din arbejdsmail")
    assert snippet.asked(visitor)[:2] == ["email", "customer_type"]  # the e-mail first, then the new order


def test_a_viewer_reads_the_sequence_and_sees_no_control(editing: Live, open_page: Any) -> None:
    editing.publish(None, slug="wheel", origins=(editing.host,), consent_policy="not_required")
    page = open_page()
    keyboard_sign_in(page, editing.api, "viewer@example.com")
    page.goto(f"{editing.api}/workbench/sequences/")
    with page.expect_navigation():
        page.locator("main table a").first.click()
    expect(page.locator("li.card")).not_to_have_count(0)
    expect(page.locator("li.card button")).to_have_count(0)
    expect(page.get_by_text("Add a question")).to_have_count(0)


def test_a_salesperson_cannot_open_the_editor_and_a_post_without_its_token_changes_nothing(
    editing: Live, open_page: Any, axe_path: Path
) -> None:
    form = editing.publish(None, slug="wheel", origins=(editing.host,), consent_policy="not_required")
    sales = open_page()
    keyboard_sign_in(sales, editing.api, "sales@example.com")
    refused = sales.goto(f"{editing.api}/workbench/sequences/{form.form_id}")
    assert refused is not None and refused.status == 403
    expect(sales.get_by_role("heading", level=1)).to_have_text("Not allowed")
    expect(sales.locator("nav a[href='/workbench/sequences/']")).to_have_count(0)

    marketer = open_page()
    keyboard_sign_in(marketer, editing.api, "marketer@example.com")
    marketer.goto(f"{editing.api}/workbench/sequences/")
    assert serious_violations_fresh(marketer, axe_path) == []
    marketer.goto(f"{editing.api}/workbench/sequences/{form.form_id}/translations")
    assert serious_violations_fresh(marketer, axe_path) == []
    forged = marketer.request.post(  # the marketer's own cookies, but no token: what another site could send
        f"{editing.api}/workbench/sequences/{form.form_id}/questions/email/delete", form={"where": "up"}
    )
    assert forged.status == 400
    marketer.goto(f"{editing.api}/workbench/sequences/{form.form_id}")
    expect(marketer.locator("#q-email")).to_have_count(1)  # still there
