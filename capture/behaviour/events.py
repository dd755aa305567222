"""Behaviour events in: checked as a whole batch, stored once, linked to their lead, scored.

Two doors lead here. Browsers post through the snippet (the visitor is the one
in the signed visitor token), back-end systems post with an API token and name
each event's lead by e-mail or visitor token. Either way a batch is all or
nothing: one bad event refuses the batch, with the reason per event, so a
sender never has to guess which half was kept.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, bindparam, select

from capture.db.engine import Database
from capture.db.models import BehaviourEvent, Lead, Visitor
from capture.db.upserts import by_dialect, upsert
from capture.handoff.outbox import ANNOUNCED, announce_high_intent
from capture.leads.store import lead_for_email
from capture.leads.visits import IDENTIFY_EMAIL, clean_page_url
from capture.privacy.consent import consent_required, leads_without_tracking
from capture.privacy.standing import profiling_stopped, tracking_allowed, visitor_standing
from capture.qualifying.scores import LiveModel, score_lead
from capture.sites.api_tokens import Caller
from capture.sites.catalog import Catalog, SiteEntry
from capture.web.errors import Refused, invalid
from forms import validate_answers
from profiling.identity import Tokens, new_visitor_id
from scoring.inputs import Event

TYPE_PATTERN = re.compile(r"^[a-z][a-z0-9_.:-]{0,63}$")
BROWSER_ID = re.compile(r"^[0-9a-f]{32}$")
SENDER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
MAX_BATCH = 100
#: the JSON of one event's properties, in bytes
MAX_PROPS_BYTES = 2048
#: older events are refused: nothing this old still moves a score, and it is likely a bug
MAX_AGE = timedelta(days=400)


@dataclass(frozen=True)
class IncomingEvent:
    uid: str
    type: str
    at: datetime
    url: str | None
    path: str | None
    props: dict[str, Any]
    #: who did it: a visitor (browser) and/or a lead's e-mail (back-end systems)
    visitor_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class Stored:
    #: events of the batch stored (or already stored)
    accepted: int
    #: of those, already stored before (a client retry)
    duplicates: int
    #: a browser's events that were left out, by where in the batch (``events[2].type``) to why
    refused: dict[str, str] = field(default_factory=dict)


def read_batch(
    body: Mapping[str, Any],
    *,
    now: datetime,
    known_types: frozenset[str],
    who: Callable[[int, Mapping[str, Any], dict[str, str]], tuple[str | None, str | None]],
    browser: bool,
) -> tuple[list[IncomingEvent], dict[str, str]]:
    """Check every event of a batch: the good events, and the problems of the bad ones.

    A back-end system's batch is refused whole when any event is bad: its sender
    retries, and a fixed batch must not store half of it twice. A browser never
    retries a refused batch, so one bad event (a typo in a site's own ``track``
    call) must not lose the page views beside it: a browser's good events are kept
    and the bad ones named; only a batch with no good event is refused.
    ``who`` tells, per raw event, its visitor and e-mail (or records a problem
    under ``events[i].…``): browsers and back-end systems name them differently.
    """
    raw_events = body.get("events")
    if not isinstance(raw_events, list) or not raw_events:
        raise invalid("invalid_body", "events must be a non-empty list", {"events": "Must be a non-empty list."})
    if len(raw_events) > MAX_BATCH:
        raise Refused(
            413, "batch_too_large", f"Send at most {MAX_BATCH} events per request.", {"events": "Too many events."}
        )
    problems: dict[str, str] = {}
    events: list[IncomingEvent] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_events):
        where = f"events[{index}]"
        found = len(problems)
        if not isinstance(raw, dict):
            problems[where] = "Must be an object."
            continue
        uid = raw.get("id")
        if not isinstance(uid, str) or not (BROWSER_ID if browser else SENDER_ID).match(uid):
            problems[f"{where}.id"] = (
                "Must be 32 lower-case hex characters."
                if browser
                else "Must be 1 to 64 letters, digits or _.:- (your id for this event, so a retry is stored once)."
            )
        elif uid in seen:
            problems[f"{where}.id"] = "Appears twice in this batch."
        else:
            seen.add(uid)
        kind = raw.get("type")
        if not isinstance(kind, str) or not TYPE_PATTERN.match(kind):
            problems[f"{where}.type"] = "Must be a lower-case name such as page_view."
        elif kind not in known_types:
            problems[f"{where}.type"] = (
                f"Unknown event type '{kind}': neither the scoring model nor the catalogue lists it."
            )
        at = reported_time(raw.get("at"), now, f"{where}.at", problems)
        url, path = _where(raw.get("url"), f"{where}.url", problems)
        props = raw.get("props", {})
        if props is None:
            props = {}
        if not isinstance(props, dict):
            problems[f"{where}.props"] = "Must be an object."
        elif len(json.dumps(props, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_PROPS_BYTES:
            problems[f"{where}.props"] = f"Must be at most {MAX_PROPS_BYTES} bytes as JSON."
        visitor_id, email = who(index, raw, problems)
        if len(problems) == found and at is not None:
            assert isinstance(uid, str) and isinstance(kind, str)
            events.append(IncomingEvent(uid, kind, at, url, path, props, visitor_id, email))
    if problems and (not browser or not events):
        raise invalid("invalid_events", "Some events cannot be stored; nothing from this batch was.", problems)
    return events, problems


def reported_time(raw: Any, now: datetime, where: str, problems: dict[str, str]) -> datetime | None:
    """An ISO 8601 time with a zone (default now) as a sender reports it; the future is clamped to now
    (a fast clock is not an error), and older than ``MAX_AGE`` is recorded as a problem at ``where``."""
    if raw is None:
        return now
    try:
        at = datetime.fromisoformat(raw) if isinstance(raw, str) and len(raw) <= 40 else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None:
        problems[where] = "Must be an ISO 8601 time with a time zone, e.g. 2026-11-23T10:15:00Z."
        return None
    if at < now - MAX_AGE:
        problems[where] = f"Is older than {MAX_AGE.days} days."
        return None
    return min(at, now)


def _where(raw: Any, where: str, problems: dict[str, str]) -> tuple[str | None, str | None]:
    try:
        url = clean_page_url(raw)
    except Refused:
        problems[where] = "Must be an http(s) URL of at most 2048 characters."
        return None, None
    return url, (urlsplit(url).path or "/") if url else None


def email_of(raw: Any) -> str | None:
    """A well-formed e-mail address, lower-cased, or None."""
    validated = validate_answers([IDENTIFY_EMAIL], {IDENTIFY_EMAIL.key: raw}, "en", "en")
    return str(validated.values[IDENTIFY_EMAIL.key]).lower() if validated.ok else None


@by_dialect
def _insert_new(connection: Connection) -> Any:
    """Insert, skipping ids already stored for the site; hands back only the rows it inserted."""
    table = BehaviourEvent.__table__
    statement: Any = upsert(connection, table)
    return statement.on_conflict_do_nothing(index_elements=[table.c.site_id, table.c.uid]).returning(
        table.c.lead_id, table.c.type, table.c.at, table.c.path, table.c.props
    )


_LEAD_OF_VISITOR = select(Visitor.lead_id).where(Visitor.id == bindparam("visitor_id"))


def store_events(
    connection: Connection,
    site_id: int,
    events: list[IncomingEvent],
    *,
    now: datetime,
    source: str,
    models: Callable[[int | None], LiveModel | None],
) -> Stored:
    """Store a checked batch and score every lead it touched, in the caller's transaction.

    ``models`` gives the model that scores a lead of a site (``Catalog.scoring_model``): each lead is
    scored by its own site's, whichever site the events came in on. A lead sales already has that did
    something high-intent is announced to sales (:func:`capture.handoff.outbox.announce_high_intent`).
    """
    leads: dict[str, int | None] = {}
    for event in events:
        if event.email is not None and event.email not in leads:
            leads[event.email] = lead_for_email(connection, site_id, event.email, now)
        if event.visitor_id is not None and event.visitor_id not in leads:
            known = connection.execute(_LEAD_OF_VISITOR, {"visitor_id": event.visitor_id}).first()
            leads[event.visitor_id] = known.lead_id if known is not None else None
    rows = [
        {
            "site_id": site_id,
            "uid": event.uid,
            "visitor_id": event.visitor_id,
            "lead_id": leads[event.email] if event.email is not None else leads.get(event.visitor_id or ""),
            "type": event.type,
            "at": event.at,
            "received_at": now,
            "url": event.url,
            "path": event.path,
            "props": event.props,
            "source": source,
        }
        for event in events
    ]
    touched = sorted({lead_id for row in rows if isinstance(lead_id := row["lead_id"], int)})
    sites: dict[int, int | None] = {}
    if touched:
        # PostgreSQL: lock the leads before the insert takes its foreign-key share locks on them: two batches
        # for one lead would otherwise both hold a share lock and deadlock when scoring wants the row.
        query = select(Lead.id, Lead.site_id).where(Lead.id.in_(touched)).order_by(Lead.id)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        sites = {lead_id: lead_site for lead_id, lead_site in connection.execute(query)}
    if source == "api":
        _refuse_other_sites_emails(events, leads, sites, site_id)
    withdrawn = leads_without_tracking(connection, list(sites))  # sites: the touched leads
    if withdrawn:  # the person took back consent to tracking: from then on their behaviour is not kept
        rows = [row for row in rows if row["lead_id"] not in withdrawn]
        if not rows:
            return Stored(accepted=0, duplicates=0)
    # executemany (insertmanyvalues): one statement compiled once, however many rows
    inserted = connection.execute(_insert_new(connection), rows).all()
    by_lead: dict[int, list[Event]] = defaultdict(list)
    for lead_id, kind, at, path, props in inserted:
        if lead_id is not None:
            by_lead[lead_id].append(Event(type=kind, at=at, path=path, props=props))
    for lead_id in sorted(by_lead):  # a fixed order, so two batches lock leads in the same order
        live = models(sites.get(lead_id))
        if live is None or profiling_stopped(connection, lead_id):
            continue
        new = score_lead(connection, live, lead_id, now, "event", new_events=by_lead[lead_id])
        if new.stage == new.stage_before and new.stage in ANNOUNCED:
            high_intent = [event for event in by_lead[lead_id] if live.model.is_high_intent(event)]
            if high_intent:
                announce_high_intent(connection, lead_id, high_intent, now)
    return Stored(accepted=len(rows), duplicates=len(rows) - len(inserted))


def _refuse_other_sites_emails(
    events: list[IncomingEvent], leads: dict[str, int | None], sites: dict[int, int | None], site_id: int
) -> None:
    """A back end names leads of its own site only: an e-mail held by another site's lead refuses the batch.

    Browsers are different: a visitor who browses two sites of one installation is one person, and
    its events count for its lead wherever it is. A back-end token, though, must not raise another
    site's lead by knowing its address (the token stays in its site, as on the sales routes).
    """
    problems = {
        f"events[{index}].email": "This e-mail belongs to a lead of another site; this token cannot name it."
        for index, event in enumerate(events)
        if event.email is not None and sites.get(leads[event.email] or 0, site_id) != site_id
    }
    if problems:
        raise invalid(
            "invalid_events",
            "Some events name leads this token cannot reach; nothing from this batch was stored.",
            problems,
        )


class Behaviour:
    """The two doors for events: the snippet in a browser, and back-end systems with an API token."""

    def __init__(self, db: Database, catalog: Catalog, tokens: Tokens):
        self.db = db
        self.catalog = catalog
        self.tokens = tokens

    def from_browser(self, site: SiteEntry, body: Mapping[str, Any], now: datetime) -> tuple[Stored, str]:
        """Store a snippet's batch; returns it and the visitor token to keep (new for a new visitor)."""
        visitor_id = self.tokens.read_visitor(body.get("visitor"), now) or new_visitor_id()

        def who(_index: int, _raw: Mapping[str, Any], _problems: dict[str, str]) -> tuple[str | None, str | None]:
            return visitor_id, None

        with self.db.read_connection() as connection:
            allowed = tracking_allowed(site.consent_policy, visitor_standing(connection, visitor_id))
        if not allowed:
            raise consent_required()
        known = self.catalog.event_types(site.id)
        events, refused = read_batch(body, now=now, known_types=known, who=who, browser=True)
        stored = replace(self._store(site.id, events, now, "browser"), refused=refused)
        return stored, self.tokens.visitor_token(visitor_id, now)

    def from_system(self, caller: Caller, body: Mapping[str, Any], now: datetime) -> Stored:
        """Store a back-end system's batch; each event names its lead by ``email`` or ``visitor`` token."""

        def who(index: int, raw: Mapping[str, Any], problems: dict[str, str]) -> tuple[str | None, str | None]:
            where = f"events[{index}]"
            raw_email, raw_visitor = raw.get("email"), raw.get("visitor")
            if raw_email is None and raw_visitor is None:
                problems[where] = "Name the lead: give its email, or the visitor token of its browser."
                return None, None
            email = email_of(raw_email) if raw_email is not None else None
            if raw_email is not None and email is None:
                problems[f"{where}.email"] = "Not a valid e-mail address."
            visitor = self.tokens.read_visitor(raw_visitor, now) if raw_visitor is not None else None
            if raw_visitor is not None and visitor is None:
                problems[f"{where}.visitor"] = "Not a valid visitor token (or it has expired)."
            return visitor, email

        known = self.catalog.event_types(caller.site_id)
        events, _ = read_batch(body, now=now, known_types=known, who=who, browser=False)
        return self._store(caller.site_id, events, now, "api")

    def _store(self, site_id: int, events: list[IncomingEvent], now: datetime, source: str) -> Stored:
        models = self.catalog.scoring_model
        return self.db.run(
            lambda connection: store_events(connection, site_id, events, now=now, source=source, models=models)
        )
