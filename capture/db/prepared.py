"""Hot statements run straight on the driver's cursor, with SQLAlchemy's own type handling.

Every ask and answer runs a handful of small statements. Through Core each
one costs some 25 µs of execution machinery plus a Row object per row, which
is more than SQLite needs to run it: on the ask path the knowledge read spent
four fifths of its time in SQLAlchemy. A :class:`Prepared` statement is a Core
statement compiled once per dialect and executed on the DBAPI cursor of the
caller's ``Connection`` (so inside the caller's transaction), binding and
reading values through the very processors SQLAlchemy would use: the values
that go in and come out are the same as through ``connection.execute``.

Only plain binds are supported (no ``expanding`` IN lists, no
``insertmanyvalues`` batching); anything else belongs on the ordinary path.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import Connection, Insert, Table, bindparam, insert
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]


@dataclass
class _Compiled:
    sql: str
    #: bind names in placeholder order for positional drivers (sqlite3); None for named ones (psycopg)
    order: tuple[str, ...] | None
    #: values of binds the statement carries itself (literals), to fill in under the caller's
    defaults: dict[str, Any]
    #: every bind name, in the order the statement names them (for named drivers)
    binds_in_order: tuple[str, ...]
    binders: dict[str, Processor]
    #: the result columns' types (empty for a statement that returns no rows)
    result_types: tuple[Any, ...]
    #: the row type: a named tuple of the result columns' keys
    row: Callable[..., Any] | None
    #: (column index, processor) for the result columns whose driver value needs processing; known
    #: after the first run, as some drivers' processors depend on the type the server reports
    readers: tuple[tuple[int, Processor], ...] | None = None
    #: the positional driver's parameter tuple from the named values (None for named drivers)
    pick: Callable[[Mapping[str, Any]], tuple[Any, ...]] | None = None

    def __post_init__(self) -> None:
        if self.order is not None:
            getter = itemgetter(*self.order) if self.order else (lambda _values: ())
            self.pick = (lambda values: (getter(values),)) if len(self.order) == 1 else getter


@dataclass(frozen=True)
class DriverConnection:
    """A pooled driver connection with its dialect: what a :class:`Prepared` statement needs of a
    ``Connection``, for a hot read that wants no SQLAlchemy ``Connection`` around it at all."""

    dialect: Dialect
    connection: Any

    def invalidate(self, exception: BaseException | None = None) -> None:
        self.connection.invalidate(exception)


#: where a prepared statement runs: inside a Core transaction, or on a bare pooled connection
Runner = Connection | DriverConnection


class CoreNeeded(Exception):
    """Work running on a :class:`DriverConnection` reached a statement only a ``Connection`` can run.

    ``Database.run_on_driver`` rolls the attempt back and runs the whole unit again
    in an ordinary Core transaction. Raise it (through :func:`core`) before the
    rare path writes anything worth keeping: the attempt is thrown away either way.
    """


def core(connection: Runner) -> Connection:
    """``connection`` as a SQLAlchemy ``Connection``, for the rare paths that need one.

    On a bare driver connection this raises :class:`CoreNeeded`, and the unit of
    work reruns on a ``Connection``: the hot path keeps its prepared statements,
    and a merge or a hand-off keeps all of Core.
    """
    if isinstance(connection, DriverConnection):
        raise CoreNeeded
    return connection


class Prepared:
    """A Core statement to run many times on the hot path; see the module's docstring.

    ``statement`` is the statement, or a function of the dialect that builds it
    (an upsert is a different statement on SQLite and PostgreSQL).
    """

    def __init__(self, statement: ClauseElement | Callable[[Dialect], ClauseElement]):
        self._build = statement if callable(statement) else (lambda _dialect: statement)
        self._by_dialect: dict[str, _Compiled] = {}

    def _compiled(self, dialect: Dialect) -> _Compiled:
        compiled = self._by_dialect.get(dialect.name)
        if compiled is None:
            compiled = self._by_dialect[dialect.name] = _compile(self._build(dialect), dialect)
        return compiled

    def _bound(self, compiled: _Compiled, params: Mapping[str, Any]) -> Sequence[Any] | dict[str, Any]:
        values = {**compiled.defaults, **params} if compiled.defaults else dict(params)
        for name, process in compiled.binders.items():
            if name in values:
                values[name] = process(values[name])
        if compiled.pick is None:
            return values
        return compiled.pick(values)

    def rows(self, connection: Runner, params: Mapping[str, Any]) -> list[Any]:
        """Every row the statement returns, as named tuples of processed values."""
        make = self._compiled(connection.dialect).row
        assert make is not None, "rows() of a statement that returns none"
        return [make(*values) for values in self.values(connection, params)]

    def values(self, connection: Runner, params: Mapping[str, Any]) -> list[Any]:
        """Every row's processed values, as plain sequences: for a reader of many rows that only unpacks
        them by position, which a named tuple per row would cost more than it helps."""
        compiled = self._compiled(connection.dialect)
        cursor = connection.connection.cursor()
        try:
            raw = execute_on_driver(connection, cursor, compiled.sql, self._bound(compiled, params), fetch=True)
            readers = compiled.readers
            if readers is None:
                readers = compiled.readers = _readers(compiled.result_types, connection.dialect, cursor.description)
        finally:
            cursor.close()
        if not readers:
            return list(raw)
        rows = []
        for row in raw:
            values = list(row)
            for index, process in readers:
                value = values[index]
                if value is not None:  # NULL reads as None for every type here; skipping it saves a call
                    values[index] = process(value)
            rows.append(values)
        return rows

    def first(self, connection: Runner, params: Mapping[str, Any]) -> Any | None:
        """The first row, or None."""
        rows = self.rows(connection, params)
        return rows[0] if rows else None

    def one(self, connection: Runner, params: Mapping[str, Any]) -> Any:
        """The only row; an error when there is none (a bug in the caller, not a visitor's doing)."""
        rows = self.rows(connection, params)
        if len(rows) != 1:
            raise LookupError(f"expected one row, got {len(rows)}")
        return rows[0]

    def run(self, connection: Runner, params: Mapping[str, Any]) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        compiled = self._compiled(connection.dialect)
        cursor = connection.connection.cursor()
        try:
            execute_on_driver(connection, cursor, compiled.sql, self._bound(compiled, params))
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def run_many(self, connection: Runner, many: Sequence[Mapping[str, Any]]) -> None:
        """Run a statement that returns no rows once per parameter set, in one driver call.

        Values are bound column by column, each distinct value processed once: a
        batch's rows share their times, and converting the same moment thousands
        of times cost SQLite more than its own work on the rows.
        """
        if not many:
            return
        if len(many) == 1:  # the live path's one row (a score, a change): bound as run() binds, no columns
            self.run(connection, many[0])
            return
        compiled = self._compiled(connection.dialect)
        names = compiled.order if compiled.order is not None else tuple(compiled.binds_in_order)
        columns = []
        for name in names:
            column = [params[name] if name in params else compiled.defaults[name] for params in many]
            process = compiled.binders.get(name)
            columns.append(column if process is None else _processed(column, process))
        rows: list[Any] = list(zip(*columns, strict=True))
        if compiled.order is None:
            rows = [dict(zip(names, row, strict=True)) for row in rows]
        cursor = connection.connection.cursor()
        try:
            execute_on_driver(connection, cursor, compiled.sql, rows, many=True)
        finally:
            cursor.close()


def _processed(values: list[Any], process: Processor) -> list[Any]:
    """``process`` of each value, called once per distinct value (keyed by type too: 1, 1.0 and True differ)."""
    done: dict[tuple[type, Any], Any] = {}
    processed = []
    for value in values:
        try:
            key = (value.__class__, value)
            if key not in done:
                done[key] = process(value)
            processed.append(done[key])
        except TypeError:  # unhashable (a dict for a JSON column): processed as it is
            processed.append(process(value))
    return processed


def execute_on_driver(
    connection: Runner, cursor: Any, sql: str, params: Any, *, many: bool = False, fetch: bool = False
) -> Any:
    """Run ``sql`` on a driver cursor of ``connection`` (its rows, with ``fetch``).

    Driver errors come out as SQLAlchemy raises them (``IntegrityError`` and
    friends), so callers and ``Database.run``'s retry of lost races treat both
    paths alike; a lost connection is invalidated. (A plain ``try``: a context
    manager around every hot statement cost more than the happy path needs.)
    """
    try:
        if many:
            return cursor.executemany(sql, params)
        cursor.execute(sql, params)
        return cursor.fetchall() if fetch else None
    except connection.dialect.loaded_dbapi.Error as exc:
        raise driver_error(connection, exc, sql) from exc


def driver_error(connection: Runner, exc: Exception, sql: str | None) -> DBAPIError:
    """A driver's error as SQLAlchemy raises it (the connection invalidated if it was lost)."""
    dialect = connection.dialect
    disconnected = dialect.is_disconnect(cast(Any, exc), connection.connection.dbapi_connection, None)
    if disconnected:
        connection.invalidate(exc)
    return cast(DBAPIError, DBAPIError.instance(
        sql, None, exc, dialect.loaded_dbapi.Error, hide_parameters=True,
        connection_invalidated=disconnected, dialect=dialect,
    ))  # fmt: skip


def row_insert(table: Table, names: Sequence[str], statement: Insert | None = None) -> Insert:
    """``INSERT INTO table (names…) VALUES (:name…)``: one row's insert with a bind per column, to prepare."""
    statement = insert(table) if statement is None else statement
    return statement.values({name: bindparam(name, type_=table.c[name].type) for name in names})


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
    binds = compiled.binds
    if any(bind.expanding for bind in binds.values()):
        raise ValueError("Prepared statements take no expanding (IN list) parameters")
    binders: dict[str, Processor] = {}
    defaults: dict[str, Any] = {}
    for name, bind in binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            binders[name] = process
        if not bind.required:
            defaults[name] = bind.effective_value
    columns: list[Any] = []
    row: Any = None  # a named tuple class for the selected columns
    selected = getattr(statement, "selected_columns", None)
    if selected is None and getattr(statement, "_returning", None):
        selected = statement._returning  # type: ignore[attr-defined]
    if selected is not None:
        columns = list(selected)
        keys = [getattr(c, "key", None) or f"_{i}" for i, c in enumerate(columns)]
        row = _row_type(keys)
    order = tuple(compiled.positiontup) if compiled.positional and compiled.positiontup is not None else None
    return _Compiled(compiled.string, order, defaults, tuple(binds), binders, tuple(c.type for c in columns), row)


def _row_type(keys: list[str]) -> Any:
    """Rows as named tuples: reading a field costs a tenth of a SQLAlchemy Row's."""
    return namedtuple("Row", keys, rename=True)


def _readers(types: Sequence[Any], dialect: Dialect, description: Any) -> tuple[tuple[int, Processor], ...]:
    """The result processors SQLAlchemy would apply, given the column types the driver reports."""
    readers = []
    for index, type_ in enumerate(types):
        coltype = description[index][1] if description is not None else None
        process = type_.dialect_impl(dialect).result_processor(dialect, coltype)
        if process is not None:
            readers.append((index, process))
    return tuple(readers)
