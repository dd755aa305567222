"""``leadwheel webhook …`` and ``leadwheel worker``: endpoints, their deliveries, and the sender."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import click
from sqlalchemy import Connection

from capture.cli.support import config_or_exit, format_option, print_rows
from capture.config import Config
from capture.db.engine import Database
from capture.handoff.endpoints import EVENT_TYPES, EndpointError

T = TypeVar("T")


def _config() -> Config:
    # The worker and these commands sign with endpoint secrets, never SECRET_KEY: do not demand it.
    return config_or_exit(demo=True)


def _run(work: Callable[[Connection], T]) -> T:
    """One write transaction; an operator's mistake becomes a one-line error."""
    db = Database(_config().database_url)
    try:
        return db.run(work)
    except EndpointError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


def _now() -> Any:
    from capture.services import utc_now

    return utc_now()


@click.group()
def webhook() -> None:
    """Webhook endpoints that receive hand-offs, and their deliveries."""


@webhook.command("add")
@click.argument("url")
@click.option(
    "--events",
    default="lead.sql",
    show_default=True,
    help=f"Comma-separated, among {', '.join(EVENT_TYPES)}.",
)
def webhook_add(url: str, events: str) -> None:
    """Register URL and print its signing secret (shown only now: store it in the receiver)."""
    from capture.handoff.endpoints import add_endpoint, parse_events

    config = _config()
    try:
        wanted = parse_events(events)
    except EndpointError as exc:
        raise click.ClickException(str(exc)) from None
    added = _run(lambda c: add_endpoint(c, url, wanted, _now(), config.webhook_allow_hosts))
    click.echo(added.secret)
    click.echo(f"endpoint {added.id}: {url} ({', '.join(wanted)}); the secret above is not shown again", err=True)


@webhook.command("list")
@format_option
def webhook_list(fmt: str) -> None:
    """Endpoints with their events, state and failure streak."""
    from capture.handoff.endpoints import list_endpoints

    rows = [
        {
            "id": row.id,
            "url": row.url,
            "events": list(row.events or []),
            "state": "enabled" if row.enabled else f"disabled ({row.disabled_reason or 'no reason'})",
            "failure_streak": row.failure_streak,
        }
        for row in _run(list_endpoints)
    ]
    print_rows(
        ["id", "url", "events", "state", "failure_streak"], rows, fmt, empty="(no endpoints: leadwheel webhook add)"
    )


@webhook.command("remove")
@click.argument("endpoint_id", type=int)
def webhook_remove(endpoint_id: int) -> None:
    """Delete an endpoint and its deliveries."""
    from capture.handoff.endpoints import remove_endpoint

    _run(lambda c: remove_endpoint(c, endpoint_id))
    click.echo(f"removed endpoint {endpoint_id}")


@webhook.command("rotate")
@click.argument("endpoint_id", type=int)
@click.option("--grace-hours", default=24.0, show_default=True, help="How long the old secret keeps signing too.")
def webhook_rotate(endpoint_id: int, grace_hours: float) -> None:
    """Give an endpoint a new secret (printed once); both sign during the grace period."""
    from capture.handoff.endpoints import rotate_secret

    if grace_hours < 0:
        raise click.UsageError("--grace-hours cannot be negative")
    secret = _run(lambda c: rotate_secret(c, endpoint_id, timedelta(hours=grace_hours), _now()))
    click.echo(secret)
    click.echo(f"endpoint {endpoint_id}: new secret; the old one also signs for {grace_hours:g} h", err=True)


@webhook.command("enable")
@click.argument("endpoint_id", type=int)
def webhook_enable(endpoint_id: int) -> None:
    """Enable an endpoint: its waiting deliveries go out, its failure streak starts again."""
    from capture.handoff.endpoints import set_enabled

    _run(lambda c: set_enabled(c, endpoint_id, True, _now()))
    click.echo(f"endpoint {endpoint_id} enabled")


@webhook.command("disable")
@click.argument("endpoint_id", type=int)
@click.option("--reason", default="", help="Why (kept on the endpoint).")
def webhook_disable(endpoint_id: int, reason: str) -> None:
    """Stop sending to an endpoint; its deliveries wait (pending) until it is enabled."""
    from capture.handoff.endpoints import set_enabled

    _run(lambda c: set_enabled(c, endpoint_id, False, _now(), reason))
    click.echo(f"endpoint {endpoint_id} disabled")


@webhook.command("replay")
@click.argument("delivery_id", type=int, required=False)
@click.option("--endpoint", "endpoint_id", type=int, default=None, help="Replay this endpoint's deliveries …")
@click.option("--failed", is_flag=True, help="… that are dead (required with --endpoint).")
def webhook_replay(delivery_id: int | None, endpoint_id: int | None, failed: bool) -> None:
    """Send a delivery again (same webhook-id), or every dead one of an endpoint."""
    from capture.handoff.endpoints import replay

    if (delivery_id is None) == (endpoint_id is None) or (endpoint_id is not None and not failed):
        raise click.UsageError("give a DELIVERY_ID, or --endpoint ID --failed")
    count = _run(lambda c: replay(c, _now(), delivery_id=delivery_id, endpoint_id=endpoint_id))
    click.echo(f"{count} deliver{'y' if count == 1 else 'ies'} queued again")


@webhook.command("deliveries")
@click.option("--endpoint", "endpoint_id", type=int, default=None)
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]), default=None)
@click.option("--limit", type=int, default=50, show_default=True)
def webhook_deliveries(endpoint_id: int | None, status: str | None, limit: int) -> None:
    """The newest deliveries with every attempt (time, status, latency, error)."""
    from capture.handoff.endpoints import list_deliveries

    rows = _run(lambda c: list_deliveries(c, endpoint_id=endpoint_id, status=status, limit=limit))
    for delivery, attempts in rows:
        click.echo(
            f"{delivery.id}\t{delivery.message_id}\tendpoint {delivery.endpoint_id}\t{delivery.event_type}\t"
            f"{delivery.status}\tattempts {delivery.attempts}\tnext {delivery.next_attempt_at.isoformat()}"
        )
        for row in attempts:
            outcome = row.status_code if row.status_code is not None else (row.error or "?")
            click.echo(f"    {row.at.isoformat()}  {outcome}  {row.latency_ms} ms  {row.error or ''}".rstrip())


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
def worker(once: bool) -> None:
    """Send pending hand-offs (sign, POST) and mails, retrying on the schedule, until stopped (SIGTERM/Ctrl-C)."""
    from capture.handoff.worker import run_worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = _config()
    db = Database(config.database_url)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        made = run_worker(db, config, once=once, stop_event=stop)
    finally:
        db.dispose()
    click.echo(f"worker stopped after {made} attempts", err=True)
