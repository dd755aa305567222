"""The delivery worker against a real HTTP receiver on 127.0.0.1: signing, retries, status handling, crashes.

Delivery rows are written directly (the enqueue side lives in capture/handoff/outbox.py).
Time moves with the test clock, so the retry schedule is checked without sleeping.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update
from standardwebhooks.webhooks import Webhook

from capture.config import Config
from capture.db.engine import Database
from capture.db.models import Delivery, DeliveryAttempt, Lead, WebhookEndpoint
from capture.handoff import delivery as delivery_module
from capture.handoff.delivery import MAX_ATTEMPTS, SCHEDULE
from capture.handoff.endpoints import add_endpoint, rotate_secret, set_enabled
from capture.handoff.worker import run_worker

ROOT = Path(__file__).resolve().parents[3]
#: status, headers, body; or None to hang until the receiver stops
Reply = tuple[int, dict[str, str], bytes] | None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Receiver:
    """A webhook receiver: records every request; ``reply`` decides each answer."""

    port: int = field(default_factory=free_port)
    reply: Callable[[Receiver, dict[str, str], bytes], Reply] = lambda *_: (200, {}, b"ok")
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    in_flight: dict[str, int] = field(default_factory=dict)
    overlaps: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def ids(self) -> list[str]:
        with self._lock:
            return [headers.get("webhook-id", "") for headers, _ in self.received]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                message_id = headers.get("webhook-id", "")
                with receiver._lock:
                    receiver.received.append((headers, body))
                    receiver.in_flight[message_id] = receiver.in_flight.get(message_id, 0) + 1
                    if receiver.in_flight[message_id] > 1:
                        receiver.overlaps += 1
                try:
                    answer = receiver.reply(receiver, headers, body)
                    if answer is None:
                        receiver.stopping.wait(30)
                        return
                    status, extra, content = answer
                    self.send_response(status)
                    for name, value in extra.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                finally:
                    with receiver._lock:
                        receiver.in_flight[message_id] -= 1

            def log_message(self, *_: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def hooks(config: Config) -> Config:
    """Settings for tests: the local receiver allowed, short timeouts."""
    return replace(
        config,
        webhook_allow_hosts=("127.0.0.1",),
        webhook_connect_timeout=timedelta(seconds=1),
        webhook_timeout=timedelta(seconds=1),
        webhook_lease=timedelta(seconds=30),
    )


@pytest.fixture
def db(hooks: Config) -> Iterator[Database]:
    database = Database(hooks.database_url)
    yield database
    database.dispose()


def new_endpoint(db: Database, url: str, now: datetime, allow: tuple[str, ...] = ("127.0.0.1",)) -> tuple[int, str]:
    added = db.run(lambda c: add_endpoint(c, url, ["lead.sql"], now, allow))
    return added.id, added.secret


def new_deliveries(db: Database, endpoint_id: int, now: datetime, count: int = 1) -> list[int]:
    """Pending deliveries as capture/handoff/outbox.py writes them, each for a new lead."""

    def work(connection: Any) -> list[int]:
        ids = []
        for _ in range(count):
            lead_id = connection.execute(
                insert(Lead.__table__)
                .values(email=f"{secrets.token_hex(6)}@example.com", last_seen_at=now, created_at=now)
                .returning(Lead.__table__.c.id)
            ).scalar_one()
            ids.append(
                connection.execute(
                    insert(Delivery.__table__)
                    .values(
                        message_id="msg_" + secrets.token_urlsafe(24),
                        endpoint_id=endpoint_id,
                        lead_id=lead_id,
                        event_type="lead.sql",
                        payload={"type": "lead.sql", "data": {"lead": {"id": lead_id, "name": "Åse"}}},
                        status="pending",
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                    .returning(Delivery.__table__.c.id)
                ).scalar_one()
            )
        return ids

    return db.run(work)


def delivery(db: Database, delivery_id: int) -> Any:
    with db.read() as session:
        return session.get(Delivery, delivery_id)


def endpoint(db: Database, endpoint_id: int) -> Any:
    with db.read() as session:
        return session.get(WebhookEndpoint, endpoint_id)


def attempts_of(db: Database, delivery_id: int) -> list[DeliveryAttempt]:
    with db.read() as session:
        query = select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
        return list(session.scalars(query))


def test_a_receiver_verifying_with_the_library_accepts_ours_and_both_secrets_sign_after_rotation(
    db: Database, hooks: Config, receiver: Receiver
) -> None:
    now = datetime.now(UTC)  # the receiver checks the timestamp against its own clock
    endpoint_id, old_secret = new_endpoint(db, receiver.url, now)
    verified: list[Any] = []

    def verify(_: Receiver, headers: dict[str, str], body: bytes) -> Reply:
        verified.append(Webhook(old_secret).verify(body, headers))
        return 204, {}, b""

    receiver.reply = verify
    [first] = new_deliveries(db, endpoint_id, now)
    assert run_worker(db, hooks, once=True) == 1
    assert verified == [{"type": "lead.sql", "data": {"lead": {"id": delivery(db, first).lead_id, "name": "Åse"}}}]
    assert delivery(db, first).status == "delivered"

    new_secret = db.run(lambda c: rotate_secret(c, endpoint_id, timedelta(hours=24), now))
    assert new_secret.startswith("whsec_") and new_secret != old_secret
    receiver.reply = lambda _r, headers, body: (
        verified.extend([Webhook(old_secret).verify(body, headers), Webhook(new_secret).verify(body, headers)])
        or (200, {}, b"")
    )
    [second] = new_deliveries(db, endpoint_id, now)
    run_worker(db, hooks, once=True)
    headers = receiver.received[-1][0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert headers["webhook-id"] == delivery(db, second).message_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert delivery(db, second).status == "delivered" and len(verified) == 3

    # After the grace period only the new secret signs.
    db.run(
        lambda c: c.execute(update(WebhookEndpoint.__table__).values(previous_secret_until=now - timedelta(seconds=1)))
    )
    receiver.reply = lambda *_: (200, {}, b"")
    new_deliveries(db, endpoint_id, now)
    run_worker(db, hooks, once=True)
    headers = receiver.received[-1][0]
    Webhook(new_secret).verify(receiver.received[-1][1], headers)
    assert " " not in headers["webhook-signature"]


def test_receiver_down_then_up_every_delivery_arrives_once_with_a_stable_id(
    db: Database, hooks: Config, clock: Any
) -> None:
    down = Receiver()  # its port is free: nothing listens yet
    endpoint_id, _ = new_endpoint(db, down.url, clock())
    ids = new_deliveries(db, endpoint_id, clock(), count=5)
    assert run_worker(db, hooks, once=True, clock=clock) == 5
    for delivery_id in ids:
        row = delivery(db, delivery_id)
        assert (row.status, row.attempts) == ("pending", 1)
        assert timedelta(seconds=4.5) <= row.next_attempt_at - clock() <= timedelta(seconds=5.5)
        [failed] = attempts_of(db, delivery_id)
        assert failed.status_code is None and "ConnectionRefused" in (failed.error or "")

    assert run_worker(db, hooks, once=True, clock=clock) == 0  # not due yet
    down.start()
    try:
        clock.advance(seconds=6)
        assert run_worker(db, hooks, once=True, clock=clock) == 5
        assert run_worker(db, hooks, once=True, clock=clock) == 0
    finally:
        down.stop()
    assert sorted(down.ids()) == sorted(delivery(db, i).message_id for i in ids)
    assert {delivery(db, i).status for i in ids} == {"delivered"}
    assert endpoint(db, endpoint_id).failure_streak == 0


def test_500_retries_on_the_schedule_with_jitter_then_dead_keeping_every_attempt(
    db: Database, hooks: Config, clock: Any, receiver: Receiver
) -> None:
    receiver.reply = lambda *_: (500, {}, b"x" * 5000)
    endpoint_id, _ = new_endpoint(db, receiver.url, clock())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    for number in range(1, MAX_ATTEMPTS + 1):
        assert run_worker(db, hooks, once=True, clock=clock) == 1
        row = delivery(db, delivery_id)
        assert row.attempts == number
        if number == MAX_ATTEMPTS:
            break
        wait = row.next_attempt_at - clock()
        assert SCHEDULE[number] * 0.9 <= wait <= SCHEDULE[number] * 1.1, (number, wait)
        clock.now = row.next_attempt_at
    assert row.status == "dead" and row.last_error == "HTTP 500"
    attempts = attempts_of(db, delivery_id)
    assert len(attempts) == MAX_ATTEMPTS and {a.status_code for a in attempts} == {500}
    assert all(len(a.response_body or "") == 2048 for a in attempts)
    assert len(set(receiver.ids())) == 1 and len(receiver.received) == MAX_ATTEMPTS
    assert endpoint(db, endpoint_id).failure_streak == MAX_ATTEMPTS
    clock.advance(days=2)
    assert run_worker(db, hooks, once=True, clock=clock) == 0  # dead is dead until replayed


def test_a_hanging_receiver_times_out_and_is_retried(
    db: Database, hooks: Config, clock: Any, receiver: Receiver
) -> None:
    receiver.reply = lambda *_: None
    endpoint_id, _ = new_endpoint(db, receiver.url, clock())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    started = time.monotonic()
    run_worker(db, replace(hooks, webhook_timeout=timedelta(seconds=0.5)), once=True, clock=clock)
    assert time.monotonic() - started < 3
    [attempt] = attempts_of(db, delivery_id)
    assert "timed out" in (attempt.error or "") and 400 <= attempt.latency_ms < 2500
    assert delivery(db, delivery_id).status == "pending"


def test_a_redirect_is_a_failure_and_is_never_followed(
    db: Database, hooks: Config, clock: Any, receiver: Receiver
) -> None:
    receiver.reply = lambda r, *_: (307, {"location": f"http://127.0.0.1:{r.port}/elsewhere"}, b"")
    endpoint_id, _ = new_endpoint(db, receiver.url, clock())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    run_worker(db, hooks, once=True, clock=clock)
    assert len(receiver.received) == 1
    row = delivery(db, delivery_id)
    assert row.status == "pending" and "307 redirect" in (row.last_error or "")
    assert attempts_of(db, delivery_id)[0].status_code == 307


def test_410_kills_the_delivery_and_disables_the_endpoint_whose_others_wait_until_enabled(
    db: Database, hooks: Config, clock: Any, receiver: Receiver
) -> None:
    receiver.reply = lambda *_: (410, {}, b"gone")
    endpoint_id, _ = new_endpoint(db, receiver.url, clock())
    [gone] = new_deliveries(db, endpoint_id, clock())
    assert run_worker(db, hooks, once=True, clock=clock) == 1
    assert delivery(db, gone).status == "dead"
    disabled = endpoint(db, endpoint_id)
    assert not disabled.enabled and "410" in (disabled.disabled_reason or "")

    [waiting] = new_deliveries(db, endpoint_id, clock())
    clock.advance(hours=1)
    assert run_worker(db, hooks, once=True, clock=clock) == 0
    assert delivery(db, waiting).status == "pending" and len(receiver.received) == 1

    receiver.reply = lambda *_: (200, {}, b"")
    db.run(lambda c: set_enabled(c, endpoint_id, True, clock()))
    assert run_worker(db, hooks, once=True, clock=clock) == 1
    assert delivery(db, waiting).status == "delivered" and delivery(db, gone).status == "dead"


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured_in_seconds_or_as_a_date_and_capped(
    db: Database, hooks: Config, clock: Any, receiver: Receiver, status: int
) -> None:
    answers = iter(
        [
            {"retry-after": "120"},
            {"retry-after": format_datetime(clock() + timedelta(minutes=45), usegmt=True)},
            {"retry-after": str(7 * 24 * 3600)},
        ]
    )
    receiver.reply = lambda *_: (status, next(answers), b"slow down")
    endpoint_id, _ = new_endpoint(db, receiver.url, clock())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    capped = replace(hooks, webhook_retry_after_cap=timedelta(hours=1))
    expected = [timedelta(seconds=120), None, timedelta(hours=1)]
    target = clock() + timedelta(minutes=45)
    for wait in expected:
        run_worker(db, capped, once=True, clock=clock)
        row = delivery(db, delivery_id)
        assert row.status == "pending"
        if wait is None:
            assert abs((row.next_attempt_at - target).total_seconds()) <= 1
        else:
            assert row.next_attempt_at - clock() == wait
        clock.now = row.next_attempt_at
    assert [a.status_code for a in attempts_of(db, delivery_id)] == [status] * 3


def test_a_long_failure_streak_disables_the_endpoint_with_the_reason(
    db: Database, hooks: Config, clock: Any, receiver: Receiver
) -> None:
    receiver.reply = lambda *_: (502, {}, b"")
    endpoint_id, _ = new_endpoint(db, receiver.url, clock())
    new_deliveries(db, endpoint_id, clock(), count=5)
    run_worker(db, replace(hooks, webhook_disable_after=3), once=True, clock=clock)
    row = endpoint(db, endpoint_id)
    assert not row.enabled and row.disabled_reason.startswith("3 consecutive failed attempts (last: HTTP 502)")
    assert len(receiver.received) == 3  # the endpoint stopped getting deliveries the moment it was disabled


def test_an_address_that_turns_private_after_add_is_refused_at_send_time(
    db: Database, hooks: Config, clock: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = {"crm.example.com": "93.184.216.34"}
    monkeypatch.setattr(delivery_module, "resolve", lambda host, port: [answers[host]])
    endpoint_id, _ = new_endpoint(db, f"http://crm.example.com:{receiver.port}/hooks", clock(), allow=())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    answers["crm.example.com"] = "10.0.0.7"  # the DNS answer changed
    run_worker(db, replace(hooks, webhook_allow_hosts=()), once=True, clock=clock)
    [attempt] = attempts_of(db, delivery_id)
    assert attempt.status_code is None
    assert attempt.error == (
        "refused: crm.example.com resolves to 10.0.0.7, a private address; refused "
        "(name it in LEADWHEEL_WEBHOOK_ALLOW_HOSTS if it is really meant)"
    )
    assert receiver.received == []


def test_the_worker_connects_to_the_address_it_checked_and_keeps_the_host_name(
    db: Database, hooks: Config, clock: Any, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked_up: list[str] = []
    monkeypatch.setattr(delivery_module, "resolve", lambda host, port: looked_up.append(host) or ["127.0.0.1"])
    allowed = replace(hooks, webhook_allow_hosts=("127.0.0.0/8",))
    endpoint_id, _ = new_endpoint(
        db, f"http://crm.internal.test:{receiver.port}/hooks", clock(), allow=("127.0.0.0/8",)
    )
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    run_worker(db, allowed, once=True, clock=clock)
    assert delivery(db, delivery_id).status == "delivered"
    assert receiver.received[0][0]["host"] == f"crm.internal.test:{receiver.port}"
    assert looked_up == ["crm.internal.test", "crm.internal.test"]  # once at add, once at send


def _worker_process(url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LEADWHEEL_WEBHOOK_ALLOW_HOSTS": "127.0.0.1",
        "LEADWHEEL_WEBHOOK_CONNECT_TIMEOUT": "1",
        "LEADWHEEL_WEBHOOK_TIMEOUT": "2",
        "LEADWHEEL_WEBHOOK_LEASE_SECONDS": "3",
        "LEADWHEEL_WEBHOOK_POLL_SECONDS": "0.1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "capture.cli.main", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_loses_nothing_after_a_restart(
    db: Database, hooks: Config, receiver: Receiver
) -> None:
    first_request = threading.Event()

    def stall_the_first(_: Receiver, headers: dict[str, str], body: bytes) -> Reply:
        if not first_request.is_set():
            first_request.set()
            return None
        return 200, {}, b""

    receiver.reply = stall_the_first
    now = datetime.now(UTC)
    endpoint_id, _ = new_endpoint(db, receiver.url, now)
    ids = new_deliveries(db, endpoint_id, now, count=3)
    process = _worker_process(hooks.database_url)
    try:
        assert first_request.wait(20), "the worker never sent"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        assert process.returncode == -signal.SIGKILL
        process = _worker_process(hooks.database_url)
        _wait_for(lambda: all(delivery(db, i).status == "delivered" for i in ids), 30)
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=10)
    assert process.returncode == 0, errors.decode()
    wanted = {delivery(db, i).message_id for i in ids}
    assert set(receiver.ids()) == wanted
    assert len(receiver.ids()) == 4  # the stalled one again, under its same webhook-id
    assert sum(len(attempts_of(db, i)) for i in ids) == 3  # the killed attempt was never recorded


def test_several_workers_never_send_one_delivery_twice(db: Database, hooks: Config, receiver: Receiver) -> None:
    """PostgreSQL: FOR UPDATE SKIP LOCKED. SQLite: the claim's BEGIN IMMEDIATE serializes claims."""

    def slowly(*_: Any) -> Reply:
        time.sleep(0.01)
        return 200, {}, b""

    receiver.reply = slowly
    now = datetime.now(UTC)
    endpoint_id, _ = new_endpoint(db, receiver.url, now)
    ids = new_deliveries(db, endpoint_id, now, count=60)
    stop = threading.Event()
    databases = [Database(hooks.database_url) for _ in range(3)]
    fast = replace(hooks, webhook_poll=timedelta(seconds=0.02))
    threads = [threading.Thread(target=run_worker, args=(d, fast), kwargs={"stop_event": stop}) for d in databases]
    for thread in threads:
        thread.start()
    try:
        _wait_for(lambda: len(receiver.received) >= len(ids), 30)
        time.sleep(0.3)  # a double send would arrive now
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        for database in databases:
            database.dispose()
    assert len(receiver.ids()) == len(set(receiver.ids())) == len(ids)
    assert receiver.overlaps == 0
    assert {delivery(db, i).status for i in ids} == {"delivered"}


def test_a_running_worker_outlives_a_failed_round_and_replay_leaves_an_in_flight_delivery_alone(
    db: Database, hooks: Config, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from capture.handoff import worker as worker_module
    from capture.handoff.endpoints import EndpointError, replay

    now = datetime.now(UTC)
    endpoint_id, _ = new_endpoint(db, receiver.url, now)
    [delivery_id] = new_deliveries(db, endpoint_id, now)
    db.run(
        lambda c: c.execute(update(Delivery.__table__).values(claimed_until=datetime.now(UTC) + timedelta(seconds=30)))
    )
    with pytest.raises(EndpointError, match="is being sent right now"):
        db.run(lambda c: replay(c, datetime.now(UTC), delivery_id=delivery_id))
    db.run(lambda c: c.execute(update(Delivery.__table__).values(claimed_until=None)))

    real_claim, calls = worker_module.claim, []

    def flaky_claim(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return real_claim(*args, **kwargs)

    monkeypatch.setattr(worker_module, "claim", flaky_claim)
    stop = threading.Event()
    fast = replace(hooks, webhook_poll=timedelta(seconds=0.02))
    thread = threading.Thread(target=run_worker, args=(db, fast), kwargs={"stop_event": stop})
    thread.start()
    try:
        _wait_for(lambda: delivery(db, delivery_id).status == "delivered", 10)
    finally:
        stop.set()
        thread.join(10)
    with pytest.raises(RuntimeError):
        calls.clear()
        run_worker(db, hooks, once=True)


def test_https_connects_to_the_checked_address_and_verifies_the_certificate_against_the_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    import ssl

    from capture.handoff.delivery import send

    if shutil.which("openssl") is None:
        if os.environ.get("CI", "").lower() == "true":  # CI must check HTTPS, not skip it
            pytest.fail("the openssl command is missing (apt-get install -y openssl)", pytrace=False)
        pytest.skip("needs the openssl command")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=crm.test", "-addext", "subjectAltName=DNS:crm.test"],
        check=True, capture_output=True,
    )  # fmt: skip
    receiver = Receiver()
    receiver.start()
    assert receiver._server is not None
    server_side = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_side.load_cert_chain(cert, key)
    receiver._server.socket = server_side.wrap_socket(receiver._server.socket, server_side=True)
    monkeypatch.setattr(delivery_module, "resolve", lambda host, port: ["127.0.0.1"])
    monkeypatch.setattr(delivery_module, "tls_context", lambda: ssl.create_default_context(cafile=str(cert)))
    try:
        good = send(f"https://crm.test:{receiver.port}/hooks", "{}", {}, connect_timeout=2, total_timeout=5,
                    allow=["127.0.0.1"])  # fmt: skip
        assert good.status == 200, good.error
        assert receiver.received[0][0]["host"] == f"crm.test:{receiver.port}"
        wrong = send(f"https://other.test:{receiver.port}/hooks", "{}", {}, connect_timeout=2, total_timeout=5,
                     allow=["127.0.0.1"])  # fmt: skip
        assert wrong.status is None and "certificate verify failed" in (wrong.error or "")
        assert len(receiver.received) == 1
    finally:
        receiver.stop()
