"""A ``limits`` storage that keeps rate-limit counters in the app's own database.

Flask-Limiter's ``memory://`` storage counts in each process, so ``leadwheel
serve`` with two workers let a client through twice the documented figure.
Redis shares the counters but is one more server to run; this storage needs
nothing a Leadwheel deployment does not already have. It is registered with the
``limits`` library under :data:`SCHEME` (the library's ``STORAGE_SCHEME``
registry), and chosen with ``LEADWHEEL_RATELIMIT_STORAGE=database``.

It supports the fixed-window strategy (Flask-Limiter's default), which needs a
counter per window: one row in ``rate_limit_counters``. A hit is one
``INSERT … ON CONFLICT DO UPDATE … RETURNING`` on SQLite and PostgreSQL alike:
atomic (PostgreSQL locks the row; SQLite takes its write lock), so two workers
hitting the same counter at once both count, and the count the hit is judged by
is the one it wrote. A window that has ended restarts in the same statement,
and rows of ended windows are deleted at most once a minute per process, by
their indexed expiry.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any

from limits.storage import Storage
from sqlalchemy import Connection, Float, Integer, String, bindparam, case, delete, select
from sqlalchemy.exc import SQLAlchemyError

from capture.db.engine import Database
from capture.db.models import RateLimitCounter
from capture.db.upserts import by_dialect, upsert

#: the storage URI the ``limits`` library maps to :class:`DatabaseStorage`
SCHEME = "leadwheel+database"
URI = f"{SCHEME}://"
#: how often (seconds) one process deletes the rows of ended windows
SWEEP_EVERY = 60.0
#: keys longer than this are stored as their digest (a site key comes from the URL, of any length)
LONGEST_KEY = 200

_counters = RateLimitCounter.__table__
_key = bindparam("key", type_=String())
_now = bindparam("now", type_=Float())


@by_dialect
def _hit(connection: Connection) -> Any:
    """Add ``amount`` to the key's counter, or start its window afresh if there is none or it ended."""
    insert = upsert(connection, _counters)
    insert = insert.values(
        limit_key=_key,
        hits=bindparam("amount", type_=Integer()),
        expires_at=bindparam("expires_at", type_=Float()),
    )
    ended = _counters.c.expires_at <= _now
    return insert.on_conflict_do_update(
        index_elements=["limit_key"],
        set_={
            "hits": case((ended, insert.excluded.hits), else_=_counters.c.hits + insert.excluded.hits),
            "expires_at": case((ended, insert.excluded.expires_at), else_=_counters.c.expires_at),
        },
    ).returning(_counters.c.hits)


_READ = select(_counters.c.hits, _counters.c.expires_at).where(
    _counters.c.limit_key == _key, _counters.c.expires_at > _now
)
_SWEEP = delete(_counters).where(_counters.c.expires_at <= _now)
_CLEAR = delete(_counters).where(_counters.c.limit_key == _key)


def stored_key(key: str) -> str:
    """The key as stored: itself, or (when longer than the column) a digest that keeps keys apart."""
    if len(key) <= LONGEST_KEY:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """Fixed-window counters in ``rate_limit_counters``, shared by every process on the database.

    Built by ``limits.storage.storage_from_string(URI, database=...)``, which
    Flask-Limiter calls with its ``storage_options``: the app's own
    :class:`~capture.db.engine.Database`, so counting shares its pool and, on SQLite,
    its writer queue.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, *, database: Database, **options: Any
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.database = database
        #: seconds since the epoch, as the ``limits`` library counts them (tests move it)
        self.clock: Callable[[], float] = time.time
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Count ``amount`` hits in the key's current window; the window's count after them."""
        now = self.clock()
        values = {"key": stored_key(key), "amount": amount, "expires_at": now + expiry, "now": now}
        sweep = self._sweep_due(now)

        def hit(connection: Connection) -> int:
            if sweep:
                connection.execute(_SWEEP, {"now": now})
            return int(connection.execute(_hit(connection), values).scalar_one())

        return self.database.run(hit)

    def _sweep_due(self, now: float) -> bool:
        """True for one hit per :data:`SWEEP_EVERY` seconds in this process: it deletes ended windows."""
        if now < self._next_sweep or not self._sweep_lock.acquire(blocking=False):
            return False
        try:
            if now < self._next_sweep:
                return False
            self._next_sweep = now + SWEEP_EVERY
            return True
        finally:
            self._sweep_lock.release()

    def _current(self, key: str) -> tuple[int, float] | None:
        with self.database.read_connection() as connection:
            row = connection.execute(_READ, {"key": stored_key(key), "now": self.clock()}).first()
        return (int(row[0]), float(row[1])) if row is not None else None

    def get(self, key: str) -> int:
        current = self._current(key)
        return current[0] if current else 0

    def get_expiry(self, key: str) -> float:
        """When the key's window ends (now, as ``memory://`` says, when it has none)."""
        current = self._current(key)
        return current[1] if current else self.clock()

    def check(self) -> bool:
        try:
            with self.database.read_connection() as connection:
                connection.execute(_READ, {"key": "", "now": 0.0}).all()
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.database.write_connection() as connection:
            return int(connection.execute(delete(_counters)).rowcount)

    def clear(self, key: str) -> None:
        self.database.run(lambda connection: connection.execute(_CLEAR, {"key": stored_key(key)}))
