"""Webhook deliveries/s through the worker against bare signed POSTs of the same bodies.

    .venv/bin/python bench/handoff.py [--deliveries 2000] [--workers 1] [--postgres]

For each backend (SQLite; PostgreSQL too with ``--postgres``), in a throw-away
database removed at the end:

1. ``--deliveries`` pending deliveries of a realistic payload
   (docs/webhook-payload.example.json) to one endpoint, written directly into
   the outbox as capture/handoff/outbox.py does;
2. a receiver on 127.0.0.1 (a threading http.server that reads each body and
   answers 204), and ``--workers`` worker threads (``run_worker``, each with its
   own engine) until every delivery is delivered. Each delivery is one claim
   share, one signed POST and one recorded attempt;
3. the baseline: the same number of signed POSTs of the same body with
   ``capture.handoff.delivery.send`` alone, one after another (no database at all).

Reported: deliveries/s, the baseline's POSTs/s, the attempts' latency (p50,
p99) and duplicates seen by the receiver (must be 0). Not a test: it reports,
and exits non-zero only when the run itself failed (or a duplicate arrived).
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.tempdb import backends as chosen_backends  # noqa: E402
from bench.tempdb import temporary_database  # noqa: E402

PAYLOAD = json.loads((REPO / "docs" / "webhook-payload.example.json").read_text(encoding="utf-8"))


class Receiver:
    """Counts webhook-ids; answers 204 as soon as the body is read.

    ``on_arrival(headers, body, arrived)`` (``arrived`` is ``time.perf_counter()`` taken right after
    the body was read), when given, is called first and answers the status instead (bench/handoff_latency.py).
    """

    def __init__(self, on_arrival: Callable[[dict[str, str], bytes, float], int] | None = None) -> None:
        self.seen: Counter[str] = Counter()
        lock = threading.Lock()
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                arrived = time.perf_counter()
                with lock:
                    seen[self.headers.get("webhook-id", "")] += 1
                status = 204 if on_arrival is None else on_arrival(dict(self.headers.items()), body, arrived)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class Outcome:
    backend: str
    deliveries: int
    seconds: float
    baseline_seconds: float
    p50_ms: float
    p99_ms: float
    duplicates: int


def prepare(url: str, receiver_url: str, count: int) -> int:
    from sqlalchemy import insert

    from capture.db.engine import Database
    from capture.db.migrate import upgrade
    from capture.db.models import Delivery, Lead
    from capture.handoff.endpoints import add_endpoint

    upgrade(url)
    db = Database(url)
    now = datetime.now(UTC)
    try:
        endpoint_id = db.run(lambda c: add_endpoint(c, receiver_url, ["lead.sql"], now, ["127.0.0.1"])).id

        def work(connection: Any) -> None:
            lead_id = connection.execute(
                insert(Lead.__table__).values(email="ada@example.com", last_seen_at=now, created_at=now)
            ).inserted_primary_key[0]
            connection.execute(
                insert(Delivery.__table__),
                [
                    {
                        "message_id": "msg_" + secrets.token_urlsafe(24),
                        "endpoint_id": endpoint_id,
                        "lead_id": lead_id,
                        "event_type": "lead.sql",
                        "payload": PAYLOAD,
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for _ in range(count)
                ],
            )

        db.run(work)
    finally:
        db.dispose()
    return endpoint_id


def measure(backend: str, tmp: Path, args: argparse.Namespace) -> Outcome:
    from sqlalchemy import func, select

    from capture.config import Config
    from capture.db.engine import Database
    from capture.db.models import Delivery, DeliveryAttempt
    from capture.handoff.delivery import body_of, send, signed_headers
    from capture.handoff.endpoints import new_secret
    from capture.handoff.worker import run_worker

    receiver = Receiver()
    try:
        with temporary_database(backend, tmp, "handoff") as url:
            prepare(url, receiver.url, args.deliveries)
            config = replace(
                Config(database_url=url),
                webhook_allow_hosts=("127.0.0.1",),
                webhook_poll=timedelta(seconds=0.02),
            )
            databases = [Database(url) for _ in range(args.workers)]
            stop = threading.Event()
            threads = [
                threading.Thread(target=run_worker, args=(d, config), kwargs={"stop_event": stop}) for d in databases
            ]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            deadline = started + args.timeout
            while sum(receiver.seen.values()) < args.deliveries and time.perf_counter() < deadline:
                time.sleep(0.005)
            seconds = time.perf_counter() - started
            stop.set()
            for thread in threads:
                thread.join(30)
            with databases[0].read() as session:
                delivered = session.scalar(select(func.count()).where(Delivery.status == "delivered"))
                latencies = sorted(session.scalars(select(DeliveryAttempt.latency_ms)))
            for database in databases:
                database.dispose()
            if delivered != args.deliveries:
                raise SystemExit(f"{backend}: only {delivered} of {args.deliveries} delivered in {args.timeout} s")
        duplicates = sum(n - 1 for n in receiver.seen.values())

        body, secret = body_of(PAYLOAD), new_secret()
        started = time.perf_counter()
        for _ in range(args.deliveries):
            headers = signed_headers("msg_" + secrets.token_urlsafe(24), datetime.now(UTC), body, [secret])
            answer = send(receiver.url, body, headers, connect_timeout=5, total_timeout=15, allow=["127.0.0.1"])
            if answer.status != 204:
                raise SystemExit(f"baseline POST failed: {answer.error or answer.status}")
        baseline = time.perf_counter() - started
    finally:
        receiver.stop()
    cut = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return Outcome(backend, args.deliveries, seconds, baseline, cut[49], cut[98], duplicates)


def report(outcomes: list[Outcome]) -> None:
    print(f"{'backend':<12}{'deliveries/s':>14}{'bare POSTs/s':>14}{'ratio':>8}{'p50 ms':>8}{'p99 ms':>8}{'dups':>6}")
    for o in outcomes:
        rate, bare = o.deliveries / o.seconds, o.deliveries / o.baseline_seconds
        latency = f"{o.p50_ms:>8.0f}{o.p99_ms:>8.0f}"
        print(f"{o.backend:<12}{rate:>14.0f}{bare:>14.0f}{rate / bare:>8.2f}{latency}{o.duplicates:>6}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=1, help="worker threads (default 1)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too (after SQLite)")
    parser.add_argument("--timeout", type=float, default=300, help="give up after this many seconds")
    args = parser.parse_args(argv)
    backends = chosen_backends(args.postgres)
    if backends is None:
        return 2
    with tempfile.TemporaryDirectory(prefix="leadwheel-bench-") as tmp:
        outcomes = [measure(backend, Path(tmp), args) for backend in backends]
    report(outcomes)
    return 1 if any(o.duplicates for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
