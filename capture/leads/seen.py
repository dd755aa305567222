"""What an answer sets on its lead's row: seen now, its e-mail when one was given, its profile when it changed.

An answer writes its lead's row once. With a live scoring model these columns
ride on the score's own UPDATE (capture/qualifying/scores.py); SQLite rewrites the whole
row on every UPDATE, and the row carries the profile and the score's
explanation, so writing it twice per answer cost twice. Without one, the
answer runs them alone (capture/leads/store.py).

The parameters are ``now`` and ``visit_shown`` (what the lead's visit has shown,
as JSON text: capture/leads/visit_shown.py; every answer notes its form's questions),
and ``email`` and ``profile`` (the document's JSON text, see
capture/leads/profile_doc.py) when set: :func:`seen_values` builds the columns for
the ones a given parameter set has.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Text, bindparam, case
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect

from capture.db.models import Lead

_leads = Lead.__table__


def seen_values(dialect: Dialect, *, email: bool, profile: bool) -> dict[str, Any]:
    """The SET clause: last seen now (never moving it back for a slow tab), what the visit has shown, and the
    e-mail and profile if given.

    A column the statement sets has its index entry rewritten (SQLite does so even
    for the same value), so an answer without an e-mail leaves the e-mail index alone.
    """
    now = bindparam("now", type_=_leads.c.last_seen_at.type)
    values: dict[str, Any] = {"last_seen_at": case((_leads.c.last_seen_at < now, now), else_=_leads.c.last_seen_at)}
    if email:
        # a new address is only claimed: whatever confirmed the old one does not confirm it
        values["email"] = bindparam("email", type_=_leads.c.email.type)
        values["email_confirmed_at"] = None
        values["email_confirmed_via"] = None
    if profile:
        # bound as the JSON text profile_doc.encode made, not through the JSON type, which would encode it again
        values["profile"] = _json_text("profile", dialect)
    values["visit_shown"] = _json_text("visit_shown", dialect)
    return values


def _json_text(name: str, dialect: Dialect) -> Any:
    document: Any = bindparam(name, type_=Text)
    return document.cast(JSONB) if dialect.name == "postgresql" else document


def shape(params: Mapping[str, Any]) -> tuple[bool, bool, bool]:
    """(seen, e-mail, profile): which of these columns a parameter set writes."""
    return "now" in params, "email" in params, "profile" in params
