"""The answer path's statements run on the driver's cursor (capture/db/direct.py): what they read and
write must be exactly what SQLAlchemy would, on both databases, inside the unit of work's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, event, insert, literal, select, update
from sqlalchemy.exc import IntegrityError

from capture.db import direct
from capture.db.engine import Database
from capture.db.models import Answer, Lead

_leads, _answers = Lead.__table__, Answer.__table__
_LEAD_COLUMNS = ("email", "visit_count", "last_seen_at", "created_at", "profile")
SEEN = datetime(2026, 12, 5, 9, 30, 15, 123456, tzinfo=UTC)
_NEW_LEAD = (
    insert(_leads)
    .values({name: bindparam(name, type_=_leads.c[name].type) for name in _LEAD_COLUMNS})
    .returning(_leads.c.id, _leads.c.last_seen_at, _leads.c.profile)
)
_READ = select(
    _leads.c.id, _leads.c.email, _leads.c.last_seen_at, _leads.c.profile, _leads.c.visit_count,
    literal(None).label("absent"),
).where(_leads.c.id == bindparam("lead_id"))  # fmt: skip
_SEE = update(_leads).where(_leads.c.id == bindparam("lead_id")).values(last_seen_at=bindparam("at"))
PROFILE = {"email": {"value": "ada@example.com", "at": "2026-12-05T09:30:15Z"}, "size": {"value": 20}, "none": None}


def _lead(**columns: Any) -> dict[str, Any]:
    return {
        "email": "ada@example.com",
        "visit_count": 2,
        "last_seen_at": SEEN,
        "created_at": SEEN,
        "profile": {},
    } | columns


def test_rows_read_what_sqlalchemy_reads_typed_the_same(db: Database) -> None:
    with db.write_connection() as connection:
        [(lead_id, seen, profile)] = direct.rows(connection, _NEW_LEAD, _lead(profile=PROFILE))
        assert seen == SEEN and seen.tzinfo is not None  # an aware UTC moment, not SQLite's text
        assert profile == PROFILE  # a document, not its JSON text
        ours = direct.rows(connection, _READ, {"lead_id": lead_id})
        theirs = [tuple(row) for row in connection.execute(_READ, {"lead_id": lead_id})]
    assert ours == theirs == [(lead_id, "ada@example.com", SEEN, PROFILE, 2, None)]


def test_a_write_says_how_many_rows_it_changed_and_stays_in_the_transaction(db: Database) -> None:
    later = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    lead_id = db.run(lambda connection: direct.rows(connection, _NEW_LEAD, _lead())[0][0])

    def see_then_fail(connection: Any) -> None:
        assert direct.write(connection, _SEE, {"lead_id": lead_id, "at": later}) == 1
        assert direct.rows(connection, _READ, {"lead_id": lead_id})[0][2] == later  # its own write, visible
        raise RuntimeError("the rest of the unit of work failed")

    with pytest.raises(RuntimeError):
        db.run(see_then_fail)
    with db.read_connection() as connection:
        assert direct.rows(connection, _READ, {"lead_id": lead_id})[0][2] == SEEN  # rolled back with it
    assert db.run(lambda connection: direct.write(connection, _SEE, {"lead_id": -1, "at": later})) == 0


def test_a_driver_error_is_sqlalchemys_error_and_quotes_no_values(db: Database) -> None:
    """Retries and integrity checks read SQLAlchemy's exceptions; a visitor's values never reach a log."""
    row = {
        "lead_id": 999_999, "site_id": 999_999, "field": "email", "value": "secret@example.com", "skipped": False,
        "locale": "en", "asked_at": SEEN, "answered_at": SEEN, "source": "form", "on_request": False,
    }  # fmt: skip
    statement = insert(_answers).values({name: bindparam(name, type_=_answers.c[name].type) for name in row})
    with pytest.raises(IntegrityError) as raised, db.write_connection() as connection:
        direct.rows(connection, statement.returning(_answers.c.id), row)  # no such lead: a foreign key
    assert "secret@example.com" not in str(raised.value)


def test_the_engines_cursor_listeners_see_these_statements_too(db: Database) -> None:
    """SQL tracing and metrics hook the cursor events, timing a statement from before to after on its
    context; the fast path must not hide from them, nor tell "after" before the statement ran."""
    heard: list[tuple[str, str, bool]] = []  # (when, statement, whether the cursor had run it)

    def before(_conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        context.span = "open"  # tracers keep their span on the context
        heard.append(("before", statement, cursor.description is not None))

    def after(_conn: Any, cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        assert context.span == "open"
        heard.append(("after", statement, cursor.description is not None))

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        with db.write_connection() as connection:
            direct.rows(connection, _NEW_LEAD, _lead())
            heard.append(("then", "", True))
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    assert [(when, ran) for when, _, ran in heard] == [("before", False), ("after", True), ("then", True)]
    assert heard[0][1] == heard[1][1] and heard[0][1].lstrip().upper().startswith("INSERT INTO LEADS")
