"""A lead's row, written once per unit of work.

An answer changes what is known of its lead (seen now, what its visit has shown,
its e-mail and profile when given) and, with a live scoring model, its score
(capture/qualifying/scores.py). Both are computed first, as values, and the row
is then written by one UPDATE of the columns that changed. SQLite rewrites the
whole row on every UPDATE, and the row carries the profile and the score's
explanation, so writing it twice per answer cost twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Text, Update, bindparam, case, update
from sqlalchemy.dialects.postgresql import JSONB

from capture.db import direct
from capture.db.models import Lead

_leads = Lead.__table__
#: documents that arrive already encoded, as JSON text (the score's: see capture/qualifying/scores.py)
JSON_TEXT = frozenset({"explanation", "score_state"})


def seen_columns(
    at: datetime, visit_shown: Mapping[str, Any], *, email: str | None = None, profile: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The columns an answer sets on its lead: seen ``at``, what the visit has shown, and the e-mail and
    profile when given.

    A column the statement sets has its index entry rewritten (SQLite does so even
    for the same value), so an answer without an e-mail leaves the e-mail index alone.
    """
    columns: dict[str, Any] = {"last_seen_at": at, "visit_shown": visit_shown}
    if email is not None:
        # a new address is only claimed: whatever confirmed the old one does not confirm it
        columns.update(email=email, email_confirmed_at=None, email_confirmed_via=None)
    if profile is not None:
        columns["profile"] = profile
    return columns


def write_lead(connection: Connection, lead_id: int, columns: Mapping[str, Any]) -> None:
    """Write these columns of the lead's row, in one UPDATE."""
    write_leads(connection, [(lead_id, columns)])


def write_leads(connection: Connection, changes: Iterable[tuple[int, Mapping[str, Any]]]) -> None:
    """Write each lead's changed columns; leads that change the same columns share one statement."""
    rows: dict[frozenset[str], list[dict[str, Any]]] = {}
    for lead_id, columns in changes:
        if columns:
            bound = {f"new_{name}": value for name, value in columns.items()}
            rows.setdefault(frozenset(columns), []).append({"lead_id": lead_id, **bound})
    for names, group in rows.items():
        statement = _update(names, connection.dialect.name)
        if len(group) == 1:  # an answer's one lead: the hot path (capture/db/direct.py)
            direct.write(connection, statement, group[0])
        else:
            connection.execute(statement, group)


@lru_cache(maxsize=64)
def _update(names: frozenset[str], dialect: str) -> Update:
    """The UPDATE of these columns, built once (bound as ``new_<column>``: SQLAlchemy reserves the names).

    ``last_seen_at`` never moves back (a slow tab's answer arrives after a newer one); a document
    in :data:`JSON_TEXT` is bound as the text it is, not through the JSON type, which would encode it again.
    """
    values: dict[str, Any] = {}
    for name in sorted(names):
        column = _leads.c[name]
        if name in JSON_TEXT:
            text: Any = bindparam(f"new_{name}", type_=Text)
            values[name] = text.cast(JSONB) if dialect == "postgresql" else text
        elif name == "last_seen_at":
            now = bindparam(f"new_{name}", type_=column.type)
            values[name] = case((column < now, now), else_=column)
        else:
            values[name] = bindparam(f"new_{name}", type_=column.type)
    return update(_leads).where(_leads.c.id == bindparam("lead_id")).values(values)
