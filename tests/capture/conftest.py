"""Factories for the shell tests: a published form and a scripted browser."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select

from capture.config import Config
from capture.db.engine import Database
from capture.sites.publishing import create_site, publish
from profiling.document import load

ORIGIN = "https://www.example.com"

#: A small wheel: B2B and B2C paths, every stage of BANT, one question per kind of rule.
SMALL_WHEEL: dict[str, Any] = {
    "format": "leadwheel/sequence@1",
    "name": "Test wheel",
    "default_locale": "en",
    "settings": {"questions_per_visit": 3, "snooze_visits": 2, "max_reasks": 1},
    "thank_you": {"en": "Thanks, we know all we need.", "da": "Tak, vi ved nok."},
    "stages": [
        {
            "key": "basics",
            "label": {"en": "Basics", "da": "Grundlæggende"},
            "questions": [
                {"key": "first_name", "type": "text", "label": {"en": "First name", "da": "Fornavn"}},
                {"key": "email", "type": "email", "required": True, "label": {"en": "E-mail", "da": "E-mail"}},
                {
                    "key": "customer_type",
                    "type": "radio",
                    "required": True,
                    "label": {"en": "Buying for", "da": "Køber til"},
                    "options": [
                        {"value": "b2b", "label": {"en": "My company", "da": "Min virksomhed"}},
                        {"value": "b2c", "label": {"en": "Myself", "da": "Mig selv"}},
                    ],
                },
            ],
        },
        {
            "key": "need",
            "label": {"en": "Need", "da": "Behov"},
            "questions": [
                {
                    "key": "company_size",
                    "type": "number",
                    "min": 1,
                    "max": 1000000,
                    "label": {"en": "Employees", "da": "Medarbejdere"},
                    "when": {"field": "customer_type", "equals": "b2b"},
                },
                {
                    "key": "looking_for",
                    "type": "multi-select",
                    "label": {"en": "Looking for", "da": "Leder efter"},
                    "options": [{"value": "analytics", "label": "Analytics"}, {"value": "reports", "label": "Reports"}],
                },
                {
                    "key": "consent",
                    "field": "marketing_consent",
                    "type": "consent",
                    "required": True,
                    "consent_version": "2026-11",
                    "label": {"en": "You may e-mail me about products.", "da": "I må sende mig e-mails."},
                },
            ],
        },
        {
            "key": "budget",
            "label": {"en": "Budget", "da": "Budget"},
            "questions": [
                {
                    "key": "budget",
                    "type": "select",
                    "label": {"en": "Budget", "da": "Budget"},
                    "options": [{"value": "small", "label": "< 10k"}, {"value": "large", "label": "> 10k"}],
                },
                {
                    "key": "procurement",
                    "type": "textarea",
                    "max_length": 500,
                    "label": {"en": "How do you buy?", "da": "Hvordan køber I?"},
                    "when": {"field": "company_size", "gte": 50},
                },
            ],
        },
        {
            "key": "timeline",
            "label": {"en": "Timeline", "da": "Tidslinje"},
            "questions": [
                {
                    "key": "buying_timeline",
                    "type": "radio",
                    "freshness_days": 90,
                    "label": {"en": "Buying within", "da": "Køber inden for"},
                    "options": [
                        {"value": "3m", "label": "3"},
                        {"value": "6m", "label": "6"},
                        {"value": "12m", "label": "12"},
                    ],
                }
            ],
        },
        {
            "key": "authority",
            "label": {"en": "Authority", "da": "Beslutning"},
            "questions": [
                {"key": "decides", "type": "checkbox", "label": {"en": "I decide", "da": "Jeg beslutter"}},
                {"key": "phone", "type": "tel", "label": {"en": "Phone", "da": "Telefon"}},
            ],
        },
    ],
}


@dataclass
class Published:
    site_key: str
    slug: str
    form_id: int
    version_id: int
    origin: str = ORIGIN


@pytest.fixture
def db(config: Config) -> Iterator[Database]:
    """The test's fresh database, without an app around it (some test files bring their own ``db``)."""
    database = Database(config.database_url)
    yield database
    database.dispose()


@pytest.fixture
def publish_form(app: Any, clock: Any) -> Any:
    """Create a site and publish a sequence document as one of its forms."""

    def make(
        document: dict[str, Any] | None = None,
        slug: str = "wheel",
        origins: tuple[str, ...] = (ORIGIN,),
        consent_policy: str = "not_required",
    ) -> Published:
        """``consent_policy``: these tests' sites track without asking unless a test says otherwise."""
        db = app.extensions["leadwheel"].db
        with db.write() as session:
            site = create_site(session, "Example", list(origins), clock(), consent_policy=consent_policy)
            result = publish(session, site, slug, load(document or SMALL_WHEEL), clock())
            return Published(site.public_key, slug, result.form.id, result.version.id, origins[0])

    return make


@dataclass
class Browser:
    """One visitor's browser talking to the API, keeping its token like embed.js does."""

    client: Any
    form: Published
    clock: Any
    locale: str = "en"
    origin: str | None = ORIGIN
    token: str | None = None
    last: dict[str, Any] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/api/v1/sites/{self.form.site_key}/forms/{self.form.slug}"

    def headers(self) -> dict[str, str]:
        return {"Origin": self.origin} if self.origin else {}

    def ask(self) -> dict[str, Any]:
        response = self.client.post(
            f"{self.base}/ask",
            json={"visitor": self.token, "locale": self.locale, "page_url": "https://www.example.com/pricing"},
            headers=self.headers(),
        )
        assert response.status_code == 200, response.get_json()
        self.last = response.get_json()
        self.token = self.last["visitor"]
        return self.last

    def next_visit(self, hours: float = 1) -> dict[str, Any]:
        """The visitor comes back after the visit gap (30 minutes by default): the next batch."""
        self.clock.advance(hours=hours)
        return self.ask()

    def asked_keys(self) -> list[str]:
        return [q["key"] for q in self.last["questions"]]

    def answer(self, answers: dict[str, Any], skipped: list[str] | None = None, wait: float = 3, **extra: Any) -> Any:
        self.clock.advance(seconds=wait)
        body = {
            "ticket": self.last["ticket"],
            "answers": answers,
            "skipped": skipped or [],
            "locale": self.locale,
            "page_url": "https://www.example.com/pricing",
            **extra,
        }
        response = self.client.post(f"{self.base}/answers", json=body, headers=self.headers())
        if response.status_code == 201:
            self.last = response.get_json()
            self.token = self.last["visitor"]
        return response

    def identify(self, email: str, *, user_hash: str | None = None, wait: float = 3, **extra: Any) -> Any:
        """``leadwheel('identify', …)`` as the snippet sends it: with the site's ``user_hash`` at once,
        without one after an identify ticket and the fill time, as a person's typing would take."""
        body: dict[str, Any] = {"visitor": self.token, "email": email, "locale": self.locale, **extra}
        site = f"/api/v1/sites/{self.form.site_key}"
        if user_hash is None:
            issued = self.client.post(f"{site}/identify/ticket", json={"visitor": self.token}, headers=self.headers())
            assert issued.status_code == 200, issued.get_json()
            body.setdefault("ticket", issued.get_json()["ticket"])
            self.clock.advance(seconds=wait)
        else:
            body["user_hash"] = user_hash
        response = self.client.post(f"{site}/identify", json=body, headers=self.headers())
        if response.status_code == 200:
            self.token = response.get_json()["visitor"]
        return response


def site_user_hash(app: Any, site_key: str, email: str) -> str:
    """What the site's back end computes for ``email`` with its identity secret."""
    from capture.db.models import Site
    from capture.leads.claims import user_hash

    with app.extensions["leadwheel"].db.read() as session:
        secret = session.scalars(select(Site.identity_secret).where(Site.public_key == site_key)).one()
    return user_hash(secret, email)


@pytest.fixture
def browser(client: Any, publish_form: Any, clock: Any) -> Any:
    """A new visitor on a freshly published SMALL_WHEEL form."""
    return Browser(client, publish_form(), clock)
