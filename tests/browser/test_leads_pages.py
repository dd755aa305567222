"""The Leads pages in Chromium, under the workbench's CSP: filter, open a lead, export what is shown; axe-core."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from capture.config import Config
from capture.sites.publishing import create_site
from capture.web.app import create_app
from capture.workbench.accounts import create_user
from tests.browser.hostsite import serve
from tests.browser.test_workbench import PASSWORD, keyboard_sign_in, serious_violations_fresh
from tests.workbench.test_leads import _bulk_leads


@pytest.fixture
def with_leads(config: Config) -> Iterator[str]:
    """The workbench on a real port, an admin, and 60 leads of one site (lead0 … lead59, stages in turn)."""
    application = create_app(replace(config, extra={"cookie_secure": False}))
    services = application.extensions["leadwheel"]
    with services.db.write() as session:
        create_user(session, "admin@example.com", PASSWORD, "admin", services.clock())
        site_id = create_site(session, "Northwind", ["https://northwind.example"], services.clock()).id
    _bulk_leads(application, 60, site_id=site_id)
    with serve(application) as served:
        yield served.origin
    services.db.dispose()


def test_a_marketer_filters_leads_opens_one_and_exports_the_filtered_list(
    with_leads: str, open_page: Any, axe_path: Path
) -> None:
    page = open_page()  # the workbench's CSP is on: a refused inline script or style fails the test
    keyboard_sign_in(page, with_leads, "admin@example.com")
    page.goto(f"{with_leads}/workbench/leads/")
    expect(page.get_by_role("heading", name="Leads", level=1)).to_be_visible()
    assert serious_violations_fresh(page, axe_path) == []

    page.fill("input[name=q]", "lead1")  # lead1 and lead10 … lead19
    page.select_option("select[name=stage]", "engaged")  # every fourth lead from lead1
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    wanted = sorted(f"lead{i}@bulk.example" for i in [1, *range(10, 20)] if i % 4 == 1)
    shown = page.locator("tbody tr")
    expect(shown).to_have_count(len(wanted))
    rows_by_list_order = shown.locator("td:first-child a").all_inner_texts()
    with page.expect_download() as started:
        page.click("text=Export these leads (CSV)")
    rows = list(csv.reader(io.StringIO(Path(started.value.path()).read_text(encoding="utf-8"))))
    assert sorted(row[1] for row in rows[1:]) == wanted
    assert {row[5] for row in rows[1:]} == {"engaged"}

    with page.expect_navigation():
        shown.first.locator("a").click()
    expect(page.get_by_role("heading", name="Profile")).to_be_visible()
    expect(page.locator("h1")).to_have_text(rows_by_list_order[0])
    expect(page.locator(".facts")).to_contain_text("Engaged")
    assert serious_violations_fresh(page, axe_path) == []
