"""Shared fixtures: a fresh database per backend, the app, a clock the tests move.

Every test that uses ``db_url`` runs on SQLite *and* PostgreSQL. Each test run
creates its own PostgreSQL database and drops it afterwards. PostgreSQL can be
left out locally with LEADWHEEL_TEST_POSTGRES=off; with CI=true that is refused
and an unreachable server fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from capture.config import Config
from capture.db.migrate import upgrade

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples"
POSTGRES_ADMIN_URL = os.environ.get("LEADWHEEL_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _backends() -> list[str]:
    if os.environ.get("LEADWHEEL_TEST_POSTGRES", "on") == "off":
        if IN_CI:
            raise pytest.UsageError(
                "LEADWHEEL_TEST_POSTGRES=off is not allowed in CI: the suite must run on PostgreSQL"
            )
        return ["sqlite"]
    return ["sqlite", "postgresql"]


def _admin_engine() -> Any:
    url = POSTGRES_ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session", params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A freshly migrated database of one backend, for this test session only."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "leadwheel.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    name = f"leadwheel_test_{secrets.token_hex(6)}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach PostgreSQL ends the run
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL} ({type(exc).__name__}: {exc}). "
            "Start it, point LEADWHEEL_TEST_POSTGRES_URL at a server, or (outside CI) set LEADWHEEL_TEST_POSTGRES=off.",
            pytrace=False,
        )
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass
class Clock:
    """A clock tests move by hand; the app reads it for every 'now'."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _empty(url: str) -> None:
    from capture.db.models import Base

    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]  # children before parents
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


@pytest.fixture
def config(db_url: str) -> Iterator[Config]:
    yield Config(
        database_url=db_url,
        secret_keys=("test-secret-key-" + "x" * 16,),
        ratelimit_enabled=False,
        catalog_ttl=timedelta(seconds=0),
    )
    _empty(db_url)


@pytest.fixture
def app(config: Config, clock: Clock) -> Iterator[Any]:
    from capture.web.app import create_app

    application = create_app(config, clock=clock)
    application.config["TESTING"] = True
    yield application
    application.extensions["leadwheel"].db.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@dataclass
class SmtpServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that keeps what it receives."""

    url: str
    messages: list[Any] = field(default_factory=list)
    #: answer DATA with this (e.g. "451 4.3.0 Try again later", "550 5.1.1 No such user") instead of accepting
    refuse_with: str | None = None
    #: seconds the server takes over each message (a slow server)
    delay: float = 0.0


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """``.url`` (smtp://127.0.0.1:PORT) to send to; ``.messages``, as ``email.message.Message``, what arrived."""
    import asyncio
    import socket
    from email import message_from_bytes

    from aiosmtpd.controller import Controller

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = SmtpServer(url=f"smtp://127.0.0.1:{port}")

    class Collect:
        async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
            await asyncio.sleep(server.delay)
            if server.refuse_with is not None:
                return server.refuse_with
            server.messages.append(message_from_bytes(envelope.original_content or envelope.content))
            return "250 OK"

    controller = Controller(Collect(), hostname="127.0.0.1", port=port, server_hostname="localhost", ready_timeout=5)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
