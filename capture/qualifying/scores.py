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
from itertools import product
from typing import Any

from sqlalchemy import DateTime, Float, Integer, String, Text, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from capture.db.models import Event as EventRow
from capture.db.models import Lead, ScoreChange
from capture.db.prepared import Prepared, Runner, execute_on_driver, row_insert
from capture.handoff.outbox import ANNOUNCED, HELD_OUTCOMES, hand_off
from capture.leads import profile_doc
from capture.leads.seen import seen_values, shape
from scoring.engine import Score, Tally, score
from scoring.events import Event
from scoring.lifecycle import Stage, next_stage
from scoring.model import ScoringModel
from scoring.profile import Profile


@dataclass(frozen=True)
class LiveModel:
    """The published scoring model every new score uses."""

    id: int
    version: int
    model: ScoringModel


_leads, _events = Lead.__table__, EventRow.__table__
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
#: Bound as new_<column>: SQLAlchemy reserves the column names themselves for its own parameters.
_SCORE_COLUMNS = (
    "stage", "fit", "engagement", "score", "completeness", "explanation", "scored_at", "scoring_model_id", "score_state"
)  # fmt: skip


def _score_write(moved: bool, seen: bool, email: bool, profile: bool) -> Prepared:
    """A lead's score as one UPDATE, for a lead whose stage moved (stamping when) or stayed; with the
    columns an answer sets on its lead when ``seen`` (capture/leads/seen.py), so the row is written once.

    The two documents arrive as JSON text (see standing()): bound as text, which is what the
    JSON type would have made of them, not through that type, which would encode them again.
    """

    def build(dialect: Dialect) -> Any:
        def json_text(text: Any) -> Any:
            return text.cast(JSONB) if dialect.name == "postgresql" else text  # SQLite keeps JSON as text

        values: dict[str, Any] = {name: bindparam(f"new_{name}") for name in _SCORE_COLUMNS}
        values["explanation"] = json_text(bindparam("new_explanation", type_=Text))
        # NULL: the lead keeps the state it has (standing(keep_state=True)); a score always has a state
        values["score_state"] = func.coalesce(json_text(bindparam("new_score_state", type_=Text)), _leads.c.score_state)
        if moved:
            values["stage_changed_at"] = bindparam("new_stage_changed_at")
        else:
            # A lead whose stage stayed does not set it: SQLite rewrites the stage index entry of every row
            # whose stage an UPDATE sets, even to the same value, and most scores move no stage.
            del values["stage"]
        if seen:
            values.update(seen_values(dialect, email=email, profile=profile))
        return update(_leads).where(_leads.c.id == bindparam("lead_id")).values(values)

    return Prepared(build)


#: by (stage moved, and which of capture/leads/seen.py's columns the row takes along: seen, e-mail, profile)
_WRITE_SCORE = {
    (moved, *seen): _score_write(moved, *seen) for moved in (False, True) for seen in product((False, True), repeat=3)
}
_CHANGE_COLUMNS = ("lead_id", "scoring_model_id", "at", "fit", "engagement", "score", "stage_before", "stage", "cause")
_RECORD = Prepared(row_insert(_changes, _CHANGE_COLUMNS))

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
    """A lead's new score and stage, ready to write; ``change`` is None when nothing notable moved."""

    values: dict[str, Any]
    change: dict[str, Any] | None
    stage_before: str | None
    stage: str
    cause: str
    at: datetime

    @property
    def lead_id(self) -> int:
        return int(self.values["lead_id"])

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
_RANK = {Stage.MQL.value: 1, Stage.SQL.value: 2}


def standing(
    before: Any, result: Score, tally: Tally, live: LiveModel, now: datetime, cause: str, *, keep_state: bool = False
) -> Standing:
    """Compare a new score with the lead's previous one (a row of ``STANDING_COLUMNS``).

    Shared by the live path and the bulk re-score so both move stages and
    record changes by the same rules. The explanation and the tally state are
    encoded to JSON here, once, by encoders that write what ``json.dumps`` would.
    ``keep_state``: the tally is the one the lead row keeps, unchanged (a decay
    refresh), so its state is neither encoded nor written again.
    """
    scored_before = before.scored_at is not None
    stage_before = before.stage if scored_before else None
    current = Stage(stage_before) if stage_before is not None else None
    # Once sales accepted the lead (or it became an opportunity, or won), decay no longer takes it back.
    stage = next_stage(live.model, current, result, held=before.sales_outcome in HELD_OUTCOMES).value
    moved = current is None or stage != current
    # points as kept and shown: two decimals (the stage was decided on the exact value)
    fit, engagement, total = round(result.fit, 2), round(result.engagement, 2), round(result.total, 2)
    values = {
        "lead_id": before.id,
        "new_stage": stage,
        "new_stage_changed_at": now if moved else None,
        "new_fit": fit,
        "new_engagement": engagement,
        "new_score": total,
        "new_completeness": round(result.completeness, 4),
        "new_explanation": explanation_json(result),
        "new_scored_at": now,
        "new_scoring_model_id": live.id,
        "new_score_state": None if keep_state else tally.state_json(),
    }
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
    return Standing(values, change, stage_before, stage, cause, now)


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
#: (rule, label, group) -> the start of its contribution in :func:`explanation_json`
_HEADS: dict[tuple[str, str, str], str] = {}


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
        key = (c.rule, c.label, c.group)
        head = _HEADS.get(key)
        if head is None:
            if len(_HEADS) >= 4096:
                _HEADS.clear()
            head = _HEADS[key] = (
                f'{{"rule": {_json_string(c.rule)}, "label": {_json_string(c.label)}, '
                f'"group": {_json_string(c.group)}, "points": '
            )
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


def write_standings(connection: Runner, standings: Sequence[Standing]) -> None:
    """Write scores and the notable changes (a few statements however many leads), and hand off
    the leads that reached a stage sales wants, in the same transaction."""
    if not standings:
        return
    changes = [s.change for s in standings if s.change is not None]
    if connection.dialect.name == "postgresql" and len(standings) > 1:
        assert not any(shape(s.values)[0] for s in standings), "an answer's seen columns come with one lead"
        _write_batch(connection, standings, changes)
    else:  # SQLite, and the live path's single lead (an array costs PostgreSQL more than one row does)
        by_write: dict[tuple[bool, ...], list[dict[str, Any]]] = {}
        for s in standings:
            key: tuple[bool, ...] = (s.values["new_stage_changed_at"] is not None, *shape(s.values))
            by_write.setdefault(key, []).append(s.values)
        for key, rows in by_write.items():
            _WRITE_SCORE[key].run_many(connection, rows)
        _RECORD.run_many(connection, changes)
    announced = [(s.lead_id, event_type, s.at) for s in standings if (event_type := s.announcement()) is not None]
    hand_off(connection, announced)


def _write_batch(connection: Runner, standings: Sequence[Standing], changes: list[dict[str, Any]]) -> None:
    """PostgreSQL: the batch's scores in one UPDATE, its changes in one INSERT (see ``_WRITE_BATCH``)."""
    rows = [s.values for s in standings]
    scores = {name: [row[f"new_{name}"] for row in rows] for name in _BATCH_TYPES if name != "lead_id"}
    scores["lead_id"] = [row["lead_id"] for row in rows]
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


def _run_binary(connection: Runner, statement: ClauseElement, params: dict[str, list[Any]]) -> None:
    """Run one of this module's PostgreSQL statements on the driver's cursor, parameters in binary.

    Errors come out as SQLAlchemy's, as from :class:`Prepared`, so ``Database.run`` retries lost races.
    """
    sql = _binary_sql(statement, connection.dialect)
    cursor = connection.connection.cursor()
    try:
        execute_on_driver(connection, cursor, sql, params)
    finally:
        cursor.close()


_BINARY_SQL: dict[int, str] = {}
_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _binary_sql(statement: ClauseElement, dialect: Dialect) -> str:
    """One of this module's statements for psycopg, compiled once, every parameter in binary (``%(name)b``).

    SQLAlchemy writes ``%(name)s``, which leaves the format to psycopg: text for strings, whose
    array form quotes and escapes each element in Python.
    """
    sql = _BINARY_SQL.get(id(statement))
    if sql is None:
        sql = _BINARY_SQL[id(statement)] = _PLACEHOLDER.sub(r"%(\1)b", statement.compile(dialect=dialect).string)
    return sql


def core_events(rows: Iterable[Any]) -> Iterable[Event]:
    for kind, at, path, props in rows:
        yield Event(type=kind, at=at, path=path, props=props or {})


#: the live path's reads, straight on the driver's cursor (see capture/db/prepared.py)
_READ_STANDING, _READ_STANDING_LOCKED = Prepared(_STANDING), Prepared(_STANDING_LOCKED)
_READ_PROFILE = Prepared(_PROFILE)
_READ_EVENTS = Prepared(_EVENTS)


def score_lead(
    connection: Runner,
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
    ``seen``: the columns the answer still has to set on the lead (capture/leads/seen.py),
    written by the score's own UPDATE.
    """
    if before is None:
        locked = connection.dialect.name == "postgresql"  # SQLite's BEGIN IMMEDIATE already serialises writers
        before = (_READ_STANDING_LOCKED if locked else _READ_STANDING).one(connection, {"lead_id": lead_id})
    if fields is None:
        fields = profile_doc.values(_READ_PROFILE.one(connection, {"lead_id": lead_id}).profile)
    profile = Profile(fields=fields, email=before.email)
    kept = new_events is not None and before.scoring_model_id == live.id and before.score_state is not None
    if kept:
        tally = Tally.from_state(live.model, before.score_state)
        for event in new_events or ():
            tally.add(event)
    else:
        tally = Tally(live.model)
        for event in core_events(_READ_EVENTS.rows(connection, {"lead_id": lead_id})):
            tally.add(event)
    result = score(live.model, profile, tally, now)
    # An answer adds no events: the tally the lead keeps is the one it has, and is not written again.
    new = standing(before, result, tally, live, now, cause, keep_state=kept and not new_events)
    if seen:
        new.values.update(seen)
    write_standings(connection, [new])
    return new
