"""Throw-away databases for the benchmarks: a SQLite file in a directory, or a PostgreSQL database.

A PostgreSQL database is created as ``leadwheel_bench_<random>`` on the server
``LEADWHEEL_BENCH_POSTGRES_URL`` points at (default: the test suite's,
``postgresql://postgres@127.0.0.1:5432/postgres``) and dropped on the way out,
whatever happened in between (``WITH (FORCE)``, so a stuck connection cannot
keep it alive).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ADMIN_URL = os.environ.get(
    "LEADWHEEL_BENCH_POSTGRES_URL",
    os.environ.get("LEADWHEEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
)


def _admin_engine():  # type: ignore[no-untyped-def]
    from sqlalchemy import create_engine

    return create_engine(ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")


@contextmanager
def temporary_database(backend: str, directory: Path, name: str = "bench") -> Iterator[str]:
    """The URL of an empty database of ``backend`` (``sqlite`` or ``postgresql``), removed afterwards."""
    if backend == "sqlite":
        path = directory / f"{name}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm", "-writer.lock"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}")
    from sqlalchemy import text

    database = f"leadwheel_bench_{secrets.token_hex(5)}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        try:
            yield f"{ADMIN_URL.rsplit('/', 1)[0]}/{database}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_reachable() -> str | None:
    """None when the PostgreSQL server answers, else why not."""
    from sqlalchemy import text

    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
        return None
    except Exception as exc:  # noqa: BLE001 - any reason is reported, not raised
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    finally:
        admin.dispose()


def backends(postgres: bool) -> list[str] | None:
    """SQLite, and PostgreSQL too when asked; None (after saying why) when PostgreSQL is asked for but down."""
    if not postgres:
        return ["sqlite"]
    problem = postgres_reachable()
    if problem is not None:
        import sys

        print(f"PostgreSQL is not reachable ({problem}); leave out --postgres", file=sys.stderr)
        return None
    return ["sqlite", "postgresql"]
