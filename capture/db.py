"""Engines and transactions.

SQLite gets WAL (readers never wait for the writer), a busy timeout, foreign
keys, and ``BEGIN IMMEDIATE`` for write transactions: a deferred transaction
that reads first and writes later can fail at once with SQLITE_BUSY instead of
waiting. PostgreSQL write transactions are retried on unique-key races,
deadlocks and serialization failures, so two tabs racing never lose an answer.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)
T = TypeVar("T")

#: PostgreSQL SQLSTATEs worth another try: serialization failure, deadlock
RETRYABLE_PG = {"40001", "40P01"}


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _tune_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so BEGIN is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if isinstance(exc, IntegrityError):
        # Only a unique-key race is worth repeating; other integrity errors are bugs.
        return code == "23505" or "UNIQUE constraint failed" in str(exc.orig)
    if code in RETRYABLE_PG:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


class Database:
    """One engine and its sessions; the only door to the database."""

    def __init__(self, url: str, **engine_kwargs: Any):
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (and small writes that cannot conflict)."""
        with self.sessions() as session:
            yield session
            session.commit()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, committed on success and rolled back on any error."""
        with self.sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def run(self, work: Callable[[Session], T], *, attempts: int = 6) -> T:
        """Run ``work`` in a write transaction, again from the start if it lost a race.

        ``work`` must be safe to repeat: everything it did in a failed attempt
        was rolled back with that attempt.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as session:
                    return work(session)
            except DBAPIError as exc:
                if attempt == attempts or not _retryable(exc):
                    raise
                log.info("write transaction lost a race (attempt %d): %s", attempt, type(exc.orig).__name__)
                time.sleep(random.uniform(0, 0.01 * attempt))
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()
