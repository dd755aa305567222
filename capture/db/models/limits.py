"""Rate-limit counters shared by every process that serves the app."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from capture.db.models.base import Base


class RateLimitCounter(Base):
    """One fixed window of one rate limit for one client (see capture/web/limit_storage.py).

    A counter in a worker's memory counts only that worker's requests; kept
    here, every worker of ``leadwheel serve`` (and every host on the same
    database) counts against the same figure. A row whose window has ended is
    started afresh by the next hit and deleted by a periodic sweep.
    """

    __tablename__ = "rate_limit_counters"

    #: the limiter's key (limit, client address, site); long keys are stored as their digest
    limit_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    hits: Mapped[int]
    #: when the window ends, in seconds since the epoch: the unit the ``limits`` library speaks
    expires_at: Mapped[float] = mapped_column(Float, index=True)
