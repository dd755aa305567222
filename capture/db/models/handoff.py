"""Hand-off to sales: webhook endpoints, the outbox of deliveries, every attempt, and sales outcomes.

A delivery row is the transactional outbox: it is written in the same
transaction as the stage change it reports, so a crash can neither lose a
hand-off nor send one for a change that was rolled back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base, Leased


class WebhookEndpoint(Base):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048))
    #: the events it wants: lead.mql, lead.sql, lead.updated, lead.recycled
    events: Mapped[list[str]]
    enabled: Mapped[bool] = mapped_column(server_default=true())
    #: whsec_… (Standard Webhooks). Kept as is: signing needs it, so guard the database like a secret.
    secret: Mapped[str] = mapped_column(String(128))
    #: after a rotation the old secret also signs until this time, so receivers can switch over
    previous_secret: Mapped[str | None] = mapped_column(String(128))
    previous_secret_until: Mapped[datetime | None]
    #: consecutive failed attempts; a long streak disables the endpoint
    failure_streak: Mapped[int] = mapped_column(Integer, server_default="0")
    disabled_at: Mapped[datetime | None]
    #: why it was disabled (410 Gone, a failure streak, an operator)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Delivery(Leased, Base):
    """One hand-off message to one endpoint, retried until delivered or dead."""

    __tablename__ = "deliveries"
    __table_args__ = (Index(None, "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    #: the webhook-id header: the same on every retry, so receivers can de-duplicate
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), index=True)
    #: NULL for a ``lead.erased`` message: the lead it reports is gone
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("leads.id"), index=True)
    #: lead.mql, lead.sql, lead.updated, lead.recycled, lead.erased
    event_type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    #: the lead's hand-off number (1, 2, 3 … per lead; every endpoint's copy of one hand-off shares it), also
    #: in the payload, so a receiver can put a lead's messages in order whatever retries did to them
    sequence: Mapped[int | None] = mapped_column(Integer)
    #: pending, delivered, dead
    status: Mapped[str] = mapped_column(String(16), server_default="pending")
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class DeliveryAttempt(Base):
    """Every try, kept for the record: when, what came back, how long it took."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    #: the first 2 KB of the response
    response_body: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)


class SalesOutcome(Base):
    """What sales reported about a lead, with when and who said so."""

    __tablename__ = "sales_outcomes"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"), index=True)
    #: accepted, rejected, opportunity, won, lost
    outcome: Mapped[str] = mapped_column(String(16))
    #: for rejected (and lost): bad_fit, no_budget, not_reachable, no_need, timing, competitor, other
    reason: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    #: when it happened, as the CRM says
    at: Mapped[datetime]
    received_at: Mapped[datetime]
    #: the API token that reported it
    token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="SET NULL"))
    #: the lead's stage and score when sales judged it, for calibration
    stage: Mapped[str] = mapped_column(String(16))
    score: Mapped[float]


class RoutingVersion(Base):
    """A published routing document (scoring/routing.py); the newest is the live one."""

    __tablename__ = "routing_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    document: Mapped[dict[str, Any]]
    published_at: Mapped[datetime]


class TeamTurn(Base):
    """Round-robin position per team: the next hand-off goes to member ``turns % len(team)``."""

    __tablename__ = "team_turns"

    team: Mapped[str] = mapped_column(String(64), primary_key=True)
    turns: Mapped[int] = mapped_column(Integer, server_default="0")
