"""Export (GDPR art. 15 and 20): everything held about one person, as one JSON document.

It is made from the same table list erasure deletes from (capture/privacy/person.py), so what
can be erased can be seen first, and a table added later cannot be left out of either.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from capture.db.models import Base, Form, SequenceVersion
from capture.privacy.person import WHERE, Person

FORMAT = "leadwheel.person-export/1"

#: the order a reader wants: who, what they told us, what they did, what we made of it, who we told
_READING_ORDER = (
    "leads",
    "visitors",
    "answers",
    "consent_records",
    "snoozes",
    "email_claims",
    "events",
    "score_changes",
    "deliveries",
    "delivery_attempts",
    "sales_outcomes",
    "mail_outbox",
)


def export_person(connection: Connection, person: Person, now: datetime) -> dict[str, Any]:
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in _READING_ORDER + tuple(n for n in WHERE if n not in _READING_ORDER):
        table = Base.metadata.tables[name]
        query = select(table).where(WHERE[name](person)).order_by(*table.primary_key.columns)
        tables[name] = [_plain(dict(row)) for row in connection.execute(query).mappings()]
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "person": {
            "lead_ids": list(person.lead_ids),
            "emails": list(person.emails),
            "browsers": list(person.visitor_ids),
        },
        "profile": _profile(connection, tables["answers"]),
        "tables": tables,
    }


def _profile(connection: Connection, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """The newest answer per field, with where it came from: what the person told us, and how we know."""
    forms = {row.id: row.slug for row in connection.execute(select(Form.id, Form.slug))}
    versions = {row.id: row.version for row in connection.execute(select(SequenceVersion.id, SequenceVersion.version))}
    newest: dict[str, dict[str, Any]] = {}
    for answer in sorted(answers, key=lambda a: (a["answered_at"], a["id"])):
        if answer["skipped"]:
            continue
        newest[answer["field"]] = {
            "value": answer["value"],
            "answered_at": answer["answered_at"],
            "form": forms.get(answer["form_id"]),
            "sequence_version": versions.get(answer["sequence_version_id"]),
            "question": answer["question_key"],
            "page_url": answer["page_url"],
            "locale": answer["locale"],
            "source": answer["source"],
            "consent_text": answer["consent_text"],
            "consent_version": answer["consent_version"],
        }
    return newest


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {key: value.isoformat() if isinstance(value, datetime) else value for key, value in row.items()}
