"""``leadwheel mail …``: check the mail settings with a test mail, and see the outbox."""

from __future__ import annotations

import click

from capture.cli.support import config_or_exit, format_option, print_rows
from capture.config import redact_url


@click.group()
def mail() -> None:
    """Mail Leadwheel sends (confirmation links): the transport and the outbox."""


@mail.command("test")
@click.argument("to")
def mail_test(to: str) -> None:
    """Send one test mail to TO now, past the outbox, to check the SMTP settings."""
    from capture.mail import Mail, MailFailure, Temporary, check_address, send_now
    from capture.services import utc_now

    config = config_or_exit(demo=True)  # sending needs no SECRET_KEY
    if not config.smtp_url:
        raise click.ClickException("no mail transport: set LEADWHEEL_SMTP_URL (e.g. smtp://host:587?starttls=1)")
    try:
        address = check_address(to)
    except ValueError:
        raise click.ClickException(f"not a plain e-mail address: {to!r}") from None
    test = Mail(
        to=address,
        subject="Leadwheel test mail",
        text=f"This is a test mail from Leadwheel, sent through {redact_url(config.smtp_url)}.\n"
        "If you can read it, the mail settings work.\n",
        purpose="test",
    )
    try:
        send_now(config, test, utc_now())
    except MailFailure as exc:
        kind = "temporary" if isinstance(exc, Temporary) else "permanent"
        raise click.ClickException(f"not sent ({kind} failure): {exc}") from None
    click.echo(f"sent a test mail to {address} via {redact_url(config.smtp_url)}")


@mail.command("list")
@click.option("--status", type=click.Choice(["pending", "sent", "failed"]), default=None)
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@format_option
def mail_list(status: str | None, limit: int, fmt: str) -> None:
    """The newest mails of the outbox: queued (pending), sent and failed, with the last error."""
    from capture.db.engine import Database
    from capture.mail import list_mails

    db = Database(config_or_exit(demo=True).database_url)
    try:
        rows = db.run(lambda c: list_mails(c, status=status, limit=limit))
    finally:
        db.dispose()
    columns = ["id", "status", "attempts", "created", "sent_or_next", "purpose", "to", "last_error"]
    listed = [
        {
            "id": row.id,
            "status": row.status,
            "attempts": row.attempts,
            "created": row.created_at,
            "sent_or_next": row.sent_at
            if row.status == "sent"
            else (row.next_attempt_at if row.status == "pending" else None),
            "purpose": row.purpose,
            "to": row.to,
            "last_error": row.last_error,
        }
        for row in rows
    ]
    print_rows(columns, listed, fmt, empty="(no mails)")
