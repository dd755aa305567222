"""From a lead crossing the SQL threshold to the receiver having its ``lead.sql``, end to end (p50/p95/max).

    .venv/bin/python bench/handoff_latency.py [--leads 200] [--rate 20] [--postgres]

For each backend (SQLite; PostgreSQL too with ``--postgres``), in a throw-away
database removed at the end, with every process stopped at the end:

1. the app under gunicorn as bench/run.py serves it (``bench.app:app``:
   gthread, 2 workers x 4 threads, rate limits off), a site, and a published
   scoring model (``MODEL``) in which a lead from a target account has 40 fit
   points, which opens the SQL gate, and one ``demo_request`` (40 points)
   takes it from MQL (40) over the SQL threshold (75);
2. ``2 x --leads + 1`` such leads made through ``POST .../identify`` (vouched by ``user_hash``);
3. the baseline: for ``--leads`` of them, the round trip of the event POST
   (``POST .../events`` with one ``demo_request``, as the snippet sends it)
   that makes the lead SQL, with no webhook endpoint configured, so nothing is
   enqueued;
4. then an endpoint on a receiver on 127.0.0.1 (bench/handoff.py's, verifying
   every signature with ``standardwebhooks`` and noting the arrival time per
   lead) wanting ``lead.sql``, and one ``leadwheel worker`` as a subprocess
   (the production command, its poll interval at the default unless
   ``--poll``). One lead crosses first as a warm-up (not counted); then, for
   the other ``--leads``, t0 = just before the same event POST, t1 = the
   receiver having that lead's ``lead.sql``.

The leads are spaced ``1 / --rate`` s apart, so this is latency, not a backlog.
Reported: the crossing latency (t1 - t0) p50/p95/max, the event POST's round
trip with and without an endpoint, and ratios of the crossing latency to the
baseline's round trip (measured in the same run). The worker polls when it
has nothing to do, so expect about half the poll interval on top of the POST.
Not a test: it reports, and exits non-zero only when the run itself failed (a
lead never arrived, a signature did not verify, a duplicate arrived).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.handoff import Receiver  # noqa: E402
from bench.run import ORIGIN, BenchError, Server, _raise_on_signal, free_port, post  # noqa: E402
from bench.tempdb import backends as chosen_backends  # noqa: E402
from bench.tempdb import temporary_database  # noqa: E402
from capture.leads.claims import user_hash  # noqa: E402

TARGET_DOMAIN = "target.example"

#: Fit from the e-mail domain (a target account: 40, past the gate's 30), engagement from one demo request.
MODEL: dict[str, Any] = {
    "format": "leadwheel/scoring@1",
    "name": "Hand-off latency bench",
    "thresholds": {"mql": 25, "sql": 75},
    "hysteresis": 10,
    "sql_gate": {"min_fit": 30},
    "domains": {"target_accounts": [TARGET_DOMAIN]},
    "fit": [{"id": "target", "label": "Target account", "email_domain": "target_accounts", "points": 40}],
    "engagement": [
        {"id": "demo", "label": "Demo request", "event": "demo_request", "points": 40, "cap": 40, "half_life_days": 90}
    ],
}


def percentile(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass
class Outcome:
    backend: str
    poll: str
    baseline_ms: list[float]
    with_endpoint_ms: list[float]
    crossing_ms: list[float]
    duplicates: int


class Collector:
    """What the receiver saw: arrival time per lead e-mail, after verifying the signature."""

    def __init__(self) -> None:
        self.secret: str | None = None
        self.arrived: dict[str, float] = {}
        self.rejected: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, headers: dict[str, str], body: bytes, arrived: float) -> int:
        from standardwebhooks.webhooks import Webhook

        try:
            payload = Webhook(self.secret or "").verify(body, headers)
            if payload["type"] != "lead.sql":
                raise ValueError(f"unexpected {payload['type']}")
            email = payload["data"]["lead"]["email"]
        except Exception as exc:  # noqa: BLE001 - every failure is reported
            with self.lock:
                self.rejected.append(f"{type(exc).__name__}: {exc}")
            return 400
        with self.lock:
            self.arrived.setdefault(email, arrived)
        return 204


def prepare(url: str) -> tuple[str, str]:
    """Migrate, create the site, publish MODEL; the site key and its identity secret."""
    from capture.db.engine import Database
    from capture.db.migrate import upgrade
    from capture.services import utc_now
    from capture.sites.publishing import create_site, publish_model
    from scoring.document import parse_model

    upgrade(url)
    db = Database(url)
    try:
        with db.write() as session:
            # consent is not what this measures: behaviour is allowed until withdrawn, as on a site whose
            # visitors' consent is handled elsewhere (every batch still reads the visitor's standing)
            site = create_site(session, "Bench", [ORIGIN], utc_now(), consent_policy="not_required")
            publish_model(session, parse_model(MODEL), utc_now())
            return site.public_key, site.identity_secret
    finally:
        db.dispose()


def add_receiver_endpoint(url: str, receiver_url: str) -> str:
    from capture.db.engine import Database
    from capture.handoff.endpoints import add_endpoint
    from capture.services import utc_now

    db = Database(url)
    try:
        return db.run(lambda c: add_endpoint(c, receiver_url, ["lead.sql"], utc_now(), ["127.0.0.1"])).secret
    finally:
        db.dispose()


def sql_leads(url: str) -> int:
    from sqlalchemy import func, select

    from capture.db.engine import Database
    from capture.db.models import Lead

    db = Database(url)
    try:
        with db.read() as session:
            return int(session.scalar(select(func.count()).where(Lead.stage == "sql")) or 0)
    finally:
        db.dispose()


def demo_request(root: str, site_key: str, token: str) -> float:
    """POST one demo_request for the visitor; the round trip in ms."""
    body = {
        "visitor": token,
        "events": [{"id": secrets.token_hex(16), "type": "demo_request", "url": "https://www.example.com/demo"}],
    }
    started = time.perf_counter()
    answer = post(f"{root}/api/v1/sites/{site_key}/events", body, 202)
    elapsed = (time.perf_counter() - started) * 1000
    if answer.get("accepted") != 1:
        raise BenchError(f"the event was not accepted: {answer}")
    return elapsed


def paced(count: int, rate: float) -> Any:
    """Yield 0..count-1, one every 1/rate s (never in a burst after a slow one: it just starts later)."""
    step = 1 / rate
    due = time.perf_counter()
    for n in range(count):
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        yield n
        due = max(due + step, time.perf_counter())


class WorkerProcess:
    """``leadwheel worker`` in its own process group, stopped with SIGTERM (SIGKILL if it lingers)."""

    def __init__(self, tmp: Path, url: str, poll: str | None):
        env = {**os.environ, "DATABASE_URL": url, "LEADWHEEL_WEBHOOK_ALLOW_HOSTS": "127.0.0.1"}
        env.pop("LEADWHEEL_WEBHOOK_POLL_SECONDS", None)
        if poll is not None:
            env["LEADWHEEL_WEBHOOK_POLL_SECONDS"] = poll
        self.log_path = tmp / "worker.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "capture.cli.main", "worker"],
            cwd=REPO, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def log_tail(self, lines: int = 20) -> str:
        self._log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log.close()


def wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise BenchError(f"{what} not within {seconds:.0f} s")
        time.sleep(0.002)


def measure(backend: str, tmp: Path, args: argparse.Namespace) -> Outcome:
    from capture.config import Config

    poll = args.poll or f"{Config.webhook_poll.total_seconds():g} (default)"
    collector = Collector()
    receiver = Receiver(on_arrival=collector)
    server: Server | None = None
    worker: WorkerProcess | None = None
    workdir = tmp / backend
    workdir.mkdir()
    try:
        with temporary_database(backend, workdir, "latency") as url:
            site_key, identity_secret = prepare(url)
            env = {
                **os.environ,
                "SECRET_KEY": secrets.token_urlsafe(48),
                "DATABASE_URL": url,
                "LEADWHEEL_RATELIMIT": "off",
                "PYTHONDONTWRITEBYTECODE": "1",
            }
            port = free_port()
            server = Server(workdir, env, args.workers, args.threads, port)
            server.wait_ready()
            root = f"http://127.0.0.1:{port}"

            emails = [f"lead{n}@{TARGET_DOMAIN}" for n in range(2 * args.leads + 1)]
            identify = f"{root}/api/v1/sites/{site_key}/identify"
            tokens = [  # the site's back end vouches for each address, as a login would
                post(identify, {"email": email, "user_hash": user_hash(identity_secret, email), "locale": "en"}, 200)[
                    "visitor"
                ]
                for email in emails
            ]
            warmup, crossing_leads = 2 * args.leads, range(args.leads, 2 * args.leads)

            baseline = [demo_request(root, site_key, tokens[n]) for n in paced(args.leads, args.rate)]
            if sql_leads(url) != args.leads:
                raise BenchError(f"{sql_leads(url)} leads are SQL after the baseline, expected {args.leads}")

            collector.secret = add_receiver_endpoint(url, receiver.url)
            worker = WorkerProcess(workdir, url, args.poll)
            demo_request(root, site_key, tokens[warmup])
            wait_for(lambda: emails[warmup] in collector.arrived, 30, "the warm-up lead's lead.sql")

            sent: dict[str, float] = {}
            with_endpoint = []
            deadline = time.monotonic() + args.timeout
            for i in paced(args.leads, args.rate):
                n = crossing_leads[i]
                sent[emails[n]] = time.perf_counter()
                with_endpoint.append(demo_request(root, site_key, tokens[n]))
                if time.monotonic() > deadline:
                    raise BenchError(f"out of time after {i + 1} of {args.leads} leads")
            wait_for(
                lambda: all(email in collector.arrived for email in sent),
                max(5.0, deadline - time.monotonic()),
                f"every lead.sql ({sum(e in collector.arrived for e in sent)} of {len(sent)} so far)",
            )
            if collector.rejected:
                raise BenchError(f"{len(collector.rejected)} webhooks failed verification: {collector.rejected[0]}")
            crossing = [(collector.arrived[email] - t0) * 1000 for email, t0 in sent.items()]
            time.sleep(0.5)  # a duplicate would come right behind
            duplicates = sum(n - 1 for n in receiver.seen.values())
    except BenchError:
        if worker is not None:
            print(f"--- worker log ---\n{worker.log_tail()}", file=sys.stderr)
        if server is not None:
            print(f"--- gunicorn log ---\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        if worker is not None:
            worker.stop()
        if server is not None:
            server.stop()
        receiver.stop()
    return Outcome(backend, poll, baseline, with_endpoint, crossing, duplicates)


def report(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    print(
        f"{args.leads} leads per phase, {args.rate:g}/s; gunicorn gthread {args.workers}x{args.threads}; "
        f"one `leadwheel worker`, poll {outcomes[0].poll} s"
    )
    print(
        f"{'backend':<12}{'POST p50':>10}{'+endpoint':>11}{'cross p50':>11}{'p95':>8}{'max':>8}"
        f"{'p50/POST':>10}{'p95/POST':>10}{'dups':>6}"
    )
    for o in outcomes:
        base = statistics.median(o.baseline_ms)
        p50, p95 = percentile(o.crossing_ms, 50), percentile(o.crossing_ms, 95)
        print(
            f"{o.backend:<12}{base:>10.1f}{statistics.median(o.with_endpoint_ms):>11.1f}{p50:>11.0f}{p95:>8.0f}"
            f"{max(o.crossing_ms):>8.0f}{p50 / base:>10.1f}{p95 / base:>10.1f}{o.duplicates:>6}"
        )
    print(
        "ms. POST: the event POST that makes a lead SQL, no endpoint (baseline, p50); +endpoint: the same POST "
        "with the endpoint (enqueues the hand-off); cross: that POST's start to the receiver having the lead.sql."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=200, help="leads per phase (default 200)")
    parser.add_argument("--rate", type=float, default=20, help="leads crossing per second (default 20)")
    parser.add_argument("--poll", help="LEADWHEEL_WEBHOOK_POLL_SECONDS for the worker (default: its default)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as `leadwheel serve`)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (default 4)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too (after SQLite)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds for a crossing phase and its arrivals")
    parser.add_argument("--json", action="store_true", help="also print the raw figures as JSON")
    args = parser.parse_args(argv)
    backends = chosen_backends(args.postgres)
    if backends is None:
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_on_signal)
    try:
        with tempfile.TemporaryDirectory(prefix="leadwheel-bench-") as tmp:
            outcomes = [measure(backend, Path(tmp), args) for backend in backends]
    except BenchError as exc:
        print(f"\nBENCH FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopped", file=sys.stderr)
        return 130
    report(outcomes, args)
    if args.json:
        print(json.dumps([o.__dict__ for o in outcomes]))
    return 1 if any(o.duplicates for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
