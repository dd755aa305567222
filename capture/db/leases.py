"""Leasing an outbox's due rows to one worker at a time (webhook deliveries, mails: models.base.Leased).

A worker takes due rows in a short transaction and holds each until its lease runs out; a
worker killed mid-send simply lets the lease lapse and another takes the row again. On
PostgreSQL ``SKIP LOCKED`` keeps two workers from taking the same rows; SQLite's single
writer already does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, Select, Table, and_, or_, update

from capture.db.engine import Database


def due(table: Table, now: datetime) -> ColumnElement[bool]:
    """Rows waiting to be sent, whose time has come and that no worker holds."""
    c = table.c
    return and_(c.status == "pending", c.next_attempt_at <= now, or_(c.claimed_until.is_(None), c.claimed_until < now))


def lease(connection: Connection, table: Table, query: Select[Any], now: datetime, hold: timedelta) -> list[Row[Any]]:
    """Run ``query`` (the due rows wanted, ``id`` among its columns) and hold what it found until ``now + hold``."""
    if connection.dialect.name != "sqlite":
        query = query.with_for_update(skip_locked=True, of=table)
    rows = list(connection.execute(query))
    if rows:
        connection.execute(
            update(table).where(table.c.id.in_([row.id for row in rows])).values(claimed_until=now + hold)
        )
    return rows


def release(db: Database, table: Table, ids: Sequence[int]) -> None:
    """Give leased rows back unsent, for the next round."""
    if ids:
        db.run(lambda c: c.execute(update(table).where(table.c.id.in_(ids)).values(claimed_until=None)))
