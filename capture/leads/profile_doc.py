"""A lead's profile as it is kept on its row: one JSON document, the newest answer per field.

``answers`` is the record (append-only, every answer with its provenance); the
profile is derived from it and kept on ``leads.profile`` so that what every ask
and answer needs is one row, not one row per known field::

    {"company_size": [120, "2026-11-23T09:00:00.000000+00:00", 17]}

Each field's entry is ``[value, time answered, answer id]``: a list, not an
object with named keys, as every ask decodes and every answer encodes the whole
document (on 2026-12-03, 13 fields: 0.8 KB instead of 1.3 KB, and the decode,
the wheel's view and the encode together ~52 µs instead of ~79 µs). Elsewhere, read an
entry with :func:`value`, :func:`answered_at` and :func:`answer_id`, never by position.

Kept as rows of a table of its own (one per lead and field), the profile cost
each ask a row per field to read and convert, and each answer an upsert into a
second table and its index; it is only ever read and written whole, for one
lead, under that lead's lock. A value replaces the one kept unless that one was
answered later: a slow tab must not undo a newer answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from profiling.wheel import Known

#: one field's entry: its value, when it was answered (see moment()), and the answer that gave it
Entry = list[Any]
Document = dict[str, Entry]


def moment(at: datetime) -> str:
    """A time as the document keeps it: UTC, to the microsecond, with its offset (so it reads back aware)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given to a lead's profile")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def entry(value: Any, answered_at: datetime, answer_id: int) -> Entry:
    return [value, moment(answered_at), answer_id]


def value(kept: Entry) -> Any:
    return kept[0]


def answered_at(kept: Entry) -> datetime:
    return datetime.fromisoformat(kept[1])


def answer_id(kept: Entry) -> int:
    return int(kept[2])


def learned(document: Mapping[str, Entry], answers: Iterable[tuple[str, Any, datetime, int]]) -> Document:
    """``document`` with these answers (field, value, time answered, answer id) taken in, newest wins."""
    updated = dict(document)
    for field, value, at, answer_id in answers:
        kept = updated.get(field)
        if kept is None or answered_at(kept) <= at:
            updated[field] = entry(value, at, answer_id)
    return updated


def rebuilt(answers: Iterable[tuple[int, str, Any, datetime]]) -> Document:
    """The profile from a lead's answers (id, field, value, time answered), given oldest first."""
    return {field: entry(value, at, answer_id) for answer_id, field, value, at in answers}


def known(document: Mapping[str, Entry] | None) -> dict[str, Known]:
    """What the wheel knows from a profile document."""
    if not document:
        return {}
    parse = datetime.fromisoformat  # not answered_at(): a call per field is a share of every ask
    return {field: Known(kept[0], parse(kept[1])) for field, kept in document.items()}


def values(document: Mapping[str, Entry] | None) -> dict[str, Any]:
    """Field → value, as scoring and hand-offs read a profile."""
    if not document:
        return {}
    return {field: kept[0] for field, kept in document.items()}
