"""A person's standing per consent purpose: the newest record of each, read by whoever must honour it.

Apart from recording (capture/privacy/consent.py) so that what reads a standing — the events
route, a hand-off telling sales what it may do — need not depend on how consent is given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select

from capture.db import direct
from capture.db.models import ConsentRecord, Visitor

_records, _visitors = ConsentRecord.__table__, Visitor.__table__

#: what a person can agree to separately (GDPR recital 32: consent per purpose)
PURPOSES = ("marketing_email", "behaviour_tracking", "profiling")


@dataclass(frozen=True)
class ConsentStanding:
    """A purpose's newest record: ``granted``, ``withdrawn`` or ``pending`` (waiting for its link)."""

    status: str
    version: str
    source: str
    recorded_at: datetime
    #: the record it comes from (a pending one is what its link names)
    record_id: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "version": self.version,
            "source": self.source,
            "recorded_at": self.recorded_at.isoformat(),
        }


#: a consent question's field, when it names a purpose (the examples' ``marketing_consent`` among them)
FIELD_PURPOSES = {
    **{purpose: purpose for purpose in PURPOSES},
    "marketing_consent": "marketing_email",
    "tracking_consent": "behaviour_tracking",
    "profiling_consent": "profiling",
}


def purpose_of_field(field: str) -> str | None:
    """The purpose a consent question records (None: its answer is kept, no consent record)."""
    return FIELD_PURPOSES.get(field)


def standing_of(rows: Iterable[Sequence[Any]]) -> dict[str, ConsentStanding]:
    """The newest record per purpose, from rows ordered oldest first."""
    return {
        purpose: ConsentStanding(status, version, source, at, id_) for id_, purpose, status, version, source, at in rows
    }


_COLUMNS = (
    _records.c.id, _records.c.purpose, _records.c.status, _records.c.version, _records.c.source,
    _records.c.recorded_at,
)  # fmt: skip
_ORDER = (_records.c.recorded_at, _records.c.id)
_LEAD_OF_VISITOR = select(_visitors.c.lead_id).where(_visitors.c.id == bindparam("visitor_id"))
_OF_VISITOR = select(*_COLUMNS).where(_records.c.visitor_id == bindparam("visitor_id")).order_by(*_ORDER)
_OF_LEAD = (
    select(*_COLUMNS)
    .where(
        or_(
            _records.c.lead_id == bindparam("lead_id"),
            _records.c.visitor_id.in_(select(_visitors.c.id).where(_visitors.c.lead_id == bindparam("browsers_of"))),
        )
    )
    .order_by(*_ORDER)
)


def lead_of_visitor(connection: Connection, visitor_id: str) -> int | None:
    row = connection.execute(_LEAD_OF_VISITOR, {"visitor_id": visitor_id}).first()
    return int(row.lead_id) if row is not None else None


def visitor_standing(connection: Connection, visitor_id: str) -> dict[str, ConsentStanding]:
    """What a browser's person has decided: its own records and, once it has a lead, the lead's."""
    lead_id = lead_of_visitor(connection, visitor_id)
    if lead_id is not None:
        return lead_standing(connection, lead_id)
    return standing_of(connection.execute(_OF_VISITOR, {"visitor_id": visitor_id}).all())


def lead_standing(connection: Connection, lead_id: int) -> dict[str, ConsentStanding]:
    """A lead's standing per purpose: its records and those of every browser that is now its."""
    return standing_of(direct.rows(connection, _OF_LEAD, {"lead_id": lead_id, "browsers_of": lead_id}))


def tracking_allowed(policy: str, standing: Mapping[str, ConsentStanding]) -> bool:
    """Whether behaviour may be recorded: under "required" only after a grant; otherwise until a withdrawal."""
    tracking = standing.get("behaviour_tracking")
    if policy == "required":
        return tracking is not None and tracking.status == "granted"
    return tracking is None or tracking.status != "withdrawn"


def profiling_stopped(connection: Connection, lead_id: int) -> bool:
    """Whether the lead withdrew consent to profiling: its score is then left as it was, never computed again.

    Scoring a lead's answers and behaviour is profiling (GDPR art. 4(4)); a withdrawal stops it from then on.
    """
    profiling = lead_standing(connection, lead_id).get("profiling")
    return profiling is not None and profiling.status == "withdrawn"


def stopped_profiling_among(connection: Connection, first: int, last: int) -> set[int]:
    """Of the leads with ids ``first``..``last``, those whose newest profiling decision is a withdrawal."""
    lead = func.coalesce(_records.c.lead_id, _visitors.c.lead_id)
    rows = connection.execute(
        select(lead, _records.c.status)
        .select_from(_records.outerjoin(_visitors, _visitors.c.id == _records.c.visitor_id))
        .where(_records.c.purpose == "profiling", lead.between(first, last))
        .order_by(_records.c.recorded_at, _records.c.id)
    )
    newest = {lead_id: status for lead_id, status in rows}
    return {lead_id for lead_id, status in newest.items() if status == "withdrawn"}
