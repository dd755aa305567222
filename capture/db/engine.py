"""Engines and transactions.

SQLite gets WAL (readers never wait for the writer), a busy timeout, foreign
keys, and ``BEGIN IMMEDIATE`` for write transactions: a deferred transaction
that reads first and writes later can fail at once with SQLITE_BUSY instead of
waiting. PostgreSQL write transactions are retried on unique-key races,
deadlocks and serialization failures, so two tabs racing never lose an answer.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any, TypeVar

try:
    import fcntl
except ImportError:  # Windows: writers queue within a process only
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from capture.db import json_text
from capture.db.wal import SAFETY_PAGES, WalCheckpointer

log = logging.getLogger(__name__)
_scan_string: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
T = TypeVar("T")

#: PostgreSQL SQLSTATEs worth another try: serialization failure, deadlock
RETRYABLE_PG = {"40001", "40P01"}


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine whose pool hands out the connection returned last (LIFO).

    A connection's caches are worth keeping warm: SQLite's page cache survives
    from one transaction to the next only if no other connection wrote in
    between, and psycopg prepares statements per connection. Handed out in turn
    (the pool's default), two connections in one process invalidated each
    other's page cache on every answer, and each answer read its pages again.
    """
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    # an error's message would otherwise quote the statement's parameters: visitors' urls, props, e-mails
    kwargs.setdefault("hide_parameters", True)
    # documents (profiles, explanations, payloads) are written by the one JSON writer the responses use
    kwargs.setdefault("json_serializer", json_text.dumps)
    if url.startswith("sqlite"):
        if make_url(url).database not in (None, "", ":memory:"):  # in memory: one connection, no pool to order
            kwargs.setdefault("pool_use_lifo", True)
        kwargs.setdefault("json_deserializer", read_json)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_use_lifo=True, **kwargs)


def read_json(text: str) -> Any:
    """``json.loads``, with a short cut for a JSON string, which most stored values are.

    SQLite keeps JSON as text and every ask reads a profile's values back; a
    string is decoded by the very function ``json.loads`` hands it to
    (``scanstring``), without the layers around it. Anything else, or a text
    with more after the string, goes to ``json.loads`` itself.
    """
    if text[:1] == '"':
        value, end = _scan_string(text, 1)
        if end == len(text):
            return value
    return json.loads(text)


_BEGIN = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}


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
        # deleted rows are overwritten, not left in free pages: an erasure leaves no trace (capture/privacy/erasure.py)
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode is not None:  # None: autocommit reads, each statement its own snapshot
            # straight on the driver: every answer begins one, and exec_driver_sql costs more than BEGIN
            connection.connection.driver_connection.execute(_BEGIN[mode])


def _retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None)
    if isinstance(exc, IntegrityError):
        # Only a unique-key race is worth repeating; other integrity errors are bugs.
        return code == "23505" or "UNIQUE constraint failed" in str(exc.orig)
    if code in RETRYABLE_PG:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(exc.orig)


class WriterQueue:
    """One SQLite writer at a time, queued in the kernel rather than polling.

    SQLite lets one transaction write at a time; the others wait in its busy
    handler, which sleeps in growing steps and so wakes late: under a burst of
    answers most time went to sleeping (p99 near a second). Writers in this
    process queue on a lock, writers in other processes (gunicorn workers) on
    an ``flock`` of a file next to the database; both wake the moment the
    holder is done. Anything that does not take part (the CLI, another tool)
    still meets SQLite's own busy timeout, so this only ever adds fairness.
    """

    def __init__(self, database_path: str):
        self._path = database_path + "-writer.lock"
        self._thread_lock = threading.Lock()
        self._file: IO[bytes] | None = None
        self._pid = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self._thread_lock:
            handle = self._handle()
            if handle is None:
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _handle(self) -> IO[bytes] | None:
        if fcntl is None:
            return None
        if self._pid != os.getpid():  # a forked worker must not share its parent's open file (nor its lock)
            try:
                self._file = open(self._path, "ab")  # noqa: SIM115 - held for the life of the process
            except OSError:
                log.warning("cannot open %s; SQLite writers fall back on the busy timeout", self._path)
                self._file = None
            self._pid = os.getpid()
        return self._file


class Database:
    """One engine and its sessions; the only door to the database."""

    def __init__(self, url: str, *, wal_checkpoint_every: float | None = None, **engine_kwargs: Any):
        """``wal_checkpoint_every``: on a SQLite file, checkpoint its log from a background thread
        this often (seconds) instead of in the request that overflows it (see capture/db/wal.py);
        what a long-running server wants, not a short CLI run."""
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        database = self.engine.url.database if self.is_sqlite else None
        path = database if database and database != ":memory:" else None
        self._writers = WriterQueue(path) if path else None
        self.checkpointer = None
        if path and wal_checkpoint_every is not None:
            self.checkpointer = WalCheckpointer(path, wal_checkpoint_every)
            event.listen(self.engine, "connect", _safety_net_checkpoints)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        if self.checkpointer is not None:
            self.checkpointer.ensure_running()
        if self._writers is None:
            yield
        else:
            with self._writers.turn():
                yield

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
    def read_connection(self) -> Iterator[Connection]:
        """A Core connection for hot reads that need no ORM.

        On SQLite each statement runs in its own implicit transaction (no
        BEGIN/COMMIT round trips); callers must not need one snapshot across
        statements. PostgreSQL reads in one READ COMMITTED transaction.
        """
        with self.engine.connect().execution_options(sqlite_begin=None) as connection, connection.begin():
            yield connection

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction, committed on success and rolled back on any error."""
        with self._writer_turn(), self.sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A Core connection in one write transaction (``BEGIN IMMEDIATE`` on SQLite): a unit of work."""
        with self._writer_turn(), self.engine.connect() as connection:
            if self.is_sqlite:
                connection.execution_options(sqlite_begin="IMMEDIATE")
            with connection.begin():
                yield connection

    def run(self, work: Callable[[Connection], T], *, attempts: int = 6) -> T:
        """Run ``work`` in a write transaction, again from the start if it lost a race.

        ``work`` must be safe to repeat: everything it did in a failed attempt
        was rolled back with that attempt.
        """

        def attempt() -> T:
            with self.write_connection() as connection:
                return work(connection)

        return _retrying(attempt, attempts)

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.stop()
        self.engine.dispose()


def _retrying(attempt: Callable[[], T], attempts: int) -> T:
    """``attempt()``, again after a short random pause when it lost a race, at most ``attempts`` times."""
    for number in range(1, attempts + 1):
        try:
            return attempt()
        except DBAPIError as exc:
            if number == attempts or not _retryable(exc):
                raise
            log.info("write transaction lost a race (attempt %d): %s", number, type(exc.orig).__name__)
            time.sleep(random.uniform(0, 0.01 * number))
    raise AssertionError("unreachable")


def _safety_net_checkpoints(dbapi_connection: Any, _record: Any) -> None:
    """A background checkpointer keeps the log short; a request checkpoints only if it falls far behind."""
    dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={SAFETY_PAGES}")
