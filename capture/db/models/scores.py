"""Scoring models as published, and the history of every lead's score."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class ScoringModelVersion(Base):
    """An immutable, published scoring model.

    Versions are numbered across the installation. A site's live model is its newest version; the
    newest version published without a site is the installation default, which scores every lead
    whose site has no model of its own.
    """

    __tablename__ = "scoring_models"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    #: the site it scores the leads of; None for the installation default
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    document: Mapped[dict[str, Any]]
    #: sha256 of the canonical document, so re-importing the same file publishes nothing new
    checksum: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime]
    #: when every lead had been re-scored with this version (None while that runs or ran out)
    rescored_at: Mapped[datetime | None]


class ScoreChange(Base):
    """A lead's score or stage moved: when, why, and under which model version."""

    __tablename__ = "score_changes"
    __table_args__ = (Index(None, "lead_id", "at"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("leads.id"))
    scoring_model_id: Mapped[int] = mapped_column(ForeignKey("scoring_models.id"))
    at: Mapped[datetime]
    fit: Mapped[float] = mapped_column(Float)
    engagement: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    stage_before: Mapped[str | None] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(16))
    #: answer, event, rescore, refresh (decay), merge
    cause: Mapped[str] = mapped_column(String(16))
