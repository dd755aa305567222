"""Privacy records: consent per purpose with its proof, and erasures.

Consent records are append-only, like ``answers``: a lead's standing for a purpose is its newest
record, and the older ones stay as the history a supervisory authority may ask for (GDPR art.
7(1): the controller must be able to show that consent was given). An erasure's record says that
one happened, never whom it concerned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class ConsentRecord(Base):
    """One decision of one lead about one purpose, exactly as it was shown and given."""

    __tablename__ = "consent_records"
    __table_args__ = (
        Index(None, "lead_id", "purpose", "recorded_at"),  # a lead's standing
        Index(None, "visitor_id", "recorded_at"),  # a browser's, before it has a lead
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: None while the browser that gave it has no lead yet: the record is the lead's through its visitor
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    #: the browser that gave it (None: a back end or a confirmation link)
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    #: marketing_email, behaviour_tracking, profiling (capture/privacy/consent.py)
    purpose: Mapped[str] = mapped_column(String(32))
    #: granted, withdrawn, or pending (marketing consent waiting for its double opt-in link)
    status: Mapped[str] = mapped_column(String(16))
    #: the verbatim words the person saw, and their revision
    text: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(35))
    #: question (a consent question in a form), banner (the host page's ``leadwheel('consent')``),
    #: api (a back end with a token), link (the double opt-in confirmation)
    source: Mapped[str] = mapped_column(String(16))
    page_url: Mapped[str | None] = mapped_column(String(2048))
    recorded_at: Mapped[datetime]


class Erasure(Base):
    """One erasure of a person's data (capture/privacy/erasure.py), kept as proof it was done.

    It holds no personal data: no e-mail, no hash of one (a hash of an address is still the
    address to anyone who can guess it), no lead id. The random ``id`` is what the
    ``lead.erased`` webhook and the requester are given, so the three records can be matched.
    """

    __tablename__ = "erasures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime]
    #: cli, api or retention
    via: Mapped[str] = mapped_column(String(16))
    #: rows deleted, by table
    rows: Mapped[dict[str, Any]]
    #: lead.erased messages queued
    webhooks: Mapped[int]
