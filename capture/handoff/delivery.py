"""Sending one hand-off: sign it, refuse unsafe addresses, POST it, and judge what came back.

Nothing here touches the database; :mod:`capture.handoff.worker` claims deliveries and
records what :func:`send` and :func:`decide` say. Kept apart so every rule
(SSRF, signing, the retry schedule, status handling) can be read and tested
on its own.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from standardwebhooks.webhooks import Webhook

#: Standard Webhooks' schedule: the delay before attempt n+1 after attempt n failed; then dead.
SCHEDULE = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
#: attempts before a delivery is dead: the first, then one per step after it
MAX_ATTEMPTS = len(SCHEDULE)
JITTER = 0.10
#: how much of a receiver's answer is kept per attempt
BODY_LIMIT = 2048
#: how much of any other text a receiver controls (a header, an error naming its bytes) is kept
TEXT_LIMIT = 300
#: the longest Retry-After read as a number: more digits than this is "as late as allowed" anyway
RETRY_AFTER_DIGITS = 10
#: cloud metadata services, named so the refusal says what it is
METADATA = {
    ipaddress.ip_address("169.254.169.254"): "a cloud metadata service",
    ipaddress.ip_address("fd00:ec2::254"): "a cloud metadata service",
    ipaddress.ip_address("100.100.100.200"): "a cloud metadata service",
    ipaddress.ip_address("169.254.170.2"): "a cloud metadata service",
}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeURL(ValueError):
    """A webhook URL that may not be called; the message says why in one line."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def parse_target(url: str) -> Target:
    """An http(s) URL with a host, split for sending; anything else is refused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL(f"{url!r}: a webhook URL must start with https:// (or http://)")
    if not parts.hostname:
        raise UnsafeURL(f"{url!r}: a webhook URL needs a host")
    if parts.username or parts.password:
        raise UnsafeURL(f"{url!r}: credentials in a webhook URL are not supported")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname.lower(), port or (443 if parts.scheme == "https" else 80), path)


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to. A module function so tests can stand in for DNS."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: NAT64's well-known prefix (RFC 6052): the last 32 bits are the IPv4 address reached
NAT64 = ipaddress.ip_network("64:ff9b::/96")
#: NAT64's local-use prefix (RFC 8215): where the IPv4 address sits is each network's choice, so none is public
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries and leads to (mapped, 6to4, Teredo, NAT64), or None.

    Each of these forms reaches the IPv4 host it embeds, so ``2002:7f00:1::``
    (6to4 of 127.0.0.1) is as much a loopback address as 127.0.0.1 itself.
    """
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]  # the client: where the relay delivers
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden(address: IPAddress) -> str | None:
    """Why ``address`` must not be called (private, loopback, metadata …), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in NAT64_LOCAL:
            return "a local-use NAT64 address"
        embedded = embedded_ipv4(address)
        if embedded is not None:
            reason = forbidden(embedded)
            if reason is not None:
                return f"{reason} ({embedded} inside)"
            address = embedded
    if address in METADATA:
        return METADATA[address]
    for reason, flag in (
        ("a loopback address", address.is_loopback),
        ("an unspecified address", address.is_unspecified),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
    ):
        if flag:
            return reason
    if not address.is_global:
        return "a non-public address"
    return None


def _allowed(host: str, address: IPAddress, allow: Sequence[str]) -> bool:
    for entry in allow:
        if entry.lower() == host:
            return True
        try:
            if address in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def safe_address(target: Target, allow: Sequence[str] = ()) -> str:
    """The one address to connect to for ``target``, checked; :class:`UnsafeURL` if any is unsafe.

    Resolving once and connecting to exactly that address is what stops a
    DNS answer changing between the check and the connection (rebinding).
    Every address a name resolves to is checked, so a name cannot hide a
    private address behind a public one.
    """
    literal = True
    try:
        addresses = [ipaddress.ip_address(target.host.strip("[]"))]
    except ValueError:
        literal = False
        try:
            addresses = [ipaddress.ip_address(a.split("%", 1)[0]) for a in resolve(target.host, target.port)]
        except (OSError, UnicodeError) as exc:
            raise UnsafeURL(f"cannot resolve {target.host}: {exc}") from None
    if not addresses:
        raise UnsafeURL(f"cannot resolve {target.host}: no addresses")
    for address in addresses:
        reason = forbidden(address)
        if reason and not _allowed(target.host, address, allow):
            where = f"{address} is" if literal else f"{target.host} resolves to {address},"
            raise UnsafeURL(
                f"{where} {reason}; refused (name it in LEADWHEEL_WEBHOOK_ALLOW_HOSTS if it is really meant)"
            )
    return str(addresses[0])


def check_url(url: str, allow: Sequence[str] = ()) -> Target:
    """Refuse a URL an endpoint may not have, with a clear reason (used by ``webhook add``)."""
    target = parse_target(url)
    safe_address(target, allow)
    return target


# --- signing -------------------------------------------------------------------------------------


def body_of(payload: Any) -> str:
    """The exact bytes signed and sent: compact JSON, so the signature covers what arrives."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def signed_headers(message_id: str, now: datetime, body: str, secrets: Iterable[str]) -> dict[str, str]:
    """Standard Webhooks headers; one signature per live secret, space-separated (rotation)."""
    signatures = [Webhook(secret).sign(message_id, now, body) for secret in secrets]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
        "content-type": "application/json",
        "user-agent": "Leadwheel-Webhooks/1",
    }


# --- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Response:
    """What one attempt got: a status and the start of the body, or an error."""

    status: int | None
    body: str | None
    latency_ms: int
    error: str | None = None
    retry_after: str | None = None
    location: str | None = None


def printable(text: str, limit: int = TEXT_LIMIT, keep: str = "") -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\n``, …) and cut at ``limit`` characters.

    What a receiver sends ends up in logs, in the database and on an operator's
    terminal (``webhook deliveries``): escaped, it can neither forge a log line,
    nor drive a terminal, nor carry a NUL that PostgreSQL refuses to store.
    """
    cut = text[:limit]
    escaped = "".join(c if c.isprintable() or c in keep else repr(c)[1:-1] for c in cut)
    return escaped + ("…" if len(text) > limit else "")


class _Deadline:
    """The whole attempt's wall time: when it is up, every socket of the attempt is shut.

    A socket timeout bounds each read, not the attempt: a receiver trickling one
    byte a second (in the TLS handshake, the headers or the body) would never
    trip it. Shutting the socket down wakes whatever read is waiting.
    """

    def __init__(self, seconds: float):
        self.expired = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> socket.socket:
        """Put ``sock`` under the deadline (shut at once if it has already passed)."""
        with self._lock:
            self._sockets.append(sock)
            if not self.expired.is_set():
                return sock
        self._shut(sock)
        raise TimeoutError("the attempt's time ran out")

    def _expire(self) -> None:
        with self._lock:
            self.expired.set()
            sockets = list(self._sockets)
        for sock in sockets:
            self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        try:
            # The plain socket's shutdown, also for TLS: it wakes a waiting read without touching TLS state
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except (OSError, ValueError):
            pass

    def cancel(self) -> None:
        self._timer.cancel()


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to a checked address while the Host header keeps the URL's name."""

    def __init__(self, host: str, port: int, address: str, timeout: float, deadline: _Deadline):
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._deadline = deadline

    def _raw(self) -> socket.socket:
        return self._deadline.watch(socket.create_connection((self._address, self.port), self.timeout))

    def connect(self) -> None:
        self.sock = self._raw()


def tls_context() -> ssl.SSLContext:
    """System CAs, hostname checking on. A module function so tests can trust their own CA."""
    return ssl.create_default_context()


class _PinnedHTTPS(_PinnedHTTP):
    """TLS to a checked address, with SNI and certificate checks against the URL's host name."""

    def connect(self) -> None:
        # The handshake runs after the TLS socket is under the deadline (wrapping takes the raw socket's place)
        tls = tls_context().wrap_socket(self._raw(), server_hostname=self.host, do_handshake_on_connect=False)
        self._deadline.watch(tls)
        tls.do_handshake()
        self.sock = tls


def send(
    url: str,
    body: str,
    headers: dict[str, str],
    *,
    connect_timeout: float,
    total_timeout: float,
    allow: Sequence[str] = (),
) -> Response:
    """POST ``body`` once. Never follows a redirect; never raises for the receiver's faults.

    The address is checked here again, on the address actually connected to:
    an endpoint accepted at ``webhook add`` may resolve elsewhere today. The
    whole attempt, TLS handshake included, ends at ``total_timeout`` however
    slowly the receiver trickles bytes. Whatever the receiver sent comes back
    escaped and cut short (:func:`printable`).
    """
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = parse_target(url)
        address = safe_address(target, allow)
    except UnsafeURL as exc:
        return Response(None, None, elapsed(), error=printable(f"refused: {exc}", 2 * TEXT_LIMIT))
    deadline = _Deadline(total_timeout)
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target.host, target.port, address, connect_timeout, deadline)
    try:
        connection.connect()
        assert connection.sock is not None
        connection.sock.settimeout(max(0.01, total_timeout - (time.monotonic() - started)))
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        answer = connection.getresponse()
        content = answer.read(BODY_LIMIT)
        if deadline.expired.is_set():
            raise TimeoutError("the attempt's time ran out")
        location = answer.getheader("location")
        return Response(
            answer.status,
            printable(content.decode("utf-8", errors="replace"), BODY_LIMIT, keep="\n\t"),
            elapsed(),
            retry_after=(answer.getheader("retry-after") or "")[:TEXT_LIMIT] or None,
            location=printable(location) if location is not None else None,
        )
    except (OSError, ValueError, http.client.HTTPException) as exc:
        # ValueError: an SSL socket shut by the deadline, a malformed number in the answer's framing
        if deadline.expired.is_set() or isinstance(exc, TimeoutError):
            what = "connect" if connection.sock is None and not deadline.expired.is_set() else "total"
            return Response(None, None, elapsed(), error=printable(f"timed out ({what} timeout): {exc}"))
        return Response(None, None, elapsed(), error=printable(f"{type(exc).__name__}: {exc}"))
    finally:
        deadline.cancel()
        connection.close()


# --- judging -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What an attempt means for its delivery and its endpoint."""

    #: pending (retry at next_attempt_at), delivered, dead
    status: str
    next_attempt_at: datetime | None
    failed: bool
    error: str | None = None
    #: set when the receiver asked us to stop (410 Gone)
    disable_reason: str | None = None


#: what a Retry-After too large to read as a number means: later than any cap
LONGEST_RETRY_AFTER = timedelta(seconds=10**RETRY_AFTER_DIGITS)


def retry_after_delay(value: str | None, now: datetime) -> timedelta | None:
    """A Retry-After header (seconds or an HTTP date) as a delay, or None when absent or unreadable.

    Never raises, whatever the receiver wrote: a number with a hundred digits is
    read as :data:`LONGEST_RETRY_AFTER` (the caller's cap then applies), a negative
    number or garbage as unreadable, a date in the past as "now".
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        # More seconds than a timedelta holds (or than anyone honours) mean "as late as allowed"
        digits = value.lstrip("0") or "0"
        return LONGEST_RETRY_AFTER if len(digits) > RETRY_AFTER_DIGITS else timedelta(seconds=int(digits))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(timedelta(0), when - now)


def next_delay(attempts: int, rng: random.Random | None = None) -> timedelta | None:
    """The wait after ``attempts`` failed attempts (±10 % jitter), or None when it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    base = SCHEDULE[attempts]
    return base * (rng or random).uniform(1 - JITTER, 1 + JITTER)


def decide(
    response: Response, attempts: int, now: datetime, *, retry_after_cap: timedelta, rng: random.Random | None = None
) -> Decision:
    """Judge attempt number ``attempts`` (1-based): delivered, retry when, or dead.

    2xx is delivered. A redirect is a failure (never followed: it could point
    anywhere, including inside our network). 410 Gone kills the delivery and
    disables its endpoint. 429 and 503 wait as long as Retry-After asks (up
    to a cap); every other failure waits per :data:`SCHEDULE`.
    """
    status = response.status
    if status is not None and 200 <= status < 300:
        return Decision("delivered", None, failed=False)
    if status == 410:
        return Decision("dead", None, failed=True, error="410 Gone", disable_reason="the receiver answered 410 Gone")
    if status is None:
        error = response.error or "no response"
    elif 300 <= status < 400:
        error = f"{status} redirect to {response.location or '?'} (redirects are not followed)"
    else:
        error = f"HTTP {status}"
    delay = next_delay(attempts, rng)
    if delay is None:
        return Decision("dead", None, failed=True, error=error)
    if status in (429, 503):
        asked = retry_after_delay(response.retry_after, now)
        if asked is not None:
            delay = min(asked, retry_after_cap)
    return Decision("pending", now + delay, failed=True, error=error)
