"""The thank-you state of a paused visit, and "Tell us more now" where the sequence offers it.

Contract A: when a visit's quota of questions is used, ``ask`` and ``answers`` answer
``status: "paused"`` with no questions and no ticket, the sequence's ``thank_you``, and
``more: true`` when the visitor may take the next batch now by calling ``ask`` with
``"more": true``. These tests hold the snippet to that contract by rewriting the server's
real ``ask`` response into a paused one; the server's side is tested in tests/capture.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from tests.browser import snippet
from tests.browser.conftest import Live

THANKS = "Thanks, that is all for today."


def pause_unless_more(page: Any, *, more: bool) -> list[dict[str, Any]]:
    """Answer every ``ask`` without ``"more": true`` as a paused visit; pass the others to the server."""
    asked: list[dict[str, Any]] = []

    def handle(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        asked.append(body)
        if body.get("more"):
            route.continue_()
            return
        real = route.fetch().json()
        paused = {**real, "status": "paused", "questions": [], "ticket": None, "thank_you": THANKS, "more": more}
        route.fulfill(status=200, content_type="application/json", body=json.dumps(paused))

    page.route("**/forms/wheel/ask", handle)
    return asked


@pytest.mark.parametrize(("lang", "button"), [("en", "Tell us more now"), ("da", "Fortæl os mere nu")])
def test_a_paused_visit_thanks_and_offers_more_which_asks_the_next_batch_at_once(
    live: Live, open_page: Any, lang: str, button: str
) -> None:
    form = live.publish_form()
    page = open_page()
    asked = pause_unless_more(page, more=True)
    page.goto(live.url(form.site_key, lang=lang))

    expect(snippet.thanks(page)).to_have_text(THANKS)
    expect(snippet.form(page)).to_have_count(0)
    more = snippet.container(page).get_by_role("button", name=button)
    more.click()

    expect(snippet.control(page, "email")).to_be_focused()
    assert [body.get("more") for body in asked] == [None, True]
    expect(snippet.thanks(page)).to_have_count(0)


def test_a_paused_visit_without_the_setting_only_thanks(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page()
    pause_unless_more(page, more=False)
    page.goto(live.url(form.site_key))

    expect(snippet.thanks(page)).to_have_text(THANKS)
    expect(snippet.container(page).locator(".lw-more")).to_have_count(0)
    page.reload()
    expect(snippet.thanks(page)).to_have_text(THANKS)
