"""An answer and its lead's row: the profile document, last seen, and the score, written once.

The profile is kept on the lead row (capture/leads/profile_doc.py); with a live
scoring model an answer's columns ride on the score's own UPDATE
(capture/leads/seen.py). These tests hold both halves to what a user sees: the
values and the score are right, and the row is written once per answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from capture.leads import profile_doc
from tests.capture.conftest import Browser
from tests.capture.qualifying.test_scoring_service import become_lead, lead_row
from tests.capture.qualifying.test_scoring_service import live as live  # noqa: F401 (the fixture)

_LEAD_UPDATE = re.compile(r"^\s*UPDATE leads\b", re.IGNORECASE)


@contextmanager
def lead_updates(app: Any) -> Iterator[list[str]]:
    """Every ``UPDATE leads`` run meanwhile (every statement goes through the engine: there is one way in)."""
    seen: list[str] = []

    def counting(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if _LEAD_UPDATE.match(statement):
            seen.append(statement)

    engine = app.extensions["leadwheel"].db.engine
    event.listen(engine, "before_cursor_execute", counting)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", counting)


def test_with_a_live_model_an_answer_writes_profile_seen_and_score_in_one_update(
    app: Any, browser: Browser, clock: Any, live: Any
) -> None:
    become_lead(browser)
    before = lead_row(app, "ada@example.com")
    assert before.fit == 10
    clock.advance(hours=2)
    browser.ask()
    # (a size under 50 scores nothing: the stage stays, so no hand-off, which takes the Core path)
    with lead_updates(app) as updates:
        response = browser.answer({"company_size": "20", "looking_for": ["reports"], "consent": True})
    assert response.status_code == 201, response.get_json()
    assert len(updates) == 1, "\n".join(updates)
    lead = lead_row(app, "ada@example.com")
    assert lead.id == before.id and lead.stage == before.stage
    assert lead.scored_at == clock.now and lead.completeness > before.completeness  # scored again...
    assert lead.last_seen_at == clock.now  # ...and the same statement saw the lead
    profile = profile_doc.values(lead.profile)
    assert profile == {
        "email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b",
        "company_size": 20, "looking_for": ["reports"], "marketing_consent": True,
    }  # fmt: skip
    assert profile_doc.answered_at(lead.profile["company_size"]) == clock.now
    assert profile_doc.answered_at(lead.profile["email"]) < clock.now  # kept as it was


def test_without_a_model_an_answer_still_keeps_its_profile_and_when_it_was_seen(
    app: Any, browser: Browser, clock: Any
) -> None:
    become_lead(browser)
    clock.advance(hours=2)
    browser.ask()
    with lead_updates(app) as updates:
        assert browser.answer({"company_size": "7", "looking_for": ["analytics"], "consent": True}).status_code == 201
    assert len(updates) == 1, "\n".join(updates)
    lead = lead_row(app, "ada@example.com")
    assert lead.scored_at is None and lead.last_seen_at == clock.now
    assert profile_doc.values(lead.profile)["company_size"] == 7
    assert profile_doc.values(lead.profile)["looking_for"] == ["analytics"]


def test_an_answer_that_only_skips_leaves_the_profile_as_it_was(
    app: Any, browser: Browser, clock: Any, live: Any
) -> None:
    become_lead(browser)
    kept = lead_row(app, "ada@example.com").profile
    clock.advance(hours=2)
    browser.ask()
    asked = browser.asked_keys()
    assert browser.answer({}, skipped=asked).status_code == 201
    lead = lead_row(app, "ada@example.com")
    assert lead.profile == kept and lead.last_seen_at == clock.now
