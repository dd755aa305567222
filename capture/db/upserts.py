"""INSERT … ON CONFLICT for whichever database is on the other end, built once per dialect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

T = TypeVar("T")


def upsert(on: Connection | Dialect, table: Any) -> Any:
    """An INSERT that knows ``on_conflict_do_*`` on SQLite and PostgreSQL alike (for a connection's dialect)."""
    name = on.dialect.name if isinstance(on, Connection) else on.name
    return (postgresql if name == "postgresql" else sqlite).insert(table)


def by_dialect(build: Callable[[Connection], T]) -> Callable[[Connection], T]:
    """Build a statement once per dialect: ``excluded`` and friends are costly to make per request."""
    built: dict[str, T] = {}

    def statement(connection: Connection) -> T:
        name = connection.dialect.name
        if name not in built:
            built[name] = build(connection)
        return built[name]

    return statement
