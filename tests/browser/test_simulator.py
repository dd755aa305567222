"""The visit simulator in Chromium, under the workbench's CSP: play a persona, reorder, play again; axe-core."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from capture.config import Config
from capture.sites.publishing import create_site, publish, publish_model
from capture.web.app import create_app
from capture.workbench.accounts import create_user
from profiling.document import load
from scoring.document import parse_model
from tests.browser.hostsite import serve
from tests.browser.test_workbench import PASSWORD, keyboard_sign_in, serious_violations_fresh
from tests.capture.conftest import SMALL_WHEEL
from tests.capture.qualifying.test_scoring_service import MODEL


@pytest.fixture
def simulating(config: Config) -> Iterator[tuple[str, Any]]:
    """The workbench on a real port, a marketer, a site whose form is SMALL_WHEEL, the test model live."""
    application = create_app(replace(config, extra={"cookie_secure": False}))
    services = application.extensions["leadwheel"]
    with services.db.write() as session:
        create_user(session, "marketer@example.com", PASSWORD, "marketer", services.clock())
        site = create_site(session, "Northwind", ["https://northwind.example"], services.clock())
        publish(session, site, "wheel", load(SMALL_WHEEL), services.clock())
        publish_model(session, parse_model(MODEL), services.clock())

    def republish(document: dict[str, Any]) -> None:
        with services.db.write() as session:
            found = session.get(type(site), site.id)
            publish(session, found, "wheel", load(document), services.clock())

    with serve(application) as served:
        yield served.origin, republish
    services.db.dispose()


def test_the_simulator_shows_the_next_visits_questions_change_after_a_reorder(
    simulating: tuple[str, Any], open_page: Any, axe_path: Path
) -> None:
    origin, republish = simulating
    page = open_page()
    keyboard_sign_in(page, origin, "marketer@example.com")
    page.goto(f"{origin}/workbench/simulator/")
    page.select_option("select[name=kind]", "b2b")
    page.fill("input[name='visits-1-pages']", "/pricing, /pricing/enterprise")
    with page.expect_navigation():
        page.click("main form button[type=submit]")
    expect(page.locator("section.visit")).to_have_count(4)
    visit_one = page.locator("section.visit").first.locator("[data-question]")
    expect(visit_one).to_have_count(3)
    assert [q.get_attribute("data-question") for q in visit_one.all()] == ["email", "first_name", "company_size"]
    expect(page.locator("section.visit").nth(1)).to_contain_text("After this visit: score")
    assert serious_violations_fresh(page, axe_path) == []

    reordered = copy.deepcopy(SMALL_WHEEL)
    need = reordered["stages"][1]["questions"]
    need[0], need[1] = need[1], need[0]  # the marketer moves "looking for" above the company's size
    republish(reordered)
    page.reload()
    visit_one = page.locator("section.visit").first.locator("[data-question]")
    expect(visit_one).to_have_count(3)
    assert [q.get_attribute("data-question") for q in visit_one.all()] == ["email", "first_name", "looking_for"]
