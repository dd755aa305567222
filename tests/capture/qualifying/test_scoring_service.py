"""Scores in the service: after each answer and event, kept on the lead, explained, re-scored in bulk."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select, update

from capture.db.models import Delivery, Lead, ScoreChange, WebhookEndpoint
from capture.qualifying.rescoring import rescore
from capture.sites.publishing import publish_model
from scoring.document import parse_model
from tests.capture.conftest import ORIGIN, Browser, site_user_hash

#: A model over SMALL_WHEEL's fields, small enough to reason about in a test.
MODEL: dict[str, Any] = {
    "format": "leadwheel/scoring@1",
    "name": "Test model",
    "thresholds": {"mql": 25, "sql": 75},
    "hysteresis": 10,
    "sql_gate": {"min_fit": 30, "any_known": ["buying_timeline", "decides"]},
    "domains": {"competitors": ["rival.example"]},
    "fit": [
        {"id": "b2b", "label": "Buys for a company", "field": "customer_type", "equals": "b2b", "points": 10},
        {"id": "size", "label": "50+ employees", "field": "company_size", "min": 50, "points": 20},
        {"id": "budget", "label": "Large budget", "field": "budget", "equals": "large", "points": 20},
        {"id": "soon", "label": "Buying within 3 months", "field": "buying_timeline", "equals": "3m", "points": 20},
        {"id": "decides", "label": "Decides", "field": "decides", "equals": True, "points": 10},
    ],
    "engagement": [
        {"id": "demo", "label": "Demo request", "event": "demo_request", "points": 40, "cap": 40, "half_life_days": 30},
        {"id": "pricing", "label": "Pricing page", "event": "page_view", "path": "/pricing*", "points": 10,
         "cap": 30, "half_life_days": 14},
        {"id": "careers", "label": "Careers page", "event": "page_view", "path": "/careers*", "points": -15,
         "cap": 30, "half_life_days": 60},
    ],
    "disqualifiers": [{"id": "competitor", "label": "Works for a competitor", "email_domain": "competitors"}],
}  # fmt: skip


@pytest.fixture
def live(app: Any, clock: Any) -> Any:
    """Publish MODEL; returns a function publishing another version."""

    def publish(document: dict[str, Any] = MODEL) -> Any:
        with app.extensions["leadwheel"].db.write() as session:
            return publish_model(session, parse_model(document), clock()).version.id

    publish()
    return publish


def lead_row(app: Any, email: str) -> Lead:
    with app.extensions["leadwheel"].db.read() as session:
        lead = session.scalar(select(Lead).where(Lead.email == email))
        assert lead is not None
        return lead


def changes(app: Any, lead_id: int) -> list[ScoreChange]:
    with app.extensions["leadwheel"].db.read() as session:
        return list(session.scalars(select(ScoreChange).where(ScoreChange.lead_id == lead_id).order_by(ScoreChange.id)))


def track(client: Any, browser: Browser, *events: tuple[str, str]) -> None:
    body = {
        "visitor": browser.token,
        "events": [
            {"id": secrets.token_hex(16), "type": kind, "url": f"https://www.example.com{path}"}
            for kind, path in events
        ],
    }
    response = client.post(f"/api/v1/sites/{browser.form.site_key}/events", json=body, headers={"Origin": ORIGIN})
    assert response.status_code == 202, response.get_json()
    browser.token = response.get_json()["visitor"]


def become_lead(browser: Browser, email: str = "ada@example.com", kind: str = "b2b") -> None:
    browser.ask()
    assert browser.answer({"email": email, "first_name": "Ada", "customer_type": kind}).status_code == 201


def make_leads(client: Any, form: Any, clock: Any, count: int, *, on_pricing: int = 0) -> list[Browser]:
    """``count`` B2B leads, lead0@example.com and on, each its own browser; the first ``on_pricing``
    of them viewed the pricing page twice."""
    browsers = []
    for n in range(count):
        browser = Browser(client, form, clock)
        become_lead(browser, email=f"lead{n}@example.com")
        if n < on_pricing:
            track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
        browsers.append(browser)
    return browsers


def test_answers_give_fit_with_an_explanation_and_completeness(app: Any, browser: Browser, live: Any) -> None:
    become_lead(browser)
    lead = lead_row(app, "ada@example.com")
    assert lead.fit == 10 and lead.engagement == 0 and lead.score == 10
    assert lead.stage == "engaged"
    assert lead.completeness == pytest.approx(10 / 80)  # known criteria, by their points: unknown, not bad
    contributions = lead.explanation["contributions"]
    assert [(c["rule"], c["points"]) for c in contributions] == [("b2b", 10)]
    browser.clock.advance(hours=1)  # the next visit asks the next questions
    browser.ask()
    browser.answer({"company_size": "120", "looking_for": ["reports"], "consent": True})
    lead = lead_row(app, "ada@example.com")
    assert lead.fit == 30 and lead.completeness == pytest.approx(30 / 80)
    assert [c.cause for c in changes(app, lead.id)] == ["answer", "answer"]


def test_behaviour_moves_a_lead_to_mql_and_the_change_is_recorded(
    app: Any, client: Any, browser: Browser, live: Any
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing/enterprise"))
    lead = lead_row(app, "ada@example.com")
    assert lead.engagement == 20 and lead.score == 30 and lead.stage == "mql"
    last = changes(app, lead.id)[-1]
    assert (last.stage_before, last.stage, last.cause) == ("engaged", "mql", "event")
    assert last.scoring_model_id == lead.scoring_model_id
    assert {c["rule"]: c["count"] for c in lead.explanation["contributions"]} == {"pricing": 2, "b2b": 1}


def test_clicks_alone_never_make_an_sql(app: Any, client: Any, browser: Browser, live: Any) -> None:
    become_lead(browser, kind="b2c")  # fit 0
    track(client, browser, ("demo_request", "/demo"), *[("page_view", "/pricing")] * 3)
    lead = lead_row(app, "ada@example.com")
    assert lead.engagement == 70 and lead.score == 70
    browser.answer({"looking_for": ["reports"], "consent": True})
    track(client, browser, ("page_view", "/pricing/x"))
    lead = lead_row(app, "ada@example.com")
    assert lead.score >= 70 and lead.stage == "mql"  # no fit, no timeline: the SQL gate holds


def test_events_before_the_first_answer_are_scored_when_the_visitor_becomes_a_lead(
    app: Any, client: Any, browser: Browser, live: Any
) -> None:
    browser.ask()
    track(client, browser, ("demo_request", "/demo"))
    become_lead(browser)
    lead = lead_row(app, "ada@example.com")
    assert lead.engagement == 40 and lead.stage == "mql"


def test_a_competitor_is_disqualified_whatever_the_points(app: Any, client: Any, browser: Browser, live: Any) -> None:
    become_lead(browser, email="spy@rival.example")
    track(client, browser, ("demo_request", "/demo"), ("page_view", "/pricing"))
    lead = lead_row(app, "spy@rival.example")
    assert lead.score >= 50
    assert lead.stage not in ("mql", "sql")
    assert lead.explanation["disqualified"]


def test_decay_takes_a_lead_back_only_clearly_below_the_threshold(
    app: Any, client: Any, browser: Browser, live: Any, clock: Any
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))  # 10 fit + 20 = 30: MQL
    services = app.extensions["leadwheel"]
    live_model = services.catalog.scoring_model()
    clock.advance(days=7)  # pricing halves to 10 → 24.1: under 25 but within the hysteresis
    rescore(services.db, live_model, clock(), from_state=True)
    lead = lead_row(app, "ada@example.com")
    assert 14 < lead.score < 25 and lead.stage == "mql"
    clock.advance(days=35)  # six weeks: 10 + 2.5 → clearly below (25 - 10)
    report = rescore(services.db, live_model, clock(), from_state=True)
    lead = lead_row(app, "ada@example.com")
    assert lead.stage == "engaged" and report.moves[("mql", "engaged")] == 1
    assert changes(app, lead.id)[-1].cause == "refresh"
    # re-engaging crosses the threshold again (it re-arms)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    assert lead_row(app, "ada@example.com").stage == "mql"


def test_merging_two_leads_scores_the_survivor_with_both_histories(
    app: Any, client: Any, browser: Browser, publish_form: Any, live: Any, clock: Any
) -> None:
    become_lead(browser)
    signed = site_user_hash(app, browser.form.site_key, "ada@example.com")
    assert browser.identify("ada@example.com", user_hash=signed).status_code == 200  # Ada's login vouches
    before = lead_row(app, "ada@example.com")
    other = Browser(client, browser.form, clock)  # the same person on a second device, or a stranger
    other.ask()
    track(client, other, ("demo_request", "/demo"))
    assert other.answer({"email": "ADA@example.com", "first_name": "Ada", "customer_type": "b2b"}).status_code == 201
    claimed = lead_row(app, "ada@example.com")  # typing the address raises nothing on its lead
    assert (claimed.engagement, claimed.fit, claimed.stage) == (before.engagement, before.fit, before.stage)

    assert other.identify("ada@example.com", user_hash=signed).status_code == 200  # the site vouches: one person
    lead = lead_row(app, "ada@example.com")
    assert lead.engagement == 40 and lead.fit == 10


def test_publishing_a_new_model_rescores_every_lead_and_a_dry_run_writes_nothing(
    app: Any, client: Any, publish_form: Any, live: Any, clock: Any
) -> None:
    make_leads(client, publish_form(), clock, 5, on_pricing=2)
    services = app.extensions["leadwheel"]
    assert sorted(lead_row(app, f"lead{n}@example.com").stage for n in range(5)) == ["engaged"] * 3 + ["mql"] * 2

    stricter = {**MODEL, "thresholds": {"mql": 40, "sql": 80}}
    candidate = services.catalog.scoring_model()
    from capture.qualifying.scores import LiveModel

    dry = rescore(services.db, LiveModel(0, 0, parse_model(stricter)), clock(), dry_run=True)
    assert dry.leads == 5 and dry.moves == {("mql", "engaged"): 2} and dry.written == 0
    assert sorted(lead_row(app, f"lead{n}@example.com").stage for n in range(5)).count("mql") == 2

    clock.advance(minutes=1)
    new_id = live(stricter)
    services.catalog.clear()
    new_live = services.catalog.scoring_model()
    assert new_live.id == new_id != candidate.id and new_live.version == 2
    progress: list[int] = []
    report = rescore(services.db, new_live, clock(), batch=2, progress=progress.append)
    assert report.leads == 5 and sum(progress) == 5 and report.moved == 2
    rows = [lead_row(app, f"lead{n}@example.com") for n in range(5)]
    assert {row.scoring_model_id for row in rows} == {new_id}
    assert sorted(row.stage for row in rows) == ["engaged"] * 5
    assert changes(app, rows[0].id)[-1].cause == "rescore"


def test_without_a_published_model_nothing_is_scored_but_everything_is_kept(
    app: Any, client: Any, browser: Browser
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"))
    lead = lead_row(app, "ada@example.com")
    assert lead.scored_at is None and lead.stage == "subscriber"


def test_an_event_type_only_the_model_names_is_accepted_once_published(
    app: Any, client: Any, browser: Browser, live: Any
) -> None:
    body = {"events": [{"id": secrets.token_hex(16), "type": "trial_started"}]}
    url = f"/api/v1/sites/{browser.form.site_key}/events"
    assert client.post(url, json=body, headers={"Origin": ORIGIN}).status_code == 422
    live(
        {
            **MODEL,
            "engagement": [
                *MODEL["engagement"],
                {"id": "trial", "label": "Trial", "event": "trial_started", "points": 30},
            ],
        }
    )
    app.extensions["leadwheel"].catalog.clear()
    assert client.post(url, json=body, headers={"Origin": ORIGIN}).status_code == 202


def test_scores_are_computed_as_of_the_server_clock(
    app: Any, client: Any, browser: Browser, live: Any, clock: Any
) -> None:
    become_lead(browser)
    old = (clock() - timedelta(days=14)).isoformat()
    body = {"visitor": browser.token, "events": [{"id": secrets.token_hex(16), "type": "page_view",
                                                   "url": "https://www.example.com/pricing", "at": old}]}  # fmt: skip
    client.post(f"/api/v1/sites/{browser.form.site_key}/events", json=body, headers={"Origin": ORIGIN})
    assert lead_row(app, "ada@example.com").engagement == pytest.approx(5, abs=0.1)  # half-life 14 days


def test_a_lead_the_live_path_scores_during_a_rescore_keeps_its_newer_score(
    app: Any, client: Any, publish_form: Any, live: Any, clock: Any
) -> None:
    browsers = make_leads(client, publish_form(), clock, 3)
    services = app.extensions["leadwheel"]
    started = clock()
    clock.advance(minutes=1)
    flushes: list[int] = []

    def progress(leads: int) -> None:
        flushes.append(leads)
        if len(flushes) == 1:  # the first lead is written; the second is scored live before its turn
            track(client, browsers[1], ("demo_request", "/demo"))

    report = rescore(services.db, services.catalog.scoring_model(), started, batch=1, progress=progress)
    assert report.leads == 3 and flushes == [1, 1, 1]
    rows = [lead_row(app, f"lead{n}@example.com") for n in range(3)]
    assert [row.scored_at for row in rows] == [started, clock(), started]
    assert rows[1].engagement == 40 and rows[1].stage == "mql"
    assert [c.cause for c in changes(app, rows[1].id)][-1] == "event"  # no older "rescore" after it


def test_a_batch_rescore_stamps_only_the_leads_whose_stage_moved(
    app: Any, client: Any, publish_form: Any, live: Any, clock: Any
) -> None:
    make_leads(client, publish_form(), clock, 3, on_pricing=2)
    before = [lead_row(app, f"lead{n}@example.com") for n in range(3)]
    assert [row.stage for row in before] == ["mql", "mql", "engaged"]
    services = app.extensions["leadwheel"]
    clock.advance(minutes=5)
    live({**MODEL, "thresholds": {"mql": 40, "sql": 80}})
    services.catalog.clear()
    rescore(services.db, services.catalog.scoring_model(), clock(), batch=3)
    after = [lead_row(app, f"lead{n}@example.com") for n in range(3)]
    assert [row.stage for row in after] == ["engaged", "engaged", "engaged"]
    assert [row.stage_changed_at for row in after] == [clock(), clock(), before[2].stage_changed_at]
    assert all(row.scored_at == clock() for row in after)
    # the documents went in as JSON text and read back as documents
    assert {c["rule"] for c in after[0].explanation["contributions"]} == {"pricing", "b2b"}
    assert after[0].score_state["rules"]["pricing"][0] == 2
    assert after[2].explanation["disqualified"] == [] and after[2].score_state["rules"] == {}


def test_a_refresh_leaves_the_kept_tally_state_as_it_is(
    app: Any, client: Any, browser: Browser, live: Any, clock: Any
) -> None:
    become_lead(browser)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    services = app.extensions["leadwheel"]
    state = lead_row(app, "ada@example.com").score_state
    count, latest, total = state["rules"]["pricing"]
    kept = {**state, "rules": {"pricing": [count, int(latest), total]}}  # the same tally, its time written as an int
    with services.db.write() as session:  # (Core: the ORM sees the equal dict as no change)
        session.execute(update(Lead).where(Lead.email == "ada@example.com").values(score_state=kept))
    assert type(lead_row(app, "ada@example.com").score_state["rules"]["pricing"][1]) is int
    clock.advance(days=7)
    rescore(services.db, services.catalog.scoring_model(), clock(), from_state=True)
    lead = lead_row(app, "ada@example.com")
    assert lead.scored_at == clock() and 14 < lead.score < 25  # decayed, written
    assert lead.score_state == kept and type(lead.score_state["rules"]["pricing"][1]) is int  # not written again


# --- qualification needs intent; hand-offs mean what they say ---------------------------------------

#: Fit (who), intent (what the lead told us) and engagement (what it did), with both gates.
INTENT_MODEL: dict[str, Any] = {
    "format": "leadwheel/scoring@1",
    "name": "Intent model",
    "thresholds": {"mql": 25, "sql": 60},
    "hysteresis": 10,
    "mql_gate": {"min_interest": 10},
    "sql_gate": {"min_fit": 10, "min_intent": 10, "hand_raises": ["demo"]},
    "fit": [
        {"id": "b2b", "label": "Buys for a company", "field": "customer_type", "equals": "b2b", "points": 10},
        {"id": "size", "label": "50+ employees", "field": "company_size", "min": 50, "points": 20,
         "when": {"field": "customer_type", "equals": "b2b"}},
    ],
    "intent": [
        {"id": "soon", "label": "Buying within 3 months", "field": "buying_timeline", "equals": "3m", "points": 20},
    ],
    "engagement": [
        {"id": "demo", "label": "Demo request", "event": "demo_request", "points": 40, "cap": 40, "half_life_days": 30},
        {"id": "pricing", "label": "Pricing page", "event": "page_view", "path": "/pricing*", "points": 10,
         "cap": 30, "half_life_days": 14},
    ],
}  # fmt: skip


@pytest.fixture
def intent_live(app: Any, live: Any, clock: Any) -> Any:
    """INTENT_MODEL live, and an endpoint that wants every hand-off; returns the hand-offs made so far."""
    services = app.extensions["leadwheel"]
    clock.advance(minutes=1)
    live(INTENT_MODEL)
    services.catalog.clear()
    with services.db.write() as session:
        session.add(
            WebhookEndpoint(
                url="https://crm.example/hooks",
                events=["lead.mql", "lead.sql", "lead.updated", "lead.recycled"],
                enabled=True,
                secret="whsec_MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIz",
                created_at=clock(),
            )
        )

    def handed_off() -> list[str]:
        with services.db.read() as session:
            return list(session.scalars(select(Delivery.event_type).order_by(Delivery.id)))

    return handed_off


def refresh(app: Any, clock: Any, days: float) -> None:
    """Time passes; the hourly refresh re-evaluates every kept score."""
    services = app.extensions["leadwheel"]
    clock.advance(days=days)
    rescore(services.db, services.catalog.scoring_model(), clock(), from_state=True)


def test_who_a_lead_is_never_hands_it_to_sales(app: Any, client: Any, browser: Browser, intent_live: Any) -> None:
    """A company of 120 is fit 30, above the MQL threshold of 25: without interest it stays engaged."""
    become_lead(browser)
    browser.next_visit()
    browser.answer({"company_size": "120", "looking_for": ["reports"], "consent": True})
    lead = lead_row(app, "ada@example.com")
    assert (lead.fit, lead.score, lead.stage) == (30, 30, "engaged")
    assert intent_live() == []
    track(client, browser, ("page_view", "/pricing"))  # interest shown: now it is an MQL
    assert lead_row(app, "ada@example.com").stage == "mql"
    assert intent_live() == ["lead.mql"]


def test_the_explanation_tells_sales_what_the_lead_told_us_from_who_it_is(
    app: Any, client: Any, browser: Browser, intent_live: Any
) -> None:
    become_lead(browser)
    browser.next_visit()
    browser.answer({"company_size": "120", "looking_for": ["reports"], "consent": True})
    browser.next_visit()
    browser.answer({"budget": "large", "procurement": "Tender", "buying_timeline": "3m"})
    lead = lead_row(app, "ada@example.com")
    assert (lead.fit, lead.score, lead.stage) == (30, 50, "mql")  # the timeline is the interest
    assert lead.explanation["intent"] == 20
    groups = {c["rule"]: c["group"] for c in lead.explanation["contributions"]}
    assert groups == {"size": "fit", "soon": "intent", "b2b": "fit"}
    # answers alone are evidence of intent, but SQL needs more than 60 points: a demo request
    track(client, browser, ("demo_request", "/demo"))
    assert lead_row(app, "ada@example.com").stage == "sql"
    assert intent_live() == ["lead.mql", "lead.sql"]
    # the hand-off's score part shows sales the same groups, as the published payload schema allows
    with app.extensions["leadwheel"].db.read() as session:
        payload = session.scalars(select(Delivery.payload).order_by(Delivery.id.desc())).first()
    schema = json.loads((Path(__file__).resolve().parents[3] / "docs" / "webhook-payload.schema.json").read_text())
    jsonschema.validate(payload, schema)
    told = [(c["rule"], c["group"]) for c in payload["data"]["score"]["contributions"]]
    assert ("soon", "intent") in told and ("size", "fit") in told and ("demo", "engagement") in told


def test_an_sql_that_falls_back_to_mql_announces_nothing(
    app: Any, client: Any, browser: Browser, intent_live: Any, clock: Any
) -> None:
    """``lead.mql`` means reached MQL; an SQL cooling down to MQL is not a new MQL for sales."""
    become_lead(browser)
    browser.next_visit()
    browser.answer({"company_size": "120", "looking_for": ["reports"], "consent": True})
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    track(client, browser, ("demo_request", "/demo"))
    assert lead_row(app, "ada@example.com").stage == "sql"
    assert intent_live() == ["lead.mql", "lead.sql"]
    refresh(app, clock, days=45)  # demo 14.1 + pricing 2.1 + fit 30: below 60 - 10
    lead = lead_row(app, "ada@example.com")
    assert lead.stage == "mql" and changes(app, lead.id)[-1].stage_before == "sql"
    assert intent_live() == ["lead.mql", "lead.sql"]
    # and climbing back to SQL is announced again
    track(client, browser, ("demo_request", "/demo"))
    assert lead_row(app, "ada@example.com").stage == "sql"
    assert intent_live() == ["lead.mql", "lead.sql", "lead.sql"]


def test_a_recycled_lead_that_qualifies_again_after_the_rearm_is_handed_off_again(
    app: Any, client: Any, browser: Browser, intent_live: Any, clock: Any
) -> None:
    become_lead(browser)  # fit 10
    track(client, browser, ("demo_request", "/demo"), ("page_view", "/pricing"), ("page_view", "/pricing"))
    assert lead_row(app, "ada@example.com").stage == "sql"  # 10 + 40 + 20, and a hand-raise
    services = app.extensions["leadwheel"]
    with services.db.write() as session:  # sales rejects it for now (what the outcomes API leaves behind)
        lead = session.scalar(select(Lead).where(Lead.email == "ada@example.com"))
        assert lead is not None
        lead.stage, lead.sales_outcome = "recycled", "rejected"
    track(client, browser, ("page_view", "/pricing"))
    assert lead_row(app, "ada@example.com").stage == "recycled"  # the rejected score does not hand it back
    refresh(app, clock, days=120)  # demo 2.5 + pricing 0 + fit 10: cooled off, re-armed
    assert lead_row(app, "ada@example.com").stage == "engaged"
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing"))
    assert lead_row(app, "ada@example.com").stage == "mql"
    track(client, browser, ("demo_request", "/demo"))
    assert lead_row(app, "ada@example.com").stage == "sql"
    assert intent_live() == ["lead.sql", "lead.mql", "lead.sql"]


def test_a_segment_rule_scores_only_its_segment(app: Any, browser: Browser, intent_live: Any) -> None:
    become_lead(browser, kind="b2c")
    browser.next_visit()
    browser.answer({"company_size": "120", "looking_for": ["reports"], "consent": True})
    lead = lead_row(app, "ada@example.com")
    assert lead.fit == 0 and lead.explanation["contributions"] == []
