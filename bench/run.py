"""Throughput of *ask* and *answer* against a bare Flask JSON endpoint, under gunicorn on SQLite or PostgreSQL.

    .venv/bin/python bench/run.py [--seconds 10] [--connections 8] [--workers 2] [--postgres]

Everything happens in a temporary directory that is removed at the end: a
SQLite database (migrated, one site, one 17-question form), a gunicorn
serving ``bench.app:app`` the way ``leadwheel serve`` does on SQLite (gthread
workers, one request thread each: see ``capture.web.serving.default_threads``),
and the wrk Lua scripts. A returning visitor with exactly 10
known fields is prepared through the API, then wrk measures, in one run:

- bare:   ``POST /bench/bare`` (parse a JSON body, jsonify a small object)
- ask:    ``POST .../ask`` for the returning visitor (10 known fields, asks for more: gets the next 3 questions)
- answer: ``POST .../answers`` with the same 3 answers of the same visitor on every post, each
  with a fresh ticket (a ticket carries one submission): a pool minted before each run with the
  server's key, as an ask would mint them, so every post stores its answers and re-scores the lead

bare runs before and after (and between rounds) to show drift; the ratios
use the mean of every bare run. Each run also reports the server's CPU time
per request (all gunicorn processes, from /proc): a cost that the machine's
noise moves far less than throughput, and the ratio ``cpu x`` of bare's to
each endpoint's says how much work an endpoint is beside bare. Any non-2xx response or socket error makes
the run fail: a benchmark of error pages means nothing. Targets (from the
issue): ask >= 0.5 x bare, answer >= 0.25 x bare. Not a test: it reports,
and exits non-zero only when the benchmark itself could not be run.

``--postgres`` runs the same on a fresh PostgreSQL database (created on
``LEADWHEEL_BENCH_POSTGRES_URL``'s server, default the test suite's, and dropped
afterwards), served as ``leadwheel serve`` serves PostgreSQL: 2 workers x 4 threads.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.tempdb import temporary_database  # noqa: E402
from capture.web.serving import default_threads  # noqa: E402

ORIGIN = "https://www.example.com"
PAGE_URL = "https://www.example.com/pricing"
SLUG = "bench"
KNOWN_FIELDS = 10
TARGETS = {"ask": 0.5, "answer": 0.25}


def _text(en: str, da: str) -> dict[str, str]:
    return {"en": en, "da": da}


def _options(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": _text(v.replace("_", " ").title(), v.replace("_", " "))} for v in values]


#: 17 questions of every type in 5 stages, 3 per visit, two conditional ones that apply and one that does not.
SEQUENCE: dict[str, Any] = {
    "format": "leadwheel/sequence@1",
    "name": "Bench wheel",
    "default_locale": "en",
    # more_on_request: the prepared visitor fills 10 fields in one visit by asking for more, as a visitor
    # who presses "Tell us more now" does (a visit asks 3 questions in all; the server's clock cannot be moved)
    "settings": {"questions_per_visit": 3, "snooze_visits": 2, "max_reasks": 1, "more_on_request": True},
    "thank_you": _text("Thanks, we know all we need.", "Tak, vi ved nok."),
    "stages": [
        {
            "key": "basics",
            "label": _text("Basics", "Grundlæggende"),
            "questions": [
                {"key": "email", "type": "email", "required": True, "label": _text("E-mail", "E-mail")},
                {"key": "first_name", "type": "text", "label": _text("First name", "Fornavn")},
                {"key": "last_name", "type": "text", "label": _text("Last name", "Efternavn")},
                {"key": "company", "type": "text", "max_length": 120, "label": _text("Company", "Virksomhed")},
                {"key": "job_title", "type": "text", "label": _text("Job title", "Stilling")},
            ],
        },
        {
            "key": "need",
            "label": _text("Need", "Behov"),
            "questions": [
                {
                    "key": "customer_type",
                    "type": "radio",
                    "required": True,
                    "label": _text("Buying for", "Køber til"),
                    "options": _options("b2b", "b2c"),
                },
                {
                    "key": "company_size",
                    "type": "number",
                    "min": 1,
                    "max": 1000000,
                    "label": _text("Employees", "Medarbejdere"),
                    "when": {"field": "customer_type", "equals": "b2b"},
                },
                {
                    "key": "industry",
                    "type": "select",
                    "label": _text("Industry", "Branche"),
                    "options": _options("retail", "finance", "software", "energy", "health", "public"),
                },
                {
                    "key": "looking_for",
                    "type": "multi-select",
                    "max_choices": 3,
                    "label": _text("Looking for", "Leder efter"),
                    "options": _options("analytics", "reports", "alerts", "exports"),
                },
                {
                    "key": "pain",
                    "type": "textarea",
                    "max_length": 500,
                    "label": _text("What is hard today?", "Hvad er svært i dag?"),
                },
            ],
        },
        {
            "key": "budget",
            "label": _text("Budget", "Budget"),
            "questions": [
                {
                    "key": "budget",
                    "type": "select",
                    "label": _text("Budget", "Budget"),
                    "options": _options("small", "medium", "large"),
                },
                {
                    "key": "procurement",
                    "type": "textarea",
                    "max_length": 500,
                    "label": _text("How do you buy?", "Hvordan køber I?"),
                    "when": {"field": "company_size", "gte": 50},
                },
                {
                    "key": "household",
                    "type": "number",
                    "label": _text("People at home", "Personer i husstanden"),
                    "when": {"field": "customer_type", "equals": "b2c"},
                },
            ],
        },
        {
            "key": "timeline",
            "label": _text("Timeline", "Tidslinje"),
            "questions": [
                {
                    "key": "buying_timeline",
                    "type": "radio",
                    "freshness_days": 90,
                    "label": _text("Buying within", "Køber inden for"),
                    "options": _options("3m", "6m", "12m"),
                },
            ],
        },
        {
            "key": "authority",
            "label": _text("Authority", "Beslutning"),
            "questions": [
                {"key": "decides", "type": "checkbox", "label": _text("I decide", "Jeg beslutter")},
                {"key": "phone", "type": "tel", "label": _text("Phone", "Telefon")},
                {
                    "key": "consent",
                    "field": "marketing_consent",
                    "type": "consent",
                    "consent_version": "2026-11",
                    "label": _text("You may e-mail me about products.", "I må sende mig e-mails."),
                },
            ],
        },
    ],
}

#: A valid answer to every question the wheel will ask this profile.
ANSWERS: dict[str, Any] = {
    "email": "visitor@example.com",  # replaced per visitor
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical Engines Ltd",
    "job_title": "Head of Operations",
    "customer_type": "b2b",
    "company_size": 250,
    "industry": "software",
    "looking_for": ["analytics", "reports"],
    "pain": "Our spreadsheets do not add up.\nEvery month-end takes a week.",
    "budget": "medium",
    "procurement": "Framework agreement; purchase orders over 10k need the CFO.",
    "buying_timeline": "6m",
    "decides": True,
    "phone": "+45 12 34 56 78",
    "consent": True,
}


# --- server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare_database(url: str, *, scoring: bool = True, leads: int = 0) -> str:
    """Migrate, create the site, publish the form (and the default scoring model); return the site key.

    With a scoring model published every answer also re-scores its lead, as in production. ``leads``
    other leads, each with a browser and KNOWN_FIELDS answered fields, fill the database first: a read
    that grows with the database shows here, not first in production.
    """
    from capture.db.engine import Database
    from capture.db.migrate import upgrade
    from capture.services import utc_now
    from capture.sites.publishing import create_site, publish, publish_model
    from profiling.document import load
    from scoring.document import default_model

    upgrade(url)
    db = Database(url)
    try:
        with db.write() as session:
            site = create_site(session, "Bench", [ORIGIN], utc_now())
            publish(session, site, SLUG, load(SEQUENCE), utc_now())
            if scoring:
                publish_model(session, default_model(), utc_now())
            site_key = site.public_key
        if leads:
            fill_with_leads(db, leads)
        return site_key
    finally:
        db.dispose()


def fill_with_leads(db: Any, count: int) -> None:
    """``count`` leads, each with one browser and KNOWN_FIELDS answers in its profile (one transaction)."""
    from sqlalchemy import bindparam, insert, select, text, update

    from capture.db.models import Answer, Form, Lead, Site, Visitor
    from capture.leads.profile_doc import entry
    from capture.services import utc_now

    now = utc_now()
    fields = [key for key in ANSWERS if key != "email"][:KNOWN_FIELDS]
    with db.write() as session:
        site_id, form_id = session.execute(select(Site.id, Form.id).join(Form, Form.site_id == Site.id)).one()
        first = (session.scalar(select(Lead.id).order_by(Lead.id.desc()).limit(1)) or 0) + 1
        ids = range(first, first + count)
        session.execute(
            insert(Lead),
            [{"id": i, "email": f"lead{i}@example.com", "visit_count": 1, "last_seen_at": now, "created_at": now}
             for i in ids],
        )  # fmt: skip
        session.execute(insert(Visitor), [{"id": f"{i:032x}", "lead_id": i, "created_at": now} for i in ids])
        answers = [
            {"id": i * len(fields) + n, "lead_id": i, "site_id": site_id, "form_id": form_id, "field": field,
             "question_key": field, "value": ANSWERS[field], "locale": "en", "asked_at": now, "answered_at": now}
            for i in ids for n, field in enumerate(fields)
        ]  # fmt: skip
        session.execute(insert(Answer), answers)
        profiles: dict[int, dict[str, Any]] = {}
        for row in answers:
            profiles.setdefault(row["lead_id"], {})[row["field"]] = entry(row["value"], now, row["id"])
        leads = Lead.__table__
        session.connection().execute(
            update(leads).where(leads.c.id == bindparam("lead")).values(profile=bindparam("document")),
            [{"lead": lead, "document": document} for lead, document in profiles.items()],
        )
        if session.get_bind().dialect.name == "postgresql":  # ids given explicitly: move the sequences past them
            for table in ("leads", "answers"):
                session.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )


class Server:
    """gunicorn in its own process group, so Ctrl-C reaches us and we stop it in order."""

    def __init__(self, tmp: Path, env: dict[str, str], workers: int, threads: int, port: int):
        self.log_path = tmp / "gunicorn.log"
        self.port = port
        command = [
            sys.executable, "-m", "gunicorn", "bench.app:app",
            "--chdir", str(REPO),
            "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers),
            "--worker-class", "gthread",  # what `leadwheel serve` runs
            "--threads", str(threads),
            "--worker-tmp-dir", str(tmp),
            "--graceful-timeout", "5",
            "--log-level", "warning",
        ]  # fmt: skip
        if _gunicorn_has("--no-control-socket"):
            command.append("--no-control-socket")
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v1/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise BenchError(f"gunicorn did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def cpu_seconds(self) -> float | None:
        """CPU time (user + system) of gunicorn's master and workers so far; None without /proc."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        try:
            pids = [name for name in os.listdir("/proc") if name.isdigit()]
        except OSError:
            return None
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # gone meanwhile, or not ours to read
            if int(fields[2]) == self.process.pid:  # its process group: the master and every worker
                total += int(fields[11]) + int(fields[12])
        return total / ticks

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """SIGTERM to the master (it stops its workers), SIGKILL to the group if that takes too long."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        _signal_group(self.process.pid, signal.SIGKILL)  # any worker left behind
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _gunicorn_has(flag: str) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--help"], capture_output=True, text=True, timeout=30, check=False
    )
    return flag in result.stdout


# --- preparing the visitors through the API -----------------------------------------------------


class BenchError(RuntimeError):
    """The benchmark cannot be run or its numbers would be meaningless."""


def post(url: str, body: dict[str, Any], expect: int) -> dict[str, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Origin": ORIGIN},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, payload = exc.code, exc.read()
    if status != expect:
        raise BenchError(f"POST {url} gave {status}, expected {expect}: {payload[:500].decode(errors='replace')}")
    return json.loads(payload)  # type: ignore[no-any-return]


def known_fields(asked: dict[str, Any]) -> int:
    return sum(stage["known"] for stage in asked["progress"]["stages"])


def returning_visitor(base: str, email: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A visitor who answered exactly KNOWN_FIELDS fields, a batch at a time.

    A visit asks three questions in all; the visitor asks for more (``"more": true``) after each
    batch, as one who presses "Tell us more now" does, and its ask body keeps doing so: every
    measured ask plans the next three questions and signs a ticket, as a new visit's first ask does.

    Returns (ask body for this visitor, the ask response it gets now).
    """
    answers = {**ANSWERS, "email": email}
    asked = post(f"{base}/ask", {"visitor": None, "locale": "en", "page_url": PAGE_URL}, 200)
    known = 0
    while known < KNOWN_FIELDS:
        keys = [q["key"] for q in asked["questions"]][: KNOWN_FIELDS - known]  # the last round answers fewer
        if not keys:
            raise BenchError(f"the wheel stopped asking after {known} fields: {asked}")
        body = {
            "ticket": asked["ticket"],
            "answers": {key: answers[key] for key in keys},
            "skipped": [],
            "locale": "en",
            "page_url": PAGE_URL,
        }
        post(f"{base}/answers", body, 201)
        known += len(keys)
        # a returning visitor: a fresh ask with the stored token, as on the next page view
        ask_body = {"visitor": asked["visitor"], "locale": "en", "page_url": PAGE_URL, "more": True}
        asked = post(f"{base}/ask", ask_body, 200)
    if known_fields(asked) != KNOWN_FIELDS or len(asked["questions"]) != 3 or not asked["ticket"]:
        raise BenchError(f"expected {KNOWN_FIELDS} known fields and 3 new questions, got: {asked}")
    return {"visitor": asked["visitor"], "locale": "en", "page_url": PAGE_URL, "more": True}, asked


# --- wrk ----------------------------------------------------------------------------------------

#: The request side of the wrk script for one fixed body (``LUA_REQUEST % {...} + LUA_REPORT``).
LUA_REQUEST = r"""
wrk.method = "POST"
wrk.body = [====[%(body)s]====]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "%(origin)s"

local every = %(reconnect_every)d
local count = 0
local keep_alive, close

function init(args)
  -- Every `every`-th request asks the server to close the connection and wrk reconnects, so
  -- connections keep moving between gunicorn workers like real visitors' do (a kept-alive
  -- connection stays with the worker that accepted it, and one worker may win them all).
  keep_alive = wrk.format()
  local headers = {}
  for name, value in pairs(wrk.headers) do headers[name] = value end
  headers["Connection"] = "close"
  close = wrk.format(nil, nil, headers)
end

function request()
  count = count + 1
  if every > 0 and count %% every == 0 then return close end
  return keep_alive
end
"""

#: The accounting side, shared by every benchmark that drives wrk: statuses, the worker that
#: answered, the first error, and one ``BENCH_RESULT {json}`` line at the end (see :class:`Wrk`).
#: It has %%-escapes, so it is %%-formatted together with the request side.
LUA_REPORT = r"""
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  if on_setup then on_setup(thread, #threads) end
end

-- per thread (every thread loads the script)
statuses = {}
workers = {}
first_error = ""

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local worker = headers["X-Bench-Worker"] or headers["x-bench-worker"] or "unknown"
  workers[worker] = (workers[worker] or 0) + 1
  if (status < 200 or status > 299) and first_error == "" then
    first_error = status .. " " .. string.sub(body or "", 1, 300)
  end
end

local function quote(s)
  return '"' .. string.gsub(s, '[%%c"\\]', function(c) return string.format("\\u%%04x", string.byte(c)) end) .. '"'
end

function done(summary, latency, requests)
  local counts = {}
  local by_worker = {}
  local err = ""
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      counts[code] = (counts[code] or 0) + n
    end
    for w, n in pairs(t:get("workers")) do
      by_worker[w] = (by_worker[w] or 0) + n
    end
    local e = t:get("first_error")
    if err == "" and e ~= nil then err = e end
  end
  local parts = {}
  for code, n in pairs(counts) do
    table.insert(parts, string.format('"%%d": %%d', code, n))
  end
  local wparts = {}
  for w, n in pairs(by_worker) do
    table.insert(wparts, string.format('%%s: %%d', quote(w), n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d, ' ..
    '"mean_us": %%f, "max_us": %%d, "connect": %%d, "read": %%d, "write": %%d, "timeout": %%d, ' ..
    '"status_errors": %%d, "statuses": {%%s}, "workers": {%%s}, "first_error": %%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max, e.connect, e.read, e.write, e.timeout, e.status,
    table.concat(parts, ", "), table.concat(wparts, ", "), quote(err)))
end
"""
LUA = LUA_REQUEST + LUA_REPORT

#: The request side for answers: the same body around a fresh ticket from a pool file per request.
#: Thread n of t takes the pool's lines n, n + t, …; a thread that runs out sends a ticket that is
#: refused (422), so the run fails instead of measuring retries of used tickets.
LUA_ANSWER_REQUEST = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "%(origin)s"

local before, after = [====[%(before)s]====], [====[%(after)s]====]
local every = %(reconnect_every)d
local stride = %(stride)d
local count = 0
local tickets = {}
local close = {}

function on_setup(thread, number)
  thread:set("first", number)
end

function init(args)
  local line_number = 0
  for line in io.lines("%(pool)s") do
    line_number = line_number + 1
    if (line_number - first) %% stride == 0 then tickets[#tickets + 1] = line end
  end
  for name, value in pairs(wrk.headers) do close[name] = value end
  close["Connection"] = "close"
end

function request()
  count = count + 1
  local body = before .. (tickets[count] or "the-ticket-pool-ran-out") .. after
  if every > 0 and count %% every == 0 then return wrk.format(nil, nil, close, body) end
  return wrk.format(nil, nil, nil, body)
end
"""


#: tickets minted per second of an answer run: over ten times the answers a second measured so far
TICKETS_PER_SECOND = 6000


class TicketPool:
    """Fresh tickets for the measured answers: the ticket the visitor was given, again and again with a
    new id (what an ask mints), signed with the server's key."""

    def __init__(self, secret_key: str, ticket: str, body: dict[str, Any], stride: int, reconnect_every: int):
        from profiling.identity import Tokens

        self.tokens = Tokens([secret_key], min_fill_time=timedelta(0), ticket_lifetime=timedelta(days=30))
        self.shown = self.tokens.read_ticket(ticket, datetime.now(UTC))
        self.body = body
        self.stride = stride
        self.reconnect_every = reconnect_every

    def fresh(self) -> str:
        from profiling.identity import new_ticket_id

        return self.tokens.ticket(replace(self.shown, ticket_id=new_ticket_id()))

    def body_with_fresh_ticket(self) -> dict[str, Any]:
        return {**self.body, "ticket": self.fresh()}

    def script(self, path: Path, seconds: int) -> Path:
        """A wrk script for a run of ``seconds``, with its own pool of tickets next to it."""
        pool = path.with_suffix(".tickets")
        pool.write_text("".join(self.fresh() + "\n" for _ in range(seconds * TICKETS_PER_SECOND)), encoding="ascii")
        text = json.dumps({**self.body, "ticket": "@TICKET@"}, separators=(",", ":"))
        before, after = text.split("@TICKET@")
        if "]====]" in text:
            raise BenchError("request body cannot be embedded in a Lua long string")
        script = (LUA_ANSWER_REQUEST + LUA_REPORT) % {
            "before": before, "after": after, "origin": ORIGIN, "reconnect_every": self.reconnect_every,
            "stride": self.stride, "pool": pool,
        }  # fmt: skip
        path.write_text(script, encoding="utf-8")
        return path


def write_script(path: Path, body: dict[str, Any], reconnect_every: int) -> Path:
    text = json.dumps(body, separators=(",", ":"))
    if "]====]" in text:
        raise BenchError("request body cannot be embedded in a Lua long string")
    path.write_text(LUA % {"body": text, "origin": ORIGIN, "reconnect_every": reconnect_every}, encoding="utf-8")
    return path


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[str, int]
    #: requests answered per gunicorn worker pid
    workers: dict[str, int]
    #: the server's CPU time per request (µs), when it could be read
    cpu_us: float | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def spread(self) -> str:
        """Each worker's share of the requests, e.g. ``55/45``."""
        return "/".join(f"{100 * n / self.requests:.0f}" for n in sorted(self.workers.values(), reverse=True))

    def balanced(self, workers: int) -> bool:
        """Every worker served at least a quarter of its fair share.

        wrk's keep-alive connections stay with the worker that accepted them,
        and gunicorn's workers race for accepts, so now and then one worker
        gets all of them and the run measures one process instead of the server.
        """
        return len(self.workers) >= workers and min(self.workers.values()) >= self.requests / (4 * workers)


class Wrk:
    def __init__(self, threads: int, connections: int, timeout: int):
        self.threads = threads
        self.connections = connections
        self.timeout = timeout
        self.process: subprocess.Popen[str] | None = None

    def run(self, name: str, url: str, script: Path, seconds: int) -> Result:
        command = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s", f"--timeout={self.timeout}s",
            "-s", str(script), url,
        ]  # fmt: skip
        # its own session: Ctrl-C goes to us, and we stop wrk in `stop`
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
        )
        try:
            output, _ = self.process.communicate(timeout=seconds + 60)
        finally:
            self.stop()
        line = next((ln for ln in output.splitlines() if ln.startswith("BENCH_RESULT ")), None)
        if self.process.returncode != 0 or line is None:
            raise BenchError(f"wrk failed on {name} (exit {self.process.returncode}):\n{output}")
        raw = json.loads(line[len("BENCH_RESULT ") :])
        socket_errors = {k: raw[k] for k in ("connect", "read", "write", "timeout") if raw[k]}
        bad = {code: n for code, n in raw["statuses"].items() if not 200 <= int(code) < 300}
        if bad or raw["status_errors"] or socket_errors or not raw["requests"]:
            raise BenchError(
                f"{name}: the endpoint did not answer cleanly, so its figures are meaningless.\n"
                f"  statuses: {raw['statuses']}  socket errors: {socket_errors or 'none'}\n"
                f"  first error response: {raw['first_error'] or '-'}"
            )
        return Result(
            name=name,
            requests=raw["requests"],
            seconds=raw["duration_us"] / 1e6,
            p50_ms=raw["p50_us"] / 1000,
            p99_ms=raw["p99_us"] / 1000,
            statuses=raw["statuses"],
            workers=raw["workers"],
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


# --- the run ------------------------------------------------------------------------------------

#: --limits: off, or on with the counters in each worker's memory or in the database (shared)
LIMITS = {"off": None, "memory": "memory://", "database": "database"}
#: so high no run reaches it: the limiter counts every request, and refuses none
UNREACHED = "1000000000/minute"


def limit_settings(limits: str) -> dict[str, str]:
    """The environment for ``--limits``: what counting each request costs, never a 429."""
    storage = LIMITS[limits]
    if storage is None:
        return {"LEADWHEEL_RATELIMIT": "off"}
    return {
        "LEADWHEEL_RATELIMIT": "on",
        "LEADWHEEL_RATELIMIT_STORAGE": storage,
        "LEADWHEEL_RATELIMIT_ASK": UNREACHED,
        "LEADWHEEL_RATELIMIT_ANSWER": UNREACHED,
    }


def _raise_on_signal(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each measured wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as `leadwheel serve`)")
    parser.add_argument(
        "--threads", type=int, help="threads per worker (default: as serve, 1 on SQLite, 4 on PostgreSQL)"
    )
    parser.add_argument("--postgres", action="store_true", help="a fresh PostgreSQL database instead of SQLite")
    parser.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (default 1: it shares the CPUs)")
    parser.add_argument("--rounds", type=int, default=1, help="bare/ask/answer rounds; bare runs once more last")
    parser.add_argument(
        "--reconnect-every", type=int, default=100, help="wrk reconnects after this many requests (0: never)"
    )
    parser.add_argument("--attempts", type=int, default=3, help="tries per run to get requests on every worker")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load per endpoint first")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (database, logs)")
    parser.add_argument(
        "--no-scoring", action="store_true", help="publish no scoring model (answers then re-score no lead)"
    )
    parser.add_argument(
        "--limits", choices=LIMITS, default="off",
        help="rate limits on ask/answer, counted in memory:// or the database (limits set far above the load; "
        "default off)",
    )  # fmt: skip
    parser.add_argument(
        "--leads", type=int, default=20_000,
        help=f"other leads in the database, each with {KNOWN_FIELDS} known fields (default 20,000)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 2

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_on_signal)

    tmp = Path(tempfile.mkdtemp(prefix="leadwheel-bench-"))
    databases = ExitStack()
    server: Server | None = None
    wrk = Wrk(args.wrk_threads, args.connections, timeout=10)
    try:
        backend = "postgresql" if args.postgres else "sqlite"
        url = databases.enter_context(temporary_database(backend, tmp))
        if args.threads is None:
            args.threads = default_threads(url)
        site_key = prepare_database(url, scoring=not args.no_scoring, leads=args.leads)
        env = {
            **os.environ,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": url,
            "LEADWHEEL_MIN_FILL_SECONDS": "0",
            "LEADWHEEL_TICKET_SECONDS": str(30 * 24 * 3600),
            **limit_settings(args.limits),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        port = free_port()
        server = Server(tmp, env, args.workers, args.threads, port)
        server.wait_ready()

        root = f"http://127.0.0.1:{port}"
        base = f"{root}/api/v1/sites/{site_key}/forms/{SLUG}"
        ask_body, _ = returning_visitor(base, "asker@example.com")
        _, to_answer = returning_visitor(base, "answerer@example.com")
        answer_body = {
            "ticket": to_answer["ticket"],
            "answers": {q["key"]: ANSWERS[q["key"]] for q in to_answer["questions"]},
            "skipped": [],
            "locale": "en",
            "page_url": PAGE_URL,
        }
        pool = TicketPool(env["SECRET_KEY"], to_answer["ticket"], answer_body, args.wrk_threads, args.reconnect_every)
        post(f"{base}/answers", pool.body_with_fresh_ticket(), 201)  # a fresh ticket's answers are stored
        post(f"{root}/bench/bare", ask_body, 200)

        bare_script = write_script(tmp / "bare.lua", ask_body, args.reconnect_every)
        ask_script = write_script(tmp / "ask.lua", ask_body, args.reconnect_every)
        targets: dict[str, tuple[str, Callable[[int], Path]]] = {
            "bare": (f"{root}/bench/bare", lambda _seconds: bare_script),
            "ask": (f"{base}/ask", lambda _seconds: ask_script),
            "answer": (f"{base}/answers", lambda seconds: pool.script(tmp / "answer.lua", seconds)),
        }
        print(
            f"gunicorn gthread: {args.workers} workers x {args.threads} threads on 127.0.0.1:{port}; "
            f"wrk: {args.connections} connections, {args.wrk_threads} thread(s), {args.seconds}s per run; "
            f"{'PostgreSQL' if args.postgres else 'SQLite'}; rate limits: {args.limits}",
            flush=True,
        )
        print(
            f"ask: returning visitor with {KNOWN_FIELDS} known fields, next questions "
            f"{', '.join(q['key'] for q in to_answer['questions'])}; answer: {len(answer_body['answers'])} answers",
            flush=True,
        )
        if args.warmup > 0:
            for name, (target, script) in targets.items():
                wrk.run(f"warm-up {name}", target, script(args.warmup), args.warmup)

        order = [*(name for _ in range(args.rounds) for name in ("bare", "ask", "answer")), "bare"]
        results: list[Result] = []
        expected = min(args.workers, args.connections)
        for name in order:
            target, script = targets[name]
            for attempt in range(1, args.attempts + 1):
                path = script(args.seconds)  # an answer run's tickets are minted here, not while measured
                before = server.cpu_seconds()
                result = wrk.run(name, target, path, args.seconds)
                after = server.cpu_seconds()
                if before is not None and after is not None:
                    result.cpu_us = (after - before) / result.requests * 1e6
                cpu = f"  cpu {result.cpu_us:5.0f} µs/req" if result.cpu_us is not None else ""
                line = (
                    f"  {name:<7}{result.rps:>9.0f} req/s  p50 {result.p50_ms:6.1f} ms  p99 {result.p99_ms:6.1f} ms"
                    f"{cpu}  workers {result.spread}"
                )
                if result.balanced(expected):
                    print(line, flush=True)
                    break
                if attempt < args.attempts:
                    print(f"{line}  (unbalanced: not counted, again)", flush=True)
                else:
                    print(f"{line}  (unbalanced {attempt} times: counted anyway)", flush=True)
            results.append(result)
        report(results)
        return 0
    except BenchError as exc:
        print(f"\nBENCH FAILED: {exc}", file=sys.stderr)
        if server is not None:
            print(f"--- gunicorn log (last lines) ---\n{server.log_tail()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; stopping", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        wrk.stop()
        if server is not None:
            server.stop()
        databases.close()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def report(results: list[Result]) -> None:
    by_name: dict[str, list[Result]] = {}
    for result in results:
        by_name.setdefault(result.name, []).append(result)
    bare = [r.rps for r in by_name["bare"]]
    baseline = statistics.fmean(bare)
    drift = (max(bare) - min(bare)) / baseline

    bare_cpu = _cpu(by_name["bare"])

    def cpu_columns(runs: list[Result]) -> str:
        cpu = _cpu(runs)
        if cpu is None or bare_cpu is None:
            return f"{'-':>9}{'-':>7}"
        return f"{cpu:>9.0f}{bare_cpu / cpu:>7.2f}"

    print()
    print(f"{'endpoint':<10}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu µs':>9}{'cpu x':>7}{'x bare':>9}{'target':>9}"
          "  verdict")  # fmt: skip
    print("-" * 82)
    print(f"{'bare':<10}{baseline:>10.0f}{_median(by_name['bare'], 'p50_ms'):>9.1f}"
          f"{_median(by_name['bare'], 'p99_ms'):>9.1f}{cpu_columns(by_name['bare'])}{1:>9.2f}{'':>9}  "
          f"baseline: mean of {len(bare)} runs, drift {drift:.0%}")  # fmt: skip
    for name, target in TARGETS.items():
        runs = by_name[name]
        rps = statistics.median(r.rps for r in runs)
        ratio = rps / baseline
        verdict = "met" if ratio >= target else "MISSED"
        print(f"{name:<10}{rps:>10.0f}{_median(runs, 'p50_ms'):>9.1f}{_median(runs, 'p99_ms'):>9.1f}"
              f"{cpu_columns(runs)}{ratio:>9.2f}{'>= ' + format(target, 'g'):>9}  {verdict}")  # fmt: skip
    if drift > 0.15:
        print(f"note: bare drifted {drift:.0%} between runs; the machine is noisy, try --rounds 3 or longer --seconds")


def _cpu(runs: list[Result]) -> float | None:
    """The median CPU per request of these runs, if every run could read it."""
    costs = [r.cpu_us for r in runs]
    return statistics.median(costs) if costs and all(c is not None for c in costs) else None  # type: ignore[type-var]


def _median(runs: list[Result], attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in runs)


if __name__ == "__main__":
    sys.exit(main())
