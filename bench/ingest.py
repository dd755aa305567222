"""Event ingestion through the browser endpoint against raw Core inserts of the same rows.

    .venv/bin/python bench/ingest.py [--batch 20] [--seconds 10] [--postgres]

For each backend (SQLite; PostgreSQL too with ``--postgres``), in throw-away
databases removed at the end:

1. two identical databases: migrated, one site, the default B2B scoring model
   published, and ``--visitors`` leads made the way the service makes them
   (``identify`` with an e-mail, so each is scored and keeps its tally);
2. gunicorn serves the first one as ``leadwheel serve`` would (gthread, 2
   workers, the backend's default threads: one on SQLite, four on PostgreSQL;
   rate limits off), and wrk posts ``POST /api/v1/sites/KEY/events``
   as the snippet does: a text/plain JSON body from an allowed Origin, one
   visitor token per request (the visitors in turn), ``--batch`` new events
   each (unique ids; page views of a B2B site's pages, downloads, demo and
   offer requests...). Every batch is checked, stored and scores its lead;
3. the baseline: the same number of event rows inserted with SQLAlchemy Core
   ``executemany`` into the same ``events`` table of the second database, in
   transactions of ``--batch`` rows, one after another (the endpoint commits
   every batch before it answers, so that is the raw cost of the same durable
   work). The same rows in one transaction are printed for scale.

Target (issue 4): HTTP >= 0.5 x raw events/s. Any non-2xx answer aborts the
run, and the events stored must be exactly the events sent. Not a test: it
reports, and exits non-zero only when the benchmark itself could not run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import LUA_REPORT, ORIGIN, BenchError, Result, Server, Wrk, _raise_on_signal, free_port  # noqa: E402
from bench.tempdb import backends as chosen_backends  # noqa: E402
from bench.tempdb import temporary_database  # noqa: E402
from capture.leads.claims import user_hash  # noqa: E402
from capture.web.serving import default_threads  # noqa: E402

TARGET = 0.5

#: (weight, type, path, props as JSON): what a B2B site's snippet sends
MIX: list[tuple[int, str, str, str]] = [
    (30, "page_view", "/", '{"title":"Home","referrer":"https://www.google.com/"}'),
    (14, "page_view", "/product", '{"title":"Product","referrer":""}'),
    (12, "page_view", "/blog/lead-scoring", '{"title":"Lead scoring","referrer":""}'),
    (10, "page_view", "/pricing", '{"title":"Pricing","referrer":""}'),
    (4, "page_view", "/careers", '{"title":"Careers","referrer":""}'),
    (4, "page_view", "/demo", '{"title":"Demo","referrer":""}'),
    (8, "video_play", "/product", '{"video":"tour"}'),
    (6, "download", "/resources/whitepaper", '{"asset":"whitepaper.pdf"}'),
    (4, "form_submit", "/contact", "{}"),
    (3, "newsletter_signup", "/blog/lead-scoring", '{"campaign":"spring"}'),
    (2, "webinar_signup", "/webinars", "{}"),
    (2, "offer_request", "/pricing", "{}"),
    (1, "demo_request", "/demo", "{}"),
]

#: The request side of the wrk script: a fresh batch per request (``LUA_REPORT`` does the accounting).
LUA_EVENTS = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "text/plain;charset=UTF-8"
wrk.headers["Origin"] = "%(origin)s"

local visitors = {%(visitors)s}
local kinds = {%(kinds)s}
local batch = %(batch)d
local every = %(reconnect_every)d
local prefix = "%(prefix)s"
local count = 0
local sent = 0
local close

function on_setup(thread, number)
  thread:set("tid", number)
end

function init(args)
  math.randomseed(tid * 7919)
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Connection"] = "close"
  close = headers
end

function request()
  count = count + 1
  local visitor = visitors[(tid * 37 + count) %% #visitors + 1]
  local at = os.date("!%%Y-%%m-%%dT%%H:%%M:%%SZ")
  local parts = {}
  for i = 1, batch do
    sent = sent + 1
    local kind = kinds[math.random(#kinds)]
    -- 32 hex: this run, this wrk thread, this thread's event number
    parts[i] = string.format('{"id":"%%s%%04x%%020x","type":"%%s","at":"%%s","url":"https://www.example.com%%s","props":%%s}',
      prefix, tid, sent, kind[1], at, kind[2], kind[3])
  end
  local body = '{"visitor":"' .. visitor .. '","events":[' .. table.concat(parts, ",") .. ']}'
  local headers = nil
  if every > 0 and count %% every == 0 then headers = close end
  return wrk.format(nil, nil, headers, body)
end
"""


def _lua_string(text: str) -> str:
    return json.dumps(text)  # the strings here are ASCII without backslashes: a JSON string is a Lua string


def write_script(path: Path, tokens: list[str], batch: int, reconnect_every: int) -> Path:
    kinds = ", ".join(
        "{" + ", ".join(_lua_string(text) for text in (kind, page, props)) + "}"
        for weight, kind, page, props in MIX
        for _ in range(weight)
    )
    script = (LUA_EVENTS + LUA_REPORT) % {
        "origin": ORIGIN,
        "visitors": ", ".join(_lua_string(token) for token in tokens),
        "kinds": kinds,
        "batch": batch,
        "reconnect_every": reconnect_every,
        "prefix": secrets.token_hex(4),  # a new script per run: ids never repeat
    }
    path.write_text(script, encoding="utf-8")
    return path


# --- the databases ------------------------------------------------------------------------------


@dataclass
class Prepared:
    site_key: str
    site_id: int
    #: signed visitor tokens, one per lead
    tokens: list[str]
    #: (visitor id, lead id) of the same visitors, for the raw rows
    people: list[tuple[str, int]]


def prepare(url: str, secret: str, visitors: int) -> Prepared:
    """Migrate, create the site, publish the default model, make ``visitors`` scored leads."""
    from sqlalchemy import select

    from capture.config import Config
    from capture.db.migrate import upgrade
    from capture.db.models import Visitor
    from capture.services import Services, utc_now
    from capture.sites.publishing import create_site, publish_model
    from scoring.document import default_model

    upgrade(url)
    services = Services.build(Config.from_env({"DATABASE_URL": url, "SECRET_KEY": secret}))
    try:
        with services.db.write() as session:
            # consent is not what this measures: behaviour is allowed until withdrawn, as on a site whose
            # visitors' consent is handled elsewhere (every batch still reads the visitor's standing)
            site = create_site(session, "Bench", [ORIGIN], utc_now(), consent_policy="not_required")
            publish_model(session, default_model(), utc_now())
            site_key, site_id = site.public_key, site.id
        entry = services.catalog.site(site_key)
        tokens = []
        for n in range(visitors):
            email = f"visitor{n}@company{n % 40}.example"
            body = {"email": email, "user_hash": user_hash(entry.identity_secret, email), "locale": "en"}
            tokens.append(services.visits.identify(entry, body, utc_now()))
        with services.db.read() as session:
            people = [(row.id, row.lead_id) for row in session.execute(select(Visitor.id, Visitor.lead_id))]
        if len(people) != visitors:
            raise BenchError(f"expected {visitors} visitors, found {len(people)}")
        return Prepared(site_key, site_id, tokens, people)
    finally:
        services.db.dispose()


def count_events(url: str) -> int:
    from sqlalchemy import func, select

    from capture.db.engine import Database
    from capture.db.models import BehaviourEvent

    db = Database(url)
    try:
        with db.read_connection() as connection:
            return int(connection.execute(select(func.count()).select_from(BehaviourEvent)).scalar_one())
    finally:
        db.dispose()


def raw_rows(prepared: Prepared, total: int, now: datetime, seed: int = 3) -> list[dict[str, Any]]:
    """``total`` rows as the endpoint stores them (same mix), for the baseline."""
    rng = random.Random(seed)
    kinds = [kind for kind in MIX for _ in range(kind[0])]
    prefix = secrets.token_hex(4)
    rows = []
    for n in range(total):
        _, kind, page, props = rng.choice(kinds)
        visitor, lead = prepared.people[n % len(prepared.people)]
        rows.append(
            {
                "site_id": prepared.site_id,
                "uid": f"{prefix}{n:024x}",
                "visitor_id": visitor,
                "lead_id": lead,
                "type": kind,
                "at": now,
                "received_at": now,
                "url": f"https://www.example.com{page}",
                "path": page,
                "props": json.loads(props),
                "source": "browser",
            }
        )
    return rows


def raw_inserts(url: str, rows: list[dict[str, Any]], batch: int) -> float:
    """Seconds to insert ``rows`` with Core executemany, ``batch`` rows per write transaction."""
    from sqlalchemy import insert

    from capture.db.engine import Database
    from capture.db.models import BehaviourEvent

    db = Database(url)
    statement = insert(BehaviourEvent.__table__)
    try:
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            with db.write_connection() as connection:
                connection.execute(statement, rows[start : start + batch])
        return time.perf_counter() - started
    finally:
        db.dispose()


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    batch: int
    http: list[Result]
    events: int
    raw_seconds: float
    bulk_seconds: float

    @property
    def http_eps(self) -> float:
        return statistics.median(r.requests * self.batch / r.seconds for r in self.http)

    @property
    def raw_eps(self) -> float:
        return self.events / self.raw_seconds

    @property
    def bulk_eps(self) -> float:
        return self.events / self.bulk_seconds


def measure(backend: str, tmp: Path, args: argparse.Namespace, wrk: Wrk) -> Outcome:
    secret = secrets.token_urlsafe(48)
    with temporary_database(backend, tmp, "http") as http_url, temporary_database(backend, tmp, "raw") as raw_url:
        print(f"{backend}: preparing two databases with {args.visitors} scored leads each", flush=True)
        prepared = prepare(http_url, secret, args.visitors)
        raw_prepared = prepare(raw_url, secret, args.visitors)
        env = {
            **os.environ,
            "SECRET_KEY": secret,
            "DATABASE_URL": http_url,
            "LEADWHEEL_RATELIMIT": "off",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        port = free_port()
        threads = args.threads or default_threads(http_url)
        server = Server(tmp, env, args.workers, threads, port)
        results: list[Result] = []
        sent = 0
        try:
            server.wait_ready()
            target = f"http://127.0.0.1:{port}/api/v1/sites/{prepared.site_key}/events"

            def run(name: str, seconds: int) -> Result:
                script = write_script(tmp / "events.lua", prepared.tokens, args.batch, args.reconnect_every)
                return wrk.run(name, target, script, seconds)

            if args.warmup > 0:
                sent += run("warm-up", args.warmup).requests * args.batch
            expected = min(args.workers, args.connections)
            for _ in range(args.rounds):
                result = run("events", args.seconds)
                results.append(result)
                sent += result.requests * args.batch
                balance = "" if result.balanced(expected) else "  (unbalanced: one worker took most)"
                print(
                    f"  http  {result.requests * args.batch / result.seconds:>8.0f} events/s  "
                    f"({result.rps:.0f} req/s of {args.batch})  p50 {result.p50_ms:5.1f} ms  "
                    f"p99 {result.p99_ms:5.1f} ms  workers {result.spread}{balance}",
                    flush=True,
                )
        except BenchError:
            print(f"--- gunicorn log (last lines) ---\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()
        # wrk counts answered requests only: the ones in flight when a run stops are stored unanswered
        in_flight = (len(results) + (args.warmup > 0)) * args.connections * args.batch
        stored = count_events(http_url)
        if not sent <= stored <= sent + in_flight:
            raise BenchError(f"{sent} new events were accepted (up to {in_flight} more in flight), {stored} stored")

        from capture.services import utc_now

        events = sum(r.requests for r in results) * args.batch
        rows = raw_rows(raw_prepared, events, utc_now())
        raw_seconds = raw_inserts(raw_url, rows, args.batch)
        print(f"  raw   {events / raw_seconds:>8.0f} events/s  ({events:,} rows, {args.batch} per transaction)")
        again = raw_rows(raw_prepared, events, utc_now(), seed=4)
        bulk_seconds = raw_inserts(raw_url, again, len(again))
        print(f"  bulk  {events / bulk_seconds:>8.0f} events/s  (the same number in one transaction)", flush=True)
        if count_events(raw_url) != 2 * events:
            raise BenchError("the raw inserts did not store every row")
        return Outcome(backend, args.batch, results, events, raw_seconds, bulk_seconds)


def report(outcomes: list[Outcome]) -> None:
    print()
    print(f"{'backend':<11}{'batch':>6}{'http ev/s':>11}{'req/s':>8}{'p99 ms':>8}{'raw ev/s':>10}"
          f"{'x raw':>7}{'target':>8}  verdict   {'bulk ev/s':>10}")  # fmt: skip
    print("-" * 92)
    for o in outcomes:
        ratio = o.http_eps / o.raw_eps
        verdict = "met" if ratio >= TARGET else "MISSED"
        rps = statistics.median(r.rps for r in o.http)
        p99 = statistics.median(r.p99_ms for r in o.http)
        print(f"{o.backend:<11}{o.batch:>6}{o.http_eps:>11.0f}{rps:>8.0f}{p99:>8.1f}{o.raw_eps:>10.0f}"
              f"{ratio:>7.2f}{'>= 0.5':>8}  {verdict:<8}  {o.bulk_eps:>10.0f}")  # fmt: skip
    print()
    print("http: events stored per second through POST .../events (each batch checked, stored, its lead scored);")
    print("raw: Core executemany of as many rows, one transaction per batch; bulk: all in one transaction.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=20, help="events per request (default 20; the API takes 100)")
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=1, help="measured wrk runs (their median counts)")
    parser.add_argument("--visitors", type=int, default=200, help="leads posting events, in turn (default 200)")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL too (after SQLite)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as `leadwheel serve`)")
    parser.add_argument("--threads", type=int, default=None, help="threads per worker (default: as serve does)")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: it shares the CPUs)")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of unmeasured load first")
    parser.add_argument(
        "--reconnect-every", type=int, default=100, help="wrk reconnects after this many requests (0: never)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 100:
        parser.error("--batch must be 1 to 100 (the API refuses bigger batches)")
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2
    backends = chosen_backends(args.postgres)
    if backends is None:
        return 2

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_on_signal)
    tmp = Path(tempfile.mkdtemp(prefix="leadwheel-ingest-"))
    wrk = Wrk(args.wrk_threads, args.connections, timeout=10)
    print(
        f"gunicorn gthread: {args.workers} workers x {args.threads or 'default'} threads; "
        f"wrk: {args.connections} connections, "
        f"{args.seconds}s per run; {args.batch} events per request from {args.visitors} visitors",
        flush=True,
    )
    try:
        outcomes = [measure(backend, tmp, args, wrk) for backend in backends]
        report(outcomes)
        return 0
    except BenchError as exc:
        print(f"\nBENCH FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        wrk.stop()
        shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


if __name__ == "__main__":
    sys.exit(main())
