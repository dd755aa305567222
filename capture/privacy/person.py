"""Who a data-subject request is about, and where that person's data lies.

A person is more than one ``leads`` row: leads merged into another are husks of it, each
browser is a ``visitors`` row, and a browser that typed the person's address keeps its own
lead with an ``email_claims`` row until the address is confirmed. An export that missed
one of those would be incomplete; an erasure that missed one would leave the address behind.
So the person is gathered here once, and every table is either named in :data:`WHERE` (with
how its rows belong to a person) or in :data:`NOT_PERSONAL` (with why not) — a test
fails when a new table is in neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, or_, select

from capture.db.models import (
    Answer,
    BehaviourEvent,
    ConsentRecord,
    Delivery,
    DeliveryAttempt,
    EmailClaim,
    Lead,
    MailOutbox,
    SalesOutcome,
    ScoreChange,
    SnoozedQuestion,
    Visitor,
)
from capture.qualifying.outcomes import resolve_lead


class NoSuchPerson(LookupError):
    """No lead, browser or address matches what the request named (or it is another site's)."""


@dataclass(frozen=True)
class Who:
    """What a request names a person by: one of an address, a lead id or a browser's visitor id."""

    email: str | None = None
    lead_id: int | None = None
    visitor_id: str | None = None


@dataclass(frozen=True)
class Person:
    #: the surviving lead first, then every lead merged into it or that claimed one of its addresses
    lead_ids: tuple[int, ...]
    visitor_ids: tuple[str, ...]
    #: the addresses the person's leads hold (lower-cased)
    emails: tuple[str, ...]

    @property
    def lead_id(self) -> int:
        return self.lead_ids[0]


def find_person(connection: Connection, who: Who, site_id: int | None = None) -> Person:
    """The person ``who`` names; ``site_id``: only if the person's lead is that site's.

    Another site's person is refused like an unknown one, so a site's token learns nothing
    about the installation's other sites.
    """
    start: int | None = None
    address = who.email.strip().lower() if who.email else None
    if who.visitor_id is not None:
        start = connection.execute(select(Visitor.lead_id).where(Visitor.id == who.visitor_id)).scalar()
        start = resolve_lead(connection, start) if start is not None else None
    elif who.lead_id is not None or address is not None:
        start = resolve_lead(connection, who.lead_id, address)
        if start is None and address is not None:  # only ever claimed: the claimant's lead
            claimant = connection.execute(
                select(EmailClaim.lead_id).where(EmailClaim.email == address).order_by(EmailClaim.id).limit(1)
            ).scalar()
            start = resolve_lead(connection, claimant) if claimant is not None else None
    if start is None:
        raise NoSuchPerson("no lead has that e-mail address, id or browser")
    if site_id is not None and connection.execute(select(Lead.site_id).where(Lead.id == start)).scalar() != site_id:
        raise NoSuchPerson("no lead has that e-mail address, id or browser")
    return _gather(connection, start, address)


def _gather(connection: Connection, start: int, address: str | None) -> Person:
    """Close over merges and claims until nothing new turns up."""
    leads: list[int] = [start]
    emails: set[str] = {address} if address else set()
    frontier = {start}
    while frontier:
        found = set(connection.scalars(select(Lead.id).where(Lead.merged_into_id.in_(frontier))))
        emails |= {e for e in connection.scalars(select(Lead.email).where(Lead.id.in_(frontier))) if e}
        if emails:
            found |= set(connection.scalars(select(EmailClaim.lead_id).where(EmailClaim.email.in_(emails))))
        frontier = found - set(leads)
        leads.extend(sorted(frontier))
    visitors = connection.scalars(select(Visitor.id).where(Visitor.lead_id.in_(leads)).order_by(Visitor.id))
    return Person(tuple(leads), tuple(visitors), tuple(sorted(emails)))


def _none() -> ColumnElement[bool]:
    return false()


def _in(column: Any, values: tuple[Any, ...]) -> ColumnElement[bool]:
    """``column IN values``, and plain false for no values (an empty IN is not portable)."""
    return column.in_(values) if values else _none()


#: Every table that can hold a person's data, with which of its rows are that person's, in an
#: order rows can be deleted in (what refers to a row goes before it).
WHERE: dict[str, Callable[[Person], ColumnElement[bool]]] = {
    "delivery_attempts": lambda p: DeliveryAttempt.delivery_id.in_(
        select(Delivery.id).where(_in(Delivery.lead_id, p.lead_ids)).scalar_subquery()
    ),
    "deliveries": lambda p: _in(Delivery.lead_id, p.lead_ids),
    "sales_outcomes": lambda p: _in(SalesOutcome.lead_id, p.lead_ids),
    "score_changes": lambda p: _in(ScoreChange.lead_id, p.lead_ids),
    "events": lambda p: or_(_in(BehaviourEvent.lead_id, p.lead_ids), _in(BehaviourEvent.visitor_id, p.visitor_ids)),
    "email_claims": lambda p: or_(_in(EmailClaim.lead_id, p.lead_ids), _in(EmailClaim.email, p.emails)),
    "snoozes": lambda p: _in(SnoozedQuestion.lead_id, p.lead_ids),
    "answers": lambda p: _in(Answer.lead_id, p.lead_ids),
    "consent_records": lambda p: or_(
        _in(ConsentRecord.lead_id, p.lead_ids), _in(ConsentRecord.visitor_id, p.visitor_ids)
    ),
    "visitors": lambda p: _in(Visitor.lead_id, p.lead_ids),
    # mails are queued to an address and carry nothing else of the person's
    "mail_outbox": lambda p: _in(MailOutbox.to, p.emails),
    "leads": lambda p: _in(Lead.id, p.lead_ids),
}

#: Tables that hold no lead's or visitor's data, and why.
NOT_PERSONAL: dict[str, str] = {
    "sites": "the sites that embed forms",
    "forms": "a site's forms",
    "sequence_versions": "the question sequences as published",
    "sequence_drafts": "the question sequences as marketers edit them",
    "scoring_models": "the scoring models as published",
    "routing_versions": "the routing rules as published",
    "team_turns": "round-robin positions of sales teams",
    "webhook_endpoints": "where hand-offs go",
    "api_tokens": "the sites' back ends' tokens",
    "used_tickets": "a ticket's random id and a digest of its submission, deleted once the ticket expires",
    "rate_limit_counters": "request counts under keyed, daily-rotated digests of client addresses",
    "users": "the workbench's own users (staff, not leads)",
    "sign_in_failures": "refused workbench sign-ins, under keyed digests of client addresses",
    "erasures": "the record that an erasure happened, with no personal data",
}
