"""The answer path's hot statements, run on the driver's cursor inside the Connection's transaction.

Every ask reads its lead once and every answer runs five or six small statements.
For statements this small SQLAlchemy's execution (its context, cache key lookup,
parameter and result objects, event dispatch) costs three to five times the
driver call: on 2026-12-05 an answer's statements took 272 µs in
``Connection.execute`` of which 55 µs were the driver's (bench/README.md). So
these few statements are compiled once per dialect by SQLAlchemy, as written in
Core, and then executed here: the compiled SQL, the types' own bind and result
processors, the driver's cursor of the same connection, in the same transaction.
Errors come back wrapped as SQLAlchemy's (``DBAPIError``), so retries and
integrity checks read them as they read any other.

Only plain statements go here, each naming the parameters it binds (an INSERT or
UPDATE with its ``.values()``): no expanding ``IN``, no ``insertmanyvalues``, no
ORM. Everything else runs through ``Connection.execute`` as usual.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import UpdateBase

Processor = Callable[[Any], Any] | None


@dataclass
class _Compiled:
    sql: str
    #: whether the SQL binds by position (``?``, SQLite) or by name (``%(name)s``, psycopg)
    positional: bool
    #: values of the statement's own literals, by name
    defaults: Mapping[str, Any]
    #: each parameter's name and bind processor, in the SQL's order where it binds by position
    binds: tuple[tuple[str, Processor], ...]
    #: the result columns' types; their processors are found at the first fetch, from what the driver
    #: says each column is (psycopg's type codes), and are None when no column needs one
    result_types: tuple[Any, ...]
    results: tuple[Processor, ...] | None = None
    results_known: bool = False


def rows(connection: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The rows ``statement`` returns (a SELECT, or a write with RETURNING), as plain tuples."""
    compiled = _compile(statement, connection.dialect)
    cursor = _execute(connection, compiled, params)
    try:
        fetched = cursor.fetchall()
        if not compiled.results_known:
            found = tuple(
                kind.dialect_impl(connection.dialect).result_processor(connection.dialect, column[1])
                for kind, column in zip(compiled.result_types, cursor.description, strict=True)
            )
            compiled.results = found if any(p is not None for p in found) else None
            compiled.results_known = True
    finally:
        cursor.close()
    processors = compiled.results
    if processors is None:
        return fetched  # type: ignore[no-any-return]
    return [
        tuple(value if p is None else p(value) for p, value in zip(processors, row, strict=True)) for row in fetched
    ]


def write(connection: Connection, statement: ClauseElement, params: Mapping[str, Any]) -> int:
    """Run a write without RETURNING; the rows it changed."""
    cursor = _execute(connection, _compile(statement, connection.dialect), params)
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _execute(connection: Connection, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
    values = {**compiled.defaults, **params} if compiled.defaults else params
    try:
        bound = [values[name] if p is None else p(values[name]) for name, p in compiled.binds]
    except KeyError as missing:  # an INSERT or UPDATE without .values() binds every column of its table
        raise TypeError(f"no value for {missing}: statements run here name each parameter they bind") from None
    arguments: Any = tuple(bound) if compiled.positional else dict(zip((n for n, _ in compiled.binds), bound))
    cursor = connection.connection.cursor()
    # the engine's cursor listeners (SQL tracing, metrics, tests that count statements) hear of these
    # statements as SQLAlchemy would tell them, before and after; their context is a bare object to note on
    dispatch = connection.engine.dispatch
    context = SimpleNamespace() if dispatch.before_cursor_execute or dispatch.after_cursor_execute else None
    if context is not None:
        for listener in dispatch.before_cursor_execute:
            listener(connection, cursor, compiled.sql, arguments, context, False)
    try:
        cursor.execute(compiled.sql, arguments)
    except connection.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        error = connection.dialect.loaded_dbapi.Error
        raise DBAPIError.instance(
            compiled.sql, None, exc, error, hide_parameters=True, dialect=connection.dialect
        ) from exc
    if context is not None:
        for listener in dispatch.after_cursor_execute:
            listener(connection, cursor, compiled.sql, arguments, context, False)
    return cursor


@lru_cache(maxsize=64)
def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled: Any = statement.compile(dialect=dialect)
    names: dict[Any, str] = compiled.bind_names
    defaults = {names[bind]: bind.effective_value for bind in names if not bind.required}
    processors = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for bind, name in names.items()}
    order = compiled.positiontup if compiled.positional else processors
    binds = tuple((name, processors[name]) for name in order)
    return _Compiled(
        sql=compiled.string,
        positional=bool(compiled.positional),
        defaults=defaults,
        binds=binds,
        result_types=tuple(_result_types(statement)),
    )


def _result_types(statement: Any) -> list[Any]:
    if isinstance(statement, UpdateBase):
        return [column["type"] for column in statement.returning_column_descriptions]
    return [column.type for column in statement.selected_columns]
