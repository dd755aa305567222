"""A hostile receiver changes nothing: whatever it answers, and however slowly, the attempt is recorded,
its retry comes within bounds, the rest of the batch still goes out, and no byte of it reaches a log raw.

Each receiver here is real and local (127.0.0.1): :class:`Receiver` for well-formed HTTP with hostile
values, :class:`RawReceiver` for answers no HTTP server library would write (drips, broken framing).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import pytest

from capture.config import Config
from capture.db.engine import Database
from capture.handoff import delivery as delivery_module
from capture.handoff.endpoints import EndpointError
from capture.handoff.worker import run_worker
from tests.capture.handoff import test_webhooks_worker as worker_tests
from tests.capture.handoff.test_webhooks_worker import (
    Receiver,
    Reply,
    attempts_of,
    delivery,
    free_port,
    new_deliveries,
    new_endpoint,
)

#: the worker tests' fixtures: settings with short timeouts, the database, a well-behaved local receiver
hooks, db, receiver = worker_tests.hooks, worker_tests.db, worker_tests.receiver

CAP = timedelta(hours=1)


@dataclass
class RawReceiver:
    """Reads each request, then lets ``answer`` write whatever bytes it likes, as slowly as it likes."""

    answer: Callable[[RawReceiver, socket.socket], None]
    port: int = field(default_factory=free_port)
    requests: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> RawReceiver:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.05)
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def _serve(self) -> None:
        assert self._listener is not None
        while not self.stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.requests += 1
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                self.answer(self, connection)
            except OSError:
                pass  # the worker hung up on us, as it should

    def drip(self, connection: socket.socket, data: bytes, every: float = 0.2) -> None:
        """Send ``data`` one byte at a time, ``every`` seconds apart, until stopped or cut off."""
        for byte in data:
            if self.stopping.wait(every):
                return
            connection.sendall(bytes([byte]))

    def stop(self) -> None:
        self.stopping.set()
        if self._listener is not None:
            self._listener.close()


def read_request(connection: socket.socket) -> None:
    """Read a request's head and body (the worker always sends a content-length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += connection.recv(65536)


@pytest.fixture
def raw() -> Iterator[list[RawReceiver]]:
    started: list[RawReceiver] = []
    yield started
    for receiver in started:
        receiver.stop()


# --- Retry-After ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "retry_after",
    ["99999999999999", "9" * 5000, "²", "-1", "1.5", "Fri, 31 Dec 9999 23:59:59 GMT", "Mon, 01 Jan 99999 00:00:00 GMT",
     "Mon, 01 Jan 1990 00:00:00 GMT", "Mon, 01 Jan 2026 00:00:00 +9999", "\x1b[2J soon"],
)  # fmt: skip
def test_any_retry_after_is_recorded_with_a_bounded_delay_and_the_batch_goes_on(
    db: Database, hooks: Config, clock: Any, receiver: Receiver, retry_after: str
) -> None:
    first = threading.Event()

    def slow_down_the_first(_: Receiver, headers: dict[str, str], body: bytes) -> Reply:
        if first.is_set():
            return 200, {}, b""
        first.set()
        return 429, {"retry-after": retry_after}, b"slow down"

    receiver.reply = slow_down_the_first
    endpoint_id, _ = new_endpoint(db, receiver.url, clock())
    throttled, *others = new_deliveries(db, endpoint_id, clock(), count=3)
    assert run_worker(db, replace(hooks, webhook_retry_after_cap=CAP), once=True, clock=clock) == 3

    row = delivery(db, throttled)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "HTTP 429")
    assert timedelta(0) <= row.next_attempt_at - clock() <= CAP
    [attempt] = attempts_of(db, throttled)
    assert attempt.status_code == 429
    assert {delivery(db, other).status for other in others} == {"delivered"}
    clock.advance(hours=2)
    assert run_worker(db, hooks, once=True, clock=clock) == 1  # retried, once, within the cap
    assert delivery(db, throttled).status == "delivered" and len(receiver.received) == 4


# --- slow, endless and malformed answers ----------------------------------------------------------


def _drip_status_line(receiver: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    receiver.drip(connection, b"HTTP/1.1 200 OK\r\n" + b"x-slow: " + b"a" * 1000)


def _drip_body(receiver: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n")
    receiver.drip(connection, b"b" * 1000)


def _endless_continues(receiver: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    while not receiver.stopping.is_set():
        connection.sendall(b"HTTP/1.1 100 Continue\r\n\r\n" * 100)


def _drip_tls_handshake(receiver: RawReceiver, connection: socket.socket) -> None:
    connection.recv(65536)  # the ClientHello
    receiver.drip(connection, b"\x16\x03\x03\x40\x00" + b"\x00" * 1000)  # a handshake record that never ends


@pytest.mark.parametrize(
    ("answer", "scheme"),
    [(_drip_status_line, "http"), (_drip_body, "http"), (_endless_continues, "http"), (_drip_tls_handshake, "https")],
    ids=["headers-dripped", "body-dripped", "endless-100-continue", "tls-handshake-dripped"],
)
def test_a_dripping_receiver_is_cut_off_at_the_total_timeout_and_the_next_endpoint_still_gets_its_delivery(
    db: Database,
    hooks: Config,
    clock: Any,
    raw: list[RawReceiver],
    receiver: Receiver,
    answer: Callable[[RawReceiver, socket.socket], None],
    scheme: str,
) -> None:
    slow = RawReceiver(answer).start()
    raw.append(slow)
    slow_id, _ = new_endpoint(db, f"{scheme}://127.0.0.1:{slow.port}/hooks", clock())
    [dripped] = new_deliveries(db, slow_id, clock())
    good_id, _ = new_endpoint(db, receiver.url, clock())
    [healthy] = new_deliveries(db, good_id, clock())

    started = time.monotonic()
    # a longer connect timeout than the whole attempt's: the TLS handshake must still end at the latter
    settings = replace(hooks, webhook_timeout=timedelta(seconds=1), webhook_connect_timeout=timedelta(seconds=3))
    assert run_worker(db, settings, once=True, clock=clock) == 2
    assert time.monotonic() - started < 4

    [attempt] = attempts_of(db, dripped)
    assert attempt.status_code is None and "timed out (total timeout)" in (attempt.error or "")
    assert 900 <= attempt.latency_ms < 2000
    assert delivery(db, dripped).status == "pending"
    assert delivery(db, healthy).status == "delivered"


def _huge_headers(_: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\n" + b"x-big: " + b"h" * 100_000 + b"\r\n\r\n")


def _too_many_headers(_: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 200 OK\r\n" + b"".join(b"x-%d: 1\r\n" % n for n in range(500)) + b"\r\n")


def _garbage_status(_: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"\x1b[2J\x00HTTP/9 oops\r\n\r\n")


def _endless_body(receiver: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\n")
    while not receiver.stopping.is_set():
        connection.sendall(b"4000\r\n" + b"z" * 0x4000 + b"\r\n")


def _broken_chunks(_: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    connection.sendall(b"HTTP/1.1 500 Oops\r\ntransfer-encoding: chunked\r\n\r\nzz\x1b\r\n")


@pytest.mark.parametrize(
    ("answer", "status", "error"),
    [
        (_huge_headers, None, "LineTooLong"),
        (_too_many_headers, None, "more than 100 headers"),
        (_garbage_status, None, "BadStatusLine"),
        (_endless_body, 500, None),
        (_broken_chunks, None, "IncompleteRead"),
    ],
    ids=["huge-header", "too-many-headers", "garbage-status-line", "endless-body", "broken-chunks"],
)
def test_a_malformed_or_endless_answer_is_a_recorded_failure_retried_on_the_schedule(
    db: Database,
    hooks: Config,
    clock: Any,
    raw: list[RawReceiver],
    answer: Callable[[RawReceiver, socket.socket], None],
    status: int | None,
    error: str | None,
) -> None:
    hostile = RawReceiver(answer).start()
    raw.append(hostile)
    endpoint_id, _ = new_endpoint(db, hostile.url, clock())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    started = time.monotonic()
    assert run_worker(db, hooks, once=True, clock=clock) == 1
    assert time.monotonic() - started < 4
    [attempt] = attempts_of(db, delivery_id)
    assert attempt.status_code == status
    if error is not None:
        assert error in (attempt.error or "")
        assert len(attempt.error or "") <= delivery_module.TEXT_LIMIT + 1
        assert all(c.isprintable() for c in attempt.error or "")
    else:
        assert len(attempt.response_body or "") <= delivery_module.BODY_LIMIT * 4
    row = delivery(db, delivery_id)
    assert row.status == "pending" and timedelta(seconds=4) <= row.next_attempt_at - clock() <= timedelta(seconds=6)


# --- escape codes --------------------------------------------------------------------------------


def _escapes(_: RawReceiver, connection: socket.socket) -> None:
    read_request(connection)
    body = b"line one\nESC \x1b[2J BEL \x07 NUL \x00 end"
    connection.sendall(
        b"HTTP/1.1 307 Temporary Redirect\r\n"
        b"location: https://elsewhere.example/\x1b[31mred\r\n"
        b" INFO forged log line\r\n"  # an obsolete folded header: a newline inside the value
        b"content-length: %d\r\n\r\n" % len(body) + body
    )


def test_escape_codes_and_newlines_from_a_receiver_are_stored_and_logged_escaped(
    db: Database, hooks: Config, clock: Any, raw: list[RawReceiver], caplog: pytest.LogCaptureFixture
) -> None:
    hostile = RawReceiver(_escapes).start()
    raw.append(hostile)
    endpoint_id, _ = new_endpoint(db, hostile.url, clock())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    with caplog.at_level(logging.INFO, logger="capture"):
        assert run_worker(db, replace(hooks, webhook_disable_after=1), once=True, clock=clock) == 1

    [attempt] = attempts_of(db, delivery_id)
    assert attempt.status_code == 307
    assert attempt.response_body == "line one\nESC \\x1b[2J BEL \\x07 NUL \\x00 end"
    row = delivery(db, delivery_id)
    assert row.status == "pending"
    assert "\\x1b[31mred" in (row.last_error or "") and "forged log line" in (row.last_error or "")
    assert all(c.isprintable() for c in row.last_error or "")
    logged = [record.getMessage() for record in caplog.records]
    assert any("forged log line" in line for line in logged)  # the delivery's line and the disabling
    for line in logged:
        assert all(c.isprintable() for c in line), line


# --- addresses that embed private IPv4 -----------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("2002:7f00:1::", "a loopback address (127.0.0.1 inside)"),
        ("2002:a9fe:a9fe::", "a cloud metadata service (169.254.169.254 inside)"),
        ("2002:a00:1::", "a private address (10.0.0.1 inside)"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "a loopback address (127.0.0.1 inside)"),
        ("64:ff9b::7f00:1", "a loopback address (127.0.0.1 inside)"),
        ("64:ff9b::a9fe:a9fe", "a cloud metadata service (169.254.169.254 inside)"),
        ("64:ff9b:1::7f00:1", "a local-use NAT64 address"),
    ],
    ids=["6to4-loopback", "6to4-metadata", "6to4-private", "teredo-loopback", "nat64-loopback", "nat64-metadata",
         "nat64-local-use"],
)  # fmt: skip
def test_ipv6_forms_that_embed_a_private_ipv4_address_are_refused_at_add_and_at_send(
    db: Database,
    hooks: Config,
    clock: Any,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
    address: str,
    reason: str,
) -> None:
    with pytest.raises(EndpointError, match=f"is {reason.replace('(', '[(]').replace(')', '[)]')}; refused"):
        new_endpoint(db, f"http://[{address}]:{receiver.port}/hooks", clock(), allow=())

    answers = {"crm.example.com": "93.184.216.34"}
    monkeypatch.setattr(delivery_module, "resolve", lambda host, port: [answers[host]])
    endpoint_id, _ = new_endpoint(db, f"http://crm.example.com:{receiver.port}/hooks", clock(), allow=())
    [delivery_id] = new_deliveries(db, endpoint_id, clock())
    answers["crm.example.com"] = address  # the name now points at the embedded private host
    run_worker(db, replace(hooks, webhook_allow_hosts=()), once=True, clock=clock)
    [attempt] = attempts_of(db, delivery_id)
    assert attempt.status_code is None
    assert (attempt.error or "").startswith(f"refused: crm.example.com resolves to {address}, {reason}; refused")
    assert receiver.received == []
