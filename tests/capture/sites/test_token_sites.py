"""API tokens stay in their site: another site's leads look like missing ones, and guessing is slowed down."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from capture.db.models import BehaviourEvent, Lead, SalesOutcome, Site
from capture.sites.api_tokens import create_token
from capture.sites.publishing import create_site


@pytest.fixture
def db(app: Any) -> Any:
    return app.extensions["leadwheel"].db


def site_with_token(db: Any, clock: Any, name: str, origin: str) -> tuple[int, str]:
    """A site and a `sales` token of it."""
    with db.write() as session:
        site = create_site(session, name, [origin], clock())
        _, secret = create_token(session, session.get(Site, site.id), "CRM", ["sales"], clock())
        return site.id, secret


def lead_of(db: Any, clock: Any, site_id: int, email: str) -> int:
    with db.write() as session:
        lead = Lead(email=email, site_id=site_id, last_seen_at=clock(), created_at=clock())
        session.add(lead)
        session.flush()
        return lead.id


@pytest.fixture
def two_sites(db: Any, clock: Any) -> dict[str, Any]:
    a_site, a_token = site_with_token(db, clock, "Alpha", "https://alpha.example")
    b_site, b_token = site_with_token(db, clock, "Beta", "https://beta.example")
    return {
        "a_token": a_token,
        "b_token": b_token,
        "a_lead": lead_of(db, clock, a_site, "ada@alpha.example"),
        "b_lead": lead_of(db, clock, b_site, "bo@beta.example"),
    }


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_a_token_reads_its_own_sites_lead_and_another_sites_lead_is_not_found(client: Any, two_sites: Any) -> None:
    own = client.get(f"/api/v1/leads/{two_sites['b_lead']}", headers=bearer(two_sites["b_token"]))
    assert own.status_code == 200 and own.get_json()["email"] == "bo@beta.example"

    foreign = client.get(f"/api/v1/leads/{two_sites['a_lead']}", headers=bearer(two_sites["b_token"]))
    missing = client.get("/api/v1/leads/999999", headers=bearer(two_sites["b_token"]))
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()  # nothing tells a guesser that the id exists
    assert "ada@alpha.example" not in foreign.get_data(as_text=True)

    # and the other way round
    assert client.get(f"/api/v1/leads/{two_sites['a_lead']}", headers=bearer(two_sites["a_token"])).status_code == 200
    assert client.get(f"/api/v1/leads/{two_sites['b_lead']}", headers=bearer(two_sites["a_token"])).status_code == 404


@pytest.mark.parametrize("name_by", ["lead", "email"])
def test_a_token_cannot_post_outcomes_for_another_sites_lead(
    client: Any, db: Any, two_sites: Any, name_by: str
) -> None:
    who = two_sites["a_lead"] if name_by == "lead" else "ada@alpha.example"
    body = {"outcomes": [{name_by: who, "outcome": "rejected", "reason": "bad_fit"}]}
    response = client.post("/api/v1/leads/outcomes", json=body, headers=bearer(two_sites["b_token"]))
    assert response.status_code == 422
    named = "id" if name_by == "lead" else "e-mail"
    assert response.get_json()["error"]["fields"] == {f"outcomes[0].{name_by}": f"No lead has the {named} {who}."}
    with db.read() as session:
        assert session.scalars(select(SalesOutcome)).all() == []
        assert session.get(Lead, two_sites["a_lead"]).stage != "recycled"

    own = client.post("/api/v1/leads/outcomes", json=body, headers=bearer(two_sites["a_token"]))
    assert own.status_code == 201


def test_reading_leads_is_rate_limited(app: Any, config: Any, clock: Any, two_sites: Any) -> None:
    """Guessing lead ids in a loop runs into 429, like every other back-end route."""
    from capture.web.app import create_app

    limited = create_app(replace(config, ratelimit_enabled=True, ratelimit_system="5/minute"), clock=clock)
    client = limited.test_client()
    codes = [
        client.get(f"/api/v1/leads/{lead_id}", headers=bearer(two_sites["b_token"])).status_code
        for lead_id in range(1, 9)
    ]
    assert codes[5:] == [429, 429, 429]
    assert set(codes[:5]) <= {200, 404}
    limited.extensions["leadwheel"].db.dispose()


def test_failed_authentications_are_limited_per_client_and_a_good_token_is_not_counted(
    app: Any, config: Any, clock: Any, two_sites: Any
) -> None:
    from capture.web.app import create_app

    limited = create_app(replace(config, ratelimit_enabled=True, ratelimit_token_failures="3/minute"), clock=clock)
    client = limited.test_client()
    own = f"/api/v1/leads/{two_sites['b_lead']}"
    for _ in range(5):  # good calls spend nothing of the failures' budget
        assert client.get(own, headers=bearer(two_sites["b_token"])).status_code == 200
    guesses = [client.get(own, headers=bearer("lw_" + "x" * 43)).status_code for _ in range(3)]
    assert guesses == [401, 401, 401]
    # the budget is shared by every token route, and it stops even a good token from this client
    assert client.post("/api/v1/events", json={}, headers=bearer("lw_" + "y" * 43)).status_code == 429
    blocked = client.get(own, headers=bearer(two_sites["b_token"]))
    assert blocked.status_code == 429 and blocked.get_json()["error"]["code"] == "rate_limited"
    # another client is not affected
    other = client.get(own, headers=bearer(two_sites["b_token"]), environ_overrides={"REMOTE_ADDR": "127.0.0.2"})
    assert other.status_code == 200
    limited.extensions["leadwheel"].db.dispose()


def test_a_back_end_cannot_raise_another_sites_lead_by_naming_its_email(
    client: Any, db: Any, clock: Any, two_sites: Any
) -> None:
    """Before: site B's events token named ada@alpha.example and its demo request scored Alpha's lead."""
    with db.write() as session:
        _, events_token = create_token(session, session.scalars(select(Site).filter_by(name="Beta")).one(), "ESP",
                                       ["events"], clock())  # fmt: skip
    with db.read() as session:
        before = session.get(Lead, two_sites["a_lead"])
        score_before, stage_before = before.score, before.stage
    body = {
        "events": [
            {"id": "e-own", "type": "demo_request", "email": "bo@beta.example", "at": clock().isoformat()},
            {"id": "e-foreign", "type": "demo_request", "email": "ada@alpha.example", "at": clock().isoformat()},
        ]
    }
    response = client.post("/api/v1/events", json=body, headers=bearer(events_token))
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_events" and list(error["fields"]) == ["events[1].email"]
    with db.read() as session:
        after = session.get(Lead, two_sites["a_lead"])
        assert (after.score, after.stage) == (score_before, stage_before)
        assert session.scalars(select(BehaviourEvent)).all() == []  # all or nothing: its own lead's event was not kept

    own = client.post("/api/v1/events", json={"events": body["events"][:1]}, headers=bearer(events_token))
    assert own.status_code == 202
