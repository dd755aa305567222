"""An e-mail typed in a browser is a claim, not a proof.

Before: a fresh browser that answered the e-mail question with someone else's
address was merged into that lead, saw its progress, overwrote its name, and
with one demo request pushed it to MQL. Now it keeps its own lead; the claim
joins the existing one only when the site's back end or the mailbox confirms it.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sqlalchemy import func, select

from capture.db.models import Answer, BehaviourEvent, EmailClaim, Lead, Visitor
from capture.handoff.outbox import _payload, lead_story
from capture.leads import profile_doc
from capture.leads.describe import describe_lead
from capture.mail import send_due
from tests.capture.conftest import Browser, site_user_hash
from tests.capture.qualifying.test_scoring_service import MODEL, track

SCHEMA = json.loads((Path(__file__).parents[3] / "docs" / "webhook-payload.schema.json").read_text())
VICTIM = "ada@example.com"


@pytest.fixture
def live(app: Any, clock: Any) -> None:
    from capture.sites.publishing import publish_model
    from scoring.document import parse_model

    with app.extensions["leadwheel"].db.write() as session:
        publish_model(session, parse_model(MODEL), clock())


def lead_of(app: Any, email: str) -> Lead:
    with app.extensions["leadwheel"].db.read() as session:
        lead = session.scalar(select(Lead).where(Lead.email == email))
        assert lead is not None
        return lead


def live_leads(app: Any) -> int:
    with app.extensions["leadwheel"].db.read() as session:
        return session.scalar(select(func.count()).select_from(Lead).where(Lead.merged_into_id.is_(None))) or 0


def victim(client: Any, form: Any, clock: Any) -> Browser:
    """Ada, who told the site who she is over two visits."""
    office = Browser(client, form, clock)
    office.ask()
    assert office.answer({"email": VICTIM, "first_name": "Adalind", "customer_type": "b2b"}).status_code == 201
    office.next_visit()
    assert office.answer({"company_size": 4321, "looking_for": ["reports"], "consent": True}).status_code == 201
    return office


def visible(body: dict[str, Any]) -> dict[str, Any]:
    """What a response shows, but for the tokens (random by design)."""
    return {key: value for key, value in body.items() if key not in ("visitor", "ticket")}


def test_a_stranger_typing_a_known_address_learns_nothing_and_changes_nothing(
    app: Any, client: Any, publish_form: Any, clock: Any, live: None
) -> None:
    form = publish_form()
    victim(client, form, clock)
    before = lead_of(app, VICTIM)

    stranger, control = Browser(client, form, clock), Browser(client, form, clock)
    stranger.ask(), control.ask()
    typed = stranger.answer({"email": "ADA@example.com", "first_name": "Mallory", "customer_type": "b2c"})
    fresh = control.answer({"email": "nobody@example.com", "first_name": "Mallory", "customer_type": "b2c"})
    assert typed.status_code == fresh.status_code == 201
    # The same response as for an address nobody holds: no progress, stage or question betrays Ada's lead.
    assert visible(typed.get_json()) == visible(fresh.get_json())
    assert visible(stranger.next_visit()) == visible(control.next_visit())
    for response in (typed.get_data(as_text=True), json.dumps(stranger.last)):
        assert "Adalind" not in response and "4321" not in response

    # A hand-raise from the stranger's browser scores the stranger's own lead, never Ada's.
    track(client, stranger, ("demo_request", "/demo"), ("page_view", "/pricing"))
    after = lead_of(app, VICTIM)
    assert (after.score, after.engagement, after.fit, after.stage) == (
        before.score, before.engagement, before.fit, before.stage,
    )  # fmt: skip
    assert profile_doc.values(after.profile)["first_name"] == "Adalind"
    assert profile_doc.values(after.profile)["customer_type"] == "b2b"
    with app.extensions["leadwheel"].db.read() as session:
        assert (
            session.scalar(select(func.count()).select_from(BehaviourEvent).where(BehaviourEvent.lead_id == before.id))
            == 0
        )
        (claim,) = session.scalars(select(EmailClaim)).all()
        assert (claim.email, claim.source, claim.resolved_at) == (VICTIM, "form", None)
        claimant = session.get(Lead, claim.lead_id)
        assert claimant is not None and claimant.id != before.id and claimant.email is None
        # what the stranger sent is kept, with its provenance, on the stranger's own lead
        typed_answer = session.get(Answer, claim.answer_id)
        assert typed_answer is not None and typed_answer.lead_id == claimant.id
        assert typed_answer.value == "ADA@example.com"


def test_identify_without_the_sites_signature_has_an_answers_bot_defences(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    form = publish_form()
    victim(client, form, clock)
    site = f"/api/v1/sites/{form.site_key}"
    headers = {"Origin": form.origin}

    def identify(body: dict[str, Any]) -> Any:
        return client.post(f"{site}/identify", json={"email": VICTIM, **body}, headers=headers)

    def ticket() -> str:
        return str(client.post(f"{site}/identify/ticket", json={}, headers=headers).get_json()["ticket"])

    assert identify({}).get_json()["error"]["code"] == "ticket_invalid"  # before: merged, no questions asked
    fast = ticket()
    assert identify({"ticket": fast}).get_json()["error"]["code"] == "too_fast"
    clock.advance(seconds=3)
    assert identify({"ticket": fast, "hp": "x"}).get_json()["error"]["code"] == "suspected_bot"
    wrong = identify({"user_hash": "0" * 64})
    assert wrong.status_code == 422 and wrong.get_json()["error"]["code"] == "identity_unverified"
    other_site = site_user_hash(app, form.site_key, "someone@else.example")
    assert identify({"user_hash": other_site}).get_json()["error"]["code"] == "identity_unverified"

    first = identify({"ticket": fast})
    assert first.status_code == 200
    assert identify({"ticket": fast}).status_code == 200  # the same identify again: a retry, stored once
    reused = client.post(f"{site}/identify", json={"email": "other@example.com", "ticket": fast}, headers=headers)
    assert reused.status_code == 409 and reused.get_json()["error"]["code"] == "ticket_used"
    with app.extensions["leadwheel"].db.read() as session:
        assert session.scalar(select(func.count()).select_from(Answer).where(Answer.source == "identify")) == 1
    assert live_leads(app) == 2  # a claim, not a merge


def test_sales_sees_unconfirmed_addresses_marked_and_a_vouched_one_confirmed(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    form = publish_form()
    office = victim(client, form, clock)
    stranger = Browser(client, form, clock)
    stranger.ask()
    stranger.answer({"email": VICTIM, "first_name": "Mallory", "customer_type": "b2c"})
    db = app.extensions["leadwheel"].db
    with db.read_connection() as connection:
        holder = lead_of(app, VICTIM)
        claimant_id = connection.execute(select(EmailClaim.lead_id)).scalar_one()
        held, claimed = lead_story(connection, holder.id), lead_story(connection, claimant_id)
    for story in (held, claimed):
        jsonschema.validate(_payload("lead.mql", clock(), 1, story), SCHEMA)
    assert (held["lead"]["email"], held["lead"]["email_confirmed"], held["lead"]["unconfirmed_emails"]) == (
        VICTIM, False, [],
    )  # fmt: skip
    assert claimed["lead"]["email"] is None and claimed["lead"]["email_confirmed"] is False
    assert [(c["email"], c["source"]) for c in claimed["lead"]["unconfirmed_emails"]] == [(VICTIM, "form")]

    with db.read() as session:  # and so does `leadwheel lead show`
        assert f"{VICTIM} (unconfirmed)" in describe_lead(session, VICTIM)
        assert f"claims, unconfirmed: {VICTIM}" in describe_lead(session, str(claimant_id))

    signed = site_user_hash(app, form.site_key, VICTIM)
    assert office.identify(VICTIM, user_hash=signed).status_code == 200  # Ada logs in at the office
    with db.read_connection() as connection:
        story = lead_story(connection, holder.id)
    assert story["lead"]["email_confirmed"] is True and story["lead"]["unconfirmed_emails"] == []
    with db.read() as session:
        assert f"{VICTIM} (confirmed by identity)" in describe_lead(session, VICTIM)
    assert stranger.identify(VICTIM, user_hash=signed).status_code == 200  # and on the other browser too
    assert live_leads(app) == 1


def confirmation_link(message: Any) -> str:
    text = message.get_payload(decode=True).decode()
    match = re.search(r"https?://\S+/confirm/\S+", text)
    assert match, text
    return match.group(0)


@pytest.mark.parametrize(
    "locale, subject", [("en", "Confirm your e-mail address"), ("da", "Bekræft din e-mailadresse")]
)
def test_the_mailbox_confirms_each_browsers_claim_by_its_link_and_they_become_one_lead(
    app: Any, client: Any, publish_form: Any, clock: Any, smtp_server: Any, locale: str, subject: str
) -> None:
    """Ada typed her address at the office (unconfirmed) and again on her phone (a claim, mailed).
    Her phone's link proves the address hers, so it moves there; the office's lead becomes a claimant
    and its link is mailed too; once both are confirmed, the two browsers are one lead."""
    services = app.extensions["leadwheel"]
    services.config = replace(services.config, smtp_url=smtp_server.url, public_url="https://forms.example.com")
    form = publish_form()
    office = victim(client, form, clock)
    phone = Browser(client, form, clock, locale=locale)
    phone.ask()
    track(client, phone, ("page_view", "/pricing"))
    assert phone.answer({"email": VICTIM, "first_name": "Ada", "customer_type": "b2b"}).status_code == 201
    assert send_due(services.db, services.config, clock) == 1
    (message,) = smtp_server.messages
    assert message["To"] == VICTIM and str(make_header(decode_header(message["Subject"]))) == subject
    link = confirmation_link(message)
    assert link.startswith("https://forms.example.com/confirm/")
    path = link.removeprefix("https://forms.example.com")

    shown = client.get(path)  # what a mail scanner's prefetch does: it shows a button, confirms nothing
    assert shown.status_code == 200 and b'method="post"' in shown.data
    assert "default-src 'none'" in shown.headers["Content-Security-Policy"]
    assert shown.headers["Referrer-Policy"] == "no-referrer"
    assert live_leads(app) == 2 and lead_of(app, VICTIM).email_confirmed_at is None

    done = client.post(path)
    assert done.status_code == 200 and b'role="status"' in done.data
    holder = lead_of(app, VICTIM)  # the proven browser's lead holds the address now
    assert holder.email_confirmed_via == "link" and live_leads(app) == 2
    with services.db.read() as session:
        assert session.scalar(select(Visitor.lead_id).where(Visitor.id == visitor_of(phone))) == holder.id

    assert send_due(services.db, services.config, clock) == 1  # the office lead's claim, mailed in turn
    office_path = confirmation_link(smtp_server.messages[-1]).removeprefix("https://forms.example.com")
    assert client.post(office_path).status_code == 200
    assert live_leads(app) == 1
    with services.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Visitor).where(Visitor.lead_id == holder.id)) == 2
        assert (
            session.scalar(select(func.count()).select_from(BehaviourEvent).where(BehaviourEvent.lead_id == holder.id))
            == 1
        )
        assert set(session.scalars(select(Answer.lead_id).distinct())) == {holder.id}
    # Both browsers go on from what the lead knows, and neither is sent a value it did not type.
    phone.next_visit()
    office.next_visit()
    for browser in (phone, office):
        assert not {"email", "first_name", "customer_type", "company_size"} & set(browser.asked_keys())
    assert "Adalind" not in json.dumps(phone.last) and "4321" not in json.dumps(phone.last)

    again = client.post(path)
    assert again.status_code == 200 and live_leads(app) == 1


def visitor_of(browser: Browser) -> str:
    from profiling.identity import Tokens

    visitor = Tokens(["test-secret-key-" + "x" * 16]).read_visitor(browser.token, browser.clock())
    assert visitor is not None
    return visitor


def test_whoever_typed_an_address_first_gets_nothing_when_its_owner_proves_it(
    app: Any, client: Any, publish_form: Any, clock: Any
) -> None:
    """A stranger who types Ada's address before Ada ever does holds it, unconfirmed. When Ada's
    login vouches for it, the address moves to Ada's browser: the stranger is not merged into her lead."""
    form = publish_form()
    squatter = Browser(client, form, clock)
    squatter.ask()
    assert squatter.answer({"email": VICTIM, "first_name": "Mallory", "customer_type": "b2c"}).status_code == 201
    ada = Browser(client, form, clock)
    ada.ask()
    assert ada.answer({"first_name": "Adalind", "customer_type": "b2b"}, skipped=["email"]).status_code == 201
    assert ada.identify(VICTIM, user_hash=site_user_hash(app, form.site_key, VICTIM)).status_code == 200

    assert live_leads(app) == 2
    holder = lead_of(app, VICTIM)
    assert holder.email_confirmed_via == "identity"
    assert profile_doc.values(holder.profile)["first_name"] == "Adalind"
    with app.extensions["leadwheel"].db.read() as session:
        (claim,) = session.scalars(select(EmailClaim).where(EmailClaim.resolved_at.is_(None))).all()
        assert claim.lead_id != holder.id  # the squatter's lead: a claimant now, what it typed kept
        squatters = session.scalar(select(Visitor.lead_id).where(Visitor.id == visitor_of(squatter)))
        assert squatters == claim.lead_id
    squatter.next_visit()
    assert "Adalind" not in json.dumps(squatter.last)
    assert profile_doc.values(lead_of(app, VICTIM).profile)["first_name"] == "Adalind"


def test_a_damaged_or_forged_link_gets_a_readable_page(client: Any) -> None:
    for path in ("/confirm/not-a-token", "/confirm/" + "x" * 600):
        for response in (client.get(path), client.post(path)):
            assert response.status_code == 404
            assert b"not valid or has expired" in response.data


def test_an_address_a_back_end_names_with_its_token_is_confirmed(app: Any, client: Any, browser: Browser) -> None:
    from capture.db.models import Site
    from capture.sites.api_tokens import create_token

    with app.extensions["leadwheel"].db.write() as session:
        site = session.scalars(select(Site).where(Site.public_key == browser.form.site_key)).one()
        _, token = create_token(session, site, "ESP", ["events"], browser.clock())
    body = {"events": [{"id": "e1", "type": "demo_request", "email": "grace@example.com"}]}
    response = client.post("/api/v1/events", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202, response.get_json()
    assert lead_of(app, "grace@example.com").email_confirmed_via == "api"
