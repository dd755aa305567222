"""The snippet on a real page: several forms at once, "Not you?", consent mode and the cookie fallback."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from capture.db.models import Answer, Lead, Visitor
from tests.browser import snippet
from tests.browser.conftest import Live
from tests.browser.hostsite import QUEUE_JS
from tests.browser.snippet import B2B

NEWSLETTER: dict[str, Any] = {
    "format": "leadwheel/sequence@1",
    "name": "Newsletter",
    "default_locale": "en",
    "thank_you": "You are subscribed.",
    "stages": [
        {
            "key": "topics",
            "label": "Topics",
            "questions": [
                {
                    "key": "topics",
                    "type": "multi-select",
                    "label": "Send me news about",
                    "options": [{"value": "coffee", "label": "Coffee"}, {"value": "tea", "label": "Tea"}],
                },
                {"key": "nickname", "type": "text", "label": "What should we call you?"},
            ],
        }
    ],
}

#: What a consent manager does on a page once the visitor has agreed: tell the queue before embed.js runs.
CONSENTED = QUEUE_JS + 'leadwheel("consent", true);\n'


def stored(page: Page, site_key: str) -> dict[str, Any]:
    """What the page keeps on the visitor's device: the snippet's localStorage entry and every cookie."""
    return page.evaluate(  # type: ignore[no-any-return]
        "key => ({token: localStorage.getItem(key), storage: localStorage.length, cookies: document.cookie})",
        f"lw.{site_key}",
    ) | {"context_cookies": page.context.cookies()}


def test_two_forms_on_one_page_each_ask_and_store_their_own_questions(live: Live, open_page: Any) -> None:
    wheel = live.publish_form()
    news = live.add_form(wheel.site_key, NEWSLETTER, "news")
    page = open_page(live.url(wheel.site_key, ("wheel", "news")))

    expect(snippet.control(page, "email", "wheel")).to_be_visible()
    expect(snippet.control(page, "topics", "news")).to_be_visible()
    assert snippet.asked(page, "wheel") == ["email", "first_name", "customer_type"]
    assert snippet.asked(page, "news") == ["topics", "nickname"]
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids)), f"element ids repeat across the two forms: {sorted(ids)}"
    # each label names its own form's control
    expect(snippet.form(page, "news").get_by_label("What should we call you?")).to_have_count(1)
    expect(snippet.form(page, "wheel").get_by_label("What should we call you?")).to_have_count(0)

    snippet.fill(page, {"topics": ["tea"], "nickname": "Ada"}, slug="news")
    snippet.submit(page, "news")
    expect(snippet.thanks(page, "news")).to_have_text("You are subscribed.")
    expect(snippet.control(page, "email", "wheel")).to_be_visible()  # the other form is untouched
    snippet.fill(page, B2B, slug="wheel")
    snippet.submit(page, "wheel")
    expect(snippet.thanks(page, "wheel")).to_be_visible()

    assert live.count(Lead) == 1 and live.count(Visitor) == 1  # one visitor, whichever form they used
    by_form = {(a.form_id, a.field) for a in live.rows(Answer)}
    assert by_form == {
        (news.form_id, "topics"),
        (news.form_id, "nickname"),
        (wheel.form_id, "email"),
        (wheel.form_id, "first_name"),
        (wheel.form_id, "customer_type"),
    }


def test_the_same_form_twice_on_one_page_keeps_its_controls_apart(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key, ("wheel", "wheel")))
    forms = page.locator('[data-leadwheel-form="wheel"] form.lw-form')
    expect(forms).to_have_count(2)
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids)), f"element ids repeat: {sorted(ids)}"
    second = forms.nth(1)
    second.get_by_label("First name").fill("Bo")  # its label leads to its own control
    expect(forms.nth(0).locator('[name="first_name"]')).to_have_value("")
    expect(second.locator('[name="first_name"]')).to_have_value("Bo")
    assert live.count(Visitor) == 0  # asking stores nothing


def test_not_you_forgets_the_visitor_on_this_device(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    snippet.fill(page, B2B)
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    first = stored(page, form.site_key)["token"]
    assert first

    page.reload()
    expect(snippet.thanks(page)).to_be_visible()  # remembered across page loads: a stranger is asked the basics
    snippet.container(page).locator("button.lw-forget").click()

    expect(snippet.control(page, "email")).to_be_visible()  # a stranger: the basics again
    assert snippet.asked(page) == ["email", "first_name", "customer_type"]
    second = stored(page, form.site_key)["token"]
    assert second != first
    page.reload()
    expect(snippet.control(page, "email")).to_be_visible()
    assert stored(page, form.site_key)["token"] != first
    assert live.count(Lead) == 1  # forgetting is local: the lead's answers stay with the lead


def test_with_consent_required_nothing_is_stored_on_the_device_until_consent(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key, consent="required"))
    expect(snippet.control(page, "email")).to_be_visible()
    nothing = {"token": None, "storage": 0, "cookies": "", "context_cookies": []}
    assert stored(page, form.site_key) == nothing

    snippet.fill(page, B2B)  # the form works without consent...
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    assert live.count(Answer) == 3
    assert stored(page, form.site_key) == nothing  # ...and leaves no trace on the device

    page.evaluate("leadwheel('consent', true)")
    page.wait_for_function("key => localStorage.getItem(key) !== null", arg=f"lw.{form.site_key}")
    token = stored(page, form.site_key)["token"]
    assert token

    # On the next page the site's consent manager says yes again, before the snippet has even loaded.
    page.context.add_init_script(CONSENTED)
    live.clock.advance(hours=1)
    page.reload()  # the same visitor now: the next stage, not the basics
    expect(snippet.control(page, "company_size")).to_be_visible()
    assert stored(page, form.site_key)["token"]
    assert live.count(Visitor) == 1

    page.evaluate("leadwheel('consent', false)")  # withdrawn: the device forgets again
    assert stored(page, form.site_key) == nothing


#: A browser that refuses localStorage (privacy settings, some embedded webviews).
NO_LOCAL_STORAGE = """Object.defineProperty(window, "localStorage", {
  get() { throw new DOMException("The operation is insecure.", "SecurityError"); }
});"""


def test_without_local_storage_the_visitor_is_remembered_in_a_cookie(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page()
    page.context.add_init_script(NO_LOCAL_STORAGE)
    page.goto(live.url(form.site_key))
    snippet.fill(page, B2B)
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    name = f"lw_{form.site_key}"
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert list(cookies) == [name], cookies
    first = cookies[name]["value"]

    live.clock.advance(hours=1)
    page.reload()
    expect(snippet.control(page, "company_size")).to_be_visible()  # the same visitor, from the cookie
    assert live.count(Visitor) == 1

    snippet.container(page).locator("button.lw-forget").click()
    expect(snippet.control(page, "email")).to_be_visible()
    assert [c["value"] for c in page.context.cookies() if c["name"] == name] != [first]


def test_with_consent_required_a_stored_visitor_is_neither_read_before_consent_nor_lost_to_a_late_one(
    live: Live, open_page: Any
) -> None:
    """Consent managers often answer after the form is on screen; that must not cost a returning visitor."""
    form = live.publish_form()
    page = open_page(live.url(form.site_key, consent="required"))
    expect(snippet.control(page, "email")).to_be_visible()
    page.evaluate("leadwheel('consent', true)")
    snippet.fill(page, B2B)
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    assert stored(page, form.site_key)["token"]

    live.clock.advance(hours=1)
    page.reload()  # the next page: consent not (yet) given here, so the stored token is not read
    expect(snippet.control(page, "email")).to_be_visible()
    page.evaluate("leadwheel('consent', true)")  # the consent manager, late
    # the form comes back as the remembered visitor's, at its next questions (waited for: the clock moves next)
    expect(snippet.control(page, "company_size")).to_be_visible()

    page.context.add_init_script(CONSENTED)  # and on the page after, early
    live.clock.advance(hours=1)
    page.reload()
    # still the visitor who answered the basics
    expect(snippet.control(page, "company_size")).to_be_visible()


#: Collects the page's layout shifts (Chromium's Layout Instability API) from the first paint on.
LAYOUT_SHIFTS = """window.__shifts = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) __shifts.push(e.value); })
  .observe({type: "layout-shift", buffered: true});
"""


def test_requests_stay_cors_simple_and_the_host_page_does_not_jump(live: Live, open_page: Any) -> None:
    """No preflight per call (one round trip each), and the form appearing does not shove the page about."""
    form = live.publish_form()
    page = open_page()
    page.context.add_init_script(LAYOUT_SHIFTS)
    methods: list[str] = []
    page.on("request", lambda request: methods.append(request.method) if request.url.startswith(live.api) else None)
    page.goto(live.url(form.site_key))
    expect(snippet.control(page, "email")).to_be_visible()
    snippet.fill(page, B2B)
    snippet.submit(page)
    expect(snippet.thanks(page)).to_be_visible()  # this visit's questions are answered
    assert "POST" in methods and "OPTIONS" not in methods, methods
    shift = page.evaluate("__shifts.reduce((a, b) => a + b, 0)")
    assert shift < 0.1, f"cumulative layout shift {shift:.3f} (0.1 is the 'good' limit)"


def test_the_snippet_adds_one_global_name_and_nothing_else(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page()
    page.goto(live.host + "/no-snippet-here")  # the same origin, a page without the snippet
    blank = set(page.evaluate("Object.getOwnPropertyNames(window)"))
    page.goto(live.url(form.site_key))
    expect(snippet.control(page, "email")).to_be_visible()
    added = set(page.evaluate("Object.getOwnPropertyNames(window)")) - blank
    assert added == {"leadwheel"}, added
    assert page.evaluate("typeof leadwheel.q") == "undefined"  # the queue was replayed and replaced
