"""Behaviour events as the scoring core sees them.

The capture side stores far more per event (the full URL, the visitor, where it
came from); scoring only needs what rules can match on, so an event is four
small values. Events are immutable and carry their own time: the core never
reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a lead did, e.g. a page view of ``/pricing`` or a demo request."""

    #: what happened, e.g. ``page_view``, ``demo_request``, ``email_click``
    type: str
    #: when it happened; must be timezone-aware (a naive time is refused when folded, because
    #: guessing its zone would silently shift every decay)
    at: datetime
    #: the URL path only (``/pricing``), which engagement rules match with their ``path`` glob
    path: str | None = None
    #: a small JSON object, matched by the ``props`` filter of engagement rules
    props: Mapping[str, Any] = field(default_factory=dict)
