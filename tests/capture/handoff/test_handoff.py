"""Hand-offs into the outbox: written with the stage change, carrying the whole story, to the right owner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select

from capture.db.models import Delivery, Lead, RoutingVersion, WebhookEndpoint
from capture.handoff.outbox import enqueue
from capture.qualifying.rescoring import rescore
from scoring.routing import parse_routing, routing_document
from tests.capture.conftest import Browser
from tests.capture.qualifying.test_scoring_service import MODEL, become_lead, lead_row, track

SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "docs" / "webhook-payload.schema.json").read_text())


@pytest.fixture
def endpoints(app: Any, clock: Any, live: Any) -> Any:
    """Two endpoints that want MQL and SQL hand-offs and updates, and one disabled and one SQL-only."""
    db = app.extensions["leadwheel"].db
    with db.write() as session:
        for url, events, enabled in [
            ("https://crm.example/hooks", ["lead.mql", "lead.sql", "lead.updated"], True),
            ("https://old.example/hooks", ["lead.mql", "lead.sql"], False),
            ("https://sales.example/hooks", ["lead.sql"], True),
        ]:
            session.add(
                WebhookEndpoint(
                    url=url,
                    events=events,
                    enabled=enabled,
                    secret="whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz",
                    created_at=clock(),
                )
            )
    with db.read() as session:
        return {row.url: row.id for row in session.scalars(select(WebhookEndpoint))}


@pytest.fixture
def live(app: Any, clock: Any) -> int:
    """The test scoring model, published."""
    from capture.sites.publishing import publish_model
    from scoring.document import parse_model

    with app.extensions["leadwheel"].db.write() as session:
        return publish_model(session, parse_model(MODEL), clock()).version.id


def deliveries(app: Any) -> list[Delivery]:
    with app.extensions["leadwheel"].db.read() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def test_reaching_mql_writes_one_delivery_per_subscribed_enabled_endpoint_with_the_whole_story(
    app: Any, client: Any, browser: Browser, endpoints: Any
) -> None:
    become_lead(browser)
    assert deliveries(app) == []  # engaged: nothing for sales yet
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    sent = deliveries(app)
    assert [(d.endpoint_id, d.event_type, d.status) for d in sent] == [
        (endpoints["https://crm.example/hooks"], "lead.mql", "pending")
    ]
    payload = sent[0].payload
    jsonschema.validate(payload, SCHEMA)
    data = payload["data"]
    assert data["lead"]["email"] == "ada@example.com" and data["lead"]["stage"] == "mql"
    assert data["lead"]["profile"]["customer_type"] == "b2b"
    assert {a["field"] for a in data["answers"]} == {"email", "first_name", "customer_type"}
    first = data["answers"][0]
    assert first["form"] == "wheel" and first["sequence_version"] == 1 and first["source"] == "form"
    assert first["page_url"] == "https://www.example.com/pricing"
    assert data["score"]["model_version"] == 1 and data["score"]["total"] == 30
    assert {c["rule"] for c in data["score"]["contributions"]} == {"pricing", "b2b"}
    assert [e["type"] for e in data["events"]] == ["page_view", "page_view"]
    assert sent[0].message_id.startswith("msg_")


def test_new_answers_from_a_lead_sales_has_are_sent_as_updates(
    app: Any, client: Any, browser: Browser, endpoints: Any
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    browser.clock.advance(hours=1)  # the next visit asks the next questions
    browser.ask()
    browser.answer({"company_size": "120", "consent": True})
    assert [d.event_type for d in deliveries(app)] == ["lead.mql", "lead.updated"]
    assert deliveries(app)[1].payload["data"]["lead"]["profile"]["company_size"] == 120


def test_the_latest_twenty_events_newest_first(app: Any, client: Any, browser: Browser, endpoints: Any) -> None:
    become_lead(browser)
    track(client, browser, *[("page_view", f"/blog/{n}") for n in range(25)], ("demo_request", "/demo"))
    events = deliveries(app)[0].payload["data"]["events"]
    assert len(events) == 20 and events[0]["type"] == "demo_request"


def test_a_rolled_back_change_sends_nothing(app: Any, browser: Browser, endpoints: Any, clock: Any) -> None:
    become_lead(browser)
    lead_id = lead_row(app, "ada@example.com").id
    db = app.extensions["leadwheel"].db

    class Crash(Exception):
        pass

    with pytest.raises(Crash):
        with db.write_connection() as connection:
            assert enqueue(connection, lead_id, "lead.sql", clock()) == 2
            raise Crash
    assert deliveries(app) == []


def test_a_lead_that_falls_back_and_qualifies_again_is_handed_off_again(
    app: Any, client: Any, browser: Browser, endpoints: Any, clock: Any
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    services = app.extensions["leadwheel"]
    clock.advance(days=60)
    rescore(services.db, services.catalog.scoring_model(), clock(), from_state=True)
    assert lead_row(app, "ada@example.com").stage == "engaged"
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    sent = deliveries(app)
    assert [d.event_type for d in sent] == ["lead.mql", "lead.mql"]
    assert sent[0].message_id != sent[1].message_id


def test_once_sales_accepted_a_lead_decay_does_not_take_it_back(
    app: Any, client: Any, browser: Browser, endpoints: Any, clock: Any
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        lead = session.scalar(select(Lead).where(Lead.email == "ada@example.com"))
        lead.sales_outcome = "accepted"
    clock.advance(days=60)
    rescore(services.db, services.catalog.scoring_model(), clock(), from_state=True)
    lead = lead_row(app, "ada@example.com")
    assert lead.score < 15 and lead.stage == "mql"


ROUTING = {
    "format": "leadwheel/routing@1",
    "account_owners": {"bigco.example": "anna@ours.example"},
    "rules": [{"field": "company_size", "min": 1000, "owner": "bo@ours.example"}],
    "teams": {"inbound": ["cia@ours.example", "dan@ours.example"]},
    "default_team": "inbound",
}


def test_routing_picks_the_account_owner_then_rules_then_the_team_in_turn(
    app: Any, client: Any, publish_form: Any, endpoints: Any, clock: Any
) -> None:
    with app.extensions["leadwheel"].db.write() as session:
        session.add(RoutingVersion(version=1, document=routing_document(parse_routing(ROUTING)), published_at=clock()))
    form = publish_form()
    owners = {}
    for email in ["x@bigco.example", "a@one.example", "b@two.example", "c@three.example"]:
        b = Browser(client, form, clock)
        become_lead(b, email=email)
        track(client, b, ("page_view", "/pricing"), ("page_view", "/pricing"))
        owners[email] = lead_row(app, email).owner
    assert owners == {
        "x@bigco.example": "anna@ours.example",
        "a@one.example": "cia@ours.example",
        "b@two.example": "dan@ours.example",
        "c@three.example": "cia@ours.example",
    }
    assert deliveries(app)[0].payload["data"]["lead"]["owner"] == "anna@ours.example"


def test_the_documented_example_matches_the_schema() -> None:
    example = json.loads((Path(__file__).resolve().parents[3] / "docs" / "webhook-payload.example.json").read_text())
    jsonschema.validate(example, SCHEMA)
    assert example["type"] == "lead.sql" and example["data"]["lead"]["owner"]


def test_a_rejected_lead_is_not_handed_straight_back_but_can_qualify_again_later(
    app: Any, client: Any, browser: Browser, endpoints: Any, clock: Any
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    services = app.extensions["leadwheel"]
    with services.db.write() as session:  # what a rejection through the outcomes API leaves behind
        lead = session.scalar(select(Lead).where(Lead.email == "ada@example.com"))
        lead.stage, lead.sales_outcome = "recycled", "rejected"
    track(client, browser, ("page_view", "/pricing"))
    assert lead_row(app, "ada@example.com").stage == "recycled"
    assert [d.event_type for d in deliveries(app)] == ["lead.mql"]  # nothing new
    clock.advance(days=60)
    rescore(services.db, services.catalog.scoring_model(), clock(), from_state=True)
    assert lead_row(app, "ada@example.com").stage == "engaged"
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    assert [d.event_type for d in deliveries(app)] == ["lead.mql", "lead.mql"]


def test_a_rescore_that_qualifies_many_leads_at_once_routes_them_as_one_at_a_time_would(
    app: Any, client: Any, publish_form: Any, endpoints: Any, clock: Any
) -> None:
    from capture.db.models import TeamTurn
    from capture.sites.publishing import publish_model
    from scoring.document import parse_model

    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        session.add(RoutingVersion(version=1, document=routing_document(parse_routing(ROUTING)), published_at=clock()))
        session.add(TeamTurn(team="inbound", turns=1))  # dan's turn next
    form = publish_form()
    emails = ["a@one.example", "x@bigco.example", "b@two.example", "c@three.example", "d@four.example"]
    for email in emails:
        b = Browser(client, form, clock)
        become_lead(b, email=email)
        track(client, b, ("page_view", "/pricing"))  # 10 fit + 10: engaged, under MQL at 25
    assert {lead_row(app, email).stage for email in emails} == {"engaged"}
    with services.db.write() as session:
        publish_model(session, parse_model({**MODEL, "thresholds": {"mql": 15, "sql": 75}}), clock())
    services.catalog.clear()
    report = rescore(services.db, services.catalog.scoring_model(), clock(), batch=100)
    assert report.moves == {("engaged", "mql"): 5}
    owners = {email: lead_row(app, email).owner for email in emails}
    assert owners == {
        "a@one.example": "dan@ours.example",
        "x@bigco.example": "anna@ours.example",
        "b@two.example": "cia@ours.example",
        "c@three.example": "dan@ours.example",
        "d@four.example": "cia@ours.example",
    }
    with services.db.read() as session:
        assert session.get(TeamTurn, "inbound").turns == 5
    sent = deliveries(app)
    assert [d.event_type for d in sent] == ["lead.mql"] * 5
    assert {d.payload["data"]["lead"]["email"]: d.payload["data"]["lead"]["owner"] for d in sent} == owners
