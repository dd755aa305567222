"""Prepared statements give back what Core gives back, and fail the way Core fails."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, literal, select, union_all
from sqlalchemy.exc import IntegrityError

from capture.db.engine import Database
from capture.db.models import Lead
from capture.db.prepared import Prepared, row_insert

_leads = Lead.__table__
SEEN = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=UTC)


def _lead(connection: object, email: str) -> int:
    return int(
        connection.execute(  # type: ignore[attr-defined]
            insert(_leads)
            .values(email=email, visit_count=2, last_seen_at=SEEN, created_at=SEEN, fit=12.5, score=40.25,
                    explanation={"contributions": [{"rule": "size", "points": 12.5}]}, score_state={"n": [1, 2]})
            .returning(_leads.c.id)
        ).scalar_one()
    )  # fmt: skip


def test_rows_read_like_core_typed_values_and_literal_columns(db: Database) -> None:
    with db.write_connection() as connection:
        lead_id = _lead(connection, "typed@example.com")
    statement = union_all(
        select(_leads.c.id, _leads.c.last_seen_at, _leads.c.fit, _leads.c.explanation, _leads.c.score_state,
               literal(7).label("seven"))
        .where(_leads.c.id == bindparam("lead_id")),
        select(_leads.c.id, _leads.c.created_at, _leads.c.score, _leads.c.score_state, _leads.c.explanation, literal(8))
        .where(_leads.c.id == bindparam("lead_id")),
    )  # fmt: skip
    with db.read_connection() as connection:
        through_core = [tuple(row) for row in connection.execute(statement, {"lead_id": lead_id})]
        prepared = Prepared(statement).rows(connection, {"lead_id": lead_id})
    assert prepared == through_core
    first = prepared[0]
    assert first.last_seen_at == SEEN and first.last_seen_at.tzinfo is not None
    assert first.explanation == {"contributions": [{"rule": "size", "points": 12.5}]}
    assert first.score_state == {"n": [1, 2]} and first.seven == 7
    assert prepared[1].last_seen_at == SEEN and prepared[1].fit == 40.25 and prepared[1].seven == 8
    assert isinstance(first.fit, float)


def test_writes_bind_through_the_column_types(db: Database) -> None:
    seen = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    names = ("email", "visit_count", "last_seen_at", "created_at", "explanation")
    store = Prepared(row_insert(_leads, names).returning(_leads.c.id))
    with db.write_connection() as connection:
        row = store.one(connection, {"email": "bound@example.com", "visit_count": 1, "last_seen_at": seen,
                                     "created_at": seen, "explanation": {"tools": ["crm", "esp"]}})  # fmt: skip
    with db.read_connection() as connection:
        stored = connection.execute(select(_leads.c.explanation, _leads.c.last_seen_at).where(_leads.c.id == row.id))
        explanation, last_seen_at = stored.one()
    assert explanation == {"tools": ["crm", "esp"]}
    assert last_seen_at == seen


def test_a_broken_constraint_is_sqlalchemys_integrity_error_and_rolls_back(db: Database) -> None:
    store = Prepared(row_insert(_leads, ("email", "visit_count", "last_seen_at", "created_at")))
    row = {"email": "twice@example.com", "visit_count": 1, "last_seen_at": SEEN, "created_at": SEEN}
    with db.write_connection() as connection:
        assert store.run(connection, row) == 1
    with pytest.raises(IntegrityError), db.write_connection() as connection:
        store.run(connection, {**row, "email": "once@example.com"})
        store.run(connection, row)  # the unique e-mail: Database.run repeats on exactly this error
    with db.read_connection() as connection:
        emails = set(connection.execute(select(_leads.c.email)).scalars())
    assert emails == {"twice@example.com"}  # the failed transaction left nothing behind


def test_expanding_parameters_are_refused(db: Database) -> None:
    with db.read_connection() as connection, pytest.raises(ValueError, match="expanding"):
        Prepared(select(_leads.c.id).where(_leads.c.id.in_(bindparam("ids", expanding=True)))).rows(
            connection, {"ids": [1]}
        )


def test_run_many_binds_shared_and_unhashable_values_row_by_row(db: Database) -> None:
    names = ("email", "visit_count", "last_seen_at", "created_at", "explanation")
    store = Prepared(row_insert(_leads, names))
    rows = [
        {"email": f"many{n}@example.com", "visit_count": n, "last_seen_at": SEEN, "created_at": SEEN,
         "explanation": {"n": n}}
        for n in range(3)
    ]  # fmt: skip
    with db.write_connection() as connection:
        store.run_many(connection, rows)
    with db.read_connection() as connection:
        stored = connection.execute(
            select(_leads.c.email, _leads.c.visit_count, _leads.c.last_seen_at, _leads.c.explanation)
            .where(_leads.c.email.like("many%"))
            .order_by(_leads.c.visit_count)
        ).all()
    assert [tuple(row) for row in stored] == [(f"many{n}@example.com", n, SEEN, {"n": n}) for n in range(3)]
