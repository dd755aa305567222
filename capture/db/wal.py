"""Keeping SQLite's write-ahead log short from a background thread, not from the request that overflows it.

By default the connection whose commit takes the log past 1,000 pages copies
the log back into the database there and then (an "automatic checkpoint"):
several milliseconds of page writes and fsyncs inside that request's write
transaction, while every other writer of every worker queues behind it. Under
a stream of answers that was one stall every hundred or so commits, and the
copying itself was done over and over for the same hot pages.

Here a daemon thread in each serving process runs a *passive* checkpoint every
``interval``: it waits for nobody and blocks nobody (readers and writers carry
on), and a page written a hundred times since the last one is copied once.
Request connections keep an automatic checkpoint only as a safety net, at a
much longer log (``SAFETY_PAGES``), for the case that this thread cannot keep up
or is not running. Processes that do not start one (the CLI, migrations) keep
SQLite's default.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

log = logging.getLogger(__name__)

#: the automatic checkpoint request connections keep while a checkpointer runs (4 KB pages: ~80 MB)
SAFETY_PAGES = 20_000


class WalCheckpointer:
    """A passive checkpoint of one SQLite database every ``interval`` seconds, from a daemon thread.

    Started lazily by the first write of each process (:meth:`ensure_running`), so a
    gunicorn worker forked from a parent that already had one starts its own.
    """

    def __init__(self, database_path: str, interval: float):
        if interval <= 0:
            raise ValueError("the checkpoint interval must be positive")
        self.path = database_path
        self.interval = interval
        self._lock = threading.Lock()
        self._pid = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: checkpoints run and pages copied back, for tests and diagnostics
        self.runs = 0
        self.pages = 0

    def ensure_running(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._run, args=(self._stop,), name="leadwheel-wal-checkpoint", daemon=True
            )
            self._thread.start()
            self._pid = os.getpid()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop this process's thread (after one last checkpoint)."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
            self._pid = 0
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        """One passive checkpoint: copy back what no reader still needs, wait for no one."""
        busy, _logged, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.runs += 1
        if not busy and copied > 0:
            self.pages += copied

    def _run(self, stop: threading.Event) -> None:
        connection: sqlite3.Connection | None = None
        failures = 0
        while True:
            stopping = stop.wait(self.interval)
            try:
                if connection is None:
                    connection = sqlite3.connect(self.path, timeout=1, isolation_level=None, check_same_thread=False)
                self.checkpoint(connection)
                failures = 0
            except sqlite3.Error as exc:
                # The safety net still bounds the log; say so once per run of failures, not every interval.
                if failures == 0:
                    log.warning("background WAL checkpoint of %s failed: %s", self.path, exc)
                failures += 1
                if connection is not None:
                    connection.close()
                    connection = None
            if stopping:
                break
        if connection is not None:
            connection.close()
