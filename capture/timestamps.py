"""Moments as JSON text: one way to write them, for every document the service sends."""

from __future__ import annotations

from datetime import datetime


def iso(value: datetime | None, *, zulu: bool = False) -> str | None:
    """RFC 3339 text of an aware moment (None stays None).

    ``zulu``: UTC written as ``Z`` rather than ``+00:00``, as the sales API has always written
    it (hand-off payloads and exports write ``+00:00``); receivers read both.
    """
    if value is None:
        return None
    text = value.isoformat()
    return text.replace("+00:00", "Z") if zulu else text
