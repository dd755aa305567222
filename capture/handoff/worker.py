"""The delivery worker: claim due deliveries, send them, record every attempt.

A claim is a lease (``claimed_until``), written in a short transaction before
anything is sent, so no transaction stays open across the network. A lead's
message to an endpoint is not sent while an earlier one of that lead to that
endpoint is failing and waiting for its retry, so retries keep a lead's order. A worker
killed mid-send leaves its lease to run out and the delivery is sent again
with the same webhook-id (at-least-once; receivers de-duplicate on it). On
PostgreSQL the claim skips rows another worker has locked, so several
workers never claim the same delivery; on SQLite claims are serialized by
``BEGIN IMMEDIATE`` (one worker is enough there).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from capture.config import Config
from capture.db import leases
from capture.db.engine import Database
from capture.db.leases import due, lease
from capture.db.models import Delivery, DeliveryAttempt, WebhookEndpoint
from capture.handoff.delivery import Decision, Response, body_of, decide, printable, send, signed_headers
from capture.mail import send_due as send_due_mail
from capture.services import utc_now
from capture.web.errors import traceback_without_values

log = logging.getLogger(__name__)
_endpoints, _deliveries, _attempts = WebhookEndpoint.__table__, Delivery.__table__, DeliveryAttempt.__table__
BATCH = 20


_earlier = _deliveries.alias("earlier")
#: an earlier message of the same lead to the same endpoint is failing and waits for its retry: a later
#: one waits behind it, so a retry never lets a lead's newer news overtake older (the payload's
#: ``sequence`` tells the receiver the order in any case, e.g. after a message went dead)
_RETRYING_BEFORE = (
    select(_earlier.c.id)
    .where(
        _earlier.c.lead_id == _deliveries.c.lead_id,
        _earlier.c.endpoint_id == _deliveries.c.endpoint_id,
        _earlier.c.status == "pending",
        _earlier.c.attempts > 0,
        _earlier.c.id < _deliveries.c.id,
    )
    .exists()
)


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds, with what it takes to send it."""

    id: int
    message_id: str
    endpoint_id: int
    lead_id: int
    url: str
    payload: Any
    attempts: int
    secrets: tuple[str, ...]


def claim(
    db: Database, now: datetime, config: Config, *, limit: int = BATCH, skip: frozenset[int] = frozenset()
) -> list[Claimed]:
    """Lease up to ``limit`` due deliveries of enabled endpoints to this worker."""

    def work(connection: Connection) -> list[Claimed]:
        query = (
            select(
                _deliveries.c.id,
                _deliveries.c.message_id,
                _deliveries.c.endpoint_id,
                _deliveries.c.lead_id,
                _deliveries.c.payload,
                _deliveries.c.attempts,
                _endpoints.c.url,
                _endpoints.c.secret,
                _endpoints.c.previous_secret,
                _endpoints.c.previous_secret_until,
            )
            .join(_endpoints, _endpoints.c.id == _deliveries.c.endpoint_id)
            .where(due(_deliveries, now), _endpoints.c.enabled.is_(True), ~_RETRYING_BEFORE)
            .order_by(_deliveries.c.next_attempt_at, _deliveries.c.id)
            .limit(limit)
        )
        if skip:
            query = query.where(_deliveries.c.id.not_in(skip))
        rows = lease(connection, _deliveries, query, now, config.webhook_lease)
        return [
            Claimed(
                row.id,
                row.message_id,
                row.endpoint_id,
                row.lead_id,
                row.url,
                row.payload,
                row.attempts,
                (row.secret,)
                + (
                    (row.previous_secret,)
                    if row.previous_secret and row.previous_secret_until and row.previous_secret_until > now
                    else ()
                ),
            )
            for row in rows
        ]

    return db.run(work)


def attempt(claimed: Claimed, config: Config, now: datetime) -> Response:
    """Sign and send one claimed delivery (no database work: none is held open meanwhile).

    Never raises: a fault no rule foresaw still ends as a failed attempt, recorded
    and retried on the schedule, so one receiver cannot stall the batch or have
    its delivery re-sent at every lease without a trace.
    """
    started = time.monotonic()
    body = body_of(claimed.payload)
    try:
        return send(
            claimed.url,
            body,
            signed_headers(claimed.message_id, now, body, claimed.secrets),
            connect_timeout=config.webhook_connect_timeout.total_seconds(),
            total_timeout=config.webhook_timeout.total_seconds(),
            allow=config.webhook_allow_hosts,
        )
    except Exception as exc:
        # not log.exception: the message may quote the payload or the receiver's bytes
        log.error("delivery %d: sending failed unexpectedly\n%s", claimed.id, traceback_without_values(exc))
        latency = int((time.monotonic() - started) * 1000)
        return Response(None, None, latency, error=printable(f"internal error: {type(exc).__name__}: {exc}"))


def record(
    db: Database, claimed: Claimed, response: Response, at: datetime, config: Config, now: datetime
) -> tuple[Decision, bool]:
    """Write the attempt and its consequences: the delivery's status, the endpoint's streak.

    Also says whether this attempt disabled the endpoint (410, or the streak grew too long).
    """
    attempts = claimed.attempts + 1
    decision = decide(response, attempts, now, retry_after_cap=config.webhook_retry_after_cap)

    def work(connection: Connection) -> bool:
        connection.execute(
            insert(_attempts).values(
                delivery_id=claimed.id,
                at=at,
                status_code=response.status,
                latency_ms=response.latency_ms,
                response_body=response.body,
                error=response.error,
            )
        )
        connection.execute(
            update(_deliveries)
            .where(_deliveries.c.id == claimed.id)
            .values(
                status=decision.status,
                attempts=attempts,
                next_attempt_at=decision.next_attempt_at or now,
                claimed_until=None,
                delivered_at=now if decision.status == "delivered" else None,
                last_error=decision.error,
            )
        )
        endpoint = _endpoints.c
        if not decision.failed:
            # Only when there is a streak to reset: writing the endpoint row on every success would make
            # all workers delivering to one endpoint queue on its row lock.
            connection.execute(
                update(_endpoints)
                .where(endpoint.id == claimed.endpoint_id, endpoint.failure_streak != 0)
                .values(failure_streak=0)
            )
            return False
        streak = connection.execute(
            update(_endpoints)
            .where(endpoint.id == claimed.endpoint_id)
            .values(failure_streak=endpoint.failure_streak + 1)
            .returning(endpoint.failure_streak)
        ).scalar_one()
        reason = decision.disable_reason
        if reason is None and streak >= config.webhook_disable_after:
            reason = f"{streak} consecutive failed attempts (last: {decision.error})"
        if reason is None:
            return False
        disabled = connection.execute(
            update(_endpoints)
            .where(and_(endpoint.id == claimed.endpoint_id, endpoint.enabled.is_(True)))
            .values(enabled=False, disabled_at=now, disabled_reason=reason)
        ).rowcount
        if disabled:
            log.warning("webhook endpoint %d disabled: %s", claimed.endpoint_id, reason)
        return bool(disabled)

    return decision, db.run(work)


def release(db: Database, ids: list[int]) -> None:
    """Give claimed deliveries back unsent (their endpoint was just disabled, or the lease ran short)."""
    leases.release(db, _deliveries, ids)


def batch_size(config: Config) -> int:
    """As many deliveries as one lease covers when every one takes the full timeout."""
    per_send = config.webhook_timeout + config.webhook_connect_timeout
    return max(1, min(BATCH, int(config.webhook_lease / per_send)))


def run_once(
    db: Database, config: Config, clock: Callable[[], datetime] = utc_now, *, skip: set[int] | None = None
) -> int:
    """Claim one batch and deliver it; how many attempts were made."""
    now = clock()
    lease_end = now + config.webhook_lease
    batch = claim(db, now, config, limit=batch_size(config), skip=frozenset(skip or ()))
    disabled: set[int] = set()
    #: (lead, endpoint) whose earlier message of this batch failed: the lead's later ones wait behind it
    waiting: set[tuple[int, int]] = set()
    unsent: list[int] = []
    made = 0
    for index, claimed in enumerate(batch):
        at = clock()
        if index and at + config.webhook_timeout >= lease_end:
            unsent.extend(rest.id for rest in batch[index:])  # too little lease left to send them safely
            break
        if claimed.endpoint_id in disabled or (claimed.lead_id, claimed.endpoint_id) in waiting:
            unsent.append(claimed.id)
            continue
        response = attempt(claimed, config, at)
        decision, disabled_now = record(db, claimed, response, at, config, clock())
        made += 1
        if decision.status == "pending":
            waiting.add((claimed.lead_id, claimed.endpoint_id))
        if disabled_now:
            disabled.add(claimed.endpoint_id)
        if skip is not None:
            skip.add(claimed.id)
        log.info("delivery %d (%s): %s %s", claimed.id, claimed.message_id, decision.status, decision.error or "")
    release(db, unsent)
    return made


def send_mail(db: Database, config: Config, clock: Callable[[], datetime], *, once: bool = False) -> int:
    """One batch of due mails (capture/mail.py), after the deliveries' batch; how many attempts were made.

    Its own failure (the database's: a mail server's trouble is recorded on the mail)
    is logged and left for the next poll, so mail can never stop hand-offs. With
    ``once`` it is raised instead.
    """
    try:
        return send_due_mail(db, config, clock)
    except Exception as exc:
        if once:
            raise
        log.error("mail round failed; trying again at the next poll\n%s", traceback_without_values(exc))
        return 0


def run_worker(
    db: Database,
    config: Config,
    *,
    once: bool = False,
    stop_event: threading.Event | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> int:
    """Deliver until stopped; with ``once``, everything due now (each delivery at most once) and return.

    Each poll also sends a bounded batch of due mails (:func:`send_mail`).

    Returns how many attempts were made. The poll interval is jittered a
    little so several workers do not knock in step. A running worker outlives
    database trouble (a restart, an endpoint removed mid-batch): it logs the
    error and tries again later, backing off up to a minute; claims it held
    simply run out. With ``once`` the error is raised instead.
    """
    stop = stop_event or threading.Event()
    total = 0
    failures = 0
    seen: set[int] | None = set() if once else None
    while not stop.is_set():
        try:
            made = run_once(db, config, clock, skip=seen)
        except Exception as exc:
            if once:
                raise
            failures += 1
            log.error("delivery round failed (%d in a row); trying again\n%s", failures, traceback_without_values(exc))
            stop.wait(min(60.0, config.webhook_poll.total_seconds() * 2**failures))
            continue
        failures = 0
        made += send_mail(db, config, clock, once=once)
        total += made
        if made:
            continue
        if once:
            break
        stop.wait(config.webhook_poll.total_seconds() * random.uniform(0.8, 1.2))
    return total
