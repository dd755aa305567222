"""Consent-required mode in a real browser, on a site whose policy requires consent.

Before consent the visitor can fill in the form (its progress rides in this tab's
sessionStorage only), and nothing persistent is written and no behaviour leaves the
page. A late consent from the host's banner keeps the answers given before on the
same lead, moves that same token to persistent storage and lets behaviour in; a
withdrawal forgets the persistent token.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from capture.db.models import BehaviourEvent, ConsentRecord, Lead, Visitor
from tests.browser import snippet
from tests.browser.conftest import Live
from tests.browser.test_behaviour import FLUSH_WAIT_MS, HIDE, stored_token, until, visitor_of, watch

BANNER = "{purposes: {behaviour_tracking: true}, text: 'We may remember you and count your visits.', version: 'b1'}"


def session_token(page: Any, site_key: str) -> str | None:
    return page.evaluate("key => sessionStorage.getItem(key)", f"lw.{site_key}")  # type: ignore[no-any-return]


def lead_of(live: Live, visitor_id: str | None) -> Lead:
    (visitor,) = live.rows(Visitor, Visitor.id == visitor_id)
    (lead,) = live.rows(Lead, Lead.id == visitor.lead_id)
    return lead  # type: ignore[no-any-return]


def test_nothing_persistent_and_no_behaviour_before_consent_and_a_late_consent_keeps_the_answers(
    live: Live, open_page: Any
) -> None:
    form = live.publish(None, slug="wheel", origins=(live.host,), consent_policy="required")
    page = open_page()
    sent = watch(page, live, form.site_key)
    page.goto(live.url(form.site_key, consent="required"))

    keys = snippet.wait_for_step(page, 1)
    snippet.fill(page, snippet.B2B, keys)
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # the visit's questions are done
    page.evaluate("leadwheel('track', 'demo_request', {plan: 'pro'})")
    page.evaluate(HIDE)
    page.wait_for_timeout(FLUSH_WAIT_MS)  # past the batch timer

    assert sent.bodies == []  # no /events request at all
    assert live.count(BehaviourEvent) == 0
    assert stored_token(page, form.site_key) is None
    assert page.context.cookies() == []
    before = session_token(page, form.site_key)
    assert before  # the form's progress, for this tab only
    answered = lead_of(live, visitor_of(live, before))
    assert answered.email == "ada@example.com"

    page.evaluate(f"leadwheel('consent', {BANNER})")

    page.wait_for_function("key => localStorage.getItem(key)", arg=f"lw.{form.site_key}")
    kept = stored_token(page, form.site_key)
    assert visitor_of(live, kept) == visitor_of(live, before)  # the same visitor, now remembered
    assert session_token(page, form.site_key) is None
    until(page, lambda: sent.of_type("demo_request"), "the kept events after consent")
    assert [status for status, _ in sent.answers(page)] == [202]
    assert {event.lead_id for event in live.rows(BehaviourEvent)} == {answered.id}
    (record,) = live.rows(ConsentRecord)
    assert (record.purpose, record.status, record.version, record.source) == (
        "behaviour_tracking", "granted", "b1", "banner"
    )  # fmt: skip
    assert record.page_url and record.page_url.startswith(live.host)
    assert lead_of(live, visitor_of(live, kept)).id == answered.id
    expect(snippet.thanks(page)).to_be_visible()  # the form stays where it was

    page.evaluate("leadwheel('consent', {purposes: {behaviour_tracking: false}})")
    page.wait_for_function("key => !localStorage.getItem(key)", arg=f"lw.{form.site_key}")
    page.evaluate("leadwheel('track', 'download', {file: 'a.pdf'})")
    page.evaluate(HIDE)
    page.wait_for_timeout(FLUSH_WAIT_MS)
    assert not sent.of_type("download")
    assert [r.status for r in live.rows(ConsentRecord)] == ["granted", "withdrawn"]


def test_a_return_visitor_gets_its_remembered_progress_back_once_the_banner_consents(
    live: Live, open_page: Any
) -> None:
    form = live.publish(None, slug="wheel", origins=(live.host,), consent_policy="required")
    page = open_page()
    page.goto(live.url(form.site_key, consent="required"))
    snippet.fill(page, snippet.B2B, snippet.wait_for_step(page, 1))
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()
    page.evaluate(f"leadwheel('consent', {BANNER})")
    page.wait_for_function("key => localStorage.getItem(key)", arg=f"lw.{form.site_key}")
    remembered = visitor_of(live, stored_token(page, form.site_key))

    page.goto(live.url(form.site_key, consent="required"))  # the next page: a stranger until consent
    live.clock.advance(hours=2)  # a later visit: the wheel asks this lead its next questions
    expect(snippet.control(page, "email")).to_be_visible()
    assert visitor_of(live, session_token(page, form.site_key)) != remembered

    page.evaluate(f"leadwheel('consent', {BANNER})")

    expect(snippet.control(page, "email")).to_have_count(0)  # the form shows the remembered lead's progress
    expect(snippet.form(page).locator(".lw-field").first).to_be_visible()
    assert visitor_of(live, stored_token(page, form.site_key)) == remembered
    assert live.count(ConsentRecord) == 1  # the same words again: nothing new to record


def test_a_visitor_who_withdrew_is_forgotten_on_a_site_that_does_not_ask_first(live: Live, open_page: Any) -> None:
    """Without consent mode the snippet remembers and tracks at once; the service's refusal of a visitor
    who withdrew makes it forget the stored token and stop sending."""
    form = live.publish(None, slug="wheel", origins=(live.host,), consent_policy="not_required")
    page = open_page()
    sent = watch(page, live, form.site_key)
    page.goto(live.url(form.site_key))
    until(page, lambda: sent.views(), "the page view")
    page.wait_for_function("key => localStorage.getItem(key)", arg=f"lw.{form.site_key}")
    page.evaluate("leadwheel('consent', {purposes: {behaviour_tracking: false}})")
    page.wait_for_function("key => !localStorage.getItem(key)", arg=f"lw.{form.site_key}")
    # The host page forgets to say so on the next page: the service refuses, and the snippet forgets.
    page.evaluate(f"sessionStorage.clear(); localStorage.setItem('lw.{form.site_key}', {sent.bodies[0]['visitor']!r})")
    page.goto(live.url(form.site_key))
    until(page, lambda: len(sent.bodies) == 2, "the next page's view")
    page.wait_for_function("key => !localStorage.getItem(key)", arg=f"lw.{form.site_key}")
    until(page, lambda: len(sent.responses) == 2, "the service's answers")
    assert [response.status for response in sent.responses] == [202, 409]
    page.evaluate("leadwheel('track', 'download', {file: 'a.pdf'})")
    page.evaluate(HIDE)
    page.wait_for_timeout(FLUSH_WAIT_MS)
    assert len(sent.bodies) == 2


#: a wheel whose first question asks for tracking consent in the form itself, before the e-mail address
CONSENT_FIRST = {
    "format": "leadwheel/sequence@1",
    "name": "Consent in the wheel",
    "default_locale": "en",
    "settings": {"questions_per_visit": 2},
    "stages": [
        {
            "key": "basics",
            "label": {"en": "Basics"},
            "questions": [
                {
                    "key": "remember_me",
                    "field": "tracking_consent",
                    "type": "consent",
                    "consent_version": "t1",
                    "label": {"en": "Remember me on this site and count my visits."},
                },
                {"key": "email", "type": "email", "label": {"en": "E-mail"}},
            ],
        }
    ],
}


def test_a_ticked_consent_question_in_the_wheel_is_consent_too(live: Live, open_page: Any) -> None:
    form = live.publish(CONSENT_FIRST, slug="wheel", origins=(live.host,), consent_policy="required")
    page = open_page()
    page.goto(live.url(form.site_key, consent="required"))
    keys = snippet.wait_for_step(page, 1, steps=1)
    assert stored_token(page, form.site_key) is None

    snippet.fill(page, {"remember_me": True, "email": "ada@example.com"}, keys)
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()

    until(page, lambda: stored_token(page, form.site_key), "the token in persistent storage")
    token = stored_token(page, form.site_key)
    assert lead_of(live, visitor_of(live, token)).email == "ada@example.com"  # the visitor that answered
    assert session_token(page, form.site_key) is None  # moved, not copied
    (record,) = live.rows(ConsentRecord)
    assert (record.purpose, record.status, record.source) == ("behaviour_tracking", "granted", "question")
    page.evaluate("leadwheel('track', 'demo_request', {})")
    page.evaluate(HIDE)
    # the page view waited in the page for consent and went with it; the demo request follows it
    sent = lambda: sorted(event.type for event in live.rows(BehaviourEvent))  # noqa: E731
    until(page, lambda: sent() == ["demo_request", "page_view"], "the events, sent once the question gave consent")
