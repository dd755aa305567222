"""A request that fails in the database logs where it failed, never what the visitor sent."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from capture.db.engine import Database
from tests.capture.conftest import Browser

EMAIL = "ada.lovelace@example.com"
PAGE_URL = "https://www.example.com/pricing?campaign=ada-secret"
NOTE = "Called Ada on her private line"


def test_a_failed_request_logs_no_email_url_visitor_or_note(
    app: Any, client: Any, browser: Browser, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc = app.extensions["leadwheel"]
    browser.ask()
    visitor_id = svc.tokens.read_visitor(browser.token, svc.clock())
    assert visitor_id

    def identify_twice(site: Any, body: dict[str, Any], now: datetime) -> str:
        """A unique-key violation: PostgreSQL's DETAIL quotes the key, SQLAlchemy the parameters."""
        with svc.db.write() as session:
            session.execute(
                text("CREATE TEMPORARY TABLE seen (email VARCHAR(200) PRIMARY KEY, url TEXT, visitor TEXT, note TEXT)")
            )
            row = {"email": body["email"], "url": body["page_url"], "visitor": visitor_id, "note": body["note"]}
            for _ in range(2):
                session.execute(text("INSERT INTO seen VALUES (:email, :url, :visitor, :note)"), row)
        raise AssertionError("the second insert must fail")

    monkeypatch.setattr(svc.visits, "identify", identify_twice)
    body = {"email": EMAIL, "visitor": browser.token, "page_url": PAGE_URL, "note": NOTE}
    with caplog.at_level(logging.DEBUG):
        response = client.post(f"/api/v1/sites/{browser.form.site_key}/identify", json=body, headers=browser.headers())

    assert response.status_code == 500
    assert response.get_json()["error"]["code"] == "internal_error"
    logged = caplog.text
    assert "IntegrityError" in logged and "INSERT INTO seen" in logged  # still says where it failed
    assert "identify_twice" in logged
    for value in (EMAIL, PAGE_URL, "ada-secret", str(visitor_id), browser.token, NOTE):
        assert value not in logged, value


def test_database_errors_do_not_quote_their_parameters(db: Database) -> None:
    """What a worker or a CLI logs of a failed statement holds no visitor's data either."""
    with pytest.raises(DBAPIError) as failed:
        with db.write() as session:
            session.execute(text("INSERT INTO no_such_table (email) VALUES (:email)"), {"email": EMAIL})
    assert EMAIL not in str(failed.value)
    assert "no_such_table" in str(failed.value)
