"""What leads do: behaviour events from browsers and back-end systems.

An event keeps the visitor (browser) it came from and, once known, the lead:
events sent before a visitor answered anything are linked when it becomes a
lead, and move with it when two leads merge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class BehaviourEvent(Base):
    __tablename__ = "events"
    __table_args__ = (
        #: a client retry (same id) is stored once
        UniqueConstraint("site_id", "uid"),
        Index(None, "lead_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: the sender's id for this event (32 hex from the snippet; any id from a back-end system)
    uid: Mapped[str] = mapped_column(String(64))
    visitor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"))
    type: Mapped[str] = mapped_column(String(64))
    #: when it happened (clamped to the time received: a fast client clock cannot date events ahead)
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    url: Mapped[str | None] = mapped_column(String(2048))
    #: the URL's path, which scoring rules match
    path: Mapped[str | None] = mapped_column(String(2048))
    props: Mapped[dict[str, Any]]
    #: browser or api
    source: Mapped[str] = mapped_column(String(16))
