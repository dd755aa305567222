"""Erasure (GDPR art. 17): a person's rows deleted from every table, in one transaction, leaving no trace.

What stays is an ``erasures`` row that says an erasure happened and how many rows each
table lost, and a ``lead.erased`` message for the CRMs that received the lead, so they can
erase their copy. Both name the erasure by a random id; neither holds anything of the person.

On SQLite a deleted row's bytes would otherwise linger in free pages and in the write-ahead
log: every connection runs with ``secure_delete`` (capture/db/engine.py), which overwrites
them, and :func:`scrub_sqlite_log` empties the log once the erasure is committed.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select

from capture.db.models import Base, Delivery, Erasure
from capture.handoff.outbox import next_sequence, queue_message, subscribed
from capture.privacy.person import WHERE, Person

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Erased:
    id: str
    at: datetime
    #: rows deleted, by table (tables that had none are left out)
    rows: dict[str, int]
    #: ``lead.erased`` messages queued
    webhooks: int

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at.isoformat(), "rows": self.rows, "webhooks": self.webhooks}


def erase(connection: Connection, people: Sequence[Person], now: datetime, via: str) -> Erased:
    """Delete everything of ``people`` in the caller's transaction; one audit row for them all."""
    erasure_id = secrets.token_hex(16)
    webhooks = sum(_announce(connection, person, erasure_id, now) for person in people)
    rows: dict[str, int] = {}
    for name, where in WHERE.items():
        table = Base.metadata.tables[name]
        deleted = connection.execute(delete(table).where(or_(*(where(person) for person in people)))).rowcount
        if deleted:
            rows[name] = deleted
    connection.execute(insert(Erasure).values(id=erasure_id, at=now, via=via, rows=rows, webhooks=webhooks))
    # what an operator needs to see it done, and nothing of whom it concerned
    log.info("erasure %s (%s): %d rows, %d lead.erased queued", erasure_id, via, sum(rows.values()), webhooks)
    return Erased(erasure_id, now, rows, webhooks)


def _announce(connection: Connection, person: Person, erasure_id: str, now: datetime) -> int:
    """``lead.erased`` to every enabled endpoint that was sent this person, or that asks for erasures.

    An endpoint that received the lead holds a copy whether or not it subscribed to erasures;
    receivers ignore message types they do not know, so telling it costs nothing.
    """
    received = set(connection.scalars(select(Delivery.endpoint_id).where(Delivery.lead_id.in_(person.lead_ids))))
    wanted = [
        endpoint for endpoint, events in subscribed(connection) if endpoint in received or "lead.erased" in events
    ]
    if not wanted:
        return 0
    payload = {
        "type": "lead.erased",
        "timestamp": now.isoformat(),
        "sequence": next_sequence(connection, person.lead_id),
        "data": {
            "lead": {"id": person.lead_id, "merged_ids": list(person.lead_ids[1:])},
            "erasure": {"id": erasure_id, "at": now.isoformat()},
        },
    }
    return queue_message(connection, wanted, None, payload, now)


def scrub_sqlite_log(connection: Connection) -> bool:
    """Copy the write-ahead log back and truncate it, so no erased bytes stay in it; False if a reader held it."""
    if connection.dialect.name != "sqlite":
        return True
    busy, _log, _copied = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
    return not busy
