"""The whole hand-off: answers and behaviour make an SQL, the worker signs it, a real receiver verifies it."""

from __future__ import annotations

import json
from typing import Any

from standardwebhooks.webhooks import Webhook

from capture.handoff.worker import run_worker
from tests.capture.conftest import Browser
from tests.capture.handoff.test_handoff import live as live  # noqa: F401  (the fixture)
from tests.capture.handoff.test_webhooks_worker import Receiver, new_endpoint  # noqa: F401
from tests.capture.handoff.test_webhooks_worker import hooks as hooks
from tests.capture.handoff.test_webhooks_worker import receiver as receiver
from tests.capture.qualifying.test_scoring_service import become_lead, lead_row, track


def test_a_lead_crossing_sql_reaches_the_crm_signed_once_with_its_story(
    app: Any, client: Any, browser: Browser, live: int, hooks: Any, receiver: Receiver, clock: Any
) -> None:
    db = app.extensions["leadwheel"].db
    endpoint_id, secret = new_endpoint(db, receiver.url, clock())
    become_lead(browser)
    clock.advance(hours=1)  # each visit asks the next questions
    browser.ask()
    assert browser.answer({"company_size": "120", "looking_for": ["reports"], "consent": True}).status_code == 201
    clock.advance(hours=1)
    browser.ask()
    assert browser.asked_keys() == ["budget", "procurement", "buying_timeline"]
    assert browser.answer({"budget": "large", "procurement": "Tender", "buying_timeline": "3m"}).status_code == 201
    assert lead_row(app, "ada@example.com").stage == "engaged"  # fit 70, but no interest shown yet
    run_worker(db, hooks, once=True)
    assert receiver.received == []  # the endpoint wants SQL only
    track(client, browser, ("demo_request", "/demo"))
    lead = lead_row(app, "ada@example.com")
    assert (lead.stage, lead.fit, lead.engagement) == ("sql", 70, 40), lead.explanation

    run_worker(db, hooks, once=True)
    run_worker(db, hooks, once=True)  # nothing left to send twice
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(secret).verify(body, headers)  # what a CRM using the library does
    assert payload["type"] == "lead.sql"
    assert payload["data"]["lead"]["email"] == "ada@example.com"
    assert payload["data"]["score"]["total"] >= 75
    assert {a["field"] for a in payload["data"]["answers"]} >= {"email", "buying_timeline", "budget"}
    assert payload["data"]["events"][0]["type"] == "demo_request"
    assert json.loads(body)["data"]["lead"]["stage"] == "sql"
