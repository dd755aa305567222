"""Retention: behaviour events, leads that never gave an address, and delivery logs kept only so long.

Each site sets how many days (capture/db/models/sites.py; NULL keeps forever). :func:`sweep`
deletes what is older in small batches, each its own short transaction, so it can run while
the service serves, be stopped at any point and run again: it only ever deletes what is past
its time, so a second run finds nothing left to do.

A lead past its time is erased as a person is (capture/privacy/erasure.py): its answers,
events, scores and any copies in the outbox go with it, and a CRM it was sent to hears
``lead.erased``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Connection, delete, select

from capture.db.engine import Database
from capture.db.models import BehaviourEvent, Delivery, DeliveryAttempt, Lead, Site
from capture.privacy.erasure import erase, scrub_sqlite_log
from capture.privacy.person import Who, find_person

#: rows per transaction: small enough that the service's writers hardly wait
BATCH = 500
#: delivery logs of erased leads (they belong to no site) are kept this long
LEADLESS_DELIVERIES_DAYS = 90
_FINISHED = ("delivered", "dead")

Progress = Callable[[str, str, int], None]
#: deletes one batch older than the cutoff; how many it deleted
Step = Callable[[Connection, datetime], int]


def sweep(db: Database, now: datetime, progress: Progress | None = None, batch: int = BATCH) -> dict[str, int]:
    """Apply every site's retention; rows deleted by kind. ``progress(kind, site, so_far)`` after each batch."""
    report = progress or _quiet
    totals = {"events": 0, "anonymous_leads": 0, "deliveries": 0}
    with db.read() as session:
        sites = session.execute(
            select(Site.id, Site.name, Site.keep_events_days, Site.keep_anonymous_leads_days, Site.keep_deliveries_days)
        ).all()
    for site in sites:
        steps: list[tuple[str, int | None, Step]] = [
            ("events", site.keep_events_days, partial(_old_events, site_id=site.id, batch=batch)),
            (
                "anonymous_leads",
                site.keep_anonymous_leads_days,
                partial(_old_anonymous_leads, site_id=site.id, now=now, batch=batch),
            ),
            ("deliveries", site.keep_deliveries_days, partial(_old_deliveries, site_id=site.id, batch=batch)),
        ]
        for kind, days, step in steps:
            if days is not None:
                cutoff = now - timedelta(days=days)
                totals[kind] += _in_batches(db, step, cutoff, partial(report, kind, site.name))
    leadless = partial(_old_deliveries, site_id=None, batch=batch)
    cutoff = now - timedelta(days=LEADLESS_DELIVERIES_DAYS)
    totals["deliveries"] += _in_batches(db, leadless, cutoff, partial(report, "deliveries", "(erased leads)"))
    with db.read_connection() as connection:
        scrub_sqlite_log(connection)
    return totals


def _quiet(_kind: str, _site: str, _so_far: int) -> None:
    pass


def _in_batches(db: Database, step: Step, cutoff: datetime, progress: Callable[[int], None]) -> int:
    done = 0
    while True:
        with db.write_connection() as connection:
            deleted = step(connection, cutoff)
        if not deleted:
            return done
        done += deleted
        progress(done)


def _old_events(connection: Connection, cutoff: datetime, *, site_id: int, batch: int) -> int:
    ids = list(
        connection.scalars(
            select(BehaviourEvent.id).where(BehaviourEvent.site_id == site_id, BehaviourEvent.at < cutoff).limit(batch)
        )
    )
    return connection.execute(delete(BehaviourEvent).where(BehaviourEvent.id.in_(ids))).rowcount if ids else 0


def _old_anonymous_leads(connection: Connection, cutoff: datetime, *, site_id: int, now: datetime, batch: int) -> int:
    """Leads of the site with no address, not seen since ``cutoff``; merged husks go with their survivor."""
    ids = connection.scalars(
        select(Lead.id)
        .where(
            Lead.site_id == site_id,
            Lead.email.is_(None),
            Lead.merged_into_id.is_(None),
            Lead.last_seen_at < cutoff,
        )
        .limit(max(1, batch // 20))  # a lead is many rows
    ).all()
    people = [find_person(connection, Who(lead_id=lead_id)) for lead_id in ids]
    if not people:
        return 0
    erase(connection, people, now, "retention")
    return len(people)


def _old_deliveries(connection: Connection, cutoff: datetime, *, site_id: int | None, batch: int) -> int:
    """Finished deliveries (their payload copies) made before ``cutoff``; site None: those of erased leads."""
    of_site = (
        Delivery.lead_id.is_(None)
        if site_id is None
        else Delivery.lead_id.in_(select(Lead.id).where(Lead.site_id == site_id).scalar_subquery())
    )
    ids = list(
        connection.scalars(
            select(Delivery.id)
            .where(of_site, Delivery.status.in_(_FINISHED), Delivery.created_at < cutoff)
            .limit(batch)
        )
    )
    if not ids:
        return 0
    connection.execute(delete(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(ids)))
    return connection.execute(delete(Delivery).where(Delivery.id.in_(ids))).rowcount
