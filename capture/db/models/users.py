"""The people who use the workbench, and the failed sign-ins that lock them (or an address) out."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class User(Base):
    """A workbench user: a marketer, a salesperson, an admin. Visitors and leads are not users."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: stored lower-case, so sign-in and ``leadwheel user`` find one account however it is typed
    email: Mapped[str] = mapped_column(String(254), unique=True)
    #: werkzeug's scrypt hash; never the password
    password_hash: Mapped[str] = mapped_column(String(255))
    #: admin, marketer, sales or viewer (capture/workbench/permissions.py)
    role: Mapped[str] = mapped_column(String(20))
    #: the language the workbench speaks to this user; None: the browser's (Accept-Language)
    locale: Mapped[str | None] = mapped_column(String(16))
    #: what the session cookie names instead of the id: replaced on a password reset or disable,
    #: which signs out every session the user had
    session_token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    #: permissions granted beyond the role, e.g. "leads:export" (capture/workbench/permissions.py GRANTABLE)
    grants: Mapped[list[str]] = mapped_column(server_default=text("'[]'"))


class SignInFailure(Base):
    """One refused sign-in, counted per account (``email:...``) and per address (``address:...``)."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_subject", "subject", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(300))
    failed_at: Mapped[datetime]
