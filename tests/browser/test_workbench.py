"""The workbench in Chromium: keyboard alone, under its strict CSP, and axe-core on every page."""

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
from tests.browser.hostsite import serve
from tests.browser.test_accessibility import serious_violations, tab_to

PASSWORD = "correct horse battery"


@pytest.fixture
def workbench(config: Config) -> Iterator[str]:
    """The app on a real port (plain http, so cookies without Secure), with an admin and a viewer."""
    application = create_app(replace(config, extra={"cookie_secure": False}))
    services = application.extensions["leadwheel"]
    with services.db.write() as session:
        create_user(session, "admin@example.com", PASSWORD, "admin", services.clock())
        create_user(session, "viewer@example.com", PASSWORD, "viewer", services.clock())
    with serve(application) as served:
        yield served.origin
    services.db.dispose()


def follow(page: Page) -> None:
    """Enter on a link or a form's button, then wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press("Enter")


def keyboard_sign_in(page: Page, origin: str, email: str) -> None:
    page.goto(f"{origin}/workbench/")
    expect(page).to_have_url(f"{origin}/workbench/sign-in?next=%2Fworkbench%2F")
    tab_to(page, "input[name=email]")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    follow(page)
    expect(page.get_by_role("heading", name="Workbench")).to_be_visible()


def test_keyboard_alone_signs_in_creates_a_site_and_changes_a_role(workbench: str, open_page: Any) -> None:
    page = open_page()  # the workbench's own CSP is on: a refused inline script or style fails the test
    keyboard_sign_in(page, workbench, "admin@example.com")

    tab_to(page, "nav a[href='/workbench/sites']")
    follow(page)
    tab_to(page, "a[href='/workbench/sites/new']")
    follow(page)
    tab_to(page, "input[name=name]")
    page.keyboard.type("Northwind")
    page.keyboard.press("Tab")
    page.keyboard.type("https://www.northwind.example")
    tab_to(page, "main button[type=submit]")
    follow(page)
    expect(page.get_by_role("heading", name="Northwind", level=1)).to_be_visible()
    expect(page.locator("textarea[name=origins]")).to_have_value("https://www.northwind.example")

    tab_to(page, "nav a[href='/workbench/users']")
    follow(page)
    row = page.locator("tr", has_text="viewer@example.com")
    number = (row.get_attribute("id") or "").removeprefix("user-")
    tab_to(page, f"#role-{number}")
    page.keyboard.press("Home")  # the first role, admin... then one down: marketer
    page.keyboard.press("ArrowDown")
    page.evaluate("() => { window.notReloaded = true; }")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(row.locator("select option[selected]")).to_have_text("Marketer")
    assert page.evaluate("() => window.notReloaded === true"), "htmx should have swapped the row, not reloaded"


def test_axe_finds_nothing_serious_on_any_workbench_page(workbench: str, open_page: Any, axe_path: Path) -> None:
    page = open_page()
    page.goto(f"{workbench}/workbench/sign-in")
    pages = {"sign-in": serious_violations_fresh(page, axe_path)}
    keyboard_sign_in(page, workbench, "admin@example.com")
    page.goto(f"{workbench}/workbench/sites/new")
    page.fill("input[name=name]", "Northwind")
    page.fill("textarea[name=origins]", "not an origin")
    page.click("main button[type=submit]")
    pages["sites/new with an error"] = serious_violations_fresh(page, axe_path)
    page.fill("textarea[name=origins]", "https://www.northwind.example")
    page.click("main button[type=submit]")
    expect(page.get_by_role("heading", name="Northwind", level=1)).to_be_visible()
    site_path = page.url.removeprefix(workbench)
    for path in (
        "/workbench/",
        "/workbench/sites",
        "/workbench/sites/new",
        site_path,
        "/workbench/users",
        "/workbench/sites/999",
    ):
        page.goto(f"{workbench}{path}")
        pages[path] = serious_violations_fresh(page, axe_path)
    viewer = open_page()
    keyboard_sign_in(viewer, workbench, "viewer@example.com")
    viewer.goto(f"{workbench}/workbench/users")
    pages["403"] = serious_violations_fresh(viewer, axe_path)
    assert {name: found for name, found in pages.items() if found} == {}


def serious_violations_fresh(page: Page, axe: Path) -> list[str]:
    """axe-core on the whole page as it is. It goes in through the browser's debugging protocol, which
    the page's CSP does not govern: an injected <script> would be refused (only 'self' may run)."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe.read_text(encoding="utf-8") + "\n;undefined")
    return serious_violations(page, axe, "html")
