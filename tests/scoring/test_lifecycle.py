"""Lifecycle stages: forward by score and gates, back only past the hysteresis, held by sales, re-armed."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.document import parse_model
from scoring.engine import Contribution, Score, score_events
from scoring.inputs import Event, Profile
from scoring.lifecycle import (
    LifecycleStage,
    hand_raised,
    interest,
    mql_gate_open,
    next_stage,
    qualified_stage,
    sql_gate_open,
)
from scoring.model import ScoringModel
from tests.scoring.strategies import event_lists, models, moments, profiles

MODEL = parse_model(
    {
        "name": "Stages",
        "thresholds": {"mql": 25, "sql": 75},
        "hysteresis": 10,
        "sql_gate": {"min_fit": 30, "any_known": ["buying_timeline", "decision_role"]},
        "fit": [
            {"id": "soon", "label": "Soon", "field": "buying_timeline", "equals": "3m", "points": 20},
            {"id": "decides", "label": "Decides", "field": "decision_role", "equals": "decision_maker", "points": 20},
        ],
        "engagement": [{"id": "demo", "label": "Demo", "event": "demo_request", "points": 40}],
    }
)
CLICK = Contribution("demo", "Demo", "engagement", 1.0, 1, False, "×1, latest just now")


def make(
    total: float,
    *,
    fit: float = 0.0,
    known: tuple[str, ...] = (),
    disqualified: tuple[str, ...] = (),
    clicked: bool = True,
) -> Score:
    return Score(
        fit=fit,
        engagement=max(0.0, total - fit),
        total=total,
        completeness=0.5,
        disqualified=disqualified,
        contributions=(CLICK,) if clicked else (),
        known_fields=frozenset(known),
    )


READY = {"fit": 40.0, "known": ("buying_timeline",)}


def test_a_lead_with_only_an_email_is_a_subscriber_and_anything_more_makes_it_engaged() -> None:
    assert next_stage(MODEL, None, make(0, clicked=False)) is LifecycleStage.SUBSCRIBER
    assert next_stage(MODEL, None, make(0, known=("first_name",), clicked=False)) is LifecycleStage.ENGAGED
    assert next_stage(MODEL, LifecycleStage.SUBSCRIBER, make(1)) is LifecycleStage.ENGAGED
    # and an engaged lead never falls back to subscriber, however quiet it becomes
    assert next_stage(MODEL, LifecycleStage.ENGAGED, make(0, clicked=False)) is LifecycleStage.ENGAGED


def test_thresholds_move_a_lead_forward_and_it_may_skip_straight_to_sql() -> None:
    assert next_stage(MODEL, LifecycleStage.ENGAGED, make(24.9)) is LifecycleStage.ENGAGED
    assert next_stage(MODEL, LifecycleStage.ENGAGED, make(25)) is LifecycleStage.MQL
    assert next_stage(MODEL, LifecycleStage.MQL, make(75, **READY)) is LifecycleStage.SQL  # type: ignore[arg-type]
    assert next_stage(MODEL, LifecycleStage.ENGAGED, make(80, **READY)) is LifecycleStage.SQL  # type: ignore[arg-type]
    assert next_stage(MODEL, LifecycleStage.SUBSCRIBER, make(80, **READY)) is LifecycleStage.SQL  # type: ignore[arg-type]


def test_sql_needs_the_gate_so_clicks_alone_stop_at_mql() -> None:
    clicks_only = make(100)
    assert not sql_gate_open(MODEL, clicks_only)
    assert next_stage(MODEL, LifecycleStage.ENGAGED, clicks_only) is LifecycleStage.MQL
    too_little_fit = make(100, fit=20, known=("buying_timeline",))
    assert next_stage(MODEL, LifecycleStage.MQL, too_little_fit) is LifecycleStage.MQL
    nothing_bant = make(100, fit=40, known=("company_size",))
    assert next_stage(MODEL, LifecycleStage.MQL, nothing_bant) is LifecycleStage.MQL
    assert next_stage(MODEL, LifecycleStage.MQL, make(100, fit=40, known=("decision_role",))) is LifecycleStage.SQL


def test_a_disqualified_lead_never_qualifies_and_loses_its_stage_at_once() -> None:
    rival = make(100, disqualified=("Works for a competitor",), **READY)  # type: ignore[arg-type]
    assert next_stage(MODEL, None, rival) is LifecycleStage.ENGAGED
    assert next_stage(MODEL, LifecycleStage.ENGAGED, rival) is LifecycleStage.ENGAGED
    assert next_stage(MODEL, LifecycleStage.MQL, rival) is LifecycleStage.ENGAGED
    assert next_stage(MODEL, LifecycleStage.SQL, rival) is LifecycleStage.ENGAGED
    assert next_stage(MODEL, LifecycleStage.RECYCLED, rival) is LifecycleStage.RECYCLED


def test_hysteresis_keeps_a_lead_hovering_around_the_threshold_in_its_stage() -> None:
    stage = LifecycleStage.ENGAGED
    seen = []
    for total in (26, 24, 26, 22, 16, 25.5, 15.01, 30):
        stage = next_stage(MODEL, stage, make(total))
        seen.append(stage)
    assert seen == [LifecycleStage.MQL] * 8
    assert (
        next_stage(MODEL, LifecycleStage.MQL, make(15)) is LifecycleStage.MQL
    )  # exactly threshold - hysteresis still holds
    assert next_stage(MODEL, LifecycleStage.MQL, make(14.99)) is LifecycleStage.ENGAGED


def test_an_sql_falls_back_to_mql_or_engaged_only_when_clearly_below() -> None:
    assert next_stage(MODEL, LifecycleStage.SQL, make(66, **READY)) is LifecycleStage.SQL  # type: ignore[arg-type]
    assert next_stage(MODEL, LifecycleStage.SQL, make(64, **READY)) is LifecycleStage.MQL  # type: ignore[arg-type]
    assert next_stage(MODEL, LifecycleStage.SQL, make(14, fit=14, known=("buying_timeline",))) is LifecycleStage.ENGAGED
    # the gate closing (an answer removed, fit fallen) hands the lead back to marketing
    assert next_stage(MODEL, LifecycleStage.SQL, make(90, fit=20, known=("buying_timeline",))) is LifecycleStage.MQL


def test_a_lead_that_falls_back_and_qualifies_again_crosses_again() -> None:
    totals = [10, 30, 20, 12, 18, 27, 80, 60, 70, 90, 5, 26]
    stage: LifecycleStage | None = None
    crossings = []
    for total in totals:
        before = stage
        stage = next_stage(MODEL, stage, make(total, **READY) if total >= 75 else make(total))  # type: ignore[arg-type]
        if stage is not before:
            crossings.append(stage)
    engaged, mql, sql = LifecycleStage.ENGAGED, LifecycleStage.MQL, LifecycleStage.SQL
    assert crossings == [engaged, mql, engaged, mql, sql, mql, sql, engaged, mql]


def test_held_by_sales_never_moves_back_but_may_move_forward() -> None:
    assert next_stage(MODEL, LifecycleStage.SQL, make(0), held=True) is LifecycleStage.SQL
    assert next_stage(MODEL, LifecycleStage.MQL, make(0, disqualified=("Student",)), held=True) is LifecycleStage.MQL
    assert next_stage(MODEL, LifecycleStage.MQL, make(90, **READY), held=True) is LifecycleStage.SQL  # type: ignore[arg-type]


def test_a_recycled_lead_must_cool_off_before_it_can_qualify_again() -> None:
    """The score sales just rejected must not hand the lead straight back."""
    mql, hysteresis = MODEL.thresholds.mql, MODEL.hysteresis
    assert next_stage(MODEL, LifecycleStage.RECYCLED, make(90, **READY)) is LifecycleStage.RECYCLED  # type: ignore[arg-type]
    assert next_stage(MODEL, LifecycleStage.RECYCLED, make(mql)) is LifecycleStage.RECYCLED
    assert next_stage(MODEL, LifecycleStage.RECYCLED, make(mql - hysteresis)) is LifecycleStage.RECYCLED
    cooled = next_stage(MODEL, LifecycleStage.RECYCLED, make(mql - hysteresis - 1))
    assert cooled is LifecycleStage.ENGAGED
    assert (
        next_stage(MODEL, LifecycleStage.RECYCLED, make(0, clicked=False)) is LifecycleStage.ENGAGED
    )  # never below engaged
    assert next_stage(MODEL, cooled, make(mql)) is LifecycleStage.MQL  # then it qualifies afresh


_STAGES = st.none() | st.sampled_from(list(LifecycleStage))
_SCORES = st.builds(
    make,
    st.floats(0, 100),
    fit=st.floats(0, 100),
    known=st.lists(st.sampled_from(["buying_timeline", "decision_role", "first_name"]), max_size=2).map(tuple),
    disqualified=st.sampled_from([(), ("Competitor",)]),
    clicked=st.booleans(),
)


@settings(max_examples=300, deadline=None)
@given(_STAGES, _SCORES, st.booleans())
def test_stage_rules_hold_for_any_score(current: LifecycleStage | None, score: Score, held: bool) -> None:
    model: ScoringModel = MODEL
    stage = next_stage(model, current, score, held=held)
    rank = {
        LifecycleStage.SUBSCRIBER: 0,
        LifecycleStage.ENGAGED: 1,
        LifecycleStage.RECYCLED: 1,
        LifecycleStage.MQL: 2,
        LifecycleStage.SQL: 3,
    }
    if stage is not current:
        # a new stage is either what the score earns, or a step back for a reason
        moved_back = current is not None and rank[stage] < rank[current]
        if current is LifecycleStage.RECYCLED:  # it leaves only by cooling off, to engaged
            assert stage is LifecycleStage.ENGAGED and score.total < model.thresholds.mql - model.hysteresis
        elif moved_back:
            assert not held
            assert stage is not LifecycleStage.SUBSCRIBER
            assert (
                score.disqualified
                or score.total < model.thresholds.sql - model.hysteresis
                or not sql_gate_open(model, score)
                or interest(score) <= 0  # nothing of its own left: who it is does not hold it
            )
        else:
            assert stage is qualified_stage(model, score)
    moved_up = current is None or rank[stage] > rank[current]
    if stage in (LifecycleStage.MQL, LifecycleStage.SQL) and moved_up:
        assert not score.disqualified and score.total >= model.thresholds.mql
    if stage is LifecycleStage.MQL and not held:
        assert not score.disqualified and score.total >= model.thresholds.mql - model.hysteresis
    if stage is LifecycleStage.SQL and current is not LifecycleStage.SQL:
        assert sql_gate_open(model, score) and score.total >= model.thresholds.sql
    if stage is LifecycleStage.SQL and not held:
        assert sql_gate_open(model, score) and not score.disqualified
    # stateless: the same score from the stage it gives leaves it there (no flapping within one score)
    assert next_stage(model, stage, score, held=held) is stage


# --- qualification needs intent -----------------------------------------------------------------

#: Fit (who), intent (what the lead told us) and engagement (what it did), with both gates declared.
INTENT_MODEL = parse_model(
    {
        "name": "Intent",
        "thresholds": {"mql": 25, "sql": 75},
        "mql_gate": {"min_interest": 10},
        "sql_gate": {"min_fit": 20, "min_intent": 20, "min_engagement": 10, "hand_raises": ["asked_demo", "demo"]},
        "fit": [
            {"id": "size", "label": "50+ employees", "field": "company_size", "min": 50, "points": 30},
            {"id": "title", "label": "Manager", "field": "job_title", "mentions": ["manager"], "points": 30},
        ],
        "intent": [
            {"id": "soon", "label": "Buying within 3 months", "field": "buying_timeline", "equals": "3m", "points": 20},
            {"id": "budget", "label": "Budget", "field": "budget_range", "equals": "gt_50k", "points": 20},
            {"id": "asked_demo", "label": "Asked for a demo", "field": "demo_request", "equals": True, "points": 5},
        ],
        "engagement": [
            {"id": "demo", "label": "Demo request", "event": "demo_request", "points": 40},
            {"id": "pricing", "label": "Pricing", "event": "page_view", "path": "/pricing*", "points": 10},
        ],
    }
)
AT = datetime.fromisoformat("2026-11-23T09:30:00+00:00")
WHO = {"company_size": 200, "job_title": "Sales Manager"}
TOLD = {**WHO, "buying_timeline": "3m", "budget_range": "gt_50k"}


def scored(fields: dict[str, object], *kinds: str) -> Score:
    events = [Event(kind, AT, "/pricing" if kind == "page_view" else None) for kind in kinds]
    return score_events(INTENT_MODEL, Profile(fields), events, AT)


def test_fit_alone_never_makes_an_mql_however_high() -> None:
    who = scored(WHO)
    assert who.total == 60.0 and interest(who) == 0.0
    assert not mql_gate_open(INTENT_MODEL, who)
    for current in (None, LifecycleStage.SUBSCRIBER, LifecycleStage.ENGAGED):
        assert next_stage(INTENT_MODEL, current, who) is LifecycleStage.ENGAGED


def test_an_mql_that_loses_all_interest_falls_back_at_once() -> None:
    assert next_stage(INTENT_MODEL, LifecycleStage.ENGAGED, scored(WHO, "page_view")) is LifecycleStage.MQL
    assert next_stage(INTENT_MODEL, LifecycleStage.MQL, scored(WHO)) is LifecycleStage.ENGAGED
    assert next_stage(INTENT_MODEL, LifecycleStage.SQL, scored(WHO)) is LifecycleStage.ENGAGED
    assert next_stage(INTENT_MODEL, LifecycleStage.MQL, scored(WHO), held=True) is LifecycleStage.MQL  # sales owns it


def test_sql_needs_intent_evidence_and_engagement_or_a_hand_raise() -> None:
    answers_only = scored(TOLD)
    assert answers_only.intent == 40.0 and answers_only.total == 100.0
    assert qualified_stage(INTENT_MODEL, answers_only) is LifecycleStage.MQL  # min_engagement 10, nothing done
    assert qualified_stage(INTENT_MODEL, scored(TOLD, "page_view")) is LifecycleStage.SQL
    clicks_only = scored(WHO, "page_view", "page_view", "page_view", "page_view")
    assert clicks_only.total == 100.0 and clicks_only.intent == 0.0
    assert qualified_stage(INTENT_MODEL, clicks_only) is LifecycleStage.MQL  # no intent evidence, no hand-raise
    # a hand-raise is evidence of intent and behaviour at once: as an event, or ticked in the form
    raised = scored(WHO, "demo_request")
    assert hand_raised(INTENT_MODEL, raised) and qualified_stage(INTENT_MODEL, raised) is LifecycleStage.SQL
    ticked = scored({**WHO, "buying_timeline": "3m", "demo_request": True}, "page_view")
    assert ticked.intent == 25.0 and qualified_stage(INTENT_MODEL, ticked) is LifecycleStage.SQL
    ticked_alone = scored({**WHO, "demo_request": True, "budget_range": "gt_50k"})
    assert ticked_alone.engagement == 0.0 and qualified_stage(INTENT_MODEL, ticked_alone) is LifecycleStage.SQL


def test_an_sql_whose_intent_evidence_goes_falls_back_to_mql() -> None:
    assert next_stage(INTENT_MODEL, LifecycleStage.SQL, scored(TOLD, "page_view")) is LifecycleStage.SQL
    assert (
        next_stage(INTENT_MODEL, LifecycleStage.SQL, scored(WHO, "page_view", "page_view", "page_view"))
        is LifecycleStage.MQL
    )


def test_a_model_that_declares_no_gates_keeps_the_same_promises() -> None:
    """Defaults: 5 points of interest for MQL; 10 intent points or a demo/offer request for SQL."""
    model = parse_model(
        {
            "name": "No gates",
            "fit": [{"id": "size", "label": "Size", "field": "company_size", "min": 50, "points": 80}],
            "intent": [{"id": "soon", "label": "Soon", "field": "buying_timeline", "equals": "3m", "points": 10}],
            "engagement": [
                {"id": "demo", "label": "Demo", "event": "demo_request", "points": 20},
                {"id": "blog", "label": "Blog", "event": "page_view", "points": 20},
                {"id": "open", "label": "E-mail opened", "event": "email_open", "points": 4},
            ],
        }
    )
    assert model.mql_gate.min_interest == 5 and model.sql_gate.hand_raises == ("demo",)

    def stage(fields: dict[str, object], *kinds: str) -> LifecycleStage:
        events = [Event(kind, AT) for kind in kinds]
        return qualified_stage(model, score_events(model, Profile(fields), events, AT))

    assert stage({"company_size": 100}) is LifecycleStage.ENGAGED
    assert stage({"company_size": 100}, "email_open") is LifecycleStage.ENGAGED  # 4 points: below the 5 of interest
    assert stage({"company_size": 100}, "page_view") is LifecycleStage.MQL
    assert stage({"company_size": 100}, "demo_request") is LifecycleStage.SQL
    assert stage({"company_size": 100, "buying_timeline": "3m"}) is LifecycleStage.SQL


_ANY_STAGE = st.none() | st.sampled_from(list(LifecycleStage))


@settings(max_examples=300, deadline=None)
@given(models(), profiles(), event_lists(), moments(), _ANY_STAGE)
def test_no_lead_with_zero_interest_is_ever_mql_and_none_without_intent_evidence_is_ever_sql(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime, current: LifecycleStage | None
) -> None:
    result = score_events(model, profile, evs, now)
    stage = next_stage(model, current, result)
    if interest(result) <= 0:
        assert stage not in (LifecycleStage.MQL, LifecycleStage.SQL)
    if stage is LifecycleStage.SQL:
        assert result.intent >= model.sql_gate.min_intent or hand_raised(model, result)
        assert result.engagement >= model.sql_gate.min_engagement or hand_raised(model, result)
        assert result.fit >= model.sql_gate.min_fit
    if stage in (LifecycleStage.MQL, LifecycleStage.SQL) and (
        current is None or current not in (LifecycleStage.MQL, LifecycleStage.SQL)
    ):
        assert interest(result) >= model.mql_gate.min_interest
