"""The engine's pool and units of work: warm connections, write transactions that commit whole or
not at all, and lost races run again (a bug never)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, insert, select, text
from sqlalchemy.exc import IntegrityError

from capture.db.engine import Database
from capture.db.models import Lead


def test_the_pool_hands_out_the_connection_returned_last(db_url: str) -> None:
    """A worker that runs one request at a time keeps reusing one connection, so SQLite's page
    cache (and psycopg's prepared statements) stay warm; handed out in turn, two connections
    in one process made every answer read its pages again."""
    db = Database(db_url)
    try:
        with db.engine.connect() as first, db.engine.connect() as second:
            first_id = id(first.connection.dbapi_connection)
            second_id = id(second.connection.dbapi_connection)
            first.execute(text("SELECT 1"))
            second.execute(text("SELECT 1"))
        # the with-statement closes `second` first and `first` last
        for _ in range(3):
            with db.write_connection() as connection:
                assert id(connection.connection.dbapi_connection) == first_id
        assert first_id != second_id
    finally:
        db.dispose()


_leads = Lead.__table__
SEEN = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
_NEW_LEAD = insert(_leads).returning(_leads.c.id)


def _emails(db: Database) -> list[str]:
    with db.read_connection() as connection:
        return list(connection.execute(select(_leads.c.email).order_by(_leads.c.id)).scalars())


def _new_lead(connection: Connection, email: str) -> int:
    row = {"email": email, "visit_count": 1, "last_seen_at": SEEN, "created_at": SEEN}
    return int(connection.execute(_NEW_LEAD, row).scalar_one())


def test_a_unit_of_work_commits_what_it_wrote(db: Database) -> None:
    lead_id = db.run(lambda connection: _new_lead(connection, "kept@example.com"))
    assert _emails(db) == ["kept@example.com"]
    assert lead_id > 0


def test_a_failing_unit_of_work_leaves_nothing_half_written(db: Database) -> None:
    def work(connection: Connection) -> None:
        _new_lead(connection, "first@example.com")
        raise RuntimeError("the second half failed")

    with pytest.raises(RuntimeError):
        db.run(work)
    assert _emails(db) == []
    db.run(lambda connection: _new_lead(connection, "after@example.com"))  # the connection is clean again
    assert _emails(db) == ["after@example.com"]


def test_a_lost_race_is_run_again(db: Database) -> None:
    """A unique-key race is run again from the start, on a fresh transaction."""
    db.run(lambda connection: _new_lead(connection, "taken@example.com"))
    attempts: list[int] = []

    def work(connection: Connection) -> int:
        attempts.append(1)
        email = "taken@example.com" if len(attempts) == 1 else "free@example.com"
        return _new_lead(connection, email)

    db.run(work)
    assert len(attempts) == 2
    assert _emails(db) == ["taken@example.com", "free@example.com"]


def test_a_bug_is_not_retried(db: Database) -> None:
    attempts: list[int] = []

    def work(connection: Connection) -> None:
        attempts.append(1)
        row = {"email": "x@example.com", "visit_count": None, "last_seen_at": SEEN, "created_at": SEEN}
        connection.execute(_NEW_LEAD, row)

    with pytest.raises(IntegrityError):
        db.run(work)
    assert attempts == [1]
