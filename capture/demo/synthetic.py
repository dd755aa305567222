"""A few hundred synthetic leads for the demo, made the way real ones are: through the public API.

Each synthetic visitor asks its form, answers whatever the wheel asks (by the question's type,
options and limits), browses a few pages, and comes back on later days for the next questions.
So the workbench the demo opens on has leads at every stage, with answers, behaviour, scores and
stage changes made by the same code as a visitor's, not rows written around it.

The visits run in-process (Flask's test client) on a clock of their own that walks through the
past weeks: the form's fill-time defence and the visit gap see the time a person would take.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from capture.config import Config
from capture.db.engine import Database
from capture.db.models import Lead
from capture.services import utc_now

FIRST = ("Ada", "Bo", "Cecilie", "Dan", "Emma", "Frederik", "Ida", "Jonas", "Maja", "Noah", "Ioana", "Mihai",
         "Ingrid", "Ola", "Sofie", "Lars", "Elena", "Andrei", "Astrid", "Magnus")  # fmt: skip
LAST = ("Jensen", "Nielsen", "Hansen", "Popescu", "Ionescu", "Larsen", "Berg", "Olsen", "Dumitru", "Holm")
COMPANIES = ("Nordlys", "Fjordtech", "Carpați Soft", "Havn & Co", "Bølge Data", "Dacia Logistics", "Skov IT",
             "Tårnby Trading", "Aurora Analytics", "Vest Energi")  # fmt: skip
PAGES = ("/", "/pricing", "/features", "/blog/lead-scoring", "/customers", "/careers", "/pricing/enterprise")


class _Clock:
    """The synthetic visitors' time: it starts weeks ago and only moves when they act."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def seed_leads(config: Config, site_key: str, form_slug: str, count: int = 300, seed: int = 7) -> int:
    """Make about ``count`` leads unless the database already has that many; how many were made."""
    db = Database(config.database_url)
    try:
        with db.read() as session:
            existing = session.scalar(select(func.count()).select_from(Lead)) or 0
    finally:
        db.dispose()
    if existing >= count:
        return 0
    from capture.web.app import create_app

    rng = random.Random(seed)
    clock = _Clock(utc_now() - timedelta(days=45))
    app = create_app(replace(config, ratelimit_enabled=False), clock=clock)
    client = app.test_client()
    origin = next(iter(_origins(app, site_key)), "")
    base = f"/api/v1/sites/{site_key}"
    made = 0
    try:
        for n in range(count - existing):
            person = _person(rng, n + existing)
            token = _visit(client, base, form_slug, origin, person, clock, rng, None)
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):  # some come back, on later days
                clock.advance(hours=rng.uniform(20, 120))
                token = _visit(client, base, form_slug, origin, person, clock, rng, token)
            made += 1
            clock.advance(minutes=rng.uniform(1, 12))
    finally:
        app.extensions["leadwheel"].db.dispose()
    return made


def _origins(app: Any, site_key: str) -> list[str]:
    from capture.sites.publishing import find_site

    with app.extensions["leadwheel"].db.read() as session:
        return list(find_site(session, site_key).allowed_origins)


def _person(rng: random.Random, n: int) -> dict[str, Any]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    company = rng.choice(COMPANIES)
    domain = company.lower().replace(" & ", "").replace(" ", "").replace("ț", "t").replace("ø", "o").replace("å", "a")
    return {
        "first_name": first,
        "last_name": last,
        "company_name": company,
        "email": f"{first.lower()}.{last.lower()}.{n}@{domain}.example",
        "locale": rng.choice(("en", "en", "da", "nb", "ro")),
        "b2b": rng.random() < 0.65,
    }


def _visit(
    client: Any,
    base: str,
    slug: str,
    origin: str,
    person: dict[str, Any],
    clock: _Clock,
    rng: random.Random,
    token: str | None,
) -> str | None:
    headers = {"Origin": origin}
    token_before = token
    page = f"{origin}{rng.choice(PAGES)}"
    asked = client.post(
        f"{base}/forms/{slug}/ask",
        json={"visitor": token, "locale": person["locale"], "page_url": page},
        headers=headers,
    )
    if asked.status_code != 200:
        return token
    body = asked.get_json()
    token = body.get("visitor", token)
    events = [{"id": secrets.token_hex(16), "type": "page_view", "url": f"{origin}{rng.choice(PAGES)}"}
              for _ in range(rng.randint(0, 4))]  # fmt: skip
    if events:
        client.post(f"{base}/events", json={"visitor": token, "events": events}, headers=headers)
    if body.get("ticket") and (token_before is None or rng.random() < 0.9):  # the first visit always answers
        clock.advance(seconds=rng.uniform(8, 60))  # a person's typing time
        answers, skipped = _answers(body.get("questions", []), person, rng)
        answered = client.post(
            f"{base}/forms/{slug}/answers",
            json={"ticket": body["ticket"], "answers": answers, "skipped": skipped, "locale": person["locale"],
                  "page_url": page},
            headers=headers,
        )  # fmt: skip
        if answered.status_code == 201:
            token = answered.get_json().get("visitor", token)
    return token


def _answers(
    questions: list[dict[str, Any]], person: dict[str, Any], rng: random.Random
) -> tuple[dict[str, Any], list[str]]:
    answers: dict[str, Any] = {}
    skipped: list[str] = []
    for question in questions:
        key = question["key"]
        if question.get("skippable") and not question.get("required") and rng.random() < 0.15:
            skipped.append(key)
            continue
        options = [o["value"] for o in question.get("options", [])]
        value = synthetic_value(key, question["type"], options, bool(question.get("required")), person, rng)
        answers[key] = str(value) if question["type"] == "number" else value  # typed in a browser: text
    return answers, skipped


def synthetic_value(
    key: str, kind: str, options: list[str], required: bool, person: dict[str, Any], rng: random.Random
) -> Any:
    """A plausible answer to one question of type ``kind`` for ``person`` (what it already knows comes first)."""
    if key in person:
        return person[key]
    if key == "customer_type" and options:
        return options[0] if person.get("b2b", True) else options[-1]
    if kind in ("radio", "select") and options:
        return rng.choice(options)
    if kind == "multi-select" and options:
        return rng.sample(options, rng.randint(1, min(3, len(options))))
    if kind in ("checkbox", "consent"):
        return required or rng.random() < 0.6
    if kind == "number":
        return rng.choice((5, 12, 40, 120, 450, 2000))
    if kind == "email":
        return person.get("email", "someone@example.com")
    if kind == "tel":
        return f"+45 {rng.randint(20, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
    return rng.choice(("Faster follow-up", "Better reports", "Fewer tools", "A CRM that fits"))
