"""A render ticket carries one submission, once.

The ticket's id is written to ``used_tickets`` in the answers' own transaction,
first, so a second use of it (a replay, a double click, a script) finds the row
and stores nothing. On PostgreSQL a second use racing the first waits on the
primary key until the first commits or rolls back, so exactly one of them stores.

A second use that carries the *same* submission is a retry after a lost answer
(a network failure between the visitor and us): it gets the first use's result
again. Any other second use is refused with ``ticket_used`` (409).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from capture.db import direct
from capture.db.engine import Database
from capture.db.models import UsedTicket
from capture.db.upserts import by_dialect, upsert
from capture.web.errors import Refused

_used = UsedTicket.__table__


@dataclass(frozen=True)
class TicketUse:
    """One submission carried by a ticket: what is recorded, and what a retry is compared with."""

    ticket_id: str
    #: the submission's digest (:func:`submission_digest`)
    submission: str
    #: how many answers it stores
    stored: int
    used_at: datetime


class TicketUsed(Exception):
    """The ticket already carried a submission (raised inside the transaction, which then rolls back)."""


def submission_digest(body: Mapping[str, Any]) -> str:
    """The same submission sent twice has the same digest, whatever the order of its keys."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


#: a use is stored as it is: each of its fields is the column of that name
_USE = tuple(field.name for field in fields(TicketUse))


@by_dialect
def _insert_once(connection: Connection) -> Any:
    # RETURNING tells whether the row went in (psycopg reports no row count for an INSERT through SQLAlchemy)
    # (run by capture/db/direct.py, which binds only the parameters a statement names)
    statement = upsert(connection, _used).values({name: bindparam(name, type_=_used.c[name].type) for name in _USE})
    return statement.on_conflict_do_nothing(index_elements=["ticket_id"]).returning(_used.c.ticket_id)


_FORGET = delete(_used).where(_used.c.used_at < bindparam("before", type_=_used.c.used_at.type))


def use_ticket(connection: Connection, use: TicketUse) -> None:
    """Record the ticket as used, in the caller's transaction; :class:`TicketUsed` if it already was."""
    values = {name: getattr(use, name) for name in _USE}
    if not direct.rows(connection, _insert_once(connection), values):
        raise TicketUsed(use.ticket_id)


def forget_used(connection: Connection, before: datetime) -> int:
    """Drop the uses older than ``before``: their tickets have expired, so no one can use them again."""
    return int(connection.execute(_FORGET, {"before": before}).rowcount)


def earlier_result(db: Database, use: TicketUse) -> int:
    """How many answers the ticket's first use stored, when ``use`` is a retry of it; else ``ticket_used``."""
    with db.read_connection() as connection:
        first = connection.execute(
            select(_used.c.submission, _used.c.stored).where(_used.c.ticket_id == use.ticket_id)
        ).first()
    if first is None or first.submission != use.submission:
        raise Refused(
            409,
            "ticket_used",
            "This form was already sent; reload it to answer the next questions.",
        )
    return int(first.stored)
