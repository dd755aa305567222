"""The engine's pool and write transactions: warm connections, driver-level units that commit whole or
not at all, retry lost races, and rerun on Core when they must."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError

from capture.db.engine import Database
from capture.db.models import Lead
from capture.db.prepared import Prepared, Runner, core, row_insert


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
_NEW_LEAD = Prepared(row_insert(_leads, ("email", "visit_count", "last_seen_at", "created_at")).returning(_leads.c.id))


def _emails(db: Database) -> list[str]:
    with db.read_connection() as connection:
        return list(connection.execute(select(_leads.c.email).order_by(_leads.c.id)).scalars())


def _new_lead(connection: Runner, email: str) -> int:
    return int(
        _NEW_LEAD.one(connection, {"email": email, "visit_count": 1, "last_seen_at": SEEN, "created_at": SEEN}).id
    )


def test_driver_transactions_commit_what_the_work_wrote(db: Database) -> None:
    lead_id = db.run_on_driver(lambda connection: _new_lead(connection, "kept@example.com"))
    assert _emails(db) == ["kept@example.com"]
    assert lead_id > 0


def test_a_failing_driver_transaction_leaves_nothing_half_written(db: Database) -> None:
    def work(connection: Runner) -> None:
        _new_lead(connection, "first@example.com")
        raise RuntimeError("the second half failed")

    with pytest.raises(RuntimeError):
        db.run_on_driver(work)
    assert _emails(db) == []
    db.run_on_driver(lambda connection: _new_lead(connection, "after@example.com"))  # the connection is clean again
    assert _emails(db) == ["after@example.com"]


def test_work_that_needs_core_runs_again_whole_on_a_core_connection(db: Database) -> None:
    """The first attempt's writes are rolled back with it: the lead is stored once, by the rerun."""
    kinds: list[str] = []

    def work(connection: Runner) -> int:
        kinds.append(type(connection).__name__)
        lead_id = _new_lead(connection, "merged@example.com")
        core(connection).execute(update(_leads).where(_leads.c.id == lead_id).values(visit_count=5))
        return lead_id

    db.run_on_driver(work)
    assert kinds == ["DriverConnection", "Connection"]
    with db.read_connection() as connection:
        assert connection.execute(select(_leads.c.email, _leads.c.visit_count)).all() == [("merged@example.com", 5)]


def test_a_lost_race_on_the_driver_is_run_again(db: Database) -> None:
    """A unique-key race surfaces as SQLAlchemy's IntegrityError, which the driver path retries like run()."""
    db.run_on_driver(lambda connection: _new_lead(connection, "taken@example.com"))
    attempts: list[int] = []

    def work(connection: Runner) -> int:
        attempts.append(1)
        email = "taken@example.com" if len(attempts) == 1 else "free@example.com"
        return _new_lead(connection, email)

    db.run_on_driver(work)
    assert len(attempts) == 2
    assert _emails(db) == ["taken@example.com", "free@example.com"]


def test_a_bug_is_not_retried_on_the_driver(db: Database) -> None:
    attempts: list[int] = []

    def work(connection: Runner) -> None:
        attempts.append(1)
        _NEW_LEAD.run(connection, {"email": "x@example.com", "visit_count": None, "last_seen_at": SEEN,
                                   "created_at": SEEN})  # fmt: skip

    with pytest.raises(IntegrityError):
        db.run_on_driver(work)
    assert attempts == [1]
