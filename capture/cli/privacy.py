"""``leadwheel lead export|erase`` and ``leadwheel maintenance``: a person's rights, and retention."""

from __future__ import annotations

import json

import click

from capture.cli.scoring import lead
from capture.cli.support import config_or_exit, database_url, session_for
from capture.db.engine import Database
from capture.privacy.person import NoSuchPerson, Who
from capture.privacy.requests import erase_request, export_request
from capture.privacy.retention import sweep
from capture.services import utc_now
from capture.sites.publishing import find_site
from profiling.identity import Tokens

WHO_HELP = "WHO is an e-mail address, a lead id, or a browser (the snippet's visitor token, or its visitor id)."


def _who(raw: str) -> Who:
    if "@" in raw:
        return Who(email=raw)
    if raw.isdigit():
        return Who(lead_id=int(raw))
    config = config_or_exit()  # a visitor token is read with the service's own keys
    tokens = Tokens(config.secret_keys, visitor_lifetime=config.visitor_lifetime)
    return Who(visitor_id=tokens.read_visitor(raw, utc_now()) or raw)


@lead.command("export", epilog=WHO_HELP)
@click.argument("who")
def lead_export(who: str) -> None:
    """Print everything held about one person as one JSON document (GDPR art. 15 and 20)."""
    person = _who(who)
    db = Database(database_url())
    try:
        document = export_request(db, person, utc_now())
    except NoSuchPerson as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@lead.command("erase", epilog=WHO_HELP)
@click.argument("who")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def lead_erase(who: str, yes: bool) -> None:
    """Delete one person's data from every table; CRMs that received the lead are told (lead.erased)."""
    if not yes:
        click.confirm(f"Erase everything about {who}? This cannot be undone", abort=True)
    person = _who(who)
    db = Database(database_url())
    try:
        erased, scrubbed = erase_request(db, person, utc_now(), "cli")
    except NoSuchPerson as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()
    rows = ", ".join(f"{table} {count}" for table, count in sorted(erased.rows.items()))
    click.echo(f"erased (erasure {erased.id}): {rows}; {erased.webhooks} lead.erased message(s) queued")
    if not scrubbed:
        click.echo("the SQLite log was in use: its copy goes at the next checkpoint", err=True)


def _days(value: str) -> int | None:
    if value == "forever":
        return None
    if not value.isdigit() or not 1 <= int(value) <= 36500:
        raise click.BadParameter("a number of days (1 to 36500), or 'forever'")
    return int(value)


@click.command("retention")
@click.argument("site_key")
@click.option("--events", "events", help="Days to keep behaviour events (page views, downloads…), or 'forever'.")
@click.option("--anonymous-leads", "anonymous", help="Days to keep leads without an address since last seen.")
@click.option("--deliveries", "deliveries", help="Days to keep delivered or dead webhook deliveries (payload copies).")
def site_retention(site_key: str, events: str | None, anonymous: str | None, deliveries: str | None) -> None:
    """Show, or set, how long SITE_KEY's data is kept; `leadwheel maintenance` applies it."""
    with session_for(database_url()) as session:
        found = find_site(session, site_key)
        for value, column in (
            (events, "keep_events_days"),
            (anonymous, "keep_anonymous_leads_days"),
            (deliveries, "keep_deliveries_days"),
        ):
            if value is not None:
                setattr(found, column, _days(value))
        kept = (found.keep_events_days, found.keep_anonymous_leads_days, found.keep_deliveries_days)
    names = ("events", "anonymous leads", "deliveries")
    click.echo("; ".join(f"{name}: {'forever' if days is None else f'{days} days'}" for name, days in zip(names, kept)))


@click.command()
def maintenance() -> None:
    """Apply each site's retention: old behaviour events, leads without an address, delivery logs.

    Safe to run while serving and to stop at any point; run it daily (cron, a systemd timer).
    """
    db = Database(database_url())

    def progress(kind: str, site: str, so_far: int) -> None:
        click.echo(f"  {kind:<16} {site}: {so_far} deleted so far", err=True)

    try:
        totals = sweep(db, utc_now(), progress)
    finally:
        db.dispose()
    click.echo(", ".join(f"{kind} {count}" for kind, count in totals.items()) + " deleted")
