"""A lead's score in the database: computed by scoring/, kept on the lead row, its changes recorded.

The live path (an answer, a batch of events) scores one lead inside the
transaction that changed it, so the score can never disagree with what was
stored. It is incremental: the lead row keeps the engagement tally under the
live model, and new events are added to it; only when the tally belongs to an
older model (or the lead gained history from a merge) are its events read again.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, DateTime, Float, Integer, String, Text, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from capture.db.models import BehaviourEvent, Lead, ScoreChange
from capture.handoff.outbox import ANNOUNCED, HELD_OUTCOMES, hand_off
from capture.leads import profile_doc
from capture.leads.lead_row import write_leads
from scoring.engine import Score, Tally, score
from scoring.inputs import Event, Profile
from scoring.lifecycle import LifecycleStage, next_stage
from scoring.model import ScoringModel


@dataclass(frozen=True)
class LiveModel:
    """The published scoring model every new score uses."""

    id: int
    version: int
    model: ScoringModel


_leads, _events = Lead.__table__, BehaviourEvent.__table__
_changes = ScoreChange.__table__

#: What the previous score was, to tell whether it moved.
STANDING_COLUMNS = (
    _leads.c.id,
    _leads.c.email,
    _leads.c.stage,
    _leads.c.scoring_model_id,
    _leads.c.score_state,
    _leads.c.fit,
    _leads.c.engagement,
    _leads.c.score,
    _leads.c.scored_at,
    _leads.c.sales_outcome,
)
_STANDING = select(*STANDING_COLUMNS).where(_leads.c.id == bindparam("lead_id"))
_STANDING_LOCKED = _STANDING.with_for_update()
_PROFILE = select(_leads.c.profile).where(_leads.c.id == bindparam("lead_id"))
_EVENTS = select(_events.c.type, _events.c.at, _events.c.path, _events.c.props).where(
    _events.c.lead_id == bindparam("lead_id")
)
#: the score's columns on the lead row
_SCORE_COLUMNS = (
    "stage", "fit", "engagement", "score", "completeness", "explanation", "scored_at", "scoring_model_id", "score_state"
)  # fmt: skip
_RECORD = insert(_changes)

# PostgreSQL: a batch is one UPDATE and one INSERT over parallel arrays (unnest), not one statement per
# lead: the server spent more on 2,000 single-row statements than on the rows. The arrays go in
# binary, so the JSON texts need no array quoting (psycopg's text format escapes every quote in Python).
_UTC = DateTime(timezone=True)
_BATCH_TYPES: dict[str, Any] = {
    "lead_id": Integer, "stage": String, "stage_changed_at": _UTC, "fit": Float, "engagement": Float,
    "score": Float, "completeness": Float, "explanation": Text, "scored_at": _UTC, "scoring_model_id": Integer,
    "score_state": Text,
}  # fmt: skip
_BATCH = (
    func.unnest(*(bindparam(name, type_=ARRAY(kind)) for name, kind in _BATCH_TYPES.items()))
    .table_valued(*_BATCH_TYPES)
    .render_derived("batch")
)
_WRITE_BATCH = (
    update(_leads)
    .where(_leads.c.id == _BATCH.c.lead_id)
    .values(
        {
            **{name: _BATCH.c[name] for name in _SCORE_COLUMNS},
            # NULL for a lead whose stage stayed: it keeps the time it got there
            "stage_changed_at": func.coalesce(_BATCH.c.stage_changed_at, _leads.c.stage_changed_at),
            "explanation": _BATCH.c.explanation.cast(JSONB),
            "score_state": func.coalesce(_BATCH.c.score_state.cast(JSONB), _leads.c.score_state),
        }
    )
)
_CHANGE_TYPES: dict[str, Any] = {
    "lead_id": Integer, "scoring_model_id": Integer, "at": _UTC, "fit": Float, "engagement": Float,
    "score": Float, "stage_before": String, "stage": String, "cause": String,
}  # fmt: skip
_CHANGES = (
    func.unnest(*(bindparam(name, type_=ARRAY(kind)) for name, kind in _CHANGE_TYPES.items()))
    .table_valued(*_CHANGE_TYPES)
    .render_derived("change")
)
_RECORD_BATCH = insert(_changes).from_select(list(_CHANGE_TYPES), select(*_CHANGES.c))
#: A change smaller than this is noise from decay between two events; it is not recorded.
NOTABLE = 0.5


@dataclass(frozen=True)
class Standing:
    """A lead's new score and stage, as a value: computed here, written by :func:`write_standings`
    (with an answer's own columns, in the one UPDATE of its lead: capture/leads/lead_row.py).

    ``columns`` are the lead row's columns the score sets: the stage and when it changed only when
    it moved, the tally's state only when it changed. ``change`` is None when nothing notable moved.
    """

    lead_id: int
    columns: dict[str, Any]
    change: dict[str, Any] | None
    stage_before: str | None
    stage: str
    cause: str
    at: datetime

    def announcement(self) -> str | None:
        """The hand-off this change makes, if any: reaching MQL or SQL from below (again, after falling
        back or being recycled and re-armed), or new answers from a lead sales already has.

        ``lead.mql`` means "reached MQL": an SQL that falls back to MQL announces nothing.
        """
        if self.stage in ANNOUNCED and _RANK[self.stage] > _RANK.get(self.stage_before or "", 0):
            return ANNOUNCED[self.stage]
        if self.cause == "answer" and self.stage == self.stage_before and self.stage in ANNOUNCED:
            return "lead.updated"
        return None


#: how far along the way to sales a stage is, for announcements (a recycled lead is back at the start)
_RANK = {LifecycleStage.MQL.value: 1, LifecycleStage.SQL.value: 2}


def standing(
    before: Any, result: Score, tally: Tally, live: LiveModel, now: datetime, cause: str, *, keep_state: bool = False
) -> Standing:
    """Compare a new score with the lead's previous one (a row of ``STANDING_COLUMNS``).

    Shared by the live path and the bulk re-score so both move stages and
    record changes by the same rules. The explanation and the tally state are
    encoded to JSON here, once, by encoders that write what ``json.dumps`` would (a bulk
    re-score encodes one per lead). ``keep_state``: the tally is the one the lead row keeps,
    unchanged (a decay refresh), so its state is neither encoded nor written again.
    """
    scored_before = before.scored_at is not None
    stage_before = before.stage if scored_before else None
    current = LifecycleStage(stage_before) if stage_before is not None else None
    # Once sales accepted the lead (or it became an opportunity, or won), decay no longer takes it back.
    stage = next_stage(live.model, current, result, held=before.sales_outcome in HELD_OUTCOMES).value
    moved = current is None or stage != current
    # points as kept and shown: two decimals (the stage was decided on the exact value)
    fit, engagement, total = round(result.fit, 2), round(result.engagement, 2), round(result.total, 2)
    columns: dict[str, Any] = {
        "fit": fit,
        "engagement": engagement,
        "score": total,
        "completeness": round(result.completeness, 4),
        "explanation": explanation_json(result),
        "scored_at": now,
        "scoring_model_id": live.id,
    }
    if not keep_state:
        columns["score_state"] = tally.state_json()
    if moved:
        # A lead whose stage stayed does not set it: SQLite rewrites the stage index entry of every row
        # whose stage an UPDATE sets, even to the same value, and most scores move no stage.
        columns.update(stage=stage, stage_changed_at=now)
    notable = (
        moved
        or before.scoring_model_id != live.id
        or abs(result.total - before.score) >= NOTABLE
        or abs(result.fit - before.fit) >= NOTABLE
        or abs(result.engagement - before.engagement) >= NOTABLE
    )
    change = None
    if notable:
        change = {
            "lead_id": before.id,
            "scoring_model_id": live.id,
            "at": now,
            "fit": fit,
            "engagement": engagement,
            "score": total,
            "stage_before": stage_before,
            "stage": stage,
            "cause": cause,
        }
    return Standing(before.id, columns, change, stage_before, stage, cause, now)


def explanation(result: Score) -> dict[str, Any]:
    """The score's reasons as stored and shown: every contributing rule with its points and group.

    The lead row keeps fit, engagement and the total in columns; the intent group (what the lead
    told us) is kept here, beside the contributions whose group is ``intent``.
    """
    return {
        "completeness": result.completeness,
        "intent": result.intent,
        "disqualified": list(result.disqualified),
        "contributions": [
            {
                "rule": c.rule,
                "label": c.label,
                "group": c.group,
                "points": c.points,
                "count": c.count,
                "capped": c.capped,
                "detail": c.detail,
            }
            for c in result.contributions
        ],
    }


#: a str as ``json.dumps`` writes it (``ensure_ascii``), by the C encoder the json module itself uses
_json_string = json.encoder.encode_basestring_ascii


def explanation_json(result: Score) -> str:
    """``json.dumps(explanation(result))``, character for character, at a third of the cost.

    A bulk re-score encodes one per lead. The fixed start of each rule's entry is
    encoded once; numbers are written as ``json.dumps`` writes them (``repr``), and
    anything that is not a plain finite number falls back on ``json.dumps`` itself.
    """
    parts = []
    for c in result.contributions:
        points, count = c.points, c.count
        if type(points) is not float or not math.isfinite(points) or type(count) is not int:
            return json.dumps(explanation(result))
        head = _contribution_head(c.rule, c.label, c.group)
        capped = "true" if c.capped is True else "false" if c.capped is False else json.dumps(c.capped)
        parts.append(f'{head}{points!r}, "count": {count}, "capped": {capped}, "detail": {_json_string(c.detail)}}}')
    completeness, intent = result.completeness, result.intent
    if type(completeness) is not float or not math.isfinite(completeness) or type(intent) is not float:
        return json.dumps(explanation(result))
    disqualified = ", ".join(map(_json_string, result.disqualified))
    return (
        f'{{"completeness": {completeness!r}, "intent": {intent!r}, "disqualified": [{disqualified}], '
        f'"contributions": [{", ".join(parts)}]}}'
    )


@lru_cache(maxsize=4096)
def _contribution_head(rule: str, label: str, group: str) -> str:
    """The fixed start of a rule's entry in :func:`explanation_json`, encoded once."""
    return f'{{"rule": {_json_string(rule)}, "label": {_json_string(label)}, "group": {_json_string(group)}, "points": '


def write_standings(
    connection: Connection, standings: Sequence[Standing], seen: Mapping[str, Any] | None = None
) -> None:
    """Write scores and the notable changes (a few statements however many leads), and hand off
    the leads that reached a stage sales wants, in the same transaction.

    ``seen``: the columns an answer sets on its (one) lead (capture/leads/lead_row.py), written by
    the score's own UPDATE.
    """
    if not standings:
        return
    assert seen is None or len(standings) == 1, "an answer's columns come with one lead"
    changes = [s.change for s in standings if s.change is not None]
    if connection.dialect.name == "postgresql" and len(standings) > 1:
        _write_batch(connection, standings, changes)
    else:  # SQLite, and the live path's one lead (whose UPDATE takes the answer's columns along)
        write_leads(connection, [(s.lead_id, {**s.columns, **(seen or {})}) for s in standings])
        if changes:
            connection.execute(_RECORD, changes)
    announced = [(s.lead_id, event_type, s.at) for s in standings if (event_type := s.announcement()) is not None]
    hand_off(connection, announced)


def _write_batch(connection: Connection, standings: Sequence[Standing], changes: list[dict[str, Any]]) -> None:
    """PostgreSQL: the batch's scores in one UPDATE, its changes in one INSERT (see ``_WRITE_BATCH``)."""
    scores: dict[str, list[Any]] = {name: [] for name in _BATCH_TYPES}
    for s in standings:
        scores["lead_id"].append(s.lead_id)
        for name in _SCORE_COLUMNS:  # NULL: a tally state this score leaves as it is
            scores[name].append(s.stage if name == "stage" else s.columns.get(name))
        scores["stage_changed_at"].append(s.columns.get("stage_changed_at"))
    _aware(scores["scored_at"], scores["stage_changed_at"])
    _run_binary(connection, _WRITE_BATCH, scores)
    if changes:
        recorded = {name: [change[name] for change in changes] for name in _CHANGE_TYPES}
        _aware(recorded["at"])
        _run_binary(connection, _RECORD_BATCH, recorded)


def _aware(*times: list[datetime | None]) -> None:
    """What the UTCDateTime column type checks on the ordinary path: a naive time is refused, not guessed."""
    for column in times:
        for value in column:
            if value is not None and value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")


def _run_binary(connection: Connection, statement: ClauseElement, params: dict[str, list[Any]]) -> None:
    """Run one of this module's PostgreSQL statements with every parameter in binary (``%(name)b``).

    SQLAlchemy writes ``%(name)s``, which leaves the format to psycopg: text for strings, whose
    array form quotes and escapes each element in Python; 2,000 leads' explanations cost more
    that way than the server's work on them. The statement is compiled once.
    """
    connection.exec_driver_sql(_binary_sql(statement, connection.dialect), params)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@lru_cache(maxsize=16)
def _binary_sql(statement: ClauseElement, dialect: Dialect) -> str:
    return _PLACEHOLDER.sub(r"%(\1)b", statement.compile(dialect=dialect).string)


def core_events(rows: Iterable[Any]) -> Iterable[Event]:
    for kind, at, path, props in rows:
        yield Event(type=kind, at=at, path=path, props=props or {})


def score_lead(
    connection: Connection,
    live: LiveModel,
    lead_id: int,
    now: datetime,
    cause: str,
    *,
    new_events: Sequence[Event] | None = None,
    fields: Mapping[str, Any] | None = None,
    before: Any = None,
    seen: Mapping[str, Any] | None = None,
) -> Standing:
    """Score one lead in the caller's transaction and write the result.

    ``new_events`` are events just stored for it (added to the kept tally);
    None means its events must be read again. ``fields`` is its profile and
    ``before`` its row of :data:`STANDING_COLUMNS`, when the caller already
    read them in this transaction, with the lead locked (an answer did).
    ``seen``: the columns the answer still has to set on the lead (capture/leads/lead_row.py),
    written by the score's own UPDATE.
    """
    if before is None:
        locked = connection.dialect.name == "postgresql"  # SQLite's BEGIN IMMEDIATE already serialises writers
        before = connection.execute(_STANDING_LOCKED if locked else _STANDING, {"lead_id": lead_id}).one()
    if fields is None:
        fields = profile_doc.values(connection.execute(_PROFILE, {"lead_id": lead_id}).scalar_one())
    profile = Profile(fields=fields, email=before.email)
    kept = new_events is not None and before.scoring_model_id == live.id and before.score_state is not None
    if kept:
        tally = Tally.from_state(live.model, before.score_state)
        for event in new_events or ():
            tally.add(event)
    else:
        tally = Tally(live.model)
        for event in core_events(connection.execute(_EVENTS, {"lead_id": lead_id})):
            tally.add(event)
    result = score(live.model, profile, tally, now)
    # An answer adds no events: the tally the lead keeps is the one it has, and is not written again.
    new = standing(before, result, tally, live, now, cause, keep_state=kept and not new_events)
    write_standings(connection, [new], seen)
    return new
