"""When something is wrong the visitor is told where, and never loses what they typed."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Route, expect

from capture.db.models import Answer, Lead
from tests.browser import snippet
from tests.browser.conftest import Live


def test_a_validation_error_shows_next_to_its_field_and_keeps_the_other_input(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    snippet.fill(page, {"email": "ada-at-example", "first_name": "Ada", "customer_type": "b2b"})
    snippet.submit(page)

    email = snippet.control(page, "email")
    message = snippet.error(page, "email")
    expect(message).to_be_visible()
    expect(message).not_to_be_empty()
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()  # straight to what needs fixing
    described_by = (email.get_attribute("aria-describedby") or "").split()
    assert message.get_attribute("id") in described_by, "the error is not announced with the field"
    expect(snippet.error(page, "first_name")).to_have_count(0)
    expect(snippet.control(page, "first_name")).not_to_have_attribute("aria-invalid", "true")
    expect(snippet.control(page, "first_name")).to_have_value("Ada")
    expect(email).to_have_value("ada-at-example")
    expect(snippet.form(page).locator('[name="customer_type"][value="b2b"]')).to_be_checked()
    assert live.count(Answer) == 0  # nothing is stored unless the whole step is valid

    email.fill("ada@example.com")
    snippet.form(page).locator(".lw-submit").dblclick()  # an impatient visitor
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    assert live.profile() == {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}
    assert live.count(Answer) == 3  # stored once


def test_when_the_service_cannot_be_reached_the_visitor_can_retry_without_retyping(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    expect(snippet.control(page, "email")).to_be_visible()

    def offline(route: Route) -> None:
        route.abort()

    page.route("**/answers", offline)
    snippet.fill(page, {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2c"})
    snippet.submit(page)

    retry = snippet.container(page).locator("button.lw-retry")
    expect(retry).to_be_visible()
    expect(snippet.status(page)).not_to_be_empty()
    expect(snippet.control(page, "email")).to_have_value("ada@example.com")
    expect(snippet.control(page, "first_name")).to_have_value("Ada")
    expect(snippet.form(page).locator('[name="customer_type"][value="b2c"]')).to_be_checked()
    assert live.count(Answer) == 0

    page.unroute("**/answers", offline)
    retry.click()
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    expect(retry).to_be_hidden()
    assert live.count(Answer) == 3 and live.count(Lead) == 1  # stored once, however often it was tried
    assert live.profile() == {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2c"}


def test_a_form_left_open_past_its_ticket_still_sends_what_was_typed(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    snippet.fill(page, {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"})
    live.clock.advance(hours=3)  # lunch, a meeting: the render ticket (2 hours) has expired
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    assert live.profile() == {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}
    assert live.count(Lead) == 1
