"""Alembic environment: the models' metadata, and the database from the config or DATABASE_URL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy.engine import Connection

from capture.config import DEFAULT_DATABASE_URL
from capture.db.engine import make_engine
from capture.db.migrate import include_object
from capture.db.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs table rebuilds for most ALTERs
        compare_type=True,
        include_object=include_object,
    )
    with _foreign_keys_checked_at_the_end(connection), context.begin_transaction():
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"the migrations left rows pointing at nothing (table, rowid, parent, fk): {broken}")


@contextmanager
def _foreign_keys_checked_at_the_end(connection: Connection) -> Iterator[None]:
    """On SQLite, foreign keys off while the migrations run, checked once before they commit.

    A batch ALTER rebuilds a table (create, copy, drop, rename). With foreign keys
    on, dropping a table that other rows point at fails ("FOREIGN KEY constraint
    failed"), so any such migration of a database with data in it did: SQLite's
    own procedure for these changes turns them off, and the PRAGMA only takes
    effect outside a transaction. The connection goes back to the pool with
    foreign keys on again.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    if connection.in_transaction():
        raise RuntimeError("migrations on SQLite need a connection outside a transaction")
    driver = connection.connection.driver_connection
    assert driver is not None
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        driver.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
