"""Webhook endpoints and their deliveries, as an operator manages them: add, rotate, disable, replay.

Each function takes a connection inside the caller's write transaction (run
them with :meth:`capture.db.engine.Database.run`), so one command is one transaction.
Operator mistakes raise :class:`EndpointError` with a one-line message.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, or_, select, update

from capture.db.models import Delivery, DeliveryAttempt, WebhookEndpoint
from capture.handoff.delivery import UnsafeURL, check_url

#: every message a hand-off endpoint can subscribe to
EVENT_TYPES = ("lead.mql", "lead.sql", "lead.updated", "lead.recycled", "lead.consent_changed", "lead.erased")
DEFAULT_EVENTS = ("lead.sql",)

_endpoints, _deliveries, _attempts = WebhookEndpoint.__table__, Delivery.__table__, DeliveryAttempt.__table__


class EndpointError(ValueError):
    """An operator's mistake (unknown id, bad event, unsafe URL); the message says which."""


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def parse_events(raw: str | Sequence[str]) -> list[str]:
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    events = list(dict.fromkeys(n.strip() for n in names if n.strip())) or list(DEFAULT_EVENTS)
    unknown = [e for e in events if e not in EVENT_TYPES]
    if unknown:
        raise EndpointError(f"unknown event {', '.join(unknown)}; choose among {', '.join(EVENT_TYPES)}")
    return events


@dataclass(frozen=True)
class Added:
    id: int
    secret: str


def add_endpoint(
    connection: Connection, url: str, events: Sequence[str], now: datetime, allow: Sequence[str] = ()
) -> Added:
    """Register ``url``; refused if it is not http(s) or resolves to a private or metadata address."""
    try:
        check_url(url, allow)
    except UnsafeURL as exc:
        raise EndpointError(str(exc)) from None
    secret = new_secret()
    endpoint_id = connection.execute(
        insert(_endpoints)
        .values(url=url, events=parse_events(events), enabled=True, secret=secret, failure_streak=0, created_at=now)
        .returning(_endpoints.c.id)
    ).scalar_one()
    return Added(endpoint_id, secret)


def _require(connection: Connection, endpoint_id: int) -> Any:
    row = connection.execute(select(_endpoints).where(_endpoints.c.id == endpoint_id)).first()
    if row is None:
        raise EndpointError(f"no webhook endpoint {endpoint_id}")
    return row


def list_endpoints(connection: Connection) -> list[Any]:
    return list(connection.execute(select(_endpoints).order_by(_endpoints.c.id)))


def remove_endpoint(connection: Connection, endpoint_id: int) -> None:
    """Delete an endpoint with its deliveries and their attempts."""
    _require(connection, endpoint_id)
    ids = select(_deliveries.c.id).where(_deliveries.c.endpoint_id == endpoint_id).scalar_subquery()
    connection.execute(delete(_attempts).where(_attempts.c.delivery_id.in_(ids)))
    connection.execute(delete(_deliveries).where(_deliveries.c.endpoint_id == endpoint_id))
    connection.execute(delete(_endpoints).where(_endpoints.c.id == endpoint_id))


def rotate_secret(connection: Connection, endpoint_id: int, grace: timedelta, now: datetime) -> str:
    """A new secret; the old one also signs until ``now + grace`` so the receiver can switch over."""
    row = _require(connection, endpoint_id)
    secret = new_secret()
    connection.execute(
        update(_endpoints)
        .where(_endpoints.c.id == endpoint_id)
        .values(
            secret=secret,
            previous_secret=row.secret if grace > timedelta(0) else None,
            previous_secret_until=now + grace if grace > timedelta(0) else None,
        )
    )
    return secret


def set_enabled(connection: Connection, endpoint_id: int, enabled: bool, now: datetime, reason: str = "") -> None:
    """Enable (clearing the failure streak, so its waiting deliveries go out) or disable an endpoint."""
    _require(connection, endpoint_id)
    values: dict[str, Any] = (
        {"enabled": True, "failure_streak": 0, "disabled_at": None, "disabled_reason": None}
        if enabled
        else {"enabled": False, "disabled_at": now, "disabled_reason": reason or "disabled by an operator"}
    )
    connection.execute(update(_endpoints).where(_endpoints.c.id == endpoint_id).values(**values))


def replay(
    connection: Connection, now: datetime, *, delivery_id: int | None = None, endpoint_id: int | None = None
) -> int:
    """Send dead (or delivered) deliveries again, as they were, with the same webhook-id; how many.

    One delivery by id (whatever its status), or every dead one of an endpoint.
    The attempt counter starts again so the full retry schedule applies.
    """
    # A delivery a worker is sending right now is left alone: resetting its claim would send it twice at once.
    idle = or_(_deliveries.c.claimed_until.is_(None), _deliveries.c.claimed_until < now)
    query = (
        update(_deliveries)
        .where(idle)
        .values(status="pending", attempts=0, next_attempt_at=now, claimed_until=None, delivered_at=None)
    )
    if delivery_id is not None:
        row = connection.execute(select(_deliveries).where(_deliveries.c.id == delivery_id)).first()
        if row is None:
            raise EndpointError(f"no delivery {delivery_id}")
        if row.claimed_until is not None and row.claimed_until >= now:
            raise EndpointError(f"delivery {delivery_id} is being sent right now; try again in a minute")
        query = query.where(_deliveries.c.id == delivery_id)
    elif endpoint_id is not None:
        _require(connection, endpoint_id)
        query = query.where(_deliveries.c.endpoint_id == endpoint_id, _deliveries.c.status == "dead")
    else:
        raise EndpointError("give a DELIVERY_ID or --endpoint ID --failed")
    return connection.execute(query).rowcount


def list_deliveries(
    connection: Connection, *, endpoint_id: int | None = None, status: str | None = None, limit: int = 100
) -> list[tuple[Any, list[Any]]]:
    """The newest deliveries (filtered), each with its attempts oldest first."""
    query = select(_deliveries).order_by(_deliveries.c.id.desc()).limit(limit)
    if endpoint_id is not None:
        query = query.where(_deliveries.c.endpoint_id == endpoint_id)
    if status is not None:
        query = query.where(_deliveries.c.status == status)
    rows = list(connection.execute(query))
    attempts: dict[int, list[Any]] = {row.id: [] for row in rows}
    if rows:
        for attempt in connection.execute(
            select(_attempts).where(_attempts.c.delivery_id.in_(list(attempts))).order_by(_attempts.c.id)
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [(row, attempts[row.id]) for row in rows]
