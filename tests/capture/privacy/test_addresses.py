"""No IP address is stored: rate-limit counters and sign-in lockouts keep keyed daily digests instead."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from capture.config import Config
from capture.db.models import Base, RateLimitCounter, SignInFailure
from capture.privacy.addresses import client_digest
from capture.web.app import create_app
from capture.workbench.accounts import create_user
from tests.capture.conftest import Browser

ADDRESS = "203.0.113.77"


def _rows_holding(url: str, needle: str) -> list[str]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        found = [
            f"{table.name}: {row}"
            for table in Base.metadata.sorted_tables
            for row in connection.execute(table.select())
            if needle in json.dumps([str(value) for value in row])
        ]
    engine.dispose()
    return found


def test_the_digest_changes_daily_and_with_the_key_and_does_not_show_the_address() -> None:
    day = datetime(2026, 12, 5, 10, tzinfo=UTC)
    digest = client_digest(ADDRESS, "key", day)
    assert ADDRESS not in digest and len(digest) == 32
    assert digest == client_digest(ADDRESS, "key", day.replace(hour=23))
    assert digest != client_digest(ADDRESS, "key", day.replace(day=6))
    assert digest != client_digest(ADDRESS, "other key", day)
    assert digest != client_digest("203.0.113.78", "key", day)


def test_counters_in_the_database_and_refused_sign_ins_hold_no_ip_address(
    config: Config, clock: Any, publish_form: Any, caplog: pytest.LogCaptureFixture
) -> None:
    limited = replace(config, ratelimit_enabled=True, ratelimit_storage_uri="database")
    app = create_app(replace(limited, extra={"cookie_secure": False}), clock=clock)
    app.config["TESTING"] = True
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        create_user(session, "admin@example.com", "correct horse battery", "admin", clock())
    browser = Browser(client, publish_form(), clock)
    caplog.set_level(logging.DEBUG)

    browser.ask()
    assert browser.answer({"email": "ada@example.com", "customer_type": "b2b"}).status_code == 201
    page = client.get("/workbench/sign-in").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    refused = client.post(
        "/workbench/sign-in", data={"csrf_token": token, "email": "admin@example.com", "password": "wrong"}
    )
    assert refused.status_code in (200, 401, 422)

    with services.db.read() as session:  # the counters and the failures are there: the check can see them
        assert session.scalar(select(func.count()).select_from(RateLimitCounter))
        assert session.scalar(select(func.count()).select_from(SignInFailure)) == 2
    assert _rows_holding(config.database_url, ADDRESS) == []
    assert ADDRESS not in caplog.text
    services.db.dispose()
