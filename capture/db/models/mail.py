"""The mail outbox: every mail Leadwheel sends, queued in the transaction that wants it sent.

Like the webhook deliveries, a row is written in the same transaction as the
change that calls for the mail (a claim of an address, a consent), so a
rolled-back change sends nothing and a committed one cannot lose its mail. The
worker claims due rows with a lease, sends them and records the outcome here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base, Leased


class MailOutbox(Leased, Base):
    """One mail to one address, retried until sent or given up."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index(None, "status", "next_attempt_at"),  # the worker's "what is due" lookup
        Index(None, "to", "purpose", "created_at"),  # the per-address cap's count of the last 24 h
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: the recipient, lower-cased (as leads' e-mails are): the cap counts an address however it was typed
    to: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(Text)
    #: the plain-text body
    text: Mapped[str] = mapped_column(Text)
    #: why it is sent, e.g. email_confirmation; the cap is per address and purpose
    purpose: Mapped[str] = mapped_column(String(64))
    #: the Message-ID header, the same on every attempt, so a mail sent twice (a killed worker) is one to clients
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: pending, sent, failed
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
