"""Leads, the visitors (browsers) that belong to them, and what they told us.

``answers`` is append-only: every answer is kept with its provenance.
``leads.profile`` is derived from it (the latest value per field, one JSON
document: see capture/leads/profile_doc.py) so asking the next questions costs one
small read.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        # the workbench's Leads list pages by keyset on these (capture/workbench/leads/queries.py)
        Index("ix_leads_last_seen_page", "last_seen_at", "id"),
        Index("ix_leads_created_page", "created_at", "id"),
        Index("ix_leads_score_page", "score", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower-cased; unique so two tabs can never create two leads for one address
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    #: the site the lead first answered or was named on: its site's scoring model scores it (if it has one)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    #: when the address was confirmed as this lead's, and by whom ("identity": the site's back end by
    #: HMAC, "api": a back end with an API token, "link": the mailbox's owner); NULL: only claimed
    email_confirmed_at: Mapped[datetime | None]
    email_confirmed_via: Mapped[str | None] = mapped_column(String(16))
    #: set when this lead was merged into another; its answers moved there
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    #: visits counted across all the lead's browsers; drives snooze timing
    visit_count: Mapped[int] = mapped_column(Integer, server_default="1")
    last_seen_at: Mapped[datetime]
    created_at: Mapped[datetime]
    #: the newest answer per field, derived from ``answers`` (capture/leads/profile_doc.py)
    profile: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"))
    #: the questions shown on submitted forms during the current visit, by sequence name: what the visit's
    #: quota has spent (capture/leads/visit_shown.py); ``{}`` or a past visit's number means none yet
    visit_shown: Mapped[dict[str, Any]] = mapped_column(server_default=text("'{}'"))

    # The current score (see scoring/), kept on the row so reading a lead costs nothing more.
    #: subscriber, engaged, mql, sql, recycled
    stage: Mapped[str] = mapped_column(String(16), server_default="subscriber", index=True)
    stage_changed_at: Mapped[datetime | None]
    fit: Mapped[float] = mapped_column(Float, server_default="0")
    engagement: Mapped[float] = mapped_column(Float, server_default="0")
    score: Mapped[float] = mapped_column(Float, server_default="0")
    #: share of the model's fit criteria known (0..1): a low fit with low completeness is unknown, not bad
    completeness: Mapped[float] = mapped_column(Float, server_default="0")
    #: why the score is what it is: each contributing rule with its points, and disqualifiers
    explanation: Mapped[Any | None]
    scored_at: Mapped[datetime | None]
    scoring_model_id: Mapped[int | None] = mapped_column(ForeignKey("scoring_models.id"))
    #: the engagement tally under that model, so a new event adds to it instead of re-reading them all
    score_state: Mapped[dict[str, Any] | None]

    # Hand-off to sales.
    #: the salesperson responsible, chosen by the routing rules when the lead is handed off
    owner: Mapped[str | None] = mapped_column(String(254))
    #: the latest outcome sales reported (accepted, rejected, opportunity, won, lost)
    sales_outcome: Mapped[str | None] = mapped_column(String(16))
    sales_outcome_at: Mapped[datetime | None]


class Visitor(Base):
    """One browser, known by the random id in its signed visitor token."""

    __tablename__ = "visitors"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    created_at: Mapped[datetime]


class Answer(Base):
    """One answer (or "not now") exactly as given, with where, when and under which version."""

    __tablename__ = "answers"
    __table_args__ = (Index(None, "lead_id", "field"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    #: the form, version and question it answered; empty for answers from elsewhere (identify, import)
    form_id: Mapped[int | None] = mapped_column(ForeignKey("forms.id"), index=True)
    sequence_version_id: Mapped[int | None] = mapped_column(ForeignKey("sequence_versions.id"))
    question_key: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(64))
    #: the clean, typed value; NULL when skipped
    value: Mapped[Any | None]
    skipped: Mapped[bool] = mapped_column(server_default=false())
    page_url: Mapped[str | None] = mapped_column(String(2048))
    locale: Mapped[str] = mapped_column(String(16))
    asked_at: Mapped[datetime]
    answered_at: Mapped[datetime]
    #: for consent questions: the exact words shown and their revision
    consent_text: Mapped[str | None] = mapped_column(Text)
    consent_version: Mapped[str | None] = mapped_column(String(64))
    #: form, identify, import...
    source: Mapped[str] = mapped_column(String(16), server_default="form")
    #: given beyond the visit's quota, because the visitor asked for more ("Tell us more now")
    on_request: Mapped[bool] = mapped_column(server_default=false())


class SnoozedQuestion(Base):
    """A question a lead answered with "not now", per form."""

    __tablename__ = "snoozes"

    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    form_id: Mapped[int] = mapped_column(ForeignKey("forms.id"), primary_key=True)
    question_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    skips: Mapped[int] = mapped_column(Integer)
    #: the lead's visit number at the latest skip
    last_visit: Mapped[int] = mapped_column(Integer)


class EmailClaim(Base):
    """A browser's claim to an address another lead already holds, kept until it is confirmed.

    An address typed in a browser is a claim, not a proof: the browser keeps its own
    lead (the answer is stored there, with its provenance) and this row waits for
    the mailbox's owner or the site's back end to confirm it. Confirmation joins
    the claimant's lead to the holder's. Rows are never deleted by the service.
    """

    __tablename__ = "email_claims"
    __table_args__ = (Index(None, "email", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: lower-cased, as ``leads.email``
    email: Mapped[str] = mapped_column(String(254))
    #: the claimant's lead (moved along when that lead is merged)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    visitor_id: Mapped[str | None] = mapped_column(String(32))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    #: the answer that made the claim
    answer_id: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    #: form or identify
    source: Mapped[str] = mapped_column(String(16))
    #: the claimant's language: the confirmation mail is written in it
    locale: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    #: whether a confirmation link was mailed (False: no transport, or the address's daily cap was reached)
    mailed: Mapped[bool] = mapped_column(server_default=false())
    resolved_at: Mapped[datetime | None]
    #: how it ended: "link", "identity" (confirmed), or "held" (the claimant's lead came to hold the address)
    resolution: Mapped[str | None] = mapped_column(String(16))
