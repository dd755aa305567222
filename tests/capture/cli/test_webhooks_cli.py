"""``leadwheel webhook …``: endpoints, secrets, rotation, replay and the deliveries list, with clear errors."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from capture.cli.main import main
from capture.db.engine import Database
from capture.db.models import Delivery, WebhookEndpoint
from tests.capture.handoff.test_webhooks_worker import delivery, endpoint, new_deliveries


@pytest.fixture
def db(config: Any) -> Any:
    database = Database(config.database_url)
    yield database
    database.dispose()


@pytest.fixture
def run(config: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.delenv("LEADWHEEL_WEBHOOK_ALLOW_HOSTS", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(main, list(args), catch_exceptions=False)

    return invoke


def one_line_error(result: Any) -> str:
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/hooks", "127.0.0.1 is a loopback address"),
        ("http://10.1.2.3/hooks", "10.1.2.3 is a private address"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254 is a cloud metadata service"),
        ("http://[fd00:ec2::254]/", "fd00:ec2::254 is a cloud metadata service"),
        ("http://[::ffff:192.168.0.1]/", "a private address"),
        ("http://0.0.0.0/", "an unspecified address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://localhost:9/", "a loopback address"),
        ("ftp://crm.example.com/", "must start with https://"),
        ("https:///nohost", "needs a host"),
    ],
)
def test_add_refuses_unsafe_urls_with_one_clear_line(run: Any, url: str, why: str) -> None:
    line = one_line_error(run("webhook", "add", url))
    assert line.startswith("Error: ") and why in line


def test_add_prints_a_secret_once_and_list_shows_the_endpoint(run: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADWHEEL_WEBHOOK_ALLOW_HOSTS", "127.0.0.1, 10.0.0.0/8")
    added = run("webhook", "add", "http://10.2.3.4/hooks", "--events", "lead.sql,lead.mql")
    assert added.exit_code == 0, added.output
    secret = added.stdout.strip()
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    assert "endpoint 1" in added.stderr and "not shown again" in added.stderr
    listed = run("webhook", "list").stdout.splitlines()
    assert listed[0].split() == ["ID", "URL", "EVENTS", "STATE", "FAILURE", "STREAK"]
    assert listed[1].split() == ["1", "http://10.2.3.4/hooks", "lead.sql,lead.mql", "enabled", "0"]
    assert secret not in "".join(listed)
    as_json = json.loads(run("webhook", "list", "--format", "json").stdout)
    assert as_json == [
        {"id": 1, "url": "http://10.2.3.4/hooks", "events": ["lead.sql", "lead.mql"], "state": "enabled",
         "failure_streak": 0}
    ]  # fmt: skip

    default = run("webhook", "add", "http://127.0.0.1:9/x")
    assert default.exit_code == 0 and "(lead.sql)" in default.stderr
    line = one_line_error(run("webhook", "add", "http://127.0.0.1:9/x", "--events", "lead.won"))
    assert "unknown event lead.won" in line


def test_rotate_disable_enable_remove(run: Any, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADWHEEL_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    old = run("webhook", "add", "http://127.0.0.1:9/x").stdout.strip()
    rotated = run("webhook", "rotate", "1", "--grace-hours", "2")
    new = rotated.stdout.strip()
    assert rotated.exit_code == 0 and new.startswith("whsec_") and new != old
    row = endpoint(db, 1)
    assert (row.secret, row.previous_secret) == (new, old)
    assert 7100 < (row.previous_secret_until - datetime.now(UTC)).total_seconds() <= 7200

    assert run("webhook", "disable", "1", "--reason", "CRM migration").exit_code == 0
    assert "disabled (CRM migration)" in run("webhook", "list").output
    assert run("webhook", "enable", "1").exit_code == 0
    row = endpoint(db, 1)
    assert row.enabled and row.disabled_reason is None and row.failure_streak == 0

    assert "no webhook endpoint 7" in one_line_error(run("webhook", "rotate", "7"))
    assert "no webhook endpoint 7" in one_line_error(run("webhook", "enable", "7"))
    new_deliveries(db, 1, datetime.now(UTC), count=2)
    assert run("webhook", "remove", "1").exit_code == 0
    emptied = run("webhook", "list")
    assert emptied.stdout == "" and "no endpoints" in emptied.stderr
    assert run("webhook", "list", "--format", "json").stdout.strip() == "[]"
    with db.read() as session:
        assert session.query(Delivery).count() == 0


def test_replay_and_deliveries(run: Any, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEADWHEEL_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
    run("webhook", "add", "http://127.0.0.1:9/x")
    run("webhook", "add", "http://127.0.0.1:9/y")
    now = datetime.now(UTC)
    first, second = new_deliveries(db, 1, now, count=2)
    [other] = new_deliveries(db, 2, now)
    ids = [first, second, other]
    message_ids = [delivery(db, i).message_id for i in ids]
    db.run(lambda c: c.execute(update(Delivery.__table__).values(status="dead", attempts=8)))

    listed = run("webhook", "deliveries", "--endpoint", "1", "--status", "dead")
    assert listed.exit_code == 0 and listed.output.count("\tdead\t") == 2 and message_ids[2] not in listed.output

    assert "1 delivery queued again" in run("webhook", "replay", str(other)).output
    assert "2 deliveries queued again" in run("webhook", "replay", "--endpoint", "1", "--failed").output
    for delivery_id, message_id in zip(ids, message_ids, strict=True):
        row = delivery(db, delivery_id)
        assert (row.status, row.attempts, row.message_id) == ("pending", 0, message_id)
    assert "0 deliveries" in run("webhook", "replay", "--endpoint", "1", "--failed").output

    assert "no delivery 99" in one_line_error(run("webhook", "replay", "99"))
    usage = run("webhook", "replay", "--endpoint", "1")
    assert usage.exit_code == 2 and "--endpoint ID --failed" in usage.output
    with db.read() as session:
        assert session.get(WebhookEndpoint, 1) is not None
