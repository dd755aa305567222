"""The rendered form as a visitor sees it: find questions, fill them in, submit. Selectors live here only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from playwright.sync_api import Locator, Page, expect

#: A visitor's answers to SMALL_WHEEL on the B2B path, by question key.
B2B = {
    "email": "Ada@Example.COM",
    "first_name": "Ada",
    "customer_type": "b2b",
    "company_size": "120",
    "looking_for": ["reports"],
    "consent": True,
    "budget": "large",
    "procurement": "Tender",
    "buying_timeline": "3m",
    "decides": True,
    "phone": "+45 12 34 56 78",
}
B2C = {**B2B, "email": "bo@example.dk", "first_name": "Bo", "customer_type": "b2c"}


def container(page: Page, slug: str = "wheel") -> Locator:
    return page.locator(f'[data-leadwheel-form="{slug}"]')


def form(page: Page, slug: str = "wheel") -> Locator:
    return container(page, slug).locator("form.lw-form")


def progress(page: Page, slug: str = "wheel") -> Locator:
    return container(page, slug).locator(".lw-progress")


def thanks(page: Page, slug: str = "wheel") -> Locator:
    return container(page, slug).locator(".lw-thanks")


def status(page: Page, slug: str = "wheel") -> Locator:
    return container(page, slug).locator(".lw-status")


def field(page: Page, key: str, slug: str = "wheel") -> Locator:
    """The div.lw-field holding question ``key``."""
    return form(page, slug).locator(".lw-field").filter(has=page.locator(f'[name="{key}"]'))


def not_now(page: Page, key: str, slug: str = "wheel") -> Locator:
    """The quiet "Not now" toggle of question ``key`` (absent when it cannot be skipped)."""
    return field(page, key, slug).locator("button.lw-skip")


def bar(page: Page, slug: str = "wheel") -> Locator:
    """The progress bar (role progressbar) above the questions."""
    return container(page, slug).get_by_role("progressbar")


def control(page: Page, key: str, slug: str = "wheel") -> Locator:
    """The (first) control answering question ``key``."""
    return form(page, slug).locator(f'[name="{key}"]').first


def error(page: Page, key: str, slug: str = "wheel") -> Locator:
    return field(page, key, slug).locator(".lw-error")


def asked(page: Page, slug: str = "wheel") -> list[str]:
    """The question keys on show, in order (each field's answer control, not its "Not now" box)."""
    keys: list[str] = (
        form(page, slug)
        .locator(".lw-field")
        .evaluate_all(
            """fields => fields.map(f => {
             const c = f.querySelector('[name]:not([name=hp])');
             return c ? c.name : null;
           })"""
        )
    )
    return [k for k in keys if k]


def wait_for_step(page: Page, step: int, steps: int = 5, slug: str = "wheel") -> list[str]:
    """Wait until the form shows step ``step`` and return the question keys it asks."""
    expect(progress(page, slug)).to_contain_text(f"{step}")
    expect(progress(page, slug)).to_contain_text(f"{steps}")
    expect(form(page, slug).locator(".lw-field").first).to_be_visible()
    return asked(page, slug)


def fill(page: Page, answers: Mapping[str, Any], keys: list[str] | None = None, slug: str = "wheel") -> None:
    """Answer the questions on show (or ``keys``) with the values in ``answers``, by control type."""
    if keys is None:
        expect(form(page, slug).locator(".lw-field").first).to_be_visible()
        keys = asked(page, slug)
    for key in keys:
        value = answers[key]
        controls = form(page, slug).locator(f'[name="{key}"]')
        first = controls.first
        tag = first.evaluate("e => e.tagName.toLowerCase()")
        kind = first.get_attribute("type") or ""
        if tag == "select":
            first.select_option(value)
        elif kind == "radio":
            form(page, slug).locator(f'[name="{key}"][value="{value}"]').check()
        elif kind == "checkbox" and controls.count() > 1 or isinstance(value, list):
            for item in value:
                form(page, slug).locator(f'[name="{key}"][value="{item}"]').check()
        elif kind == "checkbox":
            if value:
                first.check()
            else:
                first.uncheck()
        else:
            first.fill(str(value))


def submit(page: Page, slug: str = "wheel") -> None:
    form(page, slug).locator(".lw-submit").click()
