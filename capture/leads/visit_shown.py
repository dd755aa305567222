"""What a lead's current visit has shown, kept on its row: ``leads.visit_shown``.

A visit asks at most ``questions_per_visit`` questions in all, across answers,
reloads, tabs, the lead's browsers and forms of the same sequence (see
profiling/wheel.py). A question counts once it was shown on a form that was
then submitted (answered, snoozed or left blank), so an answer notes the
ticket's question keys here; an ask only reads them, with the profile, in the
one read it already makes::

    {"visit": 3, "shown": {"B2B qualification": ["company_name", "email", "first_name"]}}

Keyed by the sequence's name, so two forms that publish the same sequence share
one quota, and a form's new version keeps the count of its visit. A record of
a visit other than the lead's current one counts for nothing: a new visit (the
conditional UPDATE of capture/leads/store.py's ``start_visit``) starts with none,
without anything having to clear it.

At a merge of two leads mid-visit, the person behind both is in one visit:
what either lead's current visit showed counts for the merged lead's visit, so
a merge never hands out a fresh quota. A lead idle for longer than the visit
gap is between visits and brings nothing (see :func:`united`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Record = dict[str, Any]


def shown(record: Mapping[str, Any] | None, visit: int, sequence: str) -> frozenset[str]:
    """The question keys of ``sequence`` the lead's visit number ``visit`` has shown."""
    if not record or record.get("visit") != visit:
        return frozenset()
    return frozenset(record.get("shown", {}).get(sequence, ()))


def noted(record: Mapping[str, Any] | None, visit: int, sequence: str | None, keys: Iterable[str]) -> Record:
    """The record after a form of ``sequence`` that showed ``keys`` was submitted on visit ``visit``."""
    by_sequence = dict(record.get("shown", {})) if record and record.get("visit") == visit else {}
    keys = set(keys)
    if sequence is not None and keys:
        by_sequence[sequence] = sorted(keys.union(by_sequence.get(sequence, ())))
    return {"visit": visit, "shown": by_sequence}


def united(records: Iterable[tuple[Mapping[str, Any] | None, int]], visit: int) -> Record:
    """The merged lead's record on visit ``visit``, from each lead's (record, current visit number).

    The caller passes only the leads still in a visit (seen within the visit
    gap); each one's record counts if it is of that lead's own current visit.
    """
    by_sequence: dict[str, set[str]] = {}
    for record, own_visit in records:
        if not record or record.get("visit") != own_visit:
            continue
        for sequence, keys in record.get("shown", {}).items():
            by_sequence.setdefault(sequence, set()).update(keys)
    return {"visit": visit, "shown": {sequence: sorted(keys) for sequence, keys in by_sequence.items()}}
