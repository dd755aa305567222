"""What the scoring core reads of a lead: what it said (its :class:`Profile`) and what it did (its :class:`Event` s).

The capture side stores far more (each answer's provenance, an event's full URL, the visitor,
where it came from); scoring needs only what rules match on. Both are immutable, and events carry
their own time: the core never reads a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Profile:
    """The latest known value of each profile field, and the lead's e-mail address.

    A field that is absent (or ``None``) is *unknown*, never "zero": fit rules on
    it award nothing, and :attr:`scoring.engine.Score.completeness` says how much
    of the model's fit criteria is still unknown.
    """

    #: field name -> latest value: str, int, float, bool or list[str] (a multi-select answer)
    fields: Mapping[str, Any]
    #: lower-cased; rules on the e-mail domain (target accounts, free-mail, student, competitor) read it
    email: str | None = None

    def known(self, name: str) -> bool:
        """Whether the field has a value (``None`` counts as unknown)."""
        return self.fields.get(name) is not None


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
