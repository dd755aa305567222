"""The engine's pool: the next transaction gets the connection used last, with its caches warm."""

from __future__ import annotations

from sqlalchemy import text

from capture.db import Database


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
