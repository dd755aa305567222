"""Sales feedback through the API: outcomes in (all or nothing), rejections recycle, a lead read back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from capture.db.models import Delivery, Lead, SalesOutcome, ScoreChange, Site, WebhookEndpoint
from capture.sites.api_tokens import create_token
from capture.sites.publishing import create_site, publish_model
from scoring.document import default_model


@pytest.fixture
def db(app: Any) -> Any:
    return app.extensions["leadwheel"].db


@pytest.fixture
def site(db: Any, clock: Any) -> int:
    with db.write() as session:
        return create_site(session, "Example", ["https://www.example.com"], clock()).id


@pytest.fixture
def token(db: Any, site: int, clock: Any) -> Any:
    def make(*scopes: str) -> tuple[int, str]:
        with db.write() as session:
            row, secret = create_token(session, session.get(Site, site), "CRM", list(scopes or ("sales",)), clock())
            return row.id, secret

    return make


@pytest.fixture
def model_id(db: Any, clock: Any) -> int:
    with db.write() as session:
        return publish_model(session, default_model(), clock()).version.id


def make_lead(db: Any, clock: Any, site: int, email: str | None, **values: Any) -> int:
    with db.write() as session:
        lead = Lead(email=email, site_id=site, last_seen_at=clock(), created_at=clock(), **values)
        session.add(lead)
        session.flush()
        return lead.id


def scored(model_id: int, clock: Any, stage: str, score: float) -> dict[str, Any]:
    return {
        "stage": stage,
        "stage_changed_at": clock() - timedelta(days=3),
        "score": score,
        "fit": score - 10,
        "engagement": 10.0,
        "completeness": 0.5,
        "scored_at": clock() - timedelta(days=1),
        "scoring_model_id": model_id,
        "explanation": {"completeness": 0.5, "disqualified": [], "contributions": []},
    }


def post(client: Any, secret: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    return client.post("/api/v1/leads/outcomes", json=body, headers=headers)


def outcomes(db: Any) -> list[SalesOutcome]:
    with db.read() as session:
        return list(session.scalars(select(SalesOutcome).order_by(SalesOutcome.id)))


def lead(db: Any, lead_id: int) -> Lead:
    with db.read() as session:
        row = session.get(Lead, lead_id)
        assert row is not None
        return row


def history(db: Any, lead_id: int) -> list[ScoreChange]:
    with db.read() as session:
        return list(session.scalars(select(ScoreChange).where(ScoreChange.lead_id == lead_id).order_by(ScoreChange.id)))


def test_a_token_is_needed_and_it_needs_the_sales_scope(
    client: Any, db: Any, token: Any, clock: Any, site: int
) -> None:
    lead_id = make_lead(db, clock, site, "ada@example.com")
    body = {"outcomes": [{"lead": lead_id, "outcome": "accepted"}]}
    assert post(client, None, body).status_code == 401
    assert post(client, "lw_not-a-real-token", body).get_json()["error"]["code"] == "invalid_token"
    _, events_only = token("events")
    refused = post(client, events_only, body)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "insufficient_scope"
    assert client.get(f"/api/v1/leads/{lead_id}", headers={"Authorization": f"Bearer {events_only}"}).status_code == 403
    assert client.get(f"/api/v1/leads/{lead_id}").status_code == 401
    assert outcomes(db) == []


def test_a_batch_with_one_bad_outcome_stores_nothing_and_names_every_problem(
    client: Any, db: Any, token: Any, clock: Any, site: int
) -> None:
    lead_id = make_lead(db, clock, site, "ada@example.com")
    _, secret = token()
    body = {
        "outcomes": [
            {"lead": lead_id, "outcome": "accepted"},
            {"lead": lead_id, "outcome": "promoted"},
            {"lead": lead_id, "outcome": "rejected"},
            {"lead": lead_id, "outcome": "accepted", "reason": "timing"},
            {"email": "not an address", "outcome": "won"},
            {"lead": lead_id, "email": "ada@example.com", "outcome": "won"},
            {"lead": lead_id, "outcome": "lost", "reason": "cheaper", "note": "x" * 1001, "at": "yesterday"},
            {"lead": lead_id, "outcome": "won", "at": "2026-11-20T10:00:00"},
            "won",
        ]
    }
    response = post(client, secret, body)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "invalid_outcomes"
    assert set(error["fields"]) == {
        "outcomes[1].outcome",
        "outcomes[2].reason",
        "outcomes[3].reason",
        "outcomes[4].email",
        "outcomes[5]",
        "outcomes[6].reason",
        "outcomes[6].note",
        "outcomes[6].at",
        "outcomes[7].at",
        "outcomes[8]",
    }
    assert "needs a reason" in error["fields"]["outcomes[2].reason"]
    assert outcomes(db) == [] and lead(db, lead_id).sales_outcome is None


def test_an_unknown_lead_refuses_the_whole_batch(client: Any, db: Any, token: Any, clock: Any, site: int) -> None:
    lead_id = make_lead(db, clock, site, "ada@example.com")
    _, secret = token()
    body = {
        "outcomes": [
            {"lead": lead_id, "outcome": "accepted"},
            {"lead": lead_id + 1000, "outcome": "won"},
            {"email": "nobody@example.com", "outcome": "lost"},
        ]
    }
    response = post(client, secret, body)
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields == {
        "outcomes[1].lead": f"No lead has the id {lead_id + 1000}.",
        "outcomes[2].email": "No lead has the e-mail nobody@example.com.",
    }
    assert outcomes(db) == [] and lead(db, lead_id).sales_outcome is None
    too_many = post(client, secret, {"outcomes": [{"lead": lead_id, "outcome": "won"}] * 101})
    assert too_many.status_code == 413
    assert post(client, secret, {"outcomes": []}).status_code == 422


def test_a_rejection_recycles_the_lead_records_it_and_tells_sales_systems(
    client: Any, db: Any, token: Any, clock: Any, site: int, model_id: int
) -> None:
    with db.write() as session:
        session.add(
            WebhookEndpoint(url="https://crm.example.com/hook", events=["lead.recycled"], secret="whsec_" + "a" * 32,
                            created_at=clock())
        )  # fmt: skip
    lead_id = make_lead(db, clock, site, "ada@example.com", **scored(model_id, clock, "sql", 81.5))
    token_id, secret = token()
    at = clock() - timedelta(hours=2)
    body = {
        "outcomes": [
            {"email": "Ada@Example.com", "outcome": "rejected", "reason": "no_budget", "note": "next year",
             "at": at.isoformat()}
        ]
    }  # fmt: skip
    response = post(client, secret, body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"recorded": 1}
    [kept] = outcomes(db)
    assert (kept.lead_id, kept.outcome, kept.reason, kept.note) == (lead_id, "rejected", "no_budget", "next year")
    assert (kept.stage, kept.score, kept.token_id) == ("sql", 81.5, token_id)
    assert kept.at == at and kept.received_at == clock()
    row = lead(db, lead_id)
    assert (row.stage, row.stage_changed_at, row.sales_outcome, row.sales_outcome_at) == (
        "recycled",
        clock(),
        "rejected",
        at,
    )
    [change] = history(db, lead_id)
    assert (change.stage_before, change.stage, change.cause, change.score, change.scoring_model_id) == (
        "sql",
        "recycled",
        "sales",
        81.5,
        model_id,
    )
    with db.read() as session:
        deliveries = session.scalars(select(Delivery).where(Delivery.lead_id == lead_id)).all()
    assert [d.event_type for d in deliveries] == ["lead.recycled"]


def test_acceptance_keeps_the_stage_and_later_outcomes_supersede_but_all_are_kept(
    client: Any, db: Any, token: Any, clock: Any, site: int, model_id: int
) -> None:
    lead_id = make_lead(db, clock, site, "ada@example.com", **scored(model_id, clock, "sql", 80))
    _, secret = token()
    response = post(
        client,
        secret,
        {
            "outcomes": [
                {"lead": lead_id, "outcome": "accepted", "at": (clock() - timedelta(days=2)).isoformat()},
                {"lead": lead_id, "outcome": "won", "at": (clock() + timedelta(days=5)).isoformat()},  # clamped
                {"lead": lead_id, "outcome": "opportunity", "at": (clock() - timedelta(days=1)).isoformat()},
            ]
        },
    )
    assert response.status_code == 201, response.get_json()
    row = lead(db, lead_id)
    assert (row.stage, row.sales_outcome, row.sales_outcome_at) == ("sql", "won", clock())
    assert [o.outcome for o in outcomes(db)] == ["accepted", "won", "opportunity"]
    assert history(db, lead_id) == []
    # a late report of an old rejection is kept but does not recycle a lead sales has since won
    late = {"lead": lead_id, "outcome": "rejected", "reason": "timing", "at": (clock() - timedelta(days=9)).isoformat()}
    assert post(client, secret, {"outcomes": [late]}).status_code == 201
    row = lead(db, lead_id)
    assert (row.stage, row.sales_outcome) == ("sql", "won")
    assert len(outcomes(db)) == 4


def test_a_merged_lead_resolves_to_its_survivor(
    client: Any, db: Any, token: Any, clock: Any, site: int, model_id: int
) -> None:
    survivor = make_lead(db, clock, site, "ada@example.com", **scored(model_id, clock, "mql", 40))
    absorbed = make_lead(db, clock, site, None, merged_into_id=survivor)
    _, secret = token()
    assert post(client, secret, {"outcomes": [{"lead": absorbed, "outcome": "accepted"}]}).status_code == 201
    [kept] = outcomes(db)
    assert kept.lead_id == survivor and (kept.stage, kept.score) == ("mql", 40)
    assert lead(db, survivor).sales_outcome == "accepted" and lead(db, absorbed).sales_outcome is None
    shown = client.get(f"/api/v1/leads/{absorbed}", headers={"Authorization": f"Bearer {secret}"})
    assert shown.status_code == 200 and shown.get_json()["id"] == survivor


def test_a_never_scored_lead_is_recycled_without_score_history(
    client: Any, db: Any, token: Any, clock: Any, site: int
) -> None:
    lead_id = make_lead(db, clock, site, "bo@example.com")
    _, secret = token()
    body = {"outcomes": [{"lead": lead_id, "outcome": "rejected", "reason": "not_reachable"}]}
    assert post(client, secret, body).status_code == 201
    assert lead(db, lead_id).stage == "recycled"
    assert history(db, lead_id) == []
    assert outcomes(db)[0].stage == "subscriber"


def test_a_crm_reads_a_lead(client: Any, db: Any, token: Any, clock: Any, site: int, model_id: int) -> None:
    values = scored(model_id, clock, "sql", 80)
    values["explanation"]["contributions"] = [
        {"rule": "demo", "label": "Demo request", "group": "engagement", "points": 40.0, "count": 1,
         "capped": False, "detail": "1 × demo_request"}
    ]  # fmt: skip
    lead_id = make_lead(db, clock, site, "ada@example.com", owner="sam@example.com", **values)
    _, secret = token()
    headers = {"Authorization": f"Bearer {secret}"}
    post(client, secret, {"outcomes": [{"lead": lead_id, "outcome": "accepted", "note": "called"}]})
    response = client.get(f"/api/v1/leads/{lead_id}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == lead_id and body["email"] == "ada@example.com"
    assert (body["stage"], body["score"], body["fit"], body["engagement"], body["completeness"]) == (
        "sql",
        80,
        70,
        10,
        0.5,
    )
    assert body["owner"] == "sam@example.com"
    assert body["explanation"]["contributions"][0]["label"] == "Demo request"
    assert body["sales_outcome"] == "accepted" and body["sales_outcome_at"] == "2026-11-23T09:00:00Z"
    assert body["sales_outcomes"] == [
        {
            "outcome": "accepted",
            "reason": None,
            "note": "called",
            "at": "2026-11-23T09:00:00Z",
            "received_at": "2026-11-23T09:00:00Z",
        }
    ]
    assert client.get(f"/api/v1/leads/{lead_id + 99}", headers=headers).status_code == 404
    assert client.get("/api/v1/leads/99999999999999999999", headers=headers).status_code == 404
