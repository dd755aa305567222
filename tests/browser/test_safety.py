"""What must never happen: a form on a site that did not ask for it, or markup in answers or texts running."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from capture.db.models import Answer, Lead, Visitor
from tests.browser import snippet
from tests.browser.conftest import Live

SCRIPT = "<script>window.__pwned=1</script>"
ATTRIBUTE = '"><img src=x onerror="window.__pwned=1">'
LABEL = '<b>Company</b> <img src=x onerror="window.__pwned=1">'
THANKS = '<img src=x onerror="window.__pwned=1"><b>Thanks</b> & goodbye'
OPTION = "<script>window.__pwned=1</script>Yes"


def test_a_page_on_an_origin_the_site_does_not_allow_gets_no_form_and_stores_nothing(
    live: Live, open_page: Any
) -> None:
    form = live.publish_form()
    page = open_page()
    with page.expect_request(lambda r: "/ask" in r.url) as asking:
        page.goto(live.url(form.site_key, foreign=True))
    response = asking.value.response()  # None: the 403 carries no CORS header, so the browser drops it
    assert response is None or response.status == 403
    page.wait_for_timeout(300)  # the snippet has its (refused) answer; give it a moment to (not) render
    expect(snippet.container(page).locator(".lw-form")).to_have_count(0)
    expect(snippet.container(page).locator("input, select, textarea, button")).to_have_count(0)
    assert live.count(Answer) == live.count(Lead) == live.count(Visitor) == 0


def test_markup_typed_or_published_is_stored_and_shown_as_text(live: Live, open_page: Any) -> None:
    document = {
        "format": "leadwheel/sequence@1",
        "name": "Markup",
        "default_locale": "en",
        "settings": {"questions_per_visit": 5},
        "thank_you": THANKS,
        "stages": [
            {
                "key": "basics",
                "label": "<i>Basics</i>",
                "questions": [
                    {"key": "first_name", "type": "text", "label": "First name"},
                    {"key": "company", "type": "text", "label": LABEL, "help": SCRIPT},
                    {"key": "email", "type": "email", "required": True, "label": "E-mail"},
                    {
                        "key": "agree",
                        "type": "radio",
                        "label": "Agree?",
                        "options": [{"value": "yes", "label": OPTION}, {"value": "no", "label": "No"}],
                    },
                ],
            }
        ],
    }
    form = live.publish_form(document)
    page = open_page(live.url(form.site_key, csp=False))  # no policy to stop an inline handler that slipped in
    root = snippet.container(page)
    expect(snippet.form(page).get_by_text(LABEL, exact=True)).to_be_visible()
    expect(snippet.form(page).get_by_text(SCRIPT, exact=True)).to_be_visible()
    expect(snippet.form(page).get_by_text(OPTION, exact=True)).to_be_visible()

    snippet.control(page, "first_name").fill(SCRIPT)
    snippet.control(page, "company").fill(ATTRIBUTE)
    snippet.control(page, "email").fill(ATTRIBUTE)  # not an e-mail: comes back with an error, value kept
    snippet.submit(page)
    expect(snippet.error(page, "email")).to_be_visible()
    expect(snippet.control(page, "first_name")).to_have_value(SCRIPT)
    expect(snippet.control(page, "company")).to_have_value(ATTRIBUTE)
    expect(snippet.control(page, "email")).to_have_value(ATTRIBUTE)
    assert live.count(Answer) == 0

    snippet.control(page, "email").fill("ada@example.com")
    snippet.form(page).locator('[name="agree"][value="yes"]').check()
    snippet.submit(page)
    expect(snippet.thanks(page)).to_have_text(THANKS)

    assert {a.field: a.value for a in live.rows(Answer)} == {
        "first_name": SCRIPT,
        "company": ATTRIBUTE,
        "email": "ada@example.com",
        "agree": "yes",
    }
    assert root.locator("img, b, i, script:not([src])").count() == 0, root.inner_html()
    assert page.evaluate("typeof window.__pwned") == "undefined"


def tab_stops(page: Any, scope: str) -> list[str]:
    """Every control in ``scope`` that Tab reaches, as name or class (pressing Tab, as a keyboard user would)."""
    page.locator("h1").click()  # start from the page, before the form
    stops: list[str] = []
    for _ in range(30):
        page.keyboard.press("Tab")
        where = page.evaluate(
            "s => { const e = document.activeElement; if (!e || !e.closest(s)) return null;"
            " return e.name || e.className || e.tagName; }",
            scope,
        )
        if where is None:
            break
        stops.append(where)
    return stops


def test_the_honeypot_is_out_of_peoples_way_and_a_filled_one_stores_nothing(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    snippet.fill(page, {"email": "bot@example.com", "first_name": "Bot", "customer_type": "b2b"})
    honeypot = snippet.form(page).locator('input[name="hp"]')
    expect(honeypot).to_have_count(1)
    expect(honeypot).to_have_value("")
    stops = tab_stops(page, '[data-leadwheel-form="wheel"]')
    assert "email" in stops and "hp" not in stops, stops
    assert honeypot.evaluate(UNSEEN), "people can see the honeypot field"

    honeypot.evaluate("e => { e.value = 'http://spam.example'; }")  # what a form-filling robot does
    with page.expect_response(lambda r: r.url.endswith("/answers")) as answered:
        snippet.submit(page)
    assert answered.value.status == 422
    assert answered.value.json()["error"]["code"] == "suspected_bot"
    assert live.count(Answer) == live.count(Lead) == 0


#: True when no one can see the element: not rendered, transparent, clipped away, tiny, or off the page.
UNSEEN = """e => {
  for (let n = e; n; n = n.parentElement) {
    const s = getComputedStyle(n);
    if (s.display === "none" || s.visibility === "hidden" || parseFloat(s.opacity) === 0) return true;
    if (s.clipPath && s.clipPath.startsWith("inset(50%")) return true;
    if (s.clip === "rect(0px, 0px, 0px, 0px)") return true;
  }
  const r = e.getBoundingClientRect();
  const width = document.documentElement.scrollWidth, height = document.documentElement.scrollHeight;
  return r.width <= 1 || r.height <= 1 || r.right <= 0 || r.bottom <= 0 || r.left >= width || r.top >= height;
}"""
