"""Re-score every lead: after publishing a model, or to let decay move stages (``refresh``).

Leads, their profile fields and their events are read as three streams
ordered by lead and joined in Python, so memory holds one batch of leads, not
the whole table. Writes go in batches, each its own short transaction, so the
service keeps answering while this runs. A lead the live path scored with this
model after the run began is left alone: its score is already newer.

A model scores the leads it applies to (:class:`Scope`): a site's own model its
site's leads, the installation default every lead whose site has none.
:func:`live_models` names each live model with its leads, so re-scoring
"every lead" means each lead with its own model.
"""

from __future__ import annotations

from collections import Counter, namedtuple
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from capture.db.engine import Database
from capture.db.models import BehaviourEvent, Lead, ScoringModelVersion
from capture.leads import profile_doc
from capture.privacy.standing import stopped_profiling_among
from capture.qualifying.scores import STANDING_COLUMNS, LiveModel, Standing, standing, write_standings
from scoring.document import parse_model
from scoring.engine import Tally, score
from scoring.inputs import Profile

_leads, _events = Lead.__table__, BehaviourEvent.__table__


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


@dataclass(frozen=True)
class Scope:
    """The leads one model scores: those of ``site_id``; or (None) the installation default's, every
    lead whose site is not among ``own_models``, the sites with a model of their own."""

    site_id: int | None = None
    own_models: frozenset[int] = frozenset()

    def condition(self) -> Any:
        """The leads' WHERE clause, or None for every lead."""
        site = _leads.c.site_id
        if self.site_id is not None:
            return site == self.site_id
        if not self.own_models:
            return None
        return or_(site.is_(None), site.not_in(sorted(self.own_models)))

    def describe(self) -> str:
        if self.site_id is not None:
            return "the site's leads"
        return "every lead whose site has no model of its own" if self.own_models else "every lead"


#: every lead (an installation where no site has a model of its own)
EVERY_LEAD = Scope()


def scope_of(connection: Connection | Session, site_id: int | None) -> Scope:
    """The leads a model published for ``site_id`` (None: the installation default) scores."""
    if site_id is not None:
        return Scope(site_id=site_id)
    owners = connection.execute(
        select(ScoringModelVersion.site_id).where(ScoringModelVersion.site_id.is_not(None)).distinct()
    )
    return Scope(own_models=frozenset(row[0] for row in owners if row[0] is not None))


def live_models(session: Session) -> list[tuple[Scope, LiveModel]]:
    """Every live model with the leads it scores: the installation default first, then each site's."""
    newest: dict[int | None, ScoringModelVersion] = {}
    for row in session.scalars(select(ScoringModelVersion).order_by(ScoringModelVersion.version)):
        newest[row.site_id] = row
    own = frozenset(site_id for site_id in newest if site_id is not None)
    return [
        (
            Scope(site_id=site_id, own_models=frozenset() if site_id is not None else own),
            LiveModel(id=row.id, version=row.version, model=parse_model(row.document)),
        )
        for site_id, row in sorted(newest.items(), key=lambda item: (item[0] is not None, item[0] or 0))
    ]


def rescore(
    db: Database,
    live: LiveModel,
    now: datetime,
    *,
    scope: Scope = EVERY_LEAD,
    from_state: bool = False,
    dry_run: bool = False,
    batch: int = 2000,
    progress: Progress | None = None,
) -> Report:
    """Score every lead of ``scope`` with ``live`` as of ``now``.

    ``from_state`` re-reads no events: it re-evaluates each lead's kept tally
    (only for leads already scored with this model), which is what a periodic
    decay refresh needs. ``dry_run`` computes and counts but writes nothing.
    """
    report = Report()
    pending: list[Standing] = []

    def flush() -> None:
        if not pending:
            return
        if not dry_run:
            report.written += len(pending)
            rows = list(pending)
            db.run(lambda connection: _write(connection, rows, live.id, now))
        if progress is not None:
            progress(len(pending))
        pending.clear()

    model = live.model
    cause = "refresh" if from_state else "rescore"
    with stream_reader(db, batch) as reader:
        for before, fields, events in _streams(reader, live, from_state, scope):
            if from_state:
                state = before.score_state
                tally = Tally.from_state(model, state)
                # this tally is the one the row keeps (another model's state reads as empty): not written again
                kept = isinstance(state, Mapping) and state.get("model") == model.tally_key
            else:
                kept = False
                tally = Tally(model)
                add = tally.add_row  # raw rows: no Event per row (props is never NULL: see store_events)
                for _, kind, at, path, props in events:
                    add(kind, at, path, props)
            result = score(model, Profile(fields=fields, email=before.email), tally, now)
            new = standing(before, result, tally, live, now, cause, keep_state=kept)
            report.leads += 1
            if new.stage_before != new.stage:
                report.moves[(new.stage_before, new.stage)] += 1
            pending.append(new)
            if len(pending) >= batch:
                flush()
        flush()
    if not dry_run and not from_state:
        with db.write() as session:
            session.execute(
                update(ScoringModelVersion).where(ScoringModelVersion.id == live.id).values(rescored_at=now)
            )
    return report


@contextmanager
def stream_reader(db: Database, batch: int) -> Iterator[Connection]:
    """A read connection whose results stream (PostgreSQL: server-side cursors) ``batch`` rows at a time."""
    with db.read_connection() as reader:
        yield reader.execution_options(stream_results=True, yield_per=batch)


def count_leads(db: Database, live: LiveModel, *, from_state: bool = False, scope: Scope = EVERY_LEAD) -> int:
    with db.read_connection() as connection:
        query = _lead_query(live, from_state, scope)
        return int(connection.execute(select(func.count()).select_from(query.subquery())).scalar_one())


def _lead_query(live: LiveModel, from_state: bool, scope: Scope = EVERY_LEAD) -> Any:
    # the kept tally is JSON: decoded only when it is used (a refresh), not for every lead of a re-score
    columns = [c for c in STANDING_COLUMNS if from_state or c.name != "score_state"]
    query = select(*columns, _leads.c.profile).where(_leads.c.merged_into_id.is_(None))
    applies = scope.condition()
    if applies is not None:
        query = query.where(applies)
    if from_state:
        query = query.where(_leads.c.scoring_model_id == live.id, _leads.c.score_state.is_not(None))
    return query.order_by(_leads.c.id)


#: Every lead's events, in lead order: (lead_id, type, at, path, props).
EVENTS_BY_LEAD = (
    select(_events.c.lead_id, _events.c.type, _events.c.at, _events.c.path, _events.c.props)
    .where(_events.c.lead_id.is_not(None))
    .order_by(_events.c.lead_id, _events.c.at)
)


def event_rows(reader: Connection, scope: Scope = EVERY_LEAD) -> Any:
    """The event stream a re-score folds (also what bench/rescore.py times as "only reading")."""
    applies = scope.condition()
    if applies is None:
        return reader.execute(EVENTS_BY_LEAD)
    return reader.execute(EVENTS_BY_LEAD.where(_events.c.lead_id.in_(select(_leads.c.id).where(applies))))


def _streams(
    reader: Connection, live: LiveModel, from_state: bool, scope: Scope
) -> Iterator[tuple[Any, dict[str, Any], Any]]:
    """Each lead with its profile's values and (unless ``from_state``) its event rows, in lead order.

    The events are the raw rows of :data:`EVENTS_BY_LEAD`, lead id first.
    """
    first = itemgetter(0)
    result = reader.execute(_lead_query(live, from_state, scope))
    # As named tuples: a SQLAlchemy Row's attribute costs 0.3 µs, a dozen per lead (a tuple's: 0.02 µs).
    leads = map(namedtuple("LeadStanding", result.keys())._make, result)  # type: ignore[attr-defined]
    events: Any = iter(())
    if not from_state:
        events = groupby(event_rows(reader, scope), key=first)
    event_group = next(events, None)
    for lead in leads:
        lead_id = lead.id
        profile = profile_doc.values(lead.profile)
        while event_group is not None and event_group[0] < lead_id:
            event_group = next(events, None)
        lead_events: Any = ()
        if event_group is not None and event_group[0] == lead_id:
            lead_events = event_group[1]  # read by the caller before the next lead moves the stream on
        yield lead, profile, lead_events


#: Leads of a batch (ids ``first``..``last``) the live path scored with this model since the run began.
#: A range, not an IN list of the batch's ids: the batch is a run of leads in id order, and 2,000 bound
#: ids cost PostgreSQL more than the rows do.
_FRESHER = (
    select(_leads.c.id)
    .where(
        _leads.c.id.between(bindparam("first"), bindparam("last")),
        _leads.c.scoring_model_id == bindparam("model_id"),
        _leads.c.scored_at > bindparam("started", type_=_leads.c.scored_at.type),
    )
    .with_for_update()  # PostgreSQL: hold them until written (SQLite holds the whole database)
)


def _write(connection: Connection, standings: list[Standing], model_id: int, started: datetime) -> None:
    """Write a batch, except leads the live path scored with this model since the run began (or not to score)."""
    ids = [s.lead_id for s in standings]
    first, last = min(ids), max(ids)
    params = {"first": first, "last": last, "model_id": model_id, "started": started}
    # left as they are: leads the live path scored meanwhile, and those who withdrew consent to profiling
    fresh = {row[0] for row in connection.execute(_FRESHER, params).all()} | stopped_profiling_among(
        connection, first, last
    )
    write_standings(connection, [s for s in standings if s.lead_id not in fresh] if fresh else standings)
