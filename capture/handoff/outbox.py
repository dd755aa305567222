"""Hand-offs into the outbox: which lead changes sales hears about, and the whole story each carries.

:func:`enqueue` runs inside the transaction that changed the lead, so the
delivery rows exist exactly when the change does (a transactional outbox).
The payload is a snapshot taken there and then: what the lead looked like when
it crossed the threshold, whatever happens to it before the worker sends it.
The worker (capture/handoff/worker.py) signs and delivers them.

Every hand-off of a lead carries the lead's next ``sequence`` number (its copies
to several endpoints share it), so a receiver can order a lead's messages
whatever retries did to their arrival. High-intent behaviour of a lead sales
already has is announced as a ``lead.updated`` (:func:`announce_high_intent`),
at most one per lead and endpoint per :data:`UPDATE_WINDOW`: what happens
while one waits joins it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from capture.db import direct
from capture.db.models import (
    Answer,
    BehaviourEvent,
    Delivery,
    Form,
    Lead,
    RoutingVersion,
    ScoringModelVersion,
    SequenceVersion,
    TeamTurn,
    WebhookEndpoint,
)
from capture.db.upserts import by_dialect, upsert
from capture.handoff.endpoints import EVENT_TYPES
from capture.leads import profile_doc
from capture.leads.claims import email_standing
from capture.privacy.standing import lead_standing, purpose_of_field
from capture.timestamps import iso
from scoring.inputs import Event, Profile
from scoring.routing import Routing, parse_routing, route

#: the stage whose reaching is announced, by stage
ANNOUNCED = {"mql": "lead.mql", "sql": "lead.sql"}
#: how many of the latest behaviour events a hand-off carries
RECENT_EVENTS = 20
#: outcomes after which sales owns the lead's stage: decay does not take it back
HELD_OUTCOMES = frozenset({"accepted", "opportunity", "won"})
#: at most one high-intent ``lead.updated`` per lead and endpoint in this time: a burst is one message
UPDATE_WINDOW = timedelta(minutes=5)
#: the most high-intent events one ``lead.updated`` lists (the oldest give way)
MAX_HIGH_INTENT = 50

_endpoints, _deliveries = WebhookEndpoint.__table__, Delivery.__table__
_leads, _answers, _events = Lead.__table__, Answer.__table__, BehaviourEvent.__table__

#: read on every hand-off, also the live path's (an answer from an MQL lead)
_SUBSCRIBED = select(_endpoints.c.id, _endpoints.c.events).where(_endpoints.c.enabled.is_(True))


def new_message_id() -> str:
    """The webhook-id of a hand-off: random, and the same on every retry."""
    return "msg_" + secrets.token_urlsafe(24)


def hand_off(connection: Connection, changes: list[tuple[int, str, datetime]]) -> int:
    """Leads reached a stage sales wants (or changed while sales has them): give each an owner, then enqueue.

    ``changes`` are (lead, event type, when). The endpoints are read once for
    the lot, the routing only when some lead reached MQL or SQL, and the owners
    are chosen for all those leads together, so a bulk re-score pays a few
    queries per batch, not per lead.
    """
    if not changes:
        return 0
    endpoints = subscribed(connection)
    qualified = [lead_id for lead_id, event_type, _ in changes if event_type in ("lead.mql", "lead.sql")]
    wanted = {event for _, events in endpoints for event in events}
    if not qualified and not any(event_type in wanted for _, event_type, _ in changes):
        return 0  # e.g. new answers from an MQL lead, and no endpoint wants lead.updated
    if qualified:
        routing = live_routing(connection)
        if routing is not None:
            assign_owners(connection, qualified, routing)
    queued = 0
    for lead_id, event_type, now in changes:
        queued += enqueue(connection, lead_id, event_type, now, endpoints)
    return queued


def subscribed(connection: Connection) -> list[tuple[int, list[str]]]:
    """The enabled endpoints and the events each wants."""
    return [(endpoint, list(events or [])) for endpoint, events in direct.rows(connection, _SUBSCRIBED, {})]


_LIVE_ROUTING = select(RoutingVersion.document).order_by(RoutingVersion.version.desc()).limit(1)


def live_routing(connection: Connection) -> Routing | None:
    document = connection.execute(_LIVE_ROUTING).scalar()
    if document is None:
        return None
    return _parsed_routing(json.dumps(document, sort_keys=True))


@lru_cache(maxsize=8)
def _parsed_routing(document: str) -> Routing:
    """A routing document parsed once (keyed by its text: it is read on every hand-off)."""
    return parse_routing(json.loads(document))


@by_dialect
def _take_turns(connection: Connection) -> Any:
    """Count ``turns`` more turns for a team and hand back the new count: one statement, so two
    transactions handing off to one team never share a turn."""
    table = TeamTurn.__table__
    statement = upsert(connection, table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.team], set_={"turns": table.c.turns + statement.excluded.turns}
    ).returning(table.c.turns)


#: leads per IN list (SQLite allows 32,766 bound values a statement; a batch may be larger)
_CHUNK = 1000
_SET_OWNER = update(_leads).where(_leads.c.id == bindparam("lead_id")).values(owner=bindparam("owner"))


def assign_owners(connection: Connection, lead_ids: list[int], routing: Routing) -> dict[int, str | None]:
    """Give each lead without one its responsible salesperson, by ``routing``; an owner, once set, stays.

    Returns every lead's owner afterwards (None: the routing names nobody for it). Team
    turns go to the leads in the order given, as if each had taken its turn alone.
    """
    wanted = list(dict.fromkeys(lead_ids))
    owners: dict[int, str | None] = {}
    emails: dict[int, str | None] = {}
    for chunk in _chunks(wanted):
        for lead_id, email, owner in connection.execute(
            select(_leads.c.id, _leads.c.email, _leads.c.owner).where(_leads.c.id.in_(chunk))
        ):
            owners[lead_id] = owner
            emails[lead_id] = email
    unowned = [lead_id for lead_id in wanted if owners.get(lead_id, "") is None]
    if not unowned:
        return owners
    fields: dict[int, dict[str, Any]] = {lead_id: {} for lead_id in unowned}
    for chunk in _chunks(unowned):
        for lead_id, profile in connection.execute(select(_leads.c.id, _leads.c.profile).where(_leads.c.id.in_(chunk))):
            fields[lead_id] = profile_doc.values(profile)
    chosen: dict[int, str | None] = {}
    by_team: dict[str, list[int]] = {}
    for lead_id in unowned:
        assignment = route(routing, Profile(fields=fields[lead_id], email=emails[lead_id]))
        if assignment is None:
            continue
        if assignment.owner is None and assignment.team is not None:
            by_team.setdefault(assignment.team, []).append(lead_id)
        elif assignment.owner is not None:
            chosen[lead_id] = assignment.owner
    for team, members_leads in by_team.items():
        members = routing.teams[team]
        taken = len(members_leads)
        turns = connection.execute(_take_turns(connection), {"team": team, "turns": taken}).scalar_one()
        for offset, lead_id in enumerate(members_leads):
            chosen[lead_id] = members[(turns - taken + offset) % len(members)]
    if chosen:
        connection.execute(_SET_OWNER, [{"lead_id": lead_id, "owner": owner} for lead_id, owner in chosen.items()])
    owners.update(chosen)
    return owners


def _chunks(items: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def enqueue(
    connection: Connection,
    lead_id: int,
    event_type: str,
    now: datetime,
    endpoints: list[tuple[int, list[str]]] | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """Put a hand-off of ``lead_id`` for every enabled endpoint that wants ``event_type``; how many.

    Call it in the transaction that made the change. Endpoints that are
    disabled now get nothing (re-enabling does not replay the past: use replay).
    ``extra``: keys added to the payload's ``data`` beside the lead's story (what changed).
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown hand-off event {event_type!r}")
    if endpoints is None:
        endpoints = subscribed(connection)
    wanted = [endpoint_id for endpoint_id, events in endpoints if event_type in events]
    if not wanted:
        return 0
    sequence = next_sequence(connection, lead_id)
    payload = _payload(event_type, now, sequence, {**lead_story(connection, lead_id), **(extra or {})})
    return queue_message(connection, wanted, lead_id, payload, now)


def queue_message(
    connection: Connection, endpoint_ids: Sequence[int], lead_id: int | None, payload: dict[str, Any], now: datetime
) -> int:
    """Put one ready-made message (``type``, ``sequence``, ``data``…) in the outbox for each endpoint; how many.

    ``lead_id`` None: the message is about a lead that is gone (``lead.erased``).
    """
    if endpoint_ids:
        connection.execute(insert(_deliveries), [_delivery(e, lead_id, payload, now, now) for e in endpoint_ids])
    return len(endpoint_ids)


def _payload(event_type: str, now: datetime, sequence: int, story: dict[str, Any]) -> dict[str, Any]:
    return {"type": event_type, "timestamp": now.isoformat(), "sequence": sequence, "data": story}


def _delivery(
    endpoint_id: int, lead_id: int | None, payload: dict[str, Any], now: datetime, due: datetime
) -> dict[str, Any]:
    """A new delivery row of ``payload`` to one endpoint, first sent at ``due``."""
    return {
        "message_id": new_message_id(),
        "endpoint_id": endpoint_id,
        "lead_id": lead_id,
        "event_type": payload["type"],
        "payload": payload,
        "sequence": payload["sequence"],
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": due,
        "created_at": now,
    }


_LOCK_LEAD = select(_leads.c.id).where(_leads.c.id == bindparam("lead_id")).with_for_update()
_LAST_SEQUENCE = select(func.max(_deliveries.c.sequence)).where(_deliveries.c.lead_id == bindparam("lead_id"))


def next_sequence(connection: Connection, lead_id: int) -> int:
    """The lead's next hand-off number: one more than its last (1 for its first).

    The lead's row lock (PostgreSQL; the caller usually holds it already, having just
    scored the lead) keeps two transactions from numbering two hand-offs alike.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK_LEAD, {"lead_id": lead_id})
    return int(connection.execute(_LAST_SEQUENCE, {"lead_id": lead_id}).scalar() or 0) + 1


def event_json(event: Event) -> dict[str, Any]:
    """A behaviour event as hand-offs show it."""
    return {"type": event.type, "at": iso(event.at), "path": event.path, "props": dict(event.props or {})}


def announce_high_intent(connection: Connection, lead_id: int, events: Sequence[Event], now: datetime) -> int:
    """Tell sales that a lead it has (MQL or SQL) did something high-intent: a ``lead.updated`` whose
    ``data.high_intent`` lists those events, per endpoint that wants ``lead.updated``; how many were
    queued or refreshed.

    Debounced per lead and endpoint: a ``lead.updated`` of the lead that no worker has tried yet
    (and that is the newest message of the lead to that endpoint, so no order changes) absorbs the
    events, its snapshot taken again; otherwise a new one is queued, due no sooner than
    :data:`UPDATE_WINDOW` after the endpoint's previous ``lead.updated`` of the lead.
    """
    wanted = [endpoint_id for endpoint_id, kinds in subscribed(connection) if "lead.updated" in kinds]
    if not wanted or not events:
        return 0
    new = [event_json(event) for event in events]
    story = lead_story(connection, lead_id)
    fresh: list[int] = []
    for endpoint_id in wanted:
        if not _absorb(connection, lead_id, endpoint_id, story, new, now):
            fresh.append(endpoint_id)
    if fresh:
        payload = _payload("lead.updated", now, next_sequence(connection, lead_id), {**story, "high_intent": new})
        rows = [_delivery(e, lead_id, payload, now, _update_due(connection, lead_id, e, now)) for e in fresh]
        connection.execute(insert(_deliveries), rows)
    return len(wanted)


_NEWEST_TO_ENDPOINT = (
    select(_deliveries.c.id, _deliveries.c.event_type, _deliveries.c.payload)
    .where(
        _deliveries.c.lead_id == bindparam("lead_id"),
        _deliveries.c.endpoint_id == bindparam("endpoint_id"),
    )
    .order_by(_deliveries.c.id.desc())
    .limit(1)
)


def _absorb(
    connection: Connection,
    lead_id: int,
    endpoint_id: int,
    story: dict[str, Any],
    new: list[dict[str, Any]],
    now: datetime,
) -> bool:
    """Fold ``new`` events into the endpoint's waiting high-intent ``lead.updated`` of the lead, if it has one."""
    newest = connection.execute(_NEWEST_TO_ENDPOINT, {"lead_id": lead_id, "endpoint_id": endpoint_id}).first()
    if newest is None or newest.event_type != "lead.updated" or "high_intent" not in newest.payload.get("data", {}):
        return False
    listed = [*newest.payload["data"]["high_intent"], *new][-MAX_HIGH_INTENT:]
    payload = {**newest.payload, "timestamp": now.isoformat(), "data": {**story, "high_intent": listed}}
    # Only while no worker holds it nor has tried it: a claim taken meanwhile leaves this UPDATE nothing to do.
    changed = connection.execute(
        update(_deliveries)
        .where(
            _deliveries.c.id == newest.id,
            _deliveries.c.status == "pending",
            _deliveries.c.attempts == 0,
            or_(_deliveries.c.claimed_until.is_(None), _deliveries.c.claimed_until < now),
        )
        .values(payload=payload)
    )
    return changed.rowcount == 1


#: when the endpoint's latest lead.updated of the lead went (or is due to go)
_LAST_UPDATE = select(func.max(func.coalesce(_deliveries.c.delivered_at, _deliveries.c.next_attempt_at))).where(
    _deliveries.c.lead_id == bindparam("lead_id"),
    _deliveries.c.endpoint_id == bindparam("endpoint_id"),
    _deliveries.c.event_type == "lead.updated",
)


def _update_due(connection: Connection, lead_id: int, endpoint_id: int, now: datetime) -> datetime:
    """When a new ``lead.updated`` to this endpoint may go: now, or a window after the previous one."""
    last = connection.execute(_LAST_UPDATE, {"lead_id": lead_id, "endpoint_id": endpoint_id}).scalar()
    return now if last is None else max(now, last + UPDATE_WINDOW)


_LEAD = select(_leads).where(_leads.c.id == bindparam("lead_id"))
_ANSWERS = (
    select(
        _answers.c.field,
        _answers.c.value,
        _answers.c.skipped,
        _answers.c.question_key,
        Form.__table__.c.slug.label("form"),
        SequenceVersion.__table__.c.version.label("sequence_version"),
        _answers.c.page_url,
        _answers.c.locale,
        _answers.c.asked_at,
        _answers.c.answered_at,
        _answers.c.source,
        _answers.c.consent_text,
        _answers.c.consent_version,
    )
    .select_from(
        _answers.outerjoin(Form.__table__, Form.__table__.c.id == _answers.c.form_id).outerjoin(
            SequenceVersion.__table__, SequenceVersion.__table__.c.id == _answers.c.sequence_version_id
        )
    )
    .where(_answers.c.lead_id == bindparam("lead_id"))
    .order_by(_answers.c.answered_at, _answers.c.id)
)
_EVENTS = (
    select(_events.c.type, _events.c.at, _events.c.url, _events.c.props)
    .where(_events.c.lead_id == bindparam("lead_id"))
    .order_by(_events.c.at.desc(), _events.c.id.desc())
    .limit(RECENT_EVENTS)
)


def lead_story(connection: Connection, lead_id: int) -> dict[str, Any]:
    """Everything sales needs about a lead, as JSON: profile, answers with provenance, score and why, behaviour.

    The shape is documented in docs/webhooks.md and docs/webhook-payload.schema.json.
    """
    lead = connection.execute(_LEAD, {"lead_id": lead_id}).one()
    consents = lead_standing(connection, lead_id)
    profile = dict(sorted(profile_doc.values(lead.profile).items()))
    for field in profile:  # a consent answer counts only while its purpose is granted: a withdrawal is final
        purpose = purpose_of_field(field)
        if purpose in consents and consents[purpose].status != "granted":
            profile[field] = False
    model_version = None
    if lead.scoring_model_id is not None:
        model_version = connection.execute(
            select(ScoringModelVersion.version).where(ScoringModelVersion.id == lead.scoring_model_id)
        ).scalar()
    answers = [
        {
            "field": row.field,
            "value": None if row.skipped else row.value,
            "skipped": row.skipped,
            "question": row.question_key,
            "form": row.form,
            "sequence_version": row.sequence_version,
            "source": row.source,
            "page_url": row.page_url,
            "locale": row.locale,
            "asked_at": iso(row.asked_at),
            "answered_at": iso(row.answered_at),
            **({"consent_text": row.consent_text, "consent_version": row.consent_version} if row.consent_text else {}),
        }
        for row in connection.execute(_ANSWERS, {"lead_id": lead_id})
    ]
    events = [
        {"type": row.type, "at": iso(row.at), "url": row.url, "props": row.props or {}}
        for row in connection.execute(_EVENTS, {"lead_id": lead_id})
    ]
    explanation = lead.explanation or {}
    return {
        "lead": {
            "id": lead.id,
            "email": lead.email,
            **email_standing(connection, lead.id, lead.email_confirmed_at, iso),
            "created_at": iso(lead.created_at),
            "last_seen_at": iso(lead.last_seen_at),
            "owner": lead.owner,
            "stage": lead.stage,
            "stage_changed_at": iso(lead.stage_changed_at),
            "sales_outcome": lead.sales_outcome,
            "profile": profile,
            "consents": {purpose: standing.as_json() for purpose, standing in sorted(consents.items())},
        },
        "score": {
            "total": lead.score,
            "fit": lead.fit,
            "intent": explanation.get("intent", 0.0),
            "engagement": lead.engagement,
            "completeness": lead.completeness,
            "model_version": model_version,
            "scored_at": iso(lead.scored_at),
            "disqualified": explanation.get("disqualified", []),
            "contributions": explanation.get("contributions", []),
        },
        "answers": answers,
        "events": events,
    }
