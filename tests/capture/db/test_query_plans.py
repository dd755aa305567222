"""The reads every ask and answer make go by index: their cost must not grow with the database.

An earlier knowledge read outer-joined the profile fields ON false to type its columns, and SQLite
ran that as a scan of every profile field of every lead: 6 µs with none stored, 4 ms at 200,000.
Timings are not tests here; the query plans are.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.sql import Executable

from capture.db.engine import Database
from capture.leads.store import (
    _LEAD_BY_EMAIL,
    _LOCK_VISITOR,
    _MOVED_TO,
    _READ_KNOWLEDGE,
    _READ_KNOWLEDGE_AND_STANDING,
)
from capture.qualifying.scores import _PROFILE, _STANDING

HOT_READS = {
    "knowledge": _READ_KNOWLEDGE,
    "knowledge and standing": _READ_KNOWLEDGE_AND_STANDING,
    "visitor lock": _LOCK_VISITOR,
    "lead by e-mail": _LEAD_BY_EMAIL,
    "standing": _STANDING,
    "profile": _PROFILE,
    "the lead an answer moved its visitor to": _MOVED_TO,
}
PARAMS = {"visitor_id": "0" * 32, "form_id": 1, "email": "someone@example.com", "lead_id": 1}


def _plan(db: Database, statement: Executable) -> str:
    """The database's plan for the statement as it runs, parameters bound the way every request binds them."""
    with db.write_connection() as connection:
        compiled = statement.compile(dialect=connection.dialect)
        params = compiled.construct_params(PARAMS)
        values: Any = tuple(params[name] for name in compiled.positiontup or ()) if compiled.positional else params
        if db.is_sqlite:
            rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, values)
            return "\n".join(str(row[-1]) for row in rows)
        # with sequential scans priced out, a plan that still scans has no other way
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(str(row[0]) for row in connection.exec_driver_sql("EXPLAIN " + compiled.string, values))


@pytest.mark.parametrize("name", HOT_READS)
def test_every_hot_read_goes_by_index(db: Database, name: str) -> None:
    plan = _plan(db, HOT_READS[name])
    # SQLite says SCAN for a full pass over a table (SEARCH when it uses an index); PostgreSQL says Seq Scan
    full_pass = "SCAN " if db.is_sqlite else "Seq Scan"
    scans = [line for line in plan.splitlines() if full_pass in line]
    assert not scans, f"the {name} read scans a table:\n{plan}"
