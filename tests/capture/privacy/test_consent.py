"""Consent per purpose, with proof: a site that requires it keeps nothing of a visitor's behaviour before it,
answers given before a late consent stay on the same lead, withdrawal stops tracking and scoring on
behaviour and is told to sales, and marketing consent can wait for a double opt-in link."""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from email.header import decode_header, make_header
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, insert, select, update

from capture.db.models import BehaviourEvent, ConsentRecord, Delivery, Lead, Site, Visitor
from capture.handoff.endpoints import add_endpoint
from capture.mail import send_due
from capture.sites.publishing import create_site
from tests.capture.conftest import ORIGIN, Browser
from tests.capture.handoff.test_handoff import SCHEMA
from tests.capture.qualifying.test_scoring_service import become_lead

BANNER = "We may remember this browser and count the pages you visit to tell you about what interests you."
TRACKING = {"purposes": {"behaviour_tracking": True}, "text": BANNER, "version": "2026-12-01", "locale": "da"}


def consent(client: Any, browser: Browser, body: dict[str, Any], origin: str | None = ORIGIN) -> Any:
    """``leadwheel('consent', …)`` as the snippet sends it."""
    sent = {"visitor": browser.token, "page_url": "https://www.example.com/pricing", **body}
    response = client.post(
        f"/api/v1/sites/{browser.form.site_key}/consent", json=sent, headers={"Origin": origin} if origin else {}
    )
    if response.status_code == 201:
        browser.token = response.get_json()["visitor"]
    return response


def events(client: Any, browser: Browser, *paths: str) -> Any:
    body = {
        "visitor": browser.token,
        "events": [
            {"id": secrets.token_hex(16), "type": "page_view", "url": f"https://www.example.com{path}"}
            for path in paths
        ],
    }
    return client.post(f"/api/v1/sites/{browser.form.site_key}/events", json=body, headers={"Origin": ORIGIN})


def stored_events(app: Any) -> int:
    with app.extensions["leadwheel"].db.read() as session:
        return session.scalar(select(func.count()).select_from(BehaviourEvent)) or 0


def lead_of_browser(app: Any, browser: Browser) -> Lead:
    visitor_id = app.extensions["leadwheel"].tokens.read_visitor(browser.token, browser.clock())
    with app.extensions["leadwheel"].db.read() as session:
        lead = session.scalar(select(Lead).join(Visitor, Visitor.lead_id == Lead.id).where(Visitor.id == visitor_id))
        assert lead is not None
        return lead


@pytest.fixture
def required(client: Any, publish_form: Any, clock: Any) -> Browser:
    """A new visitor on a site that requires consent."""
    return Browser(client, publish_form(consent_policy="required"), clock)


def test_a_new_site_requires_consent_and_a_site_from_before_keeps_tracking(app: Any, clock: Any) -> None:
    db = app.extensions["leadwheel"].db
    with db.write() as session:
        new = create_site(session, "New", ["https://new.example"], clock()).id
        older = session.execute(
            insert(Site.__table__)
            .values(name="Older", public_key="site_older", allowed_origins=[], identity_secret="", created_at=clock())
            .returning(Site.id)
        ).scalar_one()
    with db.read() as session:
        assert session.get(Site, new).consent_policy == "required"  # type: ignore[union-attr]
        older_site = session.get(Site, older)
        assert older_site is not None
        assert (older_site.consent_policy, older_site.marketing_double_opt_in) == ("not_required", False)


def test_before_consent_the_form_works_but_behaviour_is_refused_and_nothing_kept(
    app: Any, client: Any, required: Browser
) -> None:
    become_lead(required)

    refused = events(client, required, "/pricing")

    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "consent_required"
    assert stored_events(app) == 0
    standing = client.get(
        f"/api/v1/sites/{required.form.site_key}/consent", query_string={"visitor": required.token}
    ).get_json()
    assert standing == {"consents": {}, "tracking": False, "policy": "required"}


def test_a_late_consent_keeps_the_answers_on_the_same_lead_and_lets_behaviour_in(
    app: Any, client: Any, required: Browser
) -> None:
    become_lead(required)
    before = lead_of_browser(app, required)

    given = consent(client, required, TRACKING)

    assert given.status_code == 201, given.get_json()
    body = given.get_json()
    assert body["tracking"] is True and body["consents"]["behaviour_tracking"]["status"] == "granted"
    assert lead_of_browser(app, required).id == before.id
    assert lead_of_browser(app, required).profile == before.profile
    assert events(client, required, "/pricing").status_code == 202
    assert stored_events(app) == 1


def test_consent_before_any_answer_waits_on_the_browser_and_is_the_leads_once_it_answers(
    app: Any, client: Any, required: Browser
) -> None:
    required.ask()
    assert consent(client, required, TRACKING).status_code == 201
    assert events(client, required, "/pricing").status_code == 202

    assert required.answer({"email": "ada@example.com", "first_name": "Ada", "customer_type": "b2b"}).status_code == 201

    lead = lead_of_browser(app, required)
    with app.extensions["leadwheel"].db.read() as session:
        (event,) = session.scalars(select(BehaviourEvent))
    assert event.lead_id == lead.id
    read = client.get(f"/api/v1/sites/{required.form.site_key}/consent", query_string={"visitor": required.token})
    assert read.get_json()["consents"]["behaviour_tracking"]["status"] == "granted"


def test_the_record_keeps_the_proof_verbatim(app: Any, client: Any, required: Browser) -> None:
    required.ask()
    text = "  Ja tak: <b>mails</b> om nyheder.  "
    given = consent(client, required, {"purposes": {"marketing_email": True, "profiling": False}, "text": text,
                                       "version": "v7", "locale": "da-DK"})  # fmt: skip
    assert given.status_code == 201

    with app.extensions["leadwheel"].db.read() as session:
        rows = {row.purpose: row for row in session.scalars(select(ConsentRecord))}
    assert set(rows) == {"marketing_email", "profiling"}
    marketing = rows["marketing_email"]
    assert (marketing.status, marketing.text, marketing.version, marketing.locale, marketing.source) == (
        "granted", text.strip(), "v7", "da-DK", "banner"
    )  # fmt: skip
    assert marketing.page_url == "https://www.example.com/pricing"
    assert marketing.recorded_at == required.clock()
    assert rows["profiling"].status == "withdrawn"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"purposes": {"behaviour_tracking": True}, "version": "1"}, "text"),
        ({"purposes": {"behaviour_tracking": True}, "text": BANNER}, "version"),
        ({"purposes": {"friends_news": True}, "text": BANNER, "version": "1"}, "purposes.friends_news"),
        ({"purposes": {"profiling": "yes"}, "text": BANNER, "version": "1"}, "purposes.profiling"),
        ({"purposes": [], "text": BANNER, "version": "1"}, "purposes"),
        ({"purposes": {"profiling": True}, "text": "x" * 4001, "version": "1"}, "text"),
    ],
)
def test_a_consent_that_proves_nothing_is_refused_and_nothing_recorded(
    app: Any, client: Any, required: Browser, body: dict[str, Any], field: str
) -> None:
    refused = consent(client, required, body)

    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "invalid_consent" and field in error["fields"]
    with app.extensions["leadwheel"].db.read() as session:
        assert session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_foreign_origin_cannot_give_consent(client: Any, required: Browser) -> None:
    refused = consent(client, required, TRACKING, origin="https://evil.example")
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "origin_not_allowed"


def test_withdrawal_stops_tracking_and_behaviour_from_back_ends_on_a_site_that_did_not_ask(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    become_lead(browser)
    assert events(client, browser, "/pricing").status_code == 202  # "not_required": tracked without asking

    withdrawn = consent(client, browser, {"purposes": {"behaviour_tracking": False}})

    assert withdrawn.status_code == 201 and withdrawn.get_json()["tracking"] is False
    assert events(client, browser, "/pricing").status_code == 409
    # A back end (an ESP's clicks) names the lead: its events are not kept either.
    from capture.sites.api_tokens import create_token

    with app.extensions["leadwheel"].db.write() as session:
        site = session.scalar(select(Site).where(Site.public_key == browser.form.site_key))
        assert site is not None
        _, token = create_token(session, site, "ESP", ["events"], clock())
    body = {"events": [{"id": "esp-1", "type": "email_click", "email": "ada@example.com"}]}
    sent = client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"})
    assert sent.status_code == 202 and sent.get_json()["accepted"] == 0
    assert stored_events(app) == 1  # only the page view from before the withdrawal


def test_a_change_of_standing_is_handed_to_sales_and_a_repeat_is_not(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    db = app.extensions["leadwheel"].db
    db.run(lambda c: add_endpoint(c, "http://127.0.0.1:9/hooks", ["lead.consent_changed"], clock(), ("127.0.0.1",)))
    become_lead(browser)
    marketing = {"purposes": {"marketing_email": True}, "text": "Send me news.", "version": "3"}

    consent(client, browser, marketing)
    consent(client, browser, marketing)  # the same again: no change for sales
    consent(client, browser, {"purposes": {"marketing_email": False}})

    with db.read() as session:
        sent = list(session.scalars(select(Delivery).order_by(Delivery.id)))
    assert [d.event_type for d in sent] == ["lead.consent_changed", "lead.consent_changed"]
    changes = [d.payload["data"]["consent"] for d in sent]
    assert [(c["purpose"], c["status"], c["previous_status"]) for c in changes] == [
        ("marketing_email", "granted", None), ("marketing_email", "withdrawn", "granted")
    ]  # fmt: skip
    assert sent[0].payload["data"]["lead"]["email"] == "ada@example.com"
    for delivery in sent:  # the documented shape
        jsonschema.validate(delivery.payload, SCHEMA)


def _double_opt_in(app: Any, browser: Browser, smtp_server: Any) -> Any:
    """The browser's site asks for double opt-in, and mails go to the test's SMTP server."""
    services = app.extensions["leadwheel"]
    services.config = replace(services.config, smtp_url=smtp_server.url, public_url="https://forms.example.com")
    with services.db.write() as session:
        site = Site.public_key == browser.form.site_key
        session.execute(update(Site).where(site).values(marketing_double_opt_in=True))
    services.catalog.clear()
    return services


def test_marketing_consent_under_double_opt_in_counts_only_once_the_mailed_link_is_followed(
    app: Any, client: Any, browser: Browser, clock: Any, smtp_server: Any
) -> None:
    services = _double_opt_in(app, browser, smtp_server)
    become_lead(browser)
    browser.locale = "da"
    news = {"purposes": {"marketing_email": True}, "text": "Send mig nyheder.", "version": "3", "locale": "da"}

    given = consent(client, browser, news)
    again = consent(client, browser, news)  # the banner on the next page: no second mail

    assert given.get_json()["consents"]["marketing_email"]["status"] == "pending"
    assert given.get_json()["confirmation_mailed"] is True and again.get_json()["confirmation_mailed"] is False
    assert send_due(services.db, services.config, clock) == 1
    (message,) = smtp_server.messages
    assert message["To"] == "ada@example.com"
    assert str(make_header(decode_header(message["Subject"]))) == "Bekræft, at du vil have vores e-mails"
    text = message.get_payload(decode=True).decode()
    link = re.search(r"https://forms\.example\.com(/consent/confirm/\S+)", text)
    assert link is not None, text
    path = link.group(1)

    shown = client.get(path)  # a mail scanner's fetch confirms nothing
    assert shown.status_code == 200 and b'method="post"' in shown.data and b"Bekr" in shown.data
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
    read = client.get(f"/api/v1/sites/{browser.form.site_key}/consent", query_string={"visitor": browser.token})
    assert read.get_json()["consents"]["marketing_email"]["status"] == "pending"

    assert client.post(path).status_code == 200
    assert client.post(path).status_code == 200  # used: "already", and nothing more recorded
    read = client.get(f"/api/v1/sites/{browser.form.site_key}/consent", query_string={"visitor": browser.token})
    assert read.get_json()["consents"]["marketing_email"] | {"recorded_at": None} == {
        "status": "granted", "version": "3", "source": "link", "recorded_at": None
    }  # fmt: skip
    with services.db.read() as session:
        rows = list(session.scalars(select(ConsentRecord).order_by(ConsentRecord.id)))
    assert [(r.status, r.source, r.text) for r in rows] == [
        ("pending", "banner", "Send mig nyheder."), ("granted", "link", "Send mig nyheder.")
    ]  # fmt: skip
    assert client.get(path[:-3] + "xyz").status_code == 404


def test_a_consent_question_in_the_wheel_records_its_purpose_with_the_words_shown(
    app: Any, client: Any, browser: Browser
) -> None:
    become_lead(browser)
    browser.next_visit()
    assert "consent" in browser.asked_keys()
    browser.locale = "da"
    answered = browser.answer({"consent": True})

    assert answered.status_code == 201, answered.get_json()
    with app.extensions["leadwheel"].db.read() as session:
        (row,) = session.scalars(select(ConsentRecord))
    assert (row.purpose, row.status, row.text, row.version, row.locale, row.source) == (
        "marketing_email", "granted", "I må sende mig e-mails.", "2026-11", "da", "question"
    )  # fmt: skip
    assert row.lead_id == lead_of_browser(app, browser).id


def test_a_return_visitor_consenting_late_keeps_its_remembered_visitor_unless_this_page_answered(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    form = publish_form(consent_policy="required")
    earlier = Browser(client, form, clock)
    become_lead(earlier)
    assert consent(client, earlier, TRACKING).status_code == 201
    remembered = earlier.token

    # A new page before consent: a visitor of its own, which only asked.
    page = Browser(client, form, clock)
    page.ask()
    kept = consent(client, page, {**TRACKING, "previous": remembered})
    assert lead_of_browser(app, page).id == lead_of_browser(app, earlier).id
    assert kept.get_json()["tracking"] is True

    # Another page whose visitor answered before consent: its answers are not left behind.
    answered = Browser(client, form, clock)
    become_lead(answered, email="bob@example.com")
    consent(client, answered, {**TRACKING, "previous": remembered})
    assert lead_of_browser(app, answered).email == "bob@example.com"


def test_the_cli_creates_sites_that_require_consent_unless_told_otherwise(config: Any, monkeypatch: Any) -> None:
    from click.testing import CliRunner

    from capture.cli.main import main
    from capture.db.engine import Database

    monkeypatch.setenv("DATABASE_URL", config.database_url)
    runner = CliRunner()
    eu = runner.invoke(main, ["site", "create", "EU", "--origin", "https://eu.example"], catch_exceptions=False)
    us = runner.invoke(main, ["site", "create", "US", "--origin", "https://us.example", "--consent", "not_required"])
    wrong = runner.invoke(main, ["site", "create", "X", "--origin", "https://x.example", "--consent", "maybe"])

    assert wrong.exit_code != 0 and "maybe" in wrong.output
    database = Database(config.database_url)
    try:
        with database.read() as session:
            policies = {key: policy for key, policy in session.execute(select(Site.public_key, Site.consent_policy))}
    finally:
        database.dispose()
    assert policies == {eu.stdout.strip(): "required", us.stdout.strip(): "not_required"}


def test_consent_given_to_a_lead_follows_it_when_it_is_merged_into_another(app: Any, browser: Browser) -> None:
    from capture.leads.store import merge_leads
    from capture.privacy.consent import Decision, record
    from capture.privacy.standing import lead_standing

    become_lead(browser)
    survivor = lead_of_browser(app, browser).id
    db = app.extensions["leadwheel"].db
    now = browser.clock()
    with db.write_connection() as connection:
        other = connection.execute(
            insert(Lead.__table__).values(site_id=None, last_seen_at=now, created_at=now).returning(Lead.id)
        ).scalar_one()
        site_id = connection.execute(select(Site.id)).scalar_one()
        granted = Decision("profiling", True, "You may build a profile of me.", "p1", "en", "api")
        record(connection, site_id=site_id, decisions=[granted], now=now, lead_id=other)
        merge_leads(connection, survivor=survivor, absorbed=other)
    with db.read_connection() as connection:
        assert lead_standing(connection, survivor)["profiling"].status == "granted"
        assert lead_standing(connection, other) == {}


def test_a_crm_records_a_withdrawal_for_a_lead_of_its_own_site_only(
    app: Any, client: Any, browser: Browser, publish_form: Any, clock: Any
) -> None:
    from capture.sites.api_tokens import create_token

    become_lead(browser)
    consent(client, browser, {"purposes": {"marketing_email": True}, "text": "Send me news.", "version": "3"})
    other = publish_form(slug="other-site-form")
    db = app.extensions["leadwheel"].db
    with db.write() as session:
        sites = {s.public_key: s for s in session.scalars(select(Site))}
        _, own = create_token(session, sites[browser.form.site_key], "CRM", ["sales"], clock())
        _, foreign = create_token(session, sites[other.site_key], "CRM", ["sales"], clock())
        _, events_only = create_token(session, sites[browser.form.site_key], "ESP", ["events"], clock())
    body = {"email": "ADA@example.com", "purposes": {"marketing_email": False}}

    def post(token: str, sent: dict[str, Any]) -> Any:
        return client.post("/api/v1/leads/consent", json=sent, headers={"Authorization": f"Bearer {token}"})

    assert post(foreign, body).status_code == 404
    assert post(events_only, body).status_code == 403
    assert post(own, {"purposes": {"marketing_email": False}}).get_json()["error"]["code"] == "invalid_body"
    recorded = post(own, body)

    assert recorded.status_code == 201, recorded.get_json()
    assert recorded.get_json()["lead_id"] == lead_of_browser(app, browser).id
    assert recorded.get_json()["consents"]["marketing_email"]["source"] == "api"
    with db.read() as session:
        statuses = [(r.status, r.source) for r in session.scalars(select(ConsentRecord).order_by(ConsentRecord.id))]
    assert statuses == [("granted", "banner"), ("withdrawn", "api")]


def test_a_marketing_consent_given_before_the_address_is_mailed_once_the_lead_has_one(
    app: Any, client: Any, browser: Browser, clock: Any, smtp_server: Any
) -> None:
    services = _double_opt_in(app, browser, smtp_server)
    news = {"purposes": {"marketing_email": True}, "text": "Send me news.", "version": "3"}
    browser.ask()

    before = consent(client, browser, news)  # the banner, before any answer: no address to mail
    become_lead(browser)
    after = consent(client, browser, news)  # the banner on the next page
    once_more = consent(client, browser, news)

    assert [r.get_json()["confirmation_mailed"] for r in (before, after, once_more)] == [False, True, False]
    assert send_due(services.db, services.config, clock) == 1
    text = smtp_server.messages[0].get_payload(decode=True).decode()
    link = re.search(r"https://forms\.example\.com(/consent/confirm/\S+)", text)
    assert link is not None
    assert client.post(link.group(1)).status_code == 200
    read = client.get(f"/api/v1/sites/{browser.form.site_key}/consent", query_string={"visitor": browser.token})
    assert read.get_json()["consents"]["marketing_email"]["status"] == "granted"


def test_a_withdrawn_marketing_consent_is_no_longer_handed_to_sales_as_given(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    """The consent question's answer stays in the record, but every later hand-off says it no longer holds."""
    from capture.handoff.outbox import lead_story

    become_lead(browser)
    browser.next_visit()
    given = {"company_size": "50", "looking_for": ["reports"], "consent": True}
    assert browser.answer(given).status_code == 201
    db = app.extensions["leadwheel"].db
    with db.read() as session:
        lead_id = session.scalars(select(Lead.id).where(Lead.email == "ada@example.com")).one()
    before = db.run(lambda c: lead_story(c, lead_id))["lead"]
    assert before["profile"]["marketing_consent"] is True
    assert before["consents"]["marketing_email"]["status"] == "granted"

    assert consent(client, browser, {"purposes": {"marketing_email": False}}).status_code == 201

    after = db.run(lambda c: lead_story(c, lead_id))["lead"]
    assert after["profile"]["marketing_consent"] is False
    assert after["consents"]["marketing_email"]["status"] == "withdrawn"


def test_a_withdrawn_profiling_consent_stops_scoring_until_given_again(
    app: Any, client: Any, browser: Browser, clock: Any
) -> None:
    """Scoring is profiling: after a withdrawal neither answers, behaviour nor a re-score move the lead."""
    from capture.qualifying.rescoring import rescore
    from capture.sites.publishing import publish_model
    from scoring.document import parse_model
    from tests.capture.qualifying.test_scoring_service import MODEL, lead_row, track

    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        publish_model(session, parse_model(MODEL), clock())
    become_lead(browser)
    scored = lead_row(app, "ada@example.com")
    assert scored.scored_at is not None

    assert consent(client, browser, {"purposes": {"profiling": False}}).status_code == 201
    clock.advance(minutes=5)
    track(client, browser, ("page_view", "/pricing"), ("page_view", "/pricing/enterprise"))
    browser.next_visit()
    assert browser.answer({"company_size": "500", "looking_for": ["reports"], "consent": True}).status_code == 201
    services.catalog.clear()
    rescore(services.db, services.catalog.scoring_model(), clock())

    frozen = lead_row(app, "ada@example.com")
    assert (frozen.score, frozen.stage, frozen.scored_at) == (scored.score, scored.stage, scored.scored_at)
    assert frozen.last_seen_at > scored.last_seen_at  # the answers and the visit were still kept
    assert stored_events(app) == 2

    given = {"purposes": {"profiling": True}, "text": "You may score my interest.", "version": "p1"}
    assert consent(client, browser, given).status_code == 201
    clock.advance(minutes=5)
    track(client, browser, ("page_view", "/pricing"))
    assert lead_row(app, "ada@example.com").scored_at > scored.scored_at
