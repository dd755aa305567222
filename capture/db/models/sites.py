"""Sites that embed forms, their forms, and the published versions of each form's sequence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: the key in the embed snippet; public, so it authorises nothing on its own
    public_key: Mapped[str] = mapped_column(String(40), unique=True)
    #: exact origins (scheme://host[:port]) allowed to show and submit this site's forms
    allowed_origins: Mapped[list[str]]
    #: signs visitors' e-mail addresses in the site's back end (``user_hash``, an HMAC-SHA256): an
    #: ``identify`` that carries one is vouched for; secret, like an API token
    identity_secret: Mapped[str] = mapped_column(String(64))
    #: "required": the snippet keeps nothing on the device and sends no behaviour before consent
    #: (ePrivacy art. 5(3)); "not_required": the site's own legal basis covers it. Sites made before
    #: this column keep "not_required"; create_site gives new ones "required"
    consent_policy: Mapped[str] = mapped_column(String(16), server_default="not_required")
    #: marketing consent counts only once the address's owner follows a mailed link
    marketing_double_opt_in: Mapped[bool] = mapped_column(server_default=false())
    created_at: Mapped[datetime]

    # Retention, in days, applied by `leadwheel maintenance` (capture/privacy/retention.py); NULL keeps forever.
    #: behaviour events (page views, downloads…), counted from when they happened
    keep_events_days: Mapped[int | None] = mapped_column(Integer, server_default="395")
    #: leads that never gave an e-mail address, counted from when they were last seen
    keep_anonymous_leads_days: Mapped[int | None] = mapped_column(Integer, server_default="180")
    #: delivered or dead webhook deliveries and their attempts (the payload copies), from when they were made
    keep_deliveries_days: Mapped[int | None] = mapped_column(Integer, server_default="90")


class Form(Base):
    """One place a site asks questions; its sequence evolves through published versions."""

    __tablename__ = "forms"
    __table_args__ = (UniqueConstraint("site_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]


class SequenceVersion(Base):
    """An immutable, published sequence document. The newest version is the live one."""

    __tablename__ = "sequence_versions"
    __table_args__ = (UniqueConstraint("form_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]]
    #: sha256 of the canonical document, so re-importing the same file publishes nothing new
    checksum: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]
    #: the workbench user who published it (the e-mail, kept if the account goes); None from the CLI
    published_by: Mapped[str | None] = mapped_column(String(254))


class SequenceDraft(Base):
    """A form's sequence as a marketer is editing it in the workbench: one draft per form, until published."""

    __tablename__ = "sequence_drafts"

    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id", ondelete="CASCADE"), primary_key=True)
    #: the document as the CLI imports it (profiling/document.py), possibly not yet valid
    document: Mapped[dict[str, Any]]
    #: the live version it started from: publishing over a newer one says so
    based_on: Mapped[int | None] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime]
