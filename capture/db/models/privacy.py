"""The record of erasures: that one happened, never whom it concerned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


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
