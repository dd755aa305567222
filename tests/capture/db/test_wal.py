"""The background WAL checkpointer: requests stop paying for checkpoints, and the log still stays short."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from capture.db.engine import Database
from capture.db.migrate import upgrade
from capture.db.wal import SAFETY_PAGES


def _wal_frames(path: Path) -> int:
    """Frames in the log now (its file keeps its size when a writer starts it over)."""
    with sqlite3.connect(path) as connection:
        return int(connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])


_NEW_SITE = text(
    "INSERT INTO sites (name, public_key, allowed_origins, identity_secret, created_at)"
    " VALUES (:name, :key, '[]', 'not-a-secret', '2026-01-01')"
)


def _write_rows(db: Database, count: int) -> None:
    for i in range(count):
        with db.write_connection() as connection:
            connection.execute(_NEW_SITE, {"name": f"site {i}", "key": f"key-{i}-{os.urandom(4).hex()}"})


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    path = tmp_path / "wal.db"
    upgrade(f"sqlite:///{path}")
    return path


def test_request_connections_leave_checkpoints_to_the_thread(database_file: Path) -> None:
    db = Database(f"sqlite:///{database_file}", wal_checkpoint_every=0.05)
    try:
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SAFETY_PAGES
        _write_rows(db, 30)
        checkpointer = db.checkpointer
        assert checkpointer is not None
        deadline = time.monotonic() + 10
        while checkpointer.pages == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert checkpointer.pages > 0, "the background thread never copied the log back"
        # Copied back means a fresh writer starts the log over instead of growing it.
        _write_rows(db, 1)
        assert _wal_frames(database_file) < 30
    finally:
        db.dispose()
    assert checkpointer.runs >= 1


def test_without_a_checkpointer_sqlite_keeps_its_own(database_file: Path) -> None:
    db = Database(f"sqlite:///{database_file}")
    try:
        assert db.checkpointer is None
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
    finally:
        db.dispose()


def test_a_forked_worker_starts_its_own_thread(database_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(f"sqlite:///{database_file}", wal_checkpoint_every=0.05)
    try:
        checkpointer = db.checkpointer
        assert checkpointer is not None
        _write_rows(db, 1)
        first, first_stop = checkpointer._thread, checkpointer._stop
        assert first is not None and first.is_alive()
        # gunicorn forks workers: threads do not survive a fork, so a new pid must start a new one
        monkeypatch.setattr(os, "getpid", lambda: -12345)
        _write_rows(db, 1)
        assert checkpointer._thread is not first and checkpointer._thread.is_alive()
        first_stop.set()  # after a real fork the parent's thread would not exist in the worker
    finally:
        db.dispose()


def test_postgresql_and_memory_databases_get_none() -> None:
    assert Database("sqlite://", wal_checkpoint_every=1).checkpointer is None
    with pytest.raises(ValueError):
        from capture.db.wal import WalCheckpointer

        WalCheckpointer("x.db", 0)
