"""A lead's score in the database: computed by scoring/, kept on the lead row, its changes recorded.

The live path (an answer, a batch of events) scores one lead inside the
transaction that changed it, so the score can never disagree with what was
stored. It is incremental: the lead row keeps the engagement tally under the
live model, and new events are added to it; only when the tally belongs to an
older model (or the lead gained history from a merge) are its events read again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from capture.handoff import ANNOUNCED, HELD_OUTCOMES, hand_off
from capture.models import Event as EventRow
from capture.models import Lead, ProfileField, ScoreChange
from capture.prepared import Prepared
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


_leads, _fields, _events = Lead.__table__, ProfileField.__table__, EventRow.__table__
_changes = ScoreChange.__table__

#: What the previous score was, to tell whether it moved.
_STANDING_COLUMNS = (
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
_STANDING = select(*_STANDING_COLUMNS).where(_leads.c.id == bindparam("lead_id"))
_STANDING_LOCKED = _STANDING.with_for_update()
_PROFILE = select(_fields.c.field, _fields.c.value).where(_fields.c.lead_id == bindparam("lead_id"))
_EVENTS = select(_events.c.type, _events.c.at, _events.c.path, _events.c.props).where(
    _events.c.lead_id == bindparam("lead_id")
)
#: Bound as new_<column>: SQLAlchemy reserves the column names themselves for its own parameters.
_SCORE_COLUMNS = (
    "stage", "fit", "engagement", "score", "completeness", "explanation", "scored_at", "scoring_model_id", "score_state"
)  # fmt: skip
_SCORE_VALUES = {name: bindparam(f"new_{name}") for name in _SCORE_COLUMNS}
#: one statement for leads whose stage moved (stamping when), one for the rest
_WRITE_MOVED = (
    update(_leads)
    .where(_leads.c.id == bindparam("lead_id"))
    .values(**_SCORE_VALUES, stage_changed_at=bindparam("new_stage_changed_at"))
)
_WRITE_KEPT = update(_leads).where(_leads.c.id == bindparam("lead_id")).values(**_SCORE_VALUES)
_RECORD = insert(_changes)
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
        """The hand-off this change makes, if any: reaching MQL or SQL (again, after falling back),
        or new answers from a lead sales already has."""
        if self.stage != self.stage_before and self.stage in ANNOUNCED:
            return ANNOUNCED[self.stage]
        if self.cause == "answer" and self.stage == self.stage_before and self.stage in ANNOUNCED:
            return "lead.updated"
        return None


def standing(before: Any, result: Score, tally: Tally, live: LiveModel, now: datetime, cause: str) -> Standing:
    """Compare a new score with the lead's previous one (a row of ``_STANDING_COLUMNS``).

    Shared by the live path and the bulk re-score so both move stages and
    record changes by the same rules.
    """
    current = Stage(before.stage) if before.scored_at is not None else None
    # Once sales accepted the lead (or it became an opportunity, or won), decay no longer takes it back.
    stage = next_stage(live.model, current, result, held=before.sales_outcome in HELD_OUTCOMES)
    moved = current is None or stage is not current
    values = {
        "lead_id": before.id,
        "new_stage": stage.value,
        "new_stage_changed_at": now if moved else None,
        "new_fit": _shown(result.fit),
        "new_engagement": _shown(result.engagement),
        "new_score": _shown(result.total),
        "new_completeness": round(result.completeness, 4),
        "new_explanation": explanation(result),
        "new_scored_at": now,
        "new_scoring_model_id": live.id,
        "new_score_state": tally.state(),
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
            "fit": _shown(result.fit),
            "engagement": _shown(result.engagement),
            "score": _shown(result.total),
            "stage_before": before.stage if before.scored_at is not None else None,
            "stage": stage.value,
            "cause": cause,
        }
    return Standing(values, change, before.stage if before.scored_at is not None else None, stage.value, cause, now)


def _shown(points: float) -> float:
    """Points as kept and shown: two decimals (the stage was decided on the exact value)."""
    return round(points, 2)


def explanation(result: Score) -> dict[str, Any]:
    """The score's reasons as stored and shown: every contributing rule with its points."""
    return {
        "completeness": result.completeness,
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


def write_standings(connection: Connection, standings: Sequence[Standing]) -> None:
    """Write scores and the notable changes (a few statements however many leads), and hand off
    the leads that reached a stage sales wants, in the same transaction."""
    if not standings:
        return
    moved = [s.values for s in standings if s.values["new_stage_changed_at"] is not None]
    kept = [s.values for s in standings if s.values["new_stage_changed_at"] is None]
    if moved:
        connection.execute(_WRITE_MOVED, moved)
    if kept:
        connection.execute(_WRITE_KEPT, kept)
    changes = [s.change for s in standings if s.change is not None]
    if changes:
        connection.execute(_RECORD, changes)
    announced = [(s.lead_id, event_type, s.at) for s in standings if (event_type := s.announcement()) is not None]
    hand_off(connection, announced)


def core_events(rows: Iterable[Any]) -> Iterable[Event]:
    for kind, at, path, props in rows:
        yield Event(type=kind, at=at, path=path, props=props or {})


#: the live path's reads, straight on the driver's cursor (see capture/prepared.py)
_READ_STANDING, _READ_STANDING_LOCKED = Prepared(_STANDING), Prepared(_STANDING_LOCKED)
_READ_PROFILE = Prepared(_PROFILE)


def score_lead(
    connection: Connection,
    live: LiveModel,
    lead_id: int,
    now: datetime,
    cause: str,
    *,
    new_events: Sequence[Event] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> Standing:
    """Score one lead in the caller's transaction and write the result.

    ``new_events`` are events just stored for it (added to the kept tally);
    None means its events must be read again. ``fields`` is its profile when
    the caller already holds it (an answer just computed it).
    """
    locked = connection.dialect.name == "postgresql"  # SQLite's BEGIN IMMEDIATE already serialises writers
    before = (_READ_STANDING_LOCKED if locked else _READ_STANDING).one(connection, {"lead_id": lead_id})
    if fields is None:
        fields = {name: value for name, value in _READ_PROFILE.rows(connection, {"lead_id": lead_id})}
    profile = Profile(fields=fields, email=before.email)
    if new_events is not None and before.scoring_model_id == live.id and before.score_state is not None:
        tally = Tally.from_state(live.model, before.score_state)
        for event in new_events:
            tally.add(event)
    else:
        tally = live.model.new_tally()
        for event in core_events(connection.execute(_EVENTS, {"lead_id": lead_id})):
            tally.add(event)
    result = score(live.model, profile, tally, now)
    new = standing(before, result, tally, live, now, cause)
    write_standings(connection, [new])
    return new
