"""API tokens for back-end systems (an ESP sending events, a CRM reporting outcomes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class ApiToken(Base):
    """Only a hash of the token is stored; the token itself is shown once, when created."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the token's first characters, to tell tokens apart in listings
    prefix: Mapped[str] = mapped_column(String(16))
    #: sha256 of the whole token (tokens are long and random, so a fast hash is enough)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: what it may do: events, sales
    scopes: Mapped[list[str]]
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
