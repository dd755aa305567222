"""Mail: an outbox queued in the caller's transaction, and a sender that drains it over SMTP (or into files).

:func:`queue_mail` writes a row of ``mail_outbox`` inside the transaction of
the change that wants the mail (the outbox pattern): a rolled-back change sends
nothing, a committed one cannot lose its mail. It refuses (False, nothing
queued) once an address has had its cap of mails of one purpose in 24 hours,
so nobody can use a form to bomb someone's inbox, and when no transport is
configured, so callers can tell a user no mail is coming.

:func:`send_due` is the worker's step: it leases due rows in a short
transaction (as the webhook worker does: ``claimed_until``, ``SKIP LOCKED`` on
PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two workers never send one mail,
then sends them with no transaction open, and records each outcome. A temporary
failure (4xx, a connection that fails or times out) is retried with exponential
backoff; a permanent one (5xx) or the last allowed attempt gives up. It never
raises for a mail's sake and stops its batch after half a lease, so a slow mail
server cannot hold up webhook deliveries for long.

The module knows nothing of what a mail is for: callers write the text.
"""

from __future__ import annotations

import logging
import os
import random
import smtplib
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from sqlalchemy import Connection, func, insert, select, text, update

from capture.config import Config, redact_url, url_flag
from capture.db.engine import Database
from capture.db.leases import due, lease, release
from capture.db.models import MailOutbox
from capture.handoff.delivery import printable

log = logging.getLogger(__name__)
_outbox = MailOutbox.__table__

#: how far back the per-address cap counts
CAP_WINDOW = timedelta(hours=24)
#: mails one worker leases per poll
BATCH = 10
#: the first retry waits this long, each further one twice as long as the last, up to RETRY_CAP
RETRY_BASE = timedelta(minutes=1)
RETRY_CAP = timedelta(hours=6)
#: how long a worker holds the mails it claimed; the batch stops at half of it
LEASE = timedelta(seconds=120)
#: the most of an error kept (escaped) in ``last_error``
ERROR_LIMIT = 200


@dataclass(frozen=True)
class Mail:
    """One plain-text mail to one address. ``purpose`` names why it is sent (e.g. ``email_confirmation``)."""

    to: str
    subject: str
    text: str
    purpose: str


def current_config() -> Config | None:
    """The running app's config when called inside a request (or app context), else None."""
    try:
        from flask import current_app, has_app_context
    except ImportError:  # pragma: no cover - Flask is a dependency
        return None
    if not has_app_context():
        return None
    services = current_app.extensions.get("leadwheel")
    return getattr(services, "config", None)


def queue_mail(connection: Connection, mail: Mail, now: datetime, config: Config | None = None) -> bool:
    """Queue inside the caller's transaction (outbox pattern). False, nothing queued, when the
    address already got its cap of mails of this purpose in the last 24 h (anti mail-bombing;
    default 3, setting LEADWHEEL_MAIL_CAP_PER_DAY), or when no transport is configured.

    ``config``: the settings to go by; by default the running app's (inside a request),
    else the environment's. A malformed address or a subject with a line break is a
    caller's bug and raises ValueError: it would otherwise forge headers.
    """
    if config is None:
        config = current_config() or Config.from_env(demo=True)
    if not config.smtp_url:
        return False
    to = check_address(mail.to)
    if "\n" in mail.subject or "\r" in mail.subject:
        raise ValueError("a mail subject is one line")
    if "\x00" in mail.subject or "\x00" in mail.text:
        raise ValueError("a mail holds no NUL character")  # PostgreSQL would refuse the row
    if not mail.purpose or len(mail.purpose) > 64:
        raise ValueError("a mail purpose is a short name, e.g. email_confirmation")
    if connection.dialect.name == "postgresql":
        # Two transactions queueing to one address wait for each other here, so both cannot
        # count the same mails and pass the cap together. (SQLite: BEGIN IMMEDIATE already serializes.)
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"mail:{to}"})
    recent = connection.execute(
        select(func.count())
        .select_from(_outbox)
        .where(_outbox.c.to == to, _outbox.c.purpose == mail.purpose, _outbox.c.created_at > now - CAP_WINDOW)
    ).scalar_one()
    if recent >= config.mail_cap_per_day:
        log.info("mail of purpose %s not queued: the address had its %d in 24 h", mail.purpose, recent)
        return False
    connection.execute(
        insert(_outbox).values(
            to=to,
            subject=mail.subject,
            text=mail.text,
            purpose=mail.purpose,
            message_id=make_msgid(domain=_domain(config.mail_from)),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    return True


def check_address(address: str) -> str:
    """``address`` lower-cased, if it is one plain address (no name, no line break, one @), else ValueError."""
    cleaned = address.strip()
    name, parsed = parseaddr(cleaned)
    if (
        not parsed
        or parsed != cleaned
        or name
        or any(c.isspace() or not c.isprintable() for c in cleaned)
        or cleaned.count("@") != 1
        or len(cleaned) > 320
    ):
        raise ValueError("not a plain e-mail address")
    local, _, domain = cleaned.partition("@")
    if not local or not domain:
        raise ValueError("not a plain e-mail address")
    return cleaned.lower()


def _domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


# --- the message -----------------------------------------------------------------------------------


def build_message(mail: Mail, mail_from: str, message_id: str, at: datetime) -> EmailMessage:
    """The RFC 5322 message: text/plain UTF-8, a Date and a Message-ID, non-ASCII headers RFC 2047-encoded."""
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = mail_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(at)
    message["Message-ID"] = message_id
    #: RFC 3834: no auto-replies (vacation notices) to a machine's mail
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.text, charset="utf-8", cte="quoted-printable")
    return message


# --- transports ------------------------------------------------------------------------------------


class MailFailure(Exception):
    """A mail not sent. ``str()`` is the whole reason (kept, escaped, in the outbox); ``summary`` is what
    logs may show: a reply code or an error's type, never the server's words, which often quote the address."""

    def __init__(self, reason: str, summary: str):
        super().__init__(reason)
        self.summary = summary


class Permanent(MailFailure):
    """The mail can never go as it is (5xx): give it up."""


class Temporary(MailFailure):
    """Try again later (4xx, a connection that failed or timed out)."""


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


@dataclass
class FileTransport:
    """Writes each mail as an .eml file into a folder (the demo's, or a developer's): no server needed."""

    folder: Path

    def send(self, message: EmailMessage) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            token = str(message["Message-ID"]).strip("<>").split("@")[0][-12:]
            name = f"{stamp}-{token}.eml"
            partial = self.folder / f".{name}.partial"
            partial.write_bytes(message.as_bytes())
            os.replace(partial, self.folder / name)  # whole or not at all: a reader never sees half a mail
        except OSError as exc:
            reason = f"cannot write to {self.folder}: {exc.strerror or type(exc).__name__}"
            raise Temporary(reason, f"{type(exc).__name__} writing the mail folder") from None


class SmtpTransport:
    """One SMTP session, opened on the first mail and reused for the rest of a batch."""

    def __init__(self, url: str, timeout: float):
        parts = urlsplit(url)
        self.ssl = parts.scheme == "smtps"
        self.starttls = bool(url_flag(parts.query, "starttls"))
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._session: smtplib.SMTP | None = None

    def __repr__(self) -> str:  # never the password
        return f"SmtpTransport({self.host}:{self.port}, ssl={self.ssl}, starttls={self.starttls}, user={self.user!r})"

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        session: smtplib.SMTP
        if self.ssl:
            session = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            session = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            session.ehlo_or_helo_if_needed()
            if self.starttls:
                session.starttls(context=context)
                session.ehlo()
            if self.user is not None:
                session.login(self.user, self._password or "")
        except BaseException:
            _quietly_close(session)
            raise
        return session

    def send(self, message: EmailMessage) -> None:
        if self._session is None:
            try:
                self._session = self._connect()
            except smtplib.SMTPResponseException as exc:
                # the settings or the server are wrong, not the mail: it waits for them (till its last attempt)
                reason = f"cannot open the SMTP session: {_words(exc.smtp_code, exc.smtp_error)}"
                raise Temporary(reason, f"reply {exc.smtp_code} opening the session") from None
            except (smtplib.SMTPException, OSError) as exc:  # refused, timed out, TLS failed, no AUTH offered
                reason = f"cannot open the SMTP session: {type(exc).__name__}: {exc}"
                raise Temporary(reason, f"{type(exc).__name__} opening the session") from None
        try:
            refused = self._session.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            words = "; ".join(_words(code, reply) for code, reply in exc.recipients.values())
            self._reset()
            raise (Permanent if codes and min(codes) >= 500 else Temporary)(
                words, f"reply {min(codes, default=0)}"
            ) from None
        except smtplib.SMTPNotSupportedError as exc:  # e.g. a non-ASCII address and no SMTPUTF8
            self._reset()
            raise Permanent(f"not supported by the server: {exc}", type(exc).__name__) from None
        except smtplib.SMTPResponseException as exc:
            self._reset()
            kind = Permanent if exc.smtp_code >= 500 else Temporary
            raise kind(_words(exc.smtp_code, exc.smtp_error), f"reply {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:  # disconnected, refused, timed out, TLS failed
            self.close()
            raise Temporary(f"{type(exc).__name__}: {exc}", type(exc).__name__) from None
        if refused:
            words = "; ".join(_words(code, reply) for code, reply in refused.values())
            raise Permanent(words, "reply " + ",".join(str(code) for code, _ in refused.values()))

    def _reset(self) -> None:
        """After a refusal the session may be mid-transaction: RSET it, or drop it."""
        if self._session is None:
            return
        try:
            self._session.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        if self._session is not None:
            _quietly_close(self._session)
            self._session = None


def _quietly_close(session: smtplib.SMTP) -> None:
    try:
        session.quit()
    except (smtplib.SMTPException, OSError):
        session.close()


def _words(code: int, reply: bytes | str) -> str:
    said = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {said}"


def transport_for(config: Config) -> Transport:
    """The transport ``config.smtp_url`` names (the caller has checked one is set)."""
    if not config.smtp_url:
        raise ValueError("no mail transport is configured (LEADWHEEL_SMTP_URL)")
    parts = urlsplit(config.smtp_url)
    if parts.scheme == "file":
        return FileTransport(Path(unquote(parts.path)))
    return SmtpTransport(config.smtp_url, config.smtp_timeout.total_seconds())


@contextmanager
def opened(config: Config) -> Iterator[Transport]:
    transport = transport_for(config)
    try:
        yield transport
    finally:
        if isinstance(transport, SmtpTransport):
            transport.close()


def send_now(config: Config, mail: Mail, now: datetime) -> None:
    """Send one mail at once, outside the outbox (``leadwheel mail test``); raises Temporary or Permanent."""
    message = build_message(mail, config.mail_from, make_msgid(domain=_domain(config.mail_from)), now)
    with opened(config) as transport:
        transport.send(message)


# --- the sender ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    mail: Mail
    message_id: str
    attempts: int


def claim(db: Database, now: datetime, *, limit: int = BATCH) -> list[Claimed]:
    """Lease up to ``limit`` due mails to this worker, in a short transaction of its own."""

    def work(connection: Connection) -> list[Claimed]:
        c = _outbox.c
        query = (
            select(c.id, c.to, c.subject, c.text, c.purpose, c.message_id, c.attempts)
            .where(due(_outbox, now))
            .order_by(c.next_attempt_at, c.id)
            .limit(limit)
        )
        rows = lease(connection, _outbox, query, now, LEASE)
        return [
            Claimed(row.id, Mail(row.to, row.subject, row.text, row.purpose), row.message_id, row.attempts)
            for row in rows
        ]

    return db.run(work)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt: 1, 2, 4 … minutes, at most RETRY_CAP, ±10 %."""
    delay = min(RETRY_CAP, RETRY_BASE * 2 ** min(attempts - 1, 20))
    jittered: timedelta = delay * random.uniform(0.9, 1.1)
    return jittered


def _record(db: Database, claimed: Claimed, now: datetime, error: MailFailure | None, config: Config) -> str:
    """Write one attempt's outcome; the mail's status afterwards."""
    attempts = claimed.attempts + 1
    values: dict[str, object] = {"attempts": attempts, "claimed_until": None}
    if error is None:
        values.update(status="sent", sent_at=now, last_error=None)
    else:
        values["last_error"] = printable(str(error) or type(error).__name__, ERROR_LIMIT)
        if isinstance(error, Temporary) and attempts < config.mail_max_attempts:
            values.update(status="pending", next_attempt_at=now + retry_delay(attempts))
        else:
            values["status"] = "failed"
    db.run(lambda connection: connection.execute(update(_outbox).where(_outbox.c.id == claimed.id).values(values)))
    return str(values["status"])


def _release(db: Database, ids: list[int]) -> None:
    release(db, _outbox, ids)


def send_due(db: Database, config: Config, clock: Callable[[], datetime], *, limit: int = BATCH) -> int:
    """Send one batch of due mails; how many attempts were made. Nothing when no transport is configured.

    Never raises for a mail's sake (a mail server's trouble is recorded on the mail);
    only the database's own trouble reaches the caller.
    """
    if not config.smtp_url:
        return 0
    batch = claim(db, clock(), limit=limit)
    if not batch:
        return 0
    started = time.monotonic()
    made = 0
    unsent: list[int] = []
    with opened(config) as transport:
        for index, claimed in enumerate(batch):
            if index and time.monotonic() - started > LEASE.total_seconds() / 2:
                unsent.extend(rest.id for rest in batch[index:])  # the rest waits for the next poll
                break
            error: MailFailure | None = None
            try:
                transport.send(build_message(claimed.mail, config.mail_from, claimed.message_id, clock()))
            except MailFailure as exc:
                error = exc
            except Exception as exc:  # a fault no rule foresaw is a temporary failure, recorded, never a crash
                log.error("mail %d: sending failed unexpectedly: %s", claimed.id, type(exc).__name__)
                error = Temporary(f"internal error: {type(exc).__name__}", type(exc).__name__)
            status = _record(db, claimed, clock(), error, config)
            made += 1
            # the address and the server's words stay out of the log (they are in the outbox: `mail list`)
            log.info(
                "mail %d (%s) via %s: %s%s",
                claimed.id,
                claimed.mail.purpose,
                redact_url(config.smtp_url),
                status,
                f" ({error.summary})" if error else "",
            )
    _release(db, unsent)
    return made


# --- listing ---------------------------------------------------------------------------------------


def list_mails(connection: Connection, *, status: str | None = None, limit: int = 50) -> list[MailRow]:
    """The newest mails first, optionally of one status."""
    c = _outbox.c
    query = select(
        c.id, c.to, c.purpose, c.subject, c.status, c.attempts, c.created_at, c.next_attempt_at, c.sent_at, c.last_error
    ).order_by(c.id.desc())
    if status is not None:
        query = query.where(c.status == status)
    return [MailRow(**row._mapping) for row in connection.execute(query.limit(limit))]


@dataclass(frozen=True)
class MailRow:
    id: int
    to: str
    purpose: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None
