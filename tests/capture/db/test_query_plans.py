"""The reads every ask and answer make go by index: their cost must not grow with the database.

An earlier knowledge read outer-joined the profile fields ON false to type its columns, and SQLite
ran that as a scan of every profile field of every lead: 6 µs with none stored, 4 ms at 200,000.
Timings are not tests here; the query plans are.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from capture.db.engine import Database
from capture.db.prepared import Prepared
from capture.leads.store import (
    _LEAD_BY_EMAIL,
    _LOCK_VISITOR,
    _MOVED_TO,
    _READ_KNOWLEDGE,
    _READ_KNOWLEDGE_AND_STANDING,
)
from capture.qualifying.scores import _READ_PROFILE, _READ_STANDING

HOT_READS = {
    "knowledge": _READ_KNOWLEDGE,
    "knowledge and standing": _READ_KNOWLEDGE_AND_STANDING,
    "visitor lock": _LOCK_VISITOR,
    "lead by e-mail": _LEAD_BY_EMAIL,
    "standing": _READ_STANDING,
    "profile": _READ_PROFILE,
    "the lead an answer moved its visitor to": _MOVED_TO,
}
PARAMS = {"visitor_id": "0" * 32, "form_id": 1, "email": "someone@example.com", "lead_id": 1}


def _plan(db: Database, statement: Prepared) -> str:
    with db.write_connection() as connection:
        compiled = statement._compiled(connection.dialect)
        params: Any = statement._bound(compiled, PARAMS)
        cursor = connection.connection.cursor()
        try:
            if db.is_sqlite:
                cursor.execute("EXPLAIN QUERY PLAN " + compiled.sql, params)
                return "\n".join(str(row[-1]) for row in cursor.fetchall())
            # with sequential scans priced out, a plan that still scans has no other way
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            cursor.execute("EXPLAIN " + compiled.sql, params)
            return "\n".join(str(row[0]) for row in cursor.fetchall())
        finally:
            cursor.close()


@pytest.mark.parametrize("name", HOT_READS)
def test_every_hot_read_goes_by_index(db: Database, name: str) -> None:
    plan = _plan(db, HOT_READS[name])
    # SQLite says SCAN for a full pass over a table (SEARCH when it uses an index); PostgreSQL says Seq Scan
    full_pass = "SCAN " if db.is_sqlite else "Seq Scan"
    scans = [line for line in plan.splitlines() if full_pass in line]
    assert not scans, f"the {name} read scans a table:\n{plan}"
