"""Re-score every lead: after publishing a model, or to let decay move stages (``refresh``).

Leads, their profile fields and their events are read as three streams
ordered by lead and joined in Python, so memory holds one batch of leads, not
the whole table. Writes go in batches, each its own short transaction, so the
service keeps answering while this runs. A lead the live path scored with this
model after the run began is left alone: its score is already newer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import Connection, func, select, update

from capture.db import Database
from capture.models import Event as EventRow
from capture.models import Lead, ProfileField, ScoringModelVersion
from capture.scores import _STANDING_COLUMNS, LiveModel, Standing, core_events, standing, write_standings
from scoring.engine import Tally, score
from scoring.profile import Profile

_leads, _fields, _events = Lead.__table__, ProfileField.__table__, EventRow.__table__


@dataclass
class Report:
    leads: int = 0
    #: (stage before, stage after) → leads; only leads whose stage would move
    moves: Counter[tuple[str | None, str]] = field(default_factory=Counter)
    written: int = 0

    @property
    def moved(self) -> int:
        return sum(self.moves.values())


Progress = Callable[[int], None]


def rescore(
    db: Database,
    live: LiveModel,
    now: datetime,
    *,
    from_state: bool = False,
    dry_run: bool = False,
    batch: int = 2000,
    progress: Progress | None = None,
) -> Report:
    """Score every lead with ``live`` as of ``now``.

    ``from_state`` re-reads no events: it re-evaluates each lead's kept tally
    (only for leads already scored with this model), which is what a periodic
    decay refresh needs. ``dry_run`` computes and counts but writes nothing.
    """
    report = Report()
    pending: list[Standing] = []

    def flush() -> None:
        if pending and not dry_run:
            report.written += len(pending)
            rows = list(pending)
            db.run(lambda connection: _write(connection, rows, live.id, now))
        pending.clear()

    with db.read_connection() as reader:
        reader = reader.execution_options(stream_results=True, yield_per=batch)
        for before, fields, events in _streams(reader, live, from_state):
            profile = Profile(fields=fields, email=before.email)
            if from_state:
                tally = Tally.from_state(live.model, before.score_state)
            else:
                tally = live.model.new_tally()
                for event in events:
                    tally.add(event)
            result = score(live.model, profile, tally, now)
            new = standing(before, result, tally, live, now, "refresh" if from_state else "rescore")
            report.leads += 1
            if new.stage_before != new.stage:
                report.moves[(new.stage_before, new.stage)] += 1
            pending.append(new)
            if len(pending) >= batch:
                flush()
                if progress is not None:
                    progress(batch)
        remainder = len(pending)
        flush()
        if progress is not None and remainder:
            progress(remainder)
    if not dry_run and not from_state:
        with db.write() as session:
            session.execute(
                update(ScoringModelVersion).where(ScoringModelVersion.id == live.id).values(rescored_at=now)
            )
    return report


def count_leads(db: Database, live: LiveModel, *, from_state: bool = False) -> int:
    with db.read_connection() as connection:
        return int(
            connection.execute(select(func.count()).select_from(_lead_query(live, from_state).subquery())).scalar_one()
        )


def _lead_query(live: LiveModel, from_state: bool) -> Any:
    query = select(*_STANDING_COLUMNS).where(_leads.c.merged_into_id.is_(None))
    if from_state:
        query = query.where(_leads.c.scoring_model_id == live.id, _leads.c.score_state.is_not(None))
    return query.order_by(_leads.c.id)


def _streams(reader: Connection, live: LiveModel, from_state: bool) -> Iterator[tuple[Any, dict[str, Any], Any]]:
    """Each lead with its profile fields and (unless ``from_state``) its events, in lead order."""
    leads = reader.execute(_lead_query(live, from_state))
    fields = groupby(
        reader.execute(select(_fields.c.lead_id, _fields.c.field, _fields.c.value).order_by(_fields.c.lead_id)),
        key=lambda row: row[0],
    )
    events: Any = iter(())
    if not from_state:
        events = groupby(
            reader.execute(
                select(_events.c.lead_id, _events.c.type, _events.c.at, _events.c.path, _events.c.props)
                .where(_events.c.lead_id.is_not(None))
                .order_by(_events.c.lead_id, _events.c.at)
            ),
            key=lambda row: row[0],
        )
    field_group = next(fields, None)
    event_group = next(events, None)
    for lead in leads:
        while field_group is not None and field_group[0] < lead.id:
            field_group = next(fields, None)
        profile: dict[str, Any] = {}
        if field_group is not None and field_group[0] == lead.id:
            profile = {name: value for _, name, value in field_group[1]}
            field_group = next(fields, None)
        while event_group is not None and event_group[0] < lead.id:
            event_group = next(events, None)
        lead_events: Any = ()
        if event_group is not None and event_group[0] == lead.id:
            lead_events = core_events(row[1:] for row in event_group[1])
        yield lead, profile, lead_events


def _write(connection: Connection, standings: list[Standing], model_id: int, started: datetime) -> None:
    """Write a batch, except leads the live path scored with this model since the run began."""
    fresher = (
        select(_leads.c.id)
        .where(
            _leads.c.id.in_([s.values["lead_id"] for s in standings]),
            _leads.c.scoring_model_id == model_id,
            _leads.c.scored_at > started,
        )
        .with_for_update()  # PostgreSQL: hold them until written (SQLite holds the whole database)
    )
    fresh = set(connection.execute(fresher).scalars())
    write_standings(connection, [s for s in standings if s.values["lead_id"] not in fresh])
