"""Folding events through the default B2B scoring model, against a loop that only iterates the rows.

    .venv/bin/python bench/score_core.py [--events 1000000] [--per-lead 20] [--rounds 3]

The capture side re-scores every lead by streaming its event rows (type, at, path, props)
from the database: per lead a fresh tally, each row folded in, then one score. Its budget is
2x the time of just reading those rows, so the core's share must be a small multiple of a bare
Python loop over the same tuples. Printed per round (best of ``--rounds``):

* baseline: ``for _kind, _at, _path, _props in rows: pass``
* add_row: a tally per lead, every row folded with ``Tally.add_row`` (no Event objects)
* Event+add: the same, building an ``Event`` per row first (what a straightforward caller does)
* re-score: add_row plus ``score()`` once per lead (the whole core cost of a bulk re-score)

The synthetic mix is roughly a B2B site's: page views of which a tenth are the pricing page,
e-mail opens and clicks, downloads, a few demo and offer requests, and event types no rule
names. Not a test: nothing fails over a number.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from scoring.document import default_model
from scoring.engine import Tally, score
from scoring.inputs import Event, Profile

Row = tuple[str, datetime, str | None, dict[str, Any]]

MIX: list[tuple[float, str, tuple[str | None, ...]]] = [
    (0.22, "page_view", ("/", "/product", "/about", "/contact")),
    (0.20, "page_view", ("/blog/lead-scoring", "/blog/nurturing", "/blog/bant")),
    (0.08, "page_view", ("/pricing", "/pricing/enterprise")),
    (0.03, "page_view", ("/careers", "/careers/sales")),
    (0.02, "page_view", ("/demo",)),
    (0.18, "email_open", (None,)),
    (0.08, "email_click", (None,)),
    (0.05, "download", (None,)),
    (0.03, "webinar_signup", (None,)),
    (0.02, "newsletter_signup", (None,)),
    (0.02, "offer_request", (None,)),
    (0.01, "offer_download", (None,)),
    (0.01, "demo_request", (None,)),
    (0.01, "call", (None,)),
    (0.04, "video_play", ("/product",)),
]


def synthetic_rows(count: int, seed: int = 7) -> list[Row]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    weights = [weight for weight, _, _ in MIX]
    kinds = rng.choices(MIX, weights=weights, k=count)
    props_pool: list[dict[str, Any]] = [{}, {}, {"campaign": "spring"}, {"utm_source": "newsletter"}]
    rows: list[Row] = []
    for _, kind, paths in kinds:
        at = start + timedelta(seconds=rng.randrange(330 * 86_400))
        rows.append((kind, at, rng.choice(paths), rng.choice(props_pool)))
    return rows


def baseline(rows: list[Row], per_lead: int) -> None:
    for _kind, _at, _path, _props in rows:
        pass


def fold_rows(rows: list[Row], per_lead: int) -> None:
    model = default_model()
    for lead in range(0, len(rows), per_lead):
        tally = Tally(model)
        add = tally.add_row
        for kind, at, path, props in rows[lead : lead + per_lead]:
            add(kind, at, path, props)


def fold_events(rows: list[Row], per_lead: int) -> None:
    model = default_model()
    for lead in range(0, len(rows), per_lead):
        tally = Tally(model)
        for kind, at, path, props in rows[lead : lead + per_lead]:
            tally.add(Event(kind, at, path, props))


def rescore(rows: list[Row], per_lead: int) -> None:
    model = default_model()
    fields = {"customer_type": "b2b", "company_size": 120, "job_title": "Head of Sales", "buying_timeline": "6m"}
    profile = Profile(fields=fields, email="ann@northwind.example")
    now = datetime(2026, 11, 27, tzinfo=UTC)
    for lead in range(0, len(rows), per_lead):
        tally = Tally(model)
        add = tally.add_row
        for kind, at, path, props in rows[lead : lead + per_lead]:
            add(kind, at, path, props)
        score(model, profile, tally, now)


def best_of(rounds: int, run: Callable[[list[Row], int], None], rows: list[Row], per_lead: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run(rows, per_lead)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-lead", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rows = synthetic_rows(args.events)
    default_model()  # parse once, outside the timings
    leads = -(-len(rows) // args.per_lead)
    print(f"{len(rows):,} events, {leads:,} leads ({args.per_lead} events each), best of {args.rounds}")
    base = best_of(args.rounds, baseline, rows, args.per_lead)
    print(f"{'baseline':<11}{base:8.3f} s {len(rows) / base:>14,.0f} events/s")
    for name, run in (("add_row", fold_rows), ("Event+add", fold_events), ("re-score", rescore)):
        took = best_of(args.rounds, run, rows, args.per_lead)
        print(f"{name:<11}{took:8.3f} s {len(rows) / took:>14,.0f} events/s   {took / base:6.1f}x baseline")


if __name__ == "__main__":
    main()
