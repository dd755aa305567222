"""The rules of one send, without a database: addresses, signatures, the schedule, status handling."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from capture.handoff import delivery
from capture.handoff.delivery import (
    MAX_ATTEMPTS,
    SCHEDULE,
    Response,
    UnsafeURL,
    decide,
    forbidden,
    next_delay,
    parse_target,
    retry_after_delay,
    safe_address,
    signed_headers,
)
from capture.handoff.endpoints import new_secret

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CAP = timedelta(hours=1)


@pytest.mark.parametrize(
    "address",
    ["127.0.0.2", "10.0.0.1", "172.16.5.5", "192.168.1.1", "169.254.169.254", "169.254.1.1", "0.0.0.0", "::1", "::",
     "fe80::1", "fd00:ec2::254", "fc00::1", "224.0.0.251", "ff02::1", "240.0.0.1", "100.64.0.1", "100.100.100.200",
     "::ffff:10.0.0.1", "198.18.0.1", "2002:7f00:1::", "2002:a9fe:a9fe::", "2002:c0a8:101::",
     "2001:0:4136:e378:8000:63bf:80ff:fffe", "64:ff9b::a00:1", "64:ff9b:1::808:808"],
)  # fmt: skip
def test_non_public_addresses_are_forbidden(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "2002:808:808::", "64:ff9b::808:808"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address)) is None


def test_a_name_with_any_private_address_is_refused_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "resolve", lambda host, port: ["93.184.216.34", "10.0.0.9"])
    target = parse_target("https://crm.example.com/hooks?x=1")
    assert (target.host, target.port, target.path) == ("crm.example.com", 443, "/hooks?x=1")
    with pytest.raises(UnsafeURL, match="resolves to 10.0.0.9, a private address"):
        safe_address(target)
    assert safe_address(target, ["CRM.example.com"]) == "93.184.216.34"
    assert safe_address(target, ["10.0.0.0/24"]) == "93.184.216.34"
    with pytest.raises(UnsafeURL, match="credentials"):
        parse_target("https://user:pw@crm.example.com/")


def test_signatures_verify_with_every_live_secret() -> None:
    old, new = new_secret(), new_secret()
    now = datetime.now(UTC)
    body = '{"a":1}'
    headers = signed_headers("msg_abc", now, body, [new, old])
    assert headers["webhook-id"] == "msg_abc" and headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert Webhook(new).verify(body, headers) == {"a": 1}
    assert Webhook(old).verify(body, headers) == {"a": 1}
    with pytest.raises(Exception, match="signature"):
        Webhook(new_secret()).verify(body, headers)


def test_the_schedule_has_jitter_within_ten_percent_and_ends() -> None:
    rng = random.Random(7)
    for attempts in range(1, MAX_ATTEMPTS):
        for _ in range(50):
            delay = next_delay(attempts, rng)
            assert delay is not None and SCHEDULE[attempts] * 0.9 <= delay <= SCHEDULE[attempts] * 1.1
    assert next_delay(MAX_ATTEMPTS) is None
    assert [s.total_seconds() for s in SCHEDULE] == [0, 5, 300, 1800, 7200, 18000, 36000, 36000]


@pytest.mark.parametrize(
    ("response", "status", "disables"),
    [
        (Response(200, "", 5), "delivered", False),
        (Response(204, "", 5), "delivered", False),
        (Response(410, "", 5), "dead", True),
        (Response(301, "", 5, location="https://x/"), "pending", False),
        (Response(500, "", 5), "pending", False),
        (Response(400, "", 5), "pending", False),
        (Response(None, None, 5, error="timed out"), "pending", False),
    ],
)
def test_decide(response: Response, status: str, disables: bool) -> None:
    decision = decide(response, 1, NOW, retry_after_cap=CAP)
    assert decision.status == status and (decision.disable_reason is not None) == disables
    assert decision.failed == (status != "delivered")


def test_the_last_attempt_failing_is_dead_even_with_retry_after() -> None:
    decision = decide(Response(429, "", 5, retry_after="1"), MAX_ATTEMPTS, NOW, retry_after_cap=CAP)
    assert decision.status == "dead"


def test_retry_after_forms() -> None:
    assert retry_after_delay("30", NOW) == timedelta(seconds=30)
    assert retry_after_delay("Mon, 23 Nov 2026 09:10:00 GMT", NOW) == timedelta(minutes=10)
    assert retry_after_delay("Mon, 23 Nov 2026 08:10:00 GMT", NOW) == timedelta(0)
    assert retry_after_delay("soon", NOW) is None
    assert retry_after_delay(None, NOW) is None
    unreadable = decide(Response(503, "", 5, retry_after="soon"), 2, NOW, retry_after_cap=CAP)
    assert unreadable.next_attempt_at is not None and unreadable.next_attempt_at - NOW <= SCHEDULE[2] * 1.1
