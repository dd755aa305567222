"""Sales feedback: what sales did with a lead (accepted, rejected, won…), reported back by a CRM.

Every outcome is kept, with when it happened, who reported it and the lead's
stage and score at that moment (the calibration report compares those with
what sales decided). The latest outcome (by ``at``) is also kept on the lead.
A rejection gives the lead back to marketing: it is recycled to nurturing and
the hand-off endpoints hear ``lead.recycled``, in the same transaction.

A batch is checked whole and stored whole, or not at all, like events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from capture.behaviour.events import email_of, reported_time
from capture.db.engine import Database
from capture.db.models import Lead, SalesOutcome, ScoreChange
from capture.leads.claims import email_standing
from capture.sites.api_tokens import Caller
from capture.timestamps import iso
from capture.web.errors import Refused, invalid
from scoring.lifecycle import LifecycleStage

OUTCOMES = ("accepted", "rejected", "opportunity", "won", "lost")
REASONS = ("bad_fit", "no_budget", "not_reachable", "no_need", "timing", "competitor", "other")
#: outcomes that mean sales took the lead (for calibration, and they hold its stage)
ACCEPTED = frozenset({"accepted", "opportunity", "won"})
MAX_BATCH = 100
MAX_NOTE = 1000

_leads, _outcomes, _changes = Lead.__table__, SalesOutcome.__table__, ScoreChange.__table__


@dataclass(frozen=True)
class IncomingOutcome:
    #: where it sits in the batch, to name it in errors
    index: int
    lead_id: int | None
    email: str | None
    outcome: str
    reason: str | None
    note: str | None
    at: datetime


def read_outcomes(body: Mapping[str, Any], now: datetime) -> list[IncomingOutcome]:
    """Check every outcome of a batch; refuse the whole batch naming each bad field."""
    raw_items = body.get("outcomes")
    if not isinstance(raw_items, list) or not raw_items:
        raise invalid("invalid_body", "outcomes must be a non-empty list", {"outcomes": "Must be a non-empty list."})
    if len(raw_items) > MAX_BATCH:
        raise Refused(
            413,
            "batch_too_large",
            f"Send at most {MAX_BATCH} outcomes per request.",
            {"outcomes": "Too many outcomes."},
        )
    problems: dict[str, str] = {}
    items: list[IncomingOutcome] = []
    for index, raw in enumerate(raw_items):
        where = f"outcomes[{index}]"
        if not isinstance(raw, dict):
            problems[where] = "Must be an object."
            continue
        before = len(problems)
        lead_id, email = _who(raw, where, problems)
        outcome = raw.get("outcome")
        if not isinstance(outcome, str) or outcome not in OUTCOMES:
            problems[f"{where}.outcome"] = f"Must be one of {', '.join(OUTCOMES)}."
        reason = raw.get("reason")
        if reason is not None and (not isinstance(reason, str) or reason not in REASONS):
            problems[f"{where}.reason"] = f"Must be one of {', '.join(REASONS)}."
        elif outcome == "rejected" and reason is None:
            problems[f"{where}.reason"] = "A rejection needs a reason."
        elif reason is not None and outcome in OUTCOMES and outcome not in ("rejected", "lost"):
            problems[f"{where}.reason"] = "Only a rejected or lost lead has a reason."
        note = raw.get("note")
        if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
            problems[f"{where}.note"] = f"Must be text of at most {MAX_NOTE} characters."
        at = reported_time(raw.get("at"), now, f"{where}.at", problems)
        if len(problems) == before and at is not None:
            items.append(IncomingOutcome(index, lead_id, email, outcome, reason, note or None, at))  # type: ignore[arg-type]
    if problems:
        raise invalid("invalid_outcomes", "Some outcomes cannot be stored; nothing from this batch was.", problems)
    return items


def _who(raw: Mapping[str, Any], where: str, problems: dict[str, str]) -> tuple[int | None, str | None]:
    raw_lead, raw_email = raw.get("lead"), raw.get("email")
    if (raw_lead is None) == (raw_email is None):
        problems[where] = "Name the lead: give its id as lead, or its email (one of them)."
        return None, None
    if raw_lead is not None:
        if isinstance(raw_lead, bool) or not isinstance(raw_lead, int) or not 0 < raw_lead < 2**31:
            problems[f"{where}.lead"] = "Must be a lead id (a positive whole number)."
            return None, None
        return raw_lead, None
    email = email_of(raw_email)
    if email is None:
        problems[f"{where}.email"] = "Not a valid e-mail address."
    return None, email


_LEAD_COLUMNS = (
    _leads.c.id,
    _leads.c.merged_into_id,
    _leads.c.stage,
    _leads.c.score,
    _leads.c.fit,
    _leads.c.engagement,
    _leads.c.scoring_model_id,
    _leads.c.sales_outcome_at,
)


def resolve_site_lead(
    connection: Connection, site_id: int, lead_id: int | None, email: str | None = None
) -> int | None:
    """The lead named by id or e-mail, if it belongs to ``site_id``; None for an unknown lead *and* another site's.

    This scope check is what keeps a token inside its site: a token of site B
    that names a lead of site A (by a guessed id or a known e-mail) learns
    nothing more than from an id that does not exist. A lead of no site (one
    from before leads had sites, that never answered a form) belongs to no token.
    """
    resolved = resolve_lead(connection, lead_id, email)
    if resolved is None:
        return None
    owner = connection.execute(select(_leads.c.site_id).where(_leads.c.id == resolved)).scalar()
    return resolved if owner == site_id else None


def resolve_lead(connection: Connection, lead_id: int | None, email: str | None = None) -> int | None:
    """The lead named by id or e-mail (a merged lead leads to its survivor), or None."""
    if lead_id is None:
        lead_id = connection.execute(select(_leads.c.id).where(_leads.c.email == email)).scalar()
    seen: set[int] = set()
    while lead_id is not None and lead_id not in seen:
        seen.add(lead_id)
        survivor = connection.execute(select(_leads.c.merged_into_id).where(_leads.c.id == lead_id)).first()
        if survivor is None:
            return None
        if survivor.merged_into_id is None:
            return lead_id
        lead_id = survivor.merged_into_id
    return None


def store_outcomes(connection: Connection, caller: Caller, items: list[IncomingOutcome], now: datetime) -> int:
    """Store a checked batch in the caller's transaction; an unknown lead, or another site's, refuses it all (422)."""
    resolved: dict[int, int] = {}
    unknown: dict[str, str] = {}
    for item in items:
        lead_id = resolve_site_lead(connection, caller.site_id, item.lead_id, item.email)
        if lead_id is None:
            where = f"outcomes[{item.index}]." + ("lead" if item.lead_id is not None else "email")
            unknown[where] = (
                f"No lead has the {'id' if item.lead_id is not None else 'e-mail'} {item.lead_id or item.email}."
            )
        else:
            resolved[item.index] = lead_id
    if unknown:
        raise invalid(
            "invalid_outcomes", "Some outcomes name no known lead; nothing from this batch was stored.", unknown
        )
    locked = connection.dialect.name == "postgresql"
    for lead_id in sorted(set(resolved.values())):  # lock in a fixed order, so two batches never deadlock
        if locked:
            connection.execute(select(_leads.c.id).where(_leads.c.id == lead_id).with_for_update())
    for item in items:
        record_outcome(connection, resolved[item.index], item, caller.token_id, now)
    return len(items)


def record_outcome(
    connection: Connection, lead_id: int, item: IncomingOutcome, token_id: int | None, now: datetime
) -> None:
    """Keep one outcome; when it is the lead's latest, it becomes the lead's, and a rejection recycles it."""
    lead = connection.execute(select(*_LEAD_COLUMNS).where(_leads.c.id == lead_id)).one()
    connection.execute(
        insert(SalesOutcome).values(
            lead_id=lead_id,
            outcome=item.outcome,
            reason=item.reason,
            note=item.note,
            at=item.at,
            received_at=now,
            token_id=token_id,
            stage=lead.stage,
            score=lead.score,
        )
    )
    if lead.sales_outcome_at is not None and item.at < lead.sales_outcome_at:
        return  # an older report arriving late: kept, but the lead already has a newer word from sales
    connection.execute(
        update(Lead).where(_leads.c.id == lead_id).values(sales_outcome=item.outcome, sales_outcome_at=item.at)
    )
    if item.outcome == "rejected" and lead.stage != LifecycleStage.RECYCLED:
        recycle(connection, lead, now)


def recycle(connection: Connection, lead: Any, now: datetime) -> None:
    """Give a lead back to marketing: stage recycled, recorded in its history, announced to sales' systems."""
    connection.execute(
        update(Lead).where(_leads.c.id == lead.id).values(stage=LifecycleStage.RECYCLED.value, stage_changed_at=now)
    )
    if lead.scoring_model_id is not None:  # never scored: there is no score history to add to
        connection.execute(
            insert(ScoreChange).values(
                lead_id=lead.id,
                scoring_model_id=lead.scoring_model_id,
                at=now,
                fit=lead.fit,
                engagement=lead.engagement,
                score=lead.score,
                stage_before=lead.stage,
                stage=LifecycleStage.RECYCLED.value,
                cause="sales",
            )
        )
    from capture.handoff.outbox import enqueue

    enqueue(connection, lead.id, "lead.recycled", now)


class Outcomes:
    """The door for sales feedback from a CRM, with an API token of the ``sales`` scope."""

    def __init__(self, db: Database):
        self.db = db

    def record(self, caller: Caller, body: Mapping[str, Any], now: datetime) -> int:
        items = read_outcomes(body, now)
        return self.db.run(lambda connection: store_outcomes(connection, caller, items, now))


def lead_for_sales(db: Database, caller: Caller, lead_id: int) -> dict[str, Any]:
    """What a CRM wants to know about a lead: its stage, scores and why, owner, and sales' outcomes.

    A merged lead answers with the lead it was merged into (its ``id`` says which).
    Another site's lead answers 404 like a missing one (not 403, which would
    tell a guesser the id exists).
    """
    if not 0 < lead_id < 2**31:
        raise Refused(404, "lead_not_found", "No lead has this id.")
    with db.read_connection() as connection:
        resolved = resolve_site_lead(connection, caller.site_id, lead_id)
        if resolved is None:
            raise Refused(404, "lead_not_found", "No lead has this id.")
        lead = connection.execute(select(Lead.__table__).where(_leads.c.id == resolved)).one()
        trust = email_standing(connection, lead.id, lead.email_confirmed_at, _iso)
        outcomes = connection.execute(
            select(_outcomes.c.outcome, _outcomes.c.reason, _outcomes.c.note, _outcomes.c.at, _outcomes.c.received_at)
            .where(_outcomes.c.lead_id == resolved)
            .order_by(_outcomes.c.at, _outcomes.c.id)
        ).all()
    explanation = lead.explanation or {}
    return {
        "id": lead.id,
        "email": lead.email,
        **trust,
        "stage": lead.stage,
        "stage_changed_at": _iso(lead.stage_changed_at),
        "score": lead.score,
        "fit": lead.fit,
        "intent": explanation.get("intent", 0.0),
        "engagement": lead.engagement,
        "completeness": lead.completeness,
        "scored_at": _iso(lead.scored_at),
        "explanation": {
            "disqualified": list(explanation.get("disqualified", [])),
            "contributions": [
                {key: item.get(key) for key in ("rule", "label", "group", "points", "detail")}
                for item in explanation.get("contributions", [])
            ],
        },
        "owner": lead.owner,
        "sales_outcome": lead.sales_outcome,
        "sales_outcome_at": _iso(lead.sales_outcome_at),
        "sales_outcomes": [
            {
                "outcome": row.outcome,
                "reason": row.reason,
                "note": row.note,
                "at": _iso(row.at),
                "received_at": _iso(row.received_at),
            }
            for row in outcomes
        ],
    }


def _iso(value: datetime | None) -> str | None:
    return iso(value, zulu=True)
