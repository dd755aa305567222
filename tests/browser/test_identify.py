"""``leadwheel('identify', …)`` in a real browser: vouched by the site it joins the lead, unsigned it is a claim."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from capture.db.models import EmailClaim, Lead, Site, Visitor
from capture.leads.claims import user_hash
from tests.browser import snippet
from tests.browser.conftest import Live
from tests.browser.test_behaviour import until

ADA = "ada@example.com"


def signed(live: Live, site_key: str, email: str) -> str:
    """What the host's back end puts in the page for a signed-in visitor."""
    (site,) = live.rows(Site, Site.public_key == site_key)
    return user_hash(site.identity_secret, email)


def open_host(live: Live, open_page: Any, site_key: str) -> Any:
    page = open_page()
    page.goto(live.url(site_key))
    expect(snippet.control(page, "email")).to_be_visible()
    return page


def test_identify_joins_a_signed_in_visitor_to_its_lead_and_an_unsigned_one_only_claims(
    live: Live, open_page: Any
) -> None:
    form = live.publish_form()
    office = open_host(live, open_page, form.site_key)
    office.evaluate(
        "([email, hash]) => leadwheel('identify', {email, user_hash: hash})", [ADA, signed(live, form.site_key, ADA)]
    )
    until(office, lambda: live.rows(Lead, Lead.email == ADA), "Ada's lead, vouched for")
    (ada,) = live.rows(Lead, Lead.email == ADA)
    assert ada.email_confirmed_via == "identity"

    # Another browser that only says it is Ada (no signature): a claim on its own lead, after a ticket.
    phone = open_host(live, open_page, form.site_key)
    phone.evaluate("email => leadwheel('identify', {email})", ADA)
    until(phone, lambda: live.rows(EmailClaim), "the claim")
    (claim,) = live.rows(EmailClaim)
    assert claim.source == "identify" and claim.lead_id != ada.id
    assert len(live.rows(Lead, Lead.merged_into_id.is_(None))) == 2

    # Signed in on the phone too: one lead, both browsers.
    phone.evaluate(
        "([email, hash]) => leadwheel('identify', {email, user_hash: hash})", [ADA, signed(live, form.site_key, ADA)]
    )
    until(phone, lambda: len(live.rows(Lead, Lead.merged_into_id.is_(None))) == 1, "the leads joined")
    assert {visitor.lead_id for visitor in live.rows(Visitor)} == {ada.id}
    with live.app.extensions["leadwheel"].db.read() as session:
        assert session.scalar(select(EmailClaim.resolution)) == "identity"
