"""High-intent behaviour of a lead sales already has reaches sales: one ``lead.updated`` per burst, in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select, update

from capture.config import Config
from capture.db.models import Delivery
from capture.handoff.endpoints import add_endpoint
from capture.handoff.outbox import UPDATE_WINDOW
from capture.handoff.worker import run_worker
from capture.sites.publishing import publish_model
from scoring.document import ModelError, model_document, parse_model
from scoring.inputs import Event
from tests.capture.conftest import Browser
from tests.capture.handoff.test_handoff import SCHEMA
from tests.capture.handoff.test_webhooks_worker import Receiver
from tests.capture.handoff.test_webhooks_worker import hooks as hooks
from tests.capture.handoff.test_webhooks_worker import receiver as receiver
from tests.capture.qualifying.test_scoring_service import MODEL, become_lead, track

#: the test model with the demo request and the pricing page marked high intent (the careers page is not)
HIGH_INTENT_MODEL: dict[str, Any] = {
    **MODEL,
    "engagement": [
        {**rule, "high_intent": True} if rule["id"] in ("demo", "pricing") else rule for rule in MODEL["engagement"]
    ],
}


def test_high_intent_is_read_written_and_matched_per_rule() -> None:
    model = parse_model(HIGH_INTENT_MODEL)
    assert [rule.high_intent for rule in model.engagement] == [True, True, False]
    assert model_document(model)["engagement"][0]["high_intent"] is True
    assert "high_intent" not in model_document(model)["engagement"][2]  # the default is not written
    assert parse_model(model_document(model)) == model
    assert model.is_high_intent(Event(type="page_view", at=None, path="/pricing/team"))  # type: ignore[arg-type]
    assert not model.is_high_intent(Event(type="page_view", at=None, path="/careers"))  # type: ignore[arg-type]
    assert not parse_model(MODEL).is_high_intent(Event(type="demo_request", at=None))  # type: ignore[arg-type]
    bad = {**MODEL, "engagement": [{**MODEL["engagement"][0], "high_intent": "yes"}]}
    with pytest.raises(ModelError, match=r"engagement\[0\].high_intent: must be true or false"):
        parse_model(bad)


@pytest.fixture
def crm(app: Any, clock: Any, receiver: Receiver) -> int:
    """The high-intent model, and a CRM that wants MQL, SQL and updates."""
    db = app.extensions["leadwheel"].db
    with db.write() as session:
        publish_model(session, parse_model(HIGH_INTENT_MODEL), clock())
    events = ["lead.mql", "lead.sql", "lead.updated"]
    return int(db.run(lambda c: add_endpoint(c, receiver.url, events, clock(), ("127.0.0.1",))).id)


def deliveries(app: Any) -> list[Delivery]:
    with app.extensions["leadwheel"].db.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def mql_lead(client: Any, browser: Browser) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))  # fit 10 + 20: MQL


def test_a_demo_request_of_an_mql_lead_is_sent_as_an_update_listing_it(
    app: Any, client: Any, browser: Browser, crm: int, clock: Any
) -> None:
    mql_lead(client, browser)
    track(client, browser, ("page_view", "/blog/coffee"), ("page_view", "/careers"))
    assert [d.event_type for d in deliveries(app)] == ["lead.mql"]  # nothing high-intent there
    clock.advance(minutes=1)
    track(client, browser, ("demo_request", "/demo"))
    mql, updated = deliveries(app)
    assert updated.event_type == "lead.updated" and updated.next_attempt_at == clock()
    payload = updated.payload
    jsonschema.validate(payload, SCHEMA)
    assert (mql.payload["sequence"], payload["sequence"]) == (1, 2)
    assert [(e["type"], e["path"]) for e in payload["data"]["high_intent"]] == [("demo_request", "/demo")]
    assert payload["data"]["events"][0]["type"] == "demo_request"
    assert "high_intent" not in mql.payload["data"]


def test_an_engaged_leads_high_intent_behaviour_is_scored_not_announced(
    app: Any, client: Any, browser: Browser, crm: int
) -> None:
    become_lead(browser, kind="b2c")  # fit 0
    track(client, browser, ("page_view", "/pricing"))  # 10 points: engaged, sales does not have it
    assert deliveries(app) == []


def test_a_burst_of_pricing_views_is_one_update_and_the_next_waits_for_the_window(
    app: Any, client: Any, browser: Browser, crm: int, clock: Any, hooks: Config
) -> None:
    mql_lead(client, browser)
    for _ in range(4):
        clock.advance(seconds=20)
        track(client, browser, ("page_view", "/pricing/team"))
    mql, updated = deliveries(app)
    assert updated.event_type == "lead.updated"
    assert [e["path"] for e in updated.payload["data"]["high_intent"]] == ["/pricing/team"] * 4
    assert updated.payload["timestamp"] == clock().isoformat()  # the snapshot is the latest

    db = app.extensions["leadwheel"].db
    assert run_worker(db, hooks, once=True, clock=clock) == 2
    sent_at = clock()
    clock.advance(minutes=1)
    track(client, browser, ("demo_request", "/demo"))  # after it went: a new one, due a window after it
    clock.advance(minutes=1)
    track(client, browser, ("page_view", "/pricing"))  # joins that one
    *_, later = deliveries(app)
    assert len(deliveries(app)) == 3 and later.status == "pending"
    assert later.next_attempt_at == sent_at + UPDATE_WINDOW
    assert [e["type"] for e in later.payload["data"]["high_intent"]] == ["demo_request", "page_view"]
    assert later.payload["sequence"] == 3
    assert run_worker(db, hooks, once=True, clock=clock) == 0  # not yet
    clock.now = sent_at + UPDATE_WINDOW
    assert run_worker(db, hooks, once=True, clock=clock) == 1


def test_a_retry_never_lets_a_later_hand_off_overtake_and_each_carries_its_sequence(
    app: Any, client: Any, browser: Browser, crm: int, clock: Any, hooks: Config, receiver: Receiver
) -> None:
    failures = [500]

    def flaky(_: Receiver, _headers: dict[str, str], _body: bytes) -> Any:
        return (failures.pop(), {}, b"busy") if failures else (200, {}, b"ok")

    receiver.reply = flaky
    mql_lead(client, browser)
    track(client, browser, ("demo_request", "/demo"))
    db = app.extensions["leadwheel"].db
    assert run_worker(db, hooks, once=True, clock=clock) == 1  # the MQL failed: the update waits behind it
    assert [d.status for d in deliveries(app)] == ["pending", "pending"]
    assert deliveries(app)[1].attempts == 0

    clock.advance(seconds=1)  # the update is due, the MQL's retry is not: still nothing overtakes
    assert run_worker(db, hooks, once=True, clock=clock) == 0
    clock.advance(minutes=1)
    assert run_worker(db, hooks, once=True, clock=clock) == 2
    received = [(json.loads(body)["type"], json.loads(body)["sequence"]) for _, body in receiver.received]
    assert received == [("lead.mql", 1), ("lead.mql", 1), ("lead.updated", 2)]
    assert [d.status for d in deliveries(app)] == ["delivered", "delivered"]


def test_a_dead_message_lets_the_lead_go_on_and_the_sequence_shows_the_gap(
    app: Any, client: Any, browser: Browser, crm: int, clock: Any, hooks: Config, receiver: Receiver
) -> None:
    mql_lead(client, browser)
    db = app.extensions["leadwheel"].db
    db.run(lambda c: c.execute(update(Delivery.__table__).values(status="dead")))
    track(client, browser, ("demo_request", "/demo"))
    assert run_worker(db, hooks, once=True, clock=clock) == 1
    assert [json.loads(body)["sequence"] for _, body in receiver.received] == [2]


def test_the_documented_update_example_is_valid() -> None:
    example = json.loads(
        (Path(__file__).resolve().parents[3] / "docs" / "webhook-payload.updated.example.json").read_text()
    )
    jsonschema.validate(example, SCHEMA)
    assert example["type"] == "lead.updated" and example["data"]["high_intent"]
