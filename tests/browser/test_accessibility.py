"""The form works with a keyboard alone, and axe-core finds nothing serious in it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from capture.db.models import Answer
from tests.browser import snippet
from tests.browser.conftest import Live

MAX_TABS = 80
#: Answers to every question of the axe test's form.
EVERYTHING = {
    "email": "ada@example.com",
    "first_name": "Ada",
    "phone": "+45 12 34 56 78",
    "company_size": "12",
    "notes": "None",
    "budget": "small",
    "looking_for": ["r"],
    "customer_type": "b2c",
    "decides": True,
    "consent": True,
}


def focused(page: Page) -> dict[str, Any]:
    return page.evaluate(  # type: ignore[no-any-return]
        """() => { const e = document.activeElement;
                   return {tag: e.tagName.toLowerCase(), name: e.name || null, value: e.value ?? null,
                           type: e.type || null, cls: e.className || ''}; }"""
    )


def tab_to(page: Page, selector: str, *, back: bool = False) -> None:
    """Press Tab (or Shift+Tab) until ``selector`` has the focus, as a keyboard user would."""
    key = "Shift+Tab" if back else "Tab"
    for _ in range(MAX_TABS):
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
        page.keyboard.press(key)
    raise AssertionError(f"{key} never reached {selector}; focus is on {focused(page)}")


def test_a_stage_can_be_completed_with_the_keyboard_alone(live: Live, open_page: Any) -> None:
    form = live.publish_form()
    page = open_page(live.url(form.site_key))
    expect(snippet.control(page, "email")).to_be_visible()
    scope = '[data-leadwheel-form="wheel"] '

    tab_to(page, scope + '[name="first_name"]')
    page.keyboard.type("Ada")
    tab_to(page, scope + '[name="email"]', back=True)
    page.keyboard.type("ada@example.com")
    tab_to(page, scope + '[name="customer_type"]')  # a radio group is one tab stop
    page.keyboard.press("Space")
    checked = page.evaluate("document.activeElement.value")
    page.keyboard.press("ArrowDown")  # arrows move through the group and choose
    chosen = page.evaluate("document.activeElement.value")
    assert chosen != checked
    expect(snippet.form(page).locator(f'[name="customer_type"][value="{chosen}"]')).to_be_checked()
    if chosen != "b2b":
        page.keyboard.press("ArrowUp")
    expect(snippet.form(page).locator('[name="customer_type"][value="b2b"]')).to_be_checked()
    tab_to(page, scope + '[name="first_name"]', back=True)
    page.keyboard.press("Enter")  # submits the form from a text field

    expect(snippet.thanks(page)).to_be_focused()  # the visit's questions are done: the thank-you is read next
    assert live.profile() == {"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}

    live.clock.advance(hours=1)  # the next visit
    page.reload()
    expect(snippet.control(page, "company_size")).to_be_visible()
    tab_to(page, scope + '[name="company_size"]')
    page.keyboard.type("120")
    tab_to(page, scope + '[name="looking_for"][value="reports"]')
    page.keyboard.press("Space")
    tab_to(page, scope + '[name="consent"]')
    page.keyboard.press("Space")
    tab_to(page, scope + ".lw-submit")
    page.keyboard.press("Enter")

    expect(snippet.thanks(page)).to_be_focused()
    assert {a.field: a.value for a in live.rows(Answer)} == {
        "email": "ada@example.com",
        "first_name": "Ada",
        "customer_type": "b2b",
        "company_size": 120,
        "looking_for": ["reports"],
        "marketing_consent": True,
    }


def serious_violations(page: Page, axe: Path, scope: str) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(axe))
    result = page.evaluate(
        """async scope => {
             const r = await axe.run({include: [scope]}, {resultTypes: ['violations']});
             return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.html).slice(0, 3)}));
           }""",
        scope,
    )
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {v['nodes']}"
        for v in result
        if v["impact"] in ("serious", "critical")
    ]


def test_axe_finds_nothing_serious_in_the_form_its_errors_retry_or_thank_you(
    live: Live, open_page: Any, axe_path: Path
) -> None:
    document = {
        "format": "leadwheel/sequence@1",
        "name": "Every control",
        "default_locale": "en",
        "settings": {"questions_per_visit": 10},
        "thank_you": "Thank you!",
        "stages": [
            {
                "key": "all",
                "label": "All",
                "questions": [
                    {
                        "key": "email",
                        "type": "email",
                        "required": True,
                        "label": "E-mail",
                        "help": "We never share it.",
                    },
                    {"key": "first_name", "type": "text", "label": "First name"},
                    {"key": "phone", "type": "tel", "label": "Phone"},
                    {"key": "company_size", "type": "number", "min": 1, "label": "Employees"},
                    {"key": "notes", "type": "textarea", "label": "Anything else?"},
                    {
                        "key": "budget",
                        "type": "select",
                        "label": "Budget",
                        "options": [{"value": "small", "label": "Small"}, {"value": "large", "label": "Large"}],
                    },
                    {
                        "key": "looking_for",
                        "type": "multi-select",
                        "label": "Looking for",
                        "options": [{"value": "a", "label": "Analytics"}, {"value": "r", "label": "Reports"}],
                    },
                    {
                        "key": "customer_type",
                        "type": "radio",
                        "required": True,
                        "label": "Buying for",
                        "options": [{"value": "b2b", "label": "My company"}, {"value": "b2c", "label": "Myself"}],
                    },
                    {"key": "decides", "type": "checkbox", "label": "I decide"},
                    {
                        "key": "consent",
                        "field": "marketing_consent",
                        "type": "consent",
                        "consent_version": "1",
                        "label": "You may e-mail me about products.",
                    },
                ],
            }
        ],
    }
    form = live.publish_form(document)
    page = open_page(live.url(form.site_key, csp=False))  # axe is injected as an inline script
    scope = '[data-leadwheel-form="wheel"]'
    expect(snippet.control(page, "consent")).to_be_visible()
    assert serious_violations(page, axe_path, scope) == []

    snippet.fill(page, {"email": "nope", "company_size": "0"}, ["email", "company_size"])
    snippet.submit(page)
    expect(snippet.error(page, "email")).to_be_visible()
    expect(snippet.control(page, "email")).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page, axe_path, scope) == []

    page.route("**/answers", lambda route: route.abort())  # offline: the Retry state
    snippet.fill(page, EVERYTHING)  # every question answered: nothing left to ask
    snippet.submit(page)
    retry = snippet.container(page).locator("button.lw-retry")
    expect(retry).to_be_visible()
    assert serious_violations(page, axe_path, scope) == []

    page.unroute("**/answers")
    retry.click()
    expect(snippet.thanks(page)).to_have_text("Thank you!")
    assert serious_violations(page, axe_path, scope) == []
