"""Lifecycle stages: forward by score and gates, back only past the hysteresis, held by sales, re-armed."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.document import parse_model
from scoring.engine import Contribution, Score, score_events
from scoring.events import Event
from scoring.lifecycle import Stage, hand_raised, interest, mql_gate_open, next_stage, qualified_stage, sql_gate_open
from scoring.model import ScoringModel
from scoring.profile import Profile
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
    assert next_stage(MODEL, None, make(0, clicked=False)) is Stage.SUBSCRIBER
    assert next_stage(MODEL, None, make(0, known=("first_name",), clicked=False)) is Stage.ENGAGED
    assert next_stage(MODEL, Stage.SUBSCRIBER, make(1)) is Stage.ENGAGED
    # and an engaged lead never falls back to subscriber, however quiet it becomes
    assert next_stage(MODEL, Stage.ENGAGED, make(0, clicked=False)) is Stage.ENGAGED


def test_thresholds_move_a_lead_forward_and_it_may_skip_straight_to_sql() -> None:
    assert next_stage(MODEL, Stage.ENGAGED, make(24.9)) is Stage.ENGAGED
    assert next_stage(MODEL, Stage.ENGAGED, make(25)) is Stage.MQL
    assert next_stage(MODEL, Stage.MQL, make(75, **READY)) is Stage.SQL  # type: ignore[arg-type]
    assert next_stage(MODEL, Stage.ENGAGED, make(80, **READY)) is Stage.SQL  # type: ignore[arg-type]
    assert next_stage(MODEL, Stage.SUBSCRIBER, make(80, **READY)) is Stage.SQL  # type: ignore[arg-type]


def test_sql_needs_the_gate_so_clicks_alone_stop_at_mql() -> None:
    clicks_only = make(100)
    assert not sql_gate_open(MODEL, clicks_only)
    assert next_stage(MODEL, Stage.ENGAGED, clicks_only) is Stage.MQL
    too_little_fit = make(100, fit=20, known=("buying_timeline",))
    assert next_stage(MODEL, Stage.MQL, too_little_fit) is Stage.MQL
    nothing_bant = make(100, fit=40, known=("company_size",))
    assert next_stage(MODEL, Stage.MQL, nothing_bant) is Stage.MQL
    assert next_stage(MODEL, Stage.MQL, make(100, fit=40, known=("decision_role",))) is Stage.SQL


def test_a_disqualified_lead_never_qualifies_and_loses_its_stage_at_once() -> None:
    rival = make(100, disqualified=("Works for a competitor",), **READY)  # type: ignore[arg-type]
    assert next_stage(MODEL, None, rival) is Stage.ENGAGED
    assert next_stage(MODEL, Stage.ENGAGED, rival) is Stage.ENGAGED
    assert next_stage(MODEL, Stage.MQL, rival) is Stage.ENGAGED
    assert next_stage(MODEL, Stage.SQL, rival) is Stage.ENGAGED
    assert next_stage(MODEL, Stage.RECYCLED, rival) is Stage.RECYCLED


def test_hysteresis_keeps_a_lead_hovering_around_the_threshold_in_its_stage() -> None:
    stage = Stage.ENGAGED
    seen = []
    for total in (26, 24, 26, 22, 16, 25.5, 15.01, 30):
        stage = next_stage(MODEL, stage, make(total))
        seen.append(stage)
    assert seen == [Stage.MQL] * 8
    assert next_stage(MODEL, Stage.MQL, make(15)) is Stage.MQL  # exactly threshold - hysteresis still holds
    assert next_stage(MODEL, Stage.MQL, make(14.99)) is Stage.ENGAGED


def test_an_sql_falls_back_to_mql_or_engaged_only_when_clearly_below() -> None:
    assert next_stage(MODEL, Stage.SQL, make(66, **READY)) is Stage.SQL  # type: ignore[arg-type]
    assert next_stage(MODEL, Stage.SQL, make(64, **READY)) is Stage.MQL  # type: ignore[arg-type]
    assert next_stage(MODEL, Stage.SQL, make(14, fit=14, known=("buying_timeline",))) is Stage.ENGAGED
    # the gate closing (an answer removed, fit fallen) hands the lead back to marketing
    assert next_stage(MODEL, Stage.SQL, make(90, fit=20, known=("buying_timeline",))) is Stage.MQL


def test_a_lead_that_falls_back_and_qualifies_again_crosses_again() -> None:
    totals = [10, 30, 20, 12, 18, 27, 80, 60, 70, 90, 5, 26]
    stage: Stage | None = None
    crossings = []
    for total in totals:
        before = stage
        stage = next_stage(MODEL, stage, make(total, **READY) if total >= 75 else make(total))  # type: ignore[arg-type]
        if stage is not before:
            crossings.append(stage)
    assert crossings == [Stage.ENGAGED, Stage.MQL, Stage.ENGAGED, Stage.MQL, Stage.SQL, Stage.MQL, Stage.SQL,
                         Stage.ENGAGED, Stage.MQL]  # fmt: skip


def test_held_by_sales_never_moves_back_but_may_move_forward() -> None:
    assert next_stage(MODEL, Stage.SQL, make(0), held=True) is Stage.SQL
    assert next_stage(MODEL, Stage.MQL, make(0, disqualified=("Student",)), held=True) is Stage.MQL
    assert next_stage(MODEL, Stage.MQL, make(90, **READY), held=True) is Stage.SQL  # type: ignore[arg-type]


def test_a_recycled_lead_must_cool_off_before_it_can_qualify_again() -> None:
    """The score sales just rejected must not hand the lead straight back."""
    mql, hysteresis = MODEL.thresholds.mql, MODEL.hysteresis
    assert next_stage(MODEL, Stage.RECYCLED, make(90, **READY)) is Stage.RECYCLED  # type: ignore[arg-type]
    assert next_stage(MODEL, Stage.RECYCLED, make(mql)) is Stage.RECYCLED
    assert next_stage(MODEL, Stage.RECYCLED, make(mql - hysteresis)) is Stage.RECYCLED
    cooled = next_stage(MODEL, Stage.RECYCLED, make(mql - hysteresis - 1))
    assert cooled is Stage.ENGAGED
    assert next_stage(MODEL, Stage.RECYCLED, make(0, clicked=False)) is Stage.ENGAGED  # never below engaged
    assert next_stage(MODEL, cooled, make(mql)) is Stage.MQL  # then it qualifies afresh


_STAGES = st.none() | st.sampled_from(list(Stage))
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
def test_stage_rules_hold_for_any_score(current: Stage | None, score: Score, held: bool) -> None:
    model: ScoringModel = MODEL
    stage = next_stage(model, current, score, held=held)
    rank = {Stage.SUBSCRIBER: 0, Stage.ENGAGED: 1, Stage.RECYCLED: 1, Stage.MQL: 2, Stage.SQL: 3}
    if stage is not current:
        # a new stage is either what the score earns, or a step back for a reason
        moved_back = current is not None and rank[stage] < rank[current]
        if current is Stage.RECYCLED:  # it leaves only by cooling off, to engaged
            assert stage is Stage.ENGAGED and score.total < model.thresholds.mql - model.hysteresis
        elif moved_back:
            assert not held
            assert stage is not Stage.SUBSCRIBER
            assert (
                score.disqualified
                or score.total < model.thresholds.sql - model.hysteresis
                or not sql_gate_open(model, score)
                or interest(score) <= 0  # nothing of its own left: who it is does not hold it
            )
        else:
            assert stage is qualified_stage(model, score)
    moved_up = current is None or rank[stage] > rank[current]
    if stage in (Stage.MQL, Stage.SQL) and moved_up:
        assert not score.disqualified and score.total >= model.thresholds.mql
    if stage is Stage.MQL and not held:
        assert not score.disqualified and score.total >= model.thresholds.mql - model.hysteresis
    if stage is Stage.SQL and current is not Stage.SQL:
        assert sql_gate_open(model, score) and score.total >= model.thresholds.sql
    if stage is Stage.SQL and not held:
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
    for current in (None, Stage.SUBSCRIBER, Stage.ENGAGED):
        assert next_stage(INTENT_MODEL, current, who) is Stage.ENGAGED


def test_an_mql_that_loses_all_interest_falls_back_at_once() -> None:
    assert next_stage(INTENT_MODEL, Stage.ENGAGED, scored(WHO, "page_view")) is Stage.MQL
    assert next_stage(INTENT_MODEL, Stage.MQL, scored(WHO)) is Stage.ENGAGED
    assert next_stage(INTENT_MODEL, Stage.SQL, scored(WHO)) is Stage.ENGAGED
    assert next_stage(INTENT_MODEL, Stage.MQL, scored(WHO), held=True) is Stage.MQL  # sales owns it


def test_sql_needs_intent_evidence_and_engagement_or_a_hand_raise() -> None:
    answers_only = scored(TOLD)
    assert answers_only.intent == 40.0 and answers_only.total == 100.0
    assert qualified_stage(INTENT_MODEL, answers_only) is Stage.MQL  # min_engagement 10, nothing done
    assert qualified_stage(INTENT_MODEL, scored(TOLD, "page_view")) is Stage.SQL
    clicks_only = scored(WHO, "page_view", "page_view", "page_view", "page_view")
    assert clicks_only.total == 100.0 and clicks_only.intent == 0.0
    assert qualified_stage(INTENT_MODEL, clicks_only) is Stage.MQL  # no intent evidence, no hand-raise
    # a hand-raise is evidence of intent and behaviour at once: as an event, or ticked in the form
    raised = scored(WHO, "demo_request")
    assert hand_raised(INTENT_MODEL, raised) and qualified_stage(INTENT_MODEL, raised) is Stage.SQL
    ticked = scored({**WHO, "buying_timeline": "3m", "demo_request": True}, "page_view")
    assert ticked.intent == 25.0 and qualified_stage(INTENT_MODEL, ticked) is Stage.SQL
    ticked_alone = scored({**WHO, "demo_request": True, "budget_range": "gt_50k"})
    assert ticked_alone.engagement == 0.0 and qualified_stage(INTENT_MODEL, ticked_alone) is Stage.SQL


def test_an_sql_whose_intent_evidence_goes_falls_back_to_mql() -> None:
    assert next_stage(INTENT_MODEL, Stage.SQL, scored(TOLD, "page_view")) is Stage.SQL
    assert next_stage(INTENT_MODEL, Stage.SQL, scored(WHO, "page_view", "page_view", "page_view")) is Stage.MQL


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

    def stage(fields: dict[str, object], *kinds: str) -> Stage:
        events = [Event(kind, AT) for kind in kinds]
        return qualified_stage(model, score_events(model, Profile(fields), events, AT))

    assert stage({"company_size": 100}) is Stage.ENGAGED
    assert stage({"company_size": 100}, "email_open") is Stage.ENGAGED  # 4 points: below the 5 of interest
    assert stage({"company_size": 100}, "page_view") is Stage.MQL
    assert stage({"company_size": 100}, "demo_request") is Stage.SQL
    assert stage({"company_size": 100, "buying_timeline": "3m"}) is Stage.SQL


_ANY_STAGE = st.none() | st.sampled_from(list(Stage))


@settings(max_examples=300, deadline=None)
@given(models(), profiles(), event_lists(), moments(), _ANY_STAGE)
def test_no_lead_with_zero_interest_is_ever_mql_and_none_without_intent_evidence_is_ever_sql(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime, current: Stage | None
) -> None:
    result = score_events(model, profile, evs, now)
    stage = next_stage(model, current, result)
    if interest(result) <= 0:
        assert stage not in (Stage.MQL, Stage.SQL)
    if stage is Stage.SQL:
        assert result.intent >= model.sql_gate.min_intent or hand_raised(model, result)
        assert result.engagement >= model.sql_gate.min_engagement or hand_raised(model, result)
        assert result.fit >= model.sql_gate.min_fit
    if stage in (Stage.MQL, Stage.SQL) and (current is None or current not in (Stage.MQL, Stage.SQL)):
        assert interest(result) >= model.mql_gate.min_interest
