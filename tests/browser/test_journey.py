"""A visitor coming back: each visit the form asks the next few questions, never one it knows the answer to."""

from __future__ import annotations

import copy
import re
from typing import Any

from playwright.sync_api import expect

from capture.db.models import Answer, Lead, Visitor
from tests.browser import snippet
from tests.browser.conftest import Live
from tests.browser.snippet import B2B, B2C
from tests.capture.conftest import SMALL_WHEEL


def walk(live: Live, page: Any, answers: dict[str, Any], visits: int = 6) -> list[list[str]]:
    """Answer whatever is asked, coming back an hour later each time, until the thank-you. Returns the keys asked."""
    seen: list[list[str]] = []
    refused: list[str] = []
    page.on("response", lambda r: refused.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    for _ in range(visits):
        expect(snippet.form(page).or_(snippet.thanks(page)).first).to_be_visible()
        if snippet.thanks(page).is_visible():
            assert refused == [], "the happy path ran into refusals (e.g. answering before min_fill_ms)"
            return seen
        keys = snippet.asked(page)
        seen.append(keys)
        stored = live.count(Answer)
        snippet.fill(page, answers, keys)
        snippet.submit(page)
        expect(snippet.form(page).locator(f'[name="{keys[0]}"]')).to_have_count(0)  # the answered step has gone
        assert live.count(Answer) == stored + len(keys)
        live.clock.advance(hours=1)  # a later visit
        page.reload()
    raise AssertionError(f"no thank-you after {visits} visits; asked {seen}")


def test_each_visit_asks_the_next_stage_and_never_a_known_field(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))

    expect(snippet.progress(page)).to_contain_text("1")
    expect(snippet.control(page, "email")).to_be_visible()
    seen = walk(live, page, B2B)

    assert seen == [
        ["email", "first_name", "customer_type"],
        ["company_size", "looking_for", "consent"],
        ["budget", "procurement", "buying_timeline"],  # procurement: only for companies of 50 or more
        ["decides", "phone"],
    ]
    flat = [key for keys in seen for key in keys]
    assert len(flat) == len(set(flat)), f"a known field was asked again: {seen}"
    expect(snippet.thanks(page)).to_have_text(SMALL_WHEEL["thank_you"]["en"])
    expect(snippet.form(page).locator(".lw-field")).to_have_count(0)

    assert live.count(Lead) == 1 and live.count(Visitor) == 1
    assert [lead.email for lead in live.rows(Lead)] == ["ada@example.com"]
    profile = live.profile()
    assert profile == {
        "email": profile["email"],  # as typed; the lead's e-mail is the lower-cased one
        "first_name": "Ada",
        "customer_type": "b2b",
        "company_size": 120,
        "looking_for": ["reports"],
        "marketing_consent": True,
        "budget": "large",
        "procurement": "Tender",
        "buying_timeline": "3m",
        "decides": True,
        "phone": profile["phone"],  # normalised by the server; any form of the number is fine here
    }
    assert profile["email"].lower() == "ada@example.com"
    assert profile["phone"].replace(" ", "").endswith("12345678")
    rows = live.rows(Answer)
    assert [a.question_key for a in rows] == [key for keys in seen for key in keys]
    assert {a.locale for a in rows} == {"en"}
    assert all(a.page_url and a.page_url.startswith(live.host + "/page") for a in rows)
    assert all(a.form_id == form.form_id and a.sequence_version_id == form.version_id for a in rows)
    assert len(live.profile()) == 11


def test_a_b2c_visitor_is_never_asked_business_questions(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    seen = walk(live, page, B2C)
    flat = [key for keys in seen for key in keys]
    assert seen[0] == ["email", "first_name", "customer_type"]
    assert "company_size" not in flat and "procurement" not in flat
    assert flat == [
        "email",
        "first_name",
        "customer_type",
        "looking_for",
        "consent",
        "budget",
        "buying_timeline",
        "decides",
        "phone",
    ]
    expect(snippet.thanks(page)).to_have_text(SMALL_WHEEL["thank_you"]["en"])
    assert live.profile()["customer_type"] == "b2c"
    assert "company_size" not in live.profile()


def test_a_danish_browser_on_a_page_without_a_language_sees_danish(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key, lang=None), locale="da-DK")
    assert page.evaluate("document.documentElement.lang") == ""

    expect(snippet.form(page).get_by_label("Fornavn")).to_be_visible()
    expect(snippet.form(page).locator("legend")).to_contain_text("Køber til")
    expect(snippet.form(page).get_by_label("Min virksomhed")).to_be_visible()
    expect(snippet.form(page)).not_to_contain_text("First name")
    # the snippet's own words too, which the server sends in the questions' language
    expect(snippet.form(page).get_by_role("button", name="Send", exact=True)).to_be_visible()
    expect(snippet.form(page).locator(".lw-progress")).to_contain_text("Trin 1 af")
    expect(snippet.form(page).locator(".lw-sr").first).to_have_text(" påkrævet")

    snippet.fill(page, {**B2B, "email": "ikke en adresse"})
    snippet.submit(page)
    expect(snippet.error(page, "email")).to_contain_text("e-mailadresse")  # the server's message, in Danish

    snippet.control(page, "email").fill("mette@example.dk")
    snippet.submit(page)
    expect(snippet.thanks(page)).to_have_text("Tak, vi ved nok.")
    live.clock.advance(hours=1)
    page.reload()
    expect(snippet.form(page).get_by_label("Medarbejdere")).to_be_visible()
    assert {a.locale for a in live.rows(Answer)} == {"da"}


def test_not_now_skips_a_question_for_this_visit_and_stores_the_skip(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    snippet.fill(page, B2B, ["email", "customer_type"])
    not_now = snippet.not_now(page, "first_name")
    expect(not_now).to_have_accessible_name(re.compile("not now", re.IGNORECASE))
    not_now.click()
    expect(not_now).to_have_attribute("aria-pressed", "true")
    expect(snippet.control(page, "first_name")).to_be_disabled()
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered

    skipped = live.rows(Answer, Answer.field == "first_name")
    assert [(a.skipped, a.value) for a in skipped] == [(True, None)]
    assert "first_name" not in live.profile()
    live.clock.advance(hours=1)
    page.reload()  # the next visit: not asked again yet (it waits out its snooze)
    expect(snippet.control(page, "company_size")).to_be_visible()
    assert "first_name" not in snippet.asked(page)


def test_progress_shows_as_a_labelled_bar_that_fills_from_visit_to_visit(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))

    bar = snippet.bar(page)
    expect(bar).to_have_accessible_name("Step 1 of 5: Basics")
    before, total = bar.evaluate("b => [b.value, b.max]")
    assert (before, total) == (0, 9)
    keys = snippet.asked(page)
    snippet.fill(page, B2B, keys)
    snippet.submit(page)
    expect(snippet.control(page, keys[0])).to_have_count(0)
    live.clock.advance(hours=1)
    page.reload()
    expect(snippet.bar(page)).to_have_accessible_name(re.compile(r"Step 2 of"))
    after, _ = snippet.bar(page).evaluate("b => [b.value, b.max]")
    assert after == len(keys)


def test_not_now_is_offered_only_where_a_visitor_may_leave_the_question(live: Live, open_page: Any) -> None:
    """Not on required questions, not where the marketer forbids it, not on a consent box: on optional questions."""
    document = copy.deepcopy(SMALL_WHEEL)
    document["stages"][1]["questions"][0]["skippable"] = False  # company_size
    form = live.publish_form(document)
    page = open_page(live.url(form.site_key))

    expect(snippet.control(page, "email")).to_be_visible()
    expect(snippet.not_now(page, "first_name")).to_have_text("Not now")
    expect(snippet.not_now(page, "email")).to_have_count(0)
    expect(snippet.not_now(page, "customer_type")).to_have_count(0)
    snippet.fill(page, B2B, ["email", "first_name", "customer_type"])
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    live.clock.advance(hours=1)
    page.reload()
    expect(snippet.control(page, "consent")).to_be_visible()
    expect(snippet.not_now(page, "looking_for")).to_have_text("Not now")
    expect(snippet.not_now(page, "company_size")).to_have_count(0)
    expect(snippet.not_now(page, "consent")).to_have_count(0)
