"""The thank-you state of a paused visit, and "Tell us more now" where the sequence offers it.

Contract A: when a visit's quota of questions is used, ``ask`` and ``answers`` answer
``status: "paused"`` with no questions and no ticket, the sequence's ``thank_you``, and
``more: true`` when the visitor may take the next batch now by calling ``ask`` with
``"more": true``. These tests hold the snippet to that contract by rewriting the server's
real ``ask`` response into a paused one; the last two walk the service's own quota end to end.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from playwright.sync_api import Route, expect

from capture.db.models import Answer
from tests.browser import snippet
from tests.browser.conftest import Live
from tests.browser.snippet import B2B
from tests.capture.conftest import SMALL_WHEEL

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


# --- end to end, on the service's own quota (contract A as the service implements it) ---


def answer_first_batch(live: Live, page: Any) -> list[str]:
    expect(snippet.form(page).locator(".lw-field").first).to_be_visible()
    keys = snippet.asked(page)
    snippet.fill(page, B2B, keys)
    snippet.submit(page)
    expect(snippet.control(page, keys[0])).to_have_count(0)
    return keys


def test_a_visit_asks_its_share_then_thanks_until_the_next_visit(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))

    first = answer_first_batch(live, page)
    expect(snippet.thanks(page)).to_have_text(SMALL_WHEEL["thank_you"]["en"])
    expect(snippet.container(page).locator(".lw-more")).to_have_count(0)  # the sequence offers no more now
    page.reload()  # the same visit
    expect(snippet.thanks(page)).to_have_text(SMALL_WHEEL["thank_you"]["en"])
    expect(snippet.form(page)).to_have_count(0)

    live.clock.advance(hours=1)  # past the visit gap
    page.reload()
    expect(snippet.control(page, "company_size")).to_be_visible()
    assert not set(first) & set(snippet.asked(page))


def test_tell_us_more_now_asks_the_next_batch_at_once_and_marks_its_answers(live: Live, open_page: Any) -> None:
    document = copy.deepcopy(SMALL_WHEEL)
    document["settings"]["more_on_request"] = True
    form = live.publish_form(document)
    page = open_page(live.url(form.site_key))

    first = answer_first_batch(live, page)
    snippet.container(page).get_by_role("button", name="Tell us more now").click()
    expect(snippet.control(page, "company_size")).to_be_focused()
    more = snippet.asked(page)
    snippet.fill(page, B2B, more)
    snippet.submit(page)
    expect(snippet.control(page, more[0])).to_have_count(0)

    by_key = {a.question_key: a.on_request for a in live.rows(Answer)}
    assert by_key == {**dict.fromkeys(first, False), **dict.fromkeys(more, True)}
