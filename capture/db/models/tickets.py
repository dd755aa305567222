"""Render tickets already used: a ticket carries one submission, once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class UsedTicket(Base):
    """A ticket that carried answers, written in the answers' own transaction.

    The primary key is what makes a ticket single use, even for two submissions
    racing each other. Rows are worth keeping only while the ticket could still
    be read (its lifetime); older ones are deleted as answers come in.
    """

    __tablename__ = "used_tickets"

    #: the ticket's random id (a digest of the ticket for tickets minted before they had one)
    ticket_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: sha256 of the submission it carried: the same submission again is a retry, answered as before
    submission: Mapped[str] = mapped_column(String(64))
    #: how many answers that submission stored (what the retry is told again)
    stored: Mapped[int]
    used_at: Mapped[datetime] = mapped_column(index=True)
