"""A data subject's request, from the CLI or a site's back end: find the person, then export or erase.

The person is named by one of an e-mail address, a lead id or a browser (the visitor token
the snippet keeps, or its id), so a person who never gave an address can use their rights too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from capture.db.engine import Database
from capture.privacy.erasure import Erased, erase, scrub_sqlite_log
from capture.privacy.export import export_person
from capture.privacy.person import Who, find_person
from capture.web.errors import invalid
from profiling.identity import Tokens


def who_of(body: Mapping[str, Any], tokens: Tokens, now: datetime) -> Who:
    """The one identifier a back end's request names: ``email``, ``lead_id`` or ``visitor`` (the snippet's token)."""
    named = [key for key in ("email", "lead_id", "visitor") if body.get(key) is not None]
    message = "Name the person by exactly one of email, lead_id or visitor."
    if len(named) != 1:
        raise invalid("invalid_body", message, {key: message for key in named or ["email"]})
    email, lead_id, visitor = body.get("email"), body.get("lead_id"), body.get("visitor")
    if named == ["email"] and isinstance(email, str) and 0 < len(email) <= 320:
        return Who(email=email)
    if named == ["lead_id"] and isinstance(lead_id, int) and not isinstance(lead_id, bool) and 0 < lead_id < 2**31:
        return Who(lead_id=lead_id)
    if named == ["visitor"] and isinstance(visitor, str) and len(visitor) <= 1000:
        # a token that no longer reads (forged, or too old) names no one: the lead cannot be found by it
        return Who(visitor_id=tokens.read_visitor(visitor, now) or "")
    raise invalid("invalid_body", f"{named[0]} is not valid.", {named[0]: "Not a valid value."})


def export_request(db: Database, who: Who, now: datetime, site_id: int | None = None) -> dict[str, Any]:
    """The person's export; NoSuchPerson if no one (or another site's lead) matches."""
    with db.write_connection() as connection:  # one snapshot: the export is consistent
        person = find_person(connection, who, site_id)
        return export_person(connection, person, now)


def erase_request(db: Database, who: Who, now: datetime, via: str, site_id: int | None = None) -> tuple[Erased, bool]:
    """Erase the person; and whether SQLite's log could be emptied at once (a reader may hold it a moment)."""
    with db.write_connection() as connection:
        person = find_person(connection, who, site_id)
        erased = erase(connection, [person], now, via)
    with db.read_connection() as connection:
        scrubbed = scrub_sqlite_log(connection)
    return erased, scrubbed
