"""Full re-score of every lead against only reading their events, on SQLite and PostgreSQL.

    .venv/bin/python bench/rescore.py [--backend sqlite|postgresql|both] [--leads 100000] [--events 2000000]
                                      [--dry-run] [--breakdown N]

For each backend, in a throw-away database (a SQLite file in a temporary
directory; a PostgreSQL database created on the server and dropped at the
end, even on failure):

1. migrate, create a site, publish the default B2B scoring model;
2. generate leads, one visitor each, answers and profile fields for a share of
   them, and the events (a B2B mix of types and paths over ~180 days, a few
   leads with many events, some with none) with SQLAlchemy Core bulk inserts,
   timed on their own;
3. in a child process each, so every figure starts cold in Python and peak
   memory is the child's own (``ru_maxrss``): *read* streams the events with
   the query and connection options ``capture.qualifying.rescoring`` uses and only
   iterates the rows; *rescore* runs ``capture.qualifying.rescoring.rescore`` (every
   lead, written, score changes recorded). The order is read, rescore, read
   (more with ``--rounds``; the leads are reset to unscored between re-scores).

The ratio is the median re-score time over the mean read time. Target (issue
4): re-score <= 2 x read, peak memory < 1 GB. Not a test: it reports, and exits
non-zero only when the benchmark itself could not run.

``--breakdown N`` then times the re-score step by step in one more child (best
of N): the read, then each piece of the re-score's work added to the one before
(see ``STEPS``), and prints where the time goes as a table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import JSON  # noqa: E402

from bench.tempdb import postgres_reachable, temporary_database  # noqa: E402

TARGET = 2.0
MEMORY_LIMIT_MB = 1024
DAYS = 180
CHUNK = 20_000

# --- the data -----------------------------------------------------------------------------------

#: (weight, type, paths, source): a B2B site's behaviour, browser page views and back-end events.
#: High-intent events are rare, as on a real site: about a fifth of the leads end up MQL or SQL.
MIX: list[tuple[float, str, tuple[str | None, ...], str]] = [
    (0.25, "page_view", ("/", "/product", "/product/reports", "/about", "/contact"), "browser"),
    (0.20, "page_view", ("/blog/lead-scoring", "/blog/nurturing", "/blog/bant", "/blog/"), "browser"),
    (0.05, "page_view", ("/pricing", "/pricing/enterprise"), "browser"),
    (0.03, "page_view", ("/careers", "/careers/sales"), "browser"),
    (0.01, "page_view", ("/demo",), "browser"),
    (0.20, "email_open", (None,), "api"),
    (0.08, "email_click", (None,), "api"),
    (0.05, "download", ("/resources/whitepaper",), "browser"),
    (0.02, "webinar_signup", (None,), "api"),
    (0.01, "newsletter_signup", ("/newsletter",), "browser"),
    (0.002, "offer_request", ("/offer",), "browser"),
    (0.001, "offer_download", (None,), "api"),
    (0.001, "demo_request", ("/demo",), "browser"),
    (0.001, "call", (None,), "api"),
    (0.04, "video_play", ("/product",), "browser"),
]
TITLES = ["Head of Operations", "CEO", "Marketing Manager", "Developer", "Sales Director", "Analyst",
          "VP Engineering", "Student", "Founder", "Accountant"]  # fmt: skip
#: (share of leads, field, values)
PROFILE: list[tuple[float, str, list[Any]]] = [
    (0.6, "first_name", ["Ada", "Grace", "Linus", "Søren", "Ioana", "Kari"]),
    (0.6, "company", ["Northwind", "Contoso", "Initech", "Globex", "Umbrella"]),
    (0.4, "customer_type", ["b2b", "b2b", "b2b", "b2c"]),
    (0.3, "company_size", [2, 5, 8, 12, 30, 80, 250, 600, 1500, 20000]),
    (0.3, "job_title", TITLES),
    (0.15, "decision_role", ["decision_maker", "influencer", "user", "user"]),
    (0.15, "budget_range", ["lt_5k", "lt_5k", "5k_20k", "20k_50k", "gt_50k"]),
    (0.15, "buying_timeline", ["3m", "6m", "12m", "later", "later"]),
    (0.1, "challenges", [["reporting"], ["forecasting", "pipeline"], ["data quality"]]),
    (0.1, "switching_supplier", ["yes", "no"]),
    (0.1, "budget_status", ["approved", "planned"]),
]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def generate(url: str, leads: int, events: int, now: datetime, seed: int = 4) -> dict[str, int]:
    """Migrate and fill the database; returns the rows written per table."""
    from sqlalchemy import insert, text

    from capture.db.engine import Database
    from capture.db.migrate import upgrade
    from capture.db.models import Answer, BehaviourEvent, Lead, Visitor
    from capture.leads.profile_doc import entry
    from capture.sites.publishing import create_site, publish_model
    from scoring.document import default_model

    upgrade(url)
    db = Database(url)
    rng = random.Random(seed)
    start = now - timedelta(days=DAYS)
    counts: dict[str, int] = {}
    try:
        with db.write() as session:
            site_id = create_site(session, "Bench", ["https://www.example.com"], start).id
            publish_model(session, default_model(), start)
        with db.write_connection() as connection:
            if db.is_sqlite:
                connection.exec_driver_sql("PRAGMA cache_size=-262144")  # 256 MB for building the indexes

            def put(table: Any, rows: Iterator[dict[str, Any]], total: int, name: str) -> None:
                done = 0
                for chunk in _chunks(rows):
                    if db.is_sqlite:
                        connection.execute(insert(table), chunk)
                    else:
                        _copy(connection, table, chunk)
                    done += len(chunk)
                    if done % 200_000 < len(chunk) or done == total:
                        _log(f"    {name}: {done:,}/{total:,}")
                counts[name] = done

            created = [start + timedelta(seconds=rng.randrange(DAYS * 86_400)) for _ in range(leads)]
            visitor_of = [f"{n:032x}" for n in range(leads + 1)]
            emails = [""]

            for n in range(1, leads + 1):
                roll = rng.random()
                if roll < 0.25:
                    domain = rng.choice(["gmail.com", "hotmail.com", "yahoo.com", "outlook.com"])
                elif roll < 0.27:
                    domain = "student.aau.dk"
                else:
                    domain = f"company{rng.randrange(5000)}.example"
                emails.append(f"lead{n}@{domain}")

            answers: list[tuple[int, str, Any]] = []
            for n in range(1, leads + 1):
                answers.append((n, "email", None))
                for share, name, values in PROFILE:
                    if rng.random() < share:
                        answers.append((n, name, rng.choice(values)))
            # each lead's profile document: its answers but the e-mail, with their ids
            profiles: list[dict[str, Any]] = [{} for _ in range(leads + 1)]
            for number, (lead, name, value) in enumerate(answers, 1):
                if name != "email":
                    profiles[lead][name] = entry(value, created[lead - 1], number)

            def lead_rows() -> Iterator[dict[str, Any]]:
                for n in range(1, leads + 1):
                    at = created[n - 1]
                    yield {"id": n, "email": emails[n], "last_seen_at": at, "created_at": at, "profile": profiles[n]}

            put(Lead.__table__, lead_rows(), leads, "leads")
            put(
                Visitor.__table__,
                ({"id": visitor_of[n], "lead_id": n, "created_at": created[n - 1]} for n in range(1, leads + 1)),
                leads,
                "visitors",
            )

            def answer_rows() -> Iterator[dict[str, Any]]:
                for number, (lead, name, value) in enumerate(answers, 1):
                    yield {
                        "id": number, "lead_id": lead, "visitor_id": visitor_of[lead], "site_id": site_id,
                        "question_key": name, "field": name, "value": value if name != "email" else emails[lead],
                        "skipped": False, "locale": "en", "asked_at": created[lead - 1],
                        "answered_at": created[lead - 1], "source": "form",
                    }  # fmt: skip

            put(Answer.__table__, answer_rows(), len(answers), "answers")

            # Some leads only ever filled a form; of the rest a few are very busy (log-normal).
            weights = [0.0 if rng.random() < 0.15 else rng.lognormvariate(0, 1.0) for _ in range(leads)]
            cumulative: list[float] = []
            total_weight = 0.0
            for weight in weights:
                total_weight += weight
                cumulative.append(total_weight)
            mix_weights = [weight for weight, *_ in MIX]
            page_props = [
                {"title": "Pricing", "referrer": ""},
                {"title": "Blog", "referrer": "https://www.google.com/"},
            ]
            other_props: list[dict[str, Any]] = [{}, {}, {"campaign": "spring"}, {"utm_source": "newsletter"}]
            step = DAYS * 86_400 / max(events, 1)

            def event_rows() -> Iterator[dict[str, Any]]:
                for offset in range(0, events, CHUNK):
                    size = min(CHUNK, events - offset)
                    who = rng.choices(range(1, leads + 1), cum_weights=cumulative, k=size)
                    kinds = rng.choices(MIX, weights=mix_weights, k=size)
                    for i in range(size):
                        number = offset + i
                        lead = who[i]
                        _, kind, paths, source = kinds[i]
                        path = rng.choice(paths)
                        # arriving in time order, so one lead's events are spread over the table
                        at = start + timedelta(seconds=number * step + rng.random() * step)
                        browser = source == "browser"
                        yield {
                            "site_id": site_id, "uid": f"{number:032x}",
                            "visitor_id": visitor_of[lead] if browser else None,
                            "lead_id": lead, "type": kind, "at": at, "received_at": at,
                            "url": f"https://www.example.com{path}" if path else None, "path": path,
                            "props": rng.choice(page_props if kind == "page_view" else other_props), "source": source,
                        }  # fmt: skip

            put(BehaviourEvent.__table__, event_rows(), events, "events")
            if not db.is_sqlite:
                for table in ("leads", "answers"):  # ids were given: move the sequences past them
                    connection.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                    )
        if not db.is_sqlite:
            # what autovacuum would have done by the time anyone re-scores a table this size
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
        settle(db)
    finally:
        db.dispose()
    return counts


def settle(db: Any) -> None:
    """Finish what loading (or a reset) left for the background, so it does not run during the timings.

    PostgreSQL: ``CHECKPOINT``; otherwise the spread checkpoint that a gigabyte of loading WAL
    started keeps writing for minutes, through the reads and re-scores. SQLite: move the WAL into
    the database file and empty it.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)" if db.is_sqlite else "CHECKPOINT")


def _copy(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY`` the rows in (psycopg 3 runs a Core executemany row by row: 5x slower)."""
    names = list(rows[0])
    as_json = [isinstance(table.c[name].type, JSON) for name in names]
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [json.dumps(value) if wrap else value for wrap, value in zip(as_json, row.values(), strict=True)]
            )


def reset(url: str) -> None:
    """Every lead back to unscored, no score history: the next re-score does the same work as the first.

    On PostgreSQL the old row versions are vacuumed away too (this server may run without
    autovacuum), so the next re-score does not write into a table twice its size.
    """
    from capture.db.engine import Database

    db = Database(url)
    try:
        with db.write_connection() as connection:
            connection.exec_driver_sql("DELETE FROM score_changes")
            connection.exec_driver_sql(
                "UPDATE leads SET stage = 'subscriber', stage_changed_at = NULL, fit = 0, engagement = 0, score = 0, "
                "completeness = 0, explanation = NULL, scored_at = NULL, scoring_model_id = NULL, score_state = NULL"
            )
        if not db.is_sqlite:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE leads, score_changes")
        settle(db)
    finally:
        db.dispose()


# --- the measured work, in a child process ------------------------------------------------------


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM, the high-water mark of its own address space.

    Not ``ru_maxrss``: Linux carries that over ``execve`` from the forked copy of
    the parent, so a child of a big parent would report the parent's size.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # elsewhere: the best there is


def child(mode: str, url: str, batch: int) -> dict[str, Any]:
    from sqlalchemy import select

    from capture.db.engine import Database
    from capture.db.models import ScoringModelVersion
    from capture.qualifying.rescoring import event_rows, rescore, stream_reader
    from capture.qualifying.scores import LiveModel
    from capture.services import utc_now
    from scoring.document import parse_model

    db = Database(url)
    try:
        with db.read() as session:
            row = session.execute(select(ScoringModelVersion).order_by(ScoringModelVersion.version.desc())).scalar()
            assert row is not None
            live = LiveModel(id=row.id, version=row.version, model=parse_model(row.document))
        rss_before = _rss_mb()
        started = time.perf_counter()
        if mode == "read":
            rows = 0
            with stream_reader(db, batch) as reader:
                for _ in event_rows(reader):
                    rows += 1
            result: dict[str, Any] = {"rows": rows}
        else:
            done = 0

            def progress(leads: int) -> None:
                nonlocal done
                done += leads
                if done % 20_000 < leads:
                    _log(f"    re-scored {done:,} leads ({time.perf_counter() - started:.0f}s)")

            report = rescore(db, live, utc_now(), batch=batch, progress=progress, dry_run=mode == "dry")
            qualified = sum(n for (_, after), n in report.moves.items() if after in ("mql", "sql"))
            result = {"rows": report.leads, "written": report.written, "moved": report.moved, "qualified": qualified}
        seconds = time.perf_counter() - started
    finally:
        db.dispose()
    return {**result, "seconds": seconds, "rss_before_mb": rss_before, "peak_mb": _peak_mb()}


#: The steps of ``--breakdown``: each adds one piece of a re-score's work to the one before.
STEPS = (
    ("read", "read the events"),
    ("join", "+ read leads and profile fields, join by lead"),
    ("fold", "+ fold each event into a tally (`Tally.add_row`)"),
    ("score", "+ `score()`"),
    ("standing", "+ `standing()` (stage, explanation and tally state as JSON)"),
    ("write", "+ write scores and changes (`write_standings`, hand-offs left out)"),
    ("handoff", "+ hand-offs (the whole `rescore`)"),
)


def breakdown(url: str, batch: int, rounds: int) -> dict[str, float]:
    """Seconds of each step of ``STEPS`` (best of ``rounds``): CPU time on SQLite, which runs in this
    process, wall time on PostgreSQL, whose server's work counts too."""
    from sqlalchemy import select

    import capture.qualifying.scores
    from capture.db.engine import Database
    from capture.db.models import ScoringModelVersion
    from capture.qualifying.rescoring import _streams, event_rows, rescore, stream_reader
    from capture.qualifying.scores import LiveModel, standing
    from capture.services import utc_now
    from scoring.document import parse_model
    from scoring.engine import Tally, score
    from scoring.inputs import Profile

    db = Database(url)
    clock = time.process_time if db.is_sqlite else time.perf_counter
    with db.read() as session:
        row = session.execute(select(ScoringModelVersion).order_by(ScoringModelVersion.version.desc())).scalar()
        assert row is not None
        live = LiveModel(id=row.id, version=row.version, model=parse_model(row.document))
    model = live.model

    def read() -> None:
        with stream_reader(db, batch) as reader:
            for _ in event_rows(reader):
                pass

    def upto(step: str) -> Any:
        def run() -> None:
            now = utc_now()
            with stream_reader(db, batch) as reader:
                for before, fields, events in _streams(reader, live, False):
                    if step == "join":
                        for _ in events:
                            pass
                        continue
                    tally = Tally(model)
                    add = tally.add_row
                    for _, kind, at, path, props in events:
                        add(kind, at, path, props)
                    if step == "fold":
                        continue
                    result = score(model, Profile(fields=fields, email=before.email), tally, now)
                    if step == "score":
                        continue
                    standing(before, result, tally, live, now, "rescore")

        return run

    def write(hand_offs: bool) -> Any:
        def run() -> None:
            hand_off = capture.qualifying.scores.hand_off
            if not hand_offs:
                capture.qualifying.scores.hand_off = lambda _connection, _changes: 0  # type: ignore[assignment]
            try:
                rescore(db, live, utc_now(), batch=batch)
            finally:
                capture.qualifying.scores.hand_off = hand_off

        return run

    work = {"read": read, "write": write(False), "handoff": write(True)}
    best: dict[str, float] = {}
    try:
        for _ in range(rounds):
            for step, _label in STEPS:
                if step in ("write", "handoff"):
                    reset(url)
                started = clock()
                work.get(step, upto(step))()
                best[step] = min(best.get(step, math.inf), clock() - started)
    finally:
        db.dispose()
    return best


class BenchError(RuntimeError):
    pass


def run_child(mode: str, url: str, batch: int, timeout: float, rounds: int = 1) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--url", url, "--batch", str(batch),
               "--rounds", str(rounds)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=timeout)
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    line = next((ln for ln in output.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if process.returncode != 0 or line is None:
        raise BenchError(f"the {mode} child failed (exit {process.returncode})")
    return json.loads(line[len("BENCH_RESULT ") :])  # type: ignore[no-any-return]


# --- the run ------------------------------------------------------------------------------------


@dataclass
class Outcome:
    backend: str
    generate_s: float
    counts: dict[str, int]
    reads: list[dict[str, Any]] = field(default_factory=list)
    rescores: list[dict[str, Any]] = field(default_factory=list)
    dry: dict[str, Any] | None = None
    #: seconds per step of STEPS (--breakdown)
    steps: dict[str, float] | None = None

    @property
    def read_s(self) -> float:
        return statistics.fmean(r["seconds"] for r in self.reads)

    @property
    def rescore_s(self) -> float:
        return statistics.median(r["seconds"] for r in self.rescores)


def measure(backend: str, tmp: Path, args: argparse.Namespace) -> Outcome:
    with temporary_database(backend, tmp) as url:
        _log(f"{backend}: generating {args.leads:,} leads and {args.events:,} events")
        started = time.perf_counter()
        counts = generate(url, args.leads, args.events, datetime.now(UTC))
        outcome = Outcome(backend, time.perf_counter() - started, counts)
        _log(f"{backend}: generated in {outcome.generate_s:.0f}s")
        timeout = args.timeout
        if args.dry_run:
            outcome.dry = run_child("dry", url, args.batch, timeout)
            _log(f"{backend}: dry run (nothing written) in {outcome.dry['seconds']:.2f}s")
        for round_ in range(args.rounds):
            read = run_child("read", url, args.batch, timeout)
            outcome.reads.append(read)
            _log(f"{backend}: read {read['rows']:,} events in {read['seconds']:.2f}s (peak {read['peak_mb']:.0f} MB)")
            if round_:
                reset(url)
            result = run_child("rescore", url, args.batch, timeout)
            outcome.rescores.append(result)
            _log(
                f"{backend}: re-scored {result['rows']:,} leads in {result['seconds']:.2f}s ({result['moved']:,} "
                f"changed stage, {result['qualified']:,} to MQL/SQL; peak {result['peak_mb']:.0f} MB)"
            )
        read = run_child("read", url, args.batch, timeout)
        outcome.reads.append(read)
        _log(f"{backend}: read {read['rows']:,} events in {read['seconds']:.2f}s (peak {read['peak_mb']:.0f} MB)")
        if any(r["rows"] != counts["events"] for r in outcome.reads):
            raise BenchError(f"read {[r['rows'] for r in outcome.reads]} events, expected {counts['events']}")
        if any(r["rows"] != counts["leads"] or r["written"] != counts["leads"] for r in outcome.rescores):
            raise BenchError(f"re-scored {outcome.rescores}, expected {counts['leads']} leads written")
        if args.breakdown:
            _log(f"{backend}: breakdown, best of {args.breakdown}")
            outcome.steps = run_child("steps", url, args.batch, timeout * 3 * args.breakdown, rounds=args.breakdown)
        return outcome


def report(outcomes: list[Outcome]) -> None:
    print()
    print(f"{'backend':<11}{'leads':>9}{'events':>11}{'generate':>10}{'read':>9}{'re-score':>10}"
          f"{'x read':>8}{'target':>8}{'peak RSS':>10}  verdict")  # fmt: skip
    print("-" * 96)
    dry = [o for o in outcomes if o.dry is not None]
    for o in outcomes:
        ratio = o.rescore_s / o.read_s
        peak = max(r["peak_mb"] for r in o.rescores)
        verdict = "met" if ratio <= TARGET and peak < MEMORY_LIMIT_MB else "MISSED"
        reads = "/".join(f"{r['seconds']:.1f}" for r in o.reads)
        print(f"{o.backend:<11}{o.counts['leads']:>9,}{o.counts['events']:>11,}{o.generate_s:>9.0f}s"
              f"{o.read_s:>8.1f}s{o.rescore_s:>9.1f}s{ratio:>8.2f}{'<= 2':>8}{peak:>7.0f} MB  {verdict}"
              f"  (reads {reads}s)")  # fmt: skip
    for o in dry:
        assert o.dry is not None
        seconds = o.dry["seconds"]
        print(f"{o.backend:<11}{'':>39}{seconds:>9.1f}s{seconds / o.read_s:>8.2f}"
              "          dry run: read and score, write nothing")  # fmt: skip
    broken_down = [o for o in outcomes if o.steps is not None]
    if broken_down:
        clocks = ", ".join(f"{o.backend} {'CPU' if o.backend == 'sqlite' else 'wall'} time" for o in broken_down)
        print()
        print(f"Where a re-score's time goes (× the read; best of the rounds; {clocks}):")
        print()
        print("| step | " + " | ".join(o.backend for o in broken_down) + " |")
        print("|---|" + "---:|" * len(broken_down))
        for index, (step, label) in enumerate(STEPS):
            cells = []
            for o in broken_down:
                assert o.steps is not None
                base = o.steps["read"]
                if index == 0:
                    cells.append(f"1.00 ({base:.1f}s)")
                else:
                    cells.append(f"{(o.steps[step] - o.steps[STEPS[index - 1][0]]) / base:+.2f}")
            print(f"| {label} | " + " | ".join(cells) + " |")
        totals = [f"**{o.steps['handoff'] / o.steps['read']:.2f}**" for o in broken_down if o.steps is not None]
        print("| **total** | " + " | ".join(totals) + " |")
    print()
    print("read: the ordered event stream only; re-score: capture.qualifying.rescoring.rescore, written.")
    print(f"Peak RSS: the re-score child's VmHWM (interpreter and imports included; limit {MEMORY_LIMIT_MB} MB).")


def _raise_on_signal(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=2_000_000)
    parser.add_argument("--rounds", type=int, default=1, help="re-scores per backend (reads: one more)")
    parser.add_argument("--batch", type=int, default=2000, help="rescore(batch=...): leads per write transaction")
    parser.add_argument("--timeout", type=float, default=900, help="seconds any one child may take")
    parser.add_argument("--dry-run", action="store_true", help="also time rescore(dry_run=True): no writes")
    parser.add_argument(
        "--breakdown", type=int, default=0, metavar="N",
        help="also time the re-score step by step, best of N rounds (a markdown table of where the time goes)",
    )  # fmt: skip
    parser.add_argument("--child", choices=["read", "rescore", "dry", "steps"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "steps":
        print("BENCH_RESULT " + json.dumps(breakdown(args.url, args.batch, args.rounds)), flush=True)
        return 0
    if args.child:
        print("BENCH_RESULT " + json.dumps(child(args.child, args.url, args.batch)), flush=True)
        return 0

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    if "postgresql" in backends and (problem := postgres_reachable()) is not None:
        print(f"PostgreSQL is not reachable ({problem}); use --backend sqlite", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_on_signal)
    tmp = Path(tempfile.mkdtemp(prefix="leadwheel-rescore-"))
    outcomes: list[Outcome] = []
    try:
        for backend in backends:
            outcomes.append(measure(backend, tmp, args))
        report(outcomes)
        return 0
    except BenchError as exc:
        print(f"\nBENCH FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; cleaned up", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
