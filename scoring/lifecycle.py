"""Lifecycle stages: where a lead stands between marketing and sales.

``next_stage`` is a pure function of the stage a lead is in and its new score.
It keeps no memory beyond ``current``, so a lead that falls back and qualifies
again crosses the threshold again (the capture side records each crossing).

* Forward, by score: SUBSCRIBER → ENGAGED → MQL → SQL, skipping stages when the
  score allows (an engaged lead that requests a demo with a complete profile may
  go straight to SQL).
* Fit (who the lead is) never qualifies a lead by itself.
* MQL needs total ≥ ``thresholds.mql``, no disqualifier *and* the MQL gate: interest
  (intent + engagement: something the lead told us or did) ≥ ``mql_gate.min_interest``.
* SQL needs total ≥ ``thresholds.sql``, no disqualifier *and* the SQL gate: fit ≥
  ``sql_gate.min_fit``, one of ``sql_gate.any_known`` known, evidence of buying intent
  (intent ≥ ``sql_gate.min_intent`` or a hand-raise) and engagement ≥
  ``sql_gate.min_engagement`` (a hand-raise stands in for it). Clicks alone never make
  SQL, and neither does who the lead is.
* Back, only when clearly below: an MQL or SQL keeps its stage until the total drops
  below its threshold minus ``hysteresis`` (a lead hovering around 25 does not flap),
  or at once when a disqualifier holds, (for MQL) its interest is gone entirely, or (for
  SQL) the SQL gate closes. A lead never falls back below ENGAGED.
* ``held=True`` (sales has marked an outcome) never moves back.
* RECYCLED (sales gave it back to marketing) is set by the capture side. The score
  that was rejected must not hand the lead straight back: it stays RECYCLED until
  its total falls clearly below MQL (threshold − hysteresis), then is ENGAGED and
  has to qualify afresh like any other lead.
"""

from __future__ import annotations

from enum import StrEnum

from scoring.engine import Score
from scoring.model import ScoringModel


class LifecycleStage(StrEnum):
    SUBSCRIBER = "subscriber"
    ENGAGED = "engaged"
    MQL = "mql"
    SQL = "sql"
    #: sales rejected it for now; back to nurturing
    RECYCLED = "recycled"


_RANK = {
    LifecycleStage.SUBSCRIBER: 0,
    LifecycleStage.ENGAGED: 1,
    LifecycleStage.RECYCLED: 1,
    LifecycleStage.MQL: 2,
    LifecycleStage.SQL: 3,
}


def interest(score: Score) -> float:
    """What the lead showed of its own accord: intent (what it told us) plus engagement (what it did)."""
    return score.intent + score.engagement


def mql_gate_open(model: ScoringModel, score: Score) -> bool:
    """Whether the lead has shown enough interest to be an MQL: who it is never suffices."""
    return interest(score) >= model.mql_gate.min_interest


def hand_raised(model: ScoringModel, score: Score) -> bool:
    """Whether one of the model's hand-raises (a demo or offer request, asked or done) counts now."""
    ids = model.hand_raise_ids
    return bool(ids) and any(c.points > 0 and c.rule in ids for c in score.contributions)


def sql_gate_open(model: ScoringModel, score: Score) -> bool:
    """Whether sales should have the lead: enough fit, a gate answer, evidence of buying intent, engagement."""
    gate = model.sql_gate
    if score.fit < gate.min_fit:
        return False
    if gate.any_known and not any(name in score.known_fields for name in gate.any_known):
        return False
    raised = hand_raised(model, score)
    if score.intent < gate.min_intent and not raised:
        return False
    return score.engagement >= gate.min_engagement or raised


def engaged(score: Score) -> bool:
    """Whether the lead has done or told anything beyond leaving its e-mail address."""
    return bool(score.known_fields) or any(c.group == "engagement" for c in score.contributions)


def qualified_stage(model: ScoringModel, score: Score) -> LifecycleStage:
    """The stage the score earns on its own, ignoring where the lead was."""
    total = score.total
    if not score.disqualified and total >= model.thresholds.mql and mql_gate_open(model, score):
        if total >= model.thresholds.sql and sql_gate_open(model, score):
            return LifecycleStage.SQL
        return LifecycleStage.MQL
    return LifecycleStage.ENGAGED if engaged(score) else LifecycleStage.SUBSCRIBER


def next_stage(
    model: ScoringModel, current: LifecycleStage | None, score: Score, *, held: bool = False
) -> LifecycleStage:
    """The lead's stage after ``score``, given the stage it was in (None: never staged)."""
    if current is LifecycleStage.RECYCLED:
        rearmed = score.total < model.thresholds.mql - model.hysteresis
        return LifecycleStage.ENGAGED if rearmed else LifecycleStage.RECYCLED
    earned = qualified_stage(model, score)
    if current is None or _RANK[earned] > _RANK[current]:
        return earned
    if held or current in (LifecycleStage.ENGAGED, LifecycleStage.RECYCLED, LifecycleStage.SUBSCRIBER):
        return current
    keeps_mql = (
        not score.disqualified and score.total >= model.thresholds.mql - model.hysteresis and interest(score) > 0
    )
    if current is LifecycleStage.SQL:
        if keeps_mql and score.total >= model.thresholds.sql - model.hysteresis and sql_gate_open(model, score):
            return LifecycleStage.SQL
        return LifecycleStage.MQL if keeps_mql else LifecycleStage.ENGAGED
    return LifecycleStage.MQL if keeps_mql else LifecycleStage.ENGAGED
