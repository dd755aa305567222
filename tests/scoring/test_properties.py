"""Properties of the engine over random models, profiles and events.

Bounds, caps, decay, negative points, and the promise the capture side relies on:
a tally built in any order, in pieces kept as JSON in between, or from merged halves,
scores the same as folding every event at once.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.document import model_document, parse_model
from scoring.engine import Score, Tally, score, score_events
from scoring.inputs import Event, Profile
from scoring.model import ScoringModel
from tests.scoring.strategies import LAST, event_lists, events, model_documents, models, moments, profiles

FAST = settings(max_examples=120, deadline=None)


def assert_same_score(a: Score, b: Score) -> None:
    """Equal up to float rounding: 1e-9 on the scores, one display step (0.1) on contributions."""
    for name in ("fit", "intent", "engagement", "total", "completeness"):
        assert math.isclose(getattr(a, name), getattr(b, name), rel_tol=1e-9, abs_tol=1e-9), name
    assert a.disqualified == b.disqualified
    assert a.known_fields == b.known_fields
    mine = {c.rule: c for c in a.contributions}
    theirs = {c.rule: c for c in b.contributions}
    for rule in mine.keys() | theirs.keys():
        left = mine[rule].points if rule in mine else 0.0
        right = theirs[rule].points if rule in theirs else 0.0
        assert abs(left - right) <= 0.1 + 1e-9, rule
        if rule in mine and rule in theirs:
            assert mine[rule].count == theirs[rule].count


def rule_points(result: Score) -> dict[str, float]:
    return {c.rule: c.points for c in result.contributions}


# --- bounds and caps --------------------------------------------------------------------------


@FAST
@given(models(), profiles(), event_lists(), moments())
def test_every_score_stays_on_its_scale(model: ScoringModel, profile: Profile, evs: list[Event], now: datetime) -> None:
    result = score_events(model, profile, evs, now)
    assert 0.0 <= result.fit <= 100.0
    assert 0.0 <= result.engagement <= 100.0
    assert 0.0 <= result.intent <= 100.0
    assert 0.0 <= result.total <= 100.0
    assert 0.0 <= result.completeness <= 1.0
    weights = model.weights
    expected_total = weights.fit * result.fit + weights.intent * result.intent + weights.engagement * result.engagement
    assert math.isclose(result.total, min(100.0, expected_total), abs_tol=1e-9)


@FAST
@given(models(), profiles(), event_lists(), moments())
def test_each_rule_stays_within_its_cap_and_the_explanation_adds_up(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime
) -> None:
    result = score_events(model, profile, evs, now)
    rules = {rule.id: rule for rule in model.engagement}
    fit_rules = {rule.id: rule for rule in (*model.fit, *model.intent)}
    for contribution in result.contributions:
        if contribution.group == "engagement":
            rule = rules[contribution.rule]
            if rule.cap is not None:
                assert abs(contribution.points) <= rule.cap + 0.05
                if contribution.capped:
                    assert abs(contribution.points) == round(rule.cap, 1)
                    assert "capped at" in contribution.detail
            else:
                assert not contribution.capped
            if rule.window is not None:
                limit = abs(rule.points) if rule.cap is None else min(abs(rule.points), rule.cap)
                assert abs(contribution.points) == round(limit, 1)
                assert contribution.count == rule.window.count
            assert math.copysign(1, contribution.points) == math.copysign(1, rule.points)
        elif contribution.group in ("fit", "intent"):
            rule = fit_rules[contribution.rule]
            assert contribution.points == round(rule.points, 1)
            assert (rule in model.intent) == (contribution.group == "intent")
        else:
            assert contribution.points == 0 and contribution.label in result.disqualified
    # What the explanation lists is what the score is made of (each hidden rule is below 0.05).
    slack = 0.05 * (len(model.engagement) + len(model.fit) + len(model.intent)) + 1e-9
    for group, value in (("fit", result.fit), ("intent", result.intent), ("engagement", result.engagement)):
        listed = sum(c.points for c in result.contributions if c.group == group)
        assert abs(min(100.0, max(0.0, listed)) - value) <= slack
    # Disqualifiers first, then by |points|, largest first.
    order = [(c.group != "disqualifier", -abs(c.points)) for c in result.contributions]
    assert order == sorted(order)


@FAST
@given(models(), profiles(), event_lists(), moments())
def test_a_rule_for_a_segment_counts_only_for_leads_in_it(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime
) -> None:
    result = score_events(model, profile, evs, now)
    for contribution in result.contributions:
        rule = model.rule(contribution.rule)
        assert rule is not None
        if rule.when is not None:
            assert rule.when.holds(profile.fields)
            assert profile.fields.get("segment") is not None  # unknown: in no segment
    # the same lead outside every segment gets only the rules without one
    outside = Profile({k: v for k, v in profile.fields.items() if k != "segment"}, profile.email)
    for contribution in score_events(model, outside, evs, now).contributions:
        rule = model.rule(contribution.rule)
        assert rule is not None and (rule.when is None or "segment" not in {c.field for c in rule.when.conditions})


# --- time and sign ----------------------------------------------------------------------------


@FAST
@given(models("positive"), profiles(), event_lists(), moments(), st.integers(0, 400 * 86_400))
def test_positive_points_only_fade_with_time(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime, later: int
) -> None:
    tally = Tally(model)
    for event in evs:
        tally.add(event)
    early = score(model, profile, tally, now)
    late = score(model, profile, tally, now + timedelta(seconds=later))
    assert late.engagement <= early.engagement + 1e-9
    assert late.total <= early.total + 1e-9
    assert late.fit == early.fit
    before = rule_points(early)
    for rule, points in rule_points(late).items():
        if rule in before:
            assert points <= before[rule]


@FAST
@given(models("negative"), profiles(), event_lists(), moments(), st.integers(0, 400 * 86_400))
def test_negative_points_only_fade_towards_zero(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime, later: int
) -> None:
    tally = Tally(model)
    for event in evs:
        tally.add(event)
    early = rule_points(score(model, profile, tally, now))
    late = rule_points(score(model, profile, tally, now + timedelta(seconds=later)))
    for rule, points in early.items():
        assert late.get(rule, 0.0) >= points


_JOB_POINTS = st.integers(1, 40)
_JOB_KIND = st.sampled_from([{}, {"half_life_days": 30}, {"window": {"count": 2, "days": 7}}])
_JOB_CAP = st.none() | st.integers(1, 40)
_DOCUMENTS = model_documents()


@st.composite
def with_a_negative_rule(draw: st.DrawFn) -> ScoringModel:
    """A mixed model plus one or two negative rules on an event type nothing else counts."""
    document = draw(_DOCUMENTS)
    for index in range(1 + draw(st.booleans())):
        rule = {"id": f"job_{index}", "label": "Job seeker", "event": "job_page", "points": -draw(_JOB_POINTS)}
        rule.update(draw(_JOB_KIND))
        cap = draw(_JOB_CAP)
        if cap is not None or "window" not in rule:
            rule["cap"] = cap or 40
        document["engagement"].append(rule)
    return parse_model(document)


@FAST
@given(with_a_negative_rule(), profiles(), event_lists(), st.integers(0, 400 * 86_400), moments())
def test_an_event_with_negative_points_never_raises_a_score(
    model: ScoringModel, profile: Profile, evs: list[Event], offset: int, now: datetime
) -> None:
    job_page = Event("job_page", LAST - timedelta(seconds=offset), "/careers")
    assert model.matching_rules(job_page) and all(rule.points < 0 for rule in model.matching_rules(job_page))
    without = score_events(model, profile, evs, now)
    with_it = score_events(model, profile, [*evs, job_page], now)
    assert with_it.fit == without.fit
    assert with_it.engagement <= without.engagement + 1e-9
    assert with_it.total <= without.total + 1e-9
    if not any(c.rule.startswith("job_") for c in with_it.contributions):
        # a negative rule too faded to show (< 0.05 points each) can only have moved the score that little
        assert without.engagement - with_it.engagement < 0.1 + 1e-9


@FAST
@given(models("positive"), profiles(), event_lists(), events(), moments())
def test_an_event_with_positive_points_never_lowers_a_score(
    model: ScoringModel, profile: Profile, evs: list[Event], extra: Event, now: datetime
) -> None:
    without = score_events(model, profile, evs, now)
    with_it = score_events(model, profile, [*evs, extra], now)
    assert with_it.engagement >= without.engagement - 1e-9
    assert with_it.total >= without.total - 1e-9


# --- incremental == full ------------------------------------------------------------------------


@FAST
@given(models(), profiles(), event_lists(), moments(), st.data())
def test_any_order_gives_the_same_score(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime, data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(evs))
    assert_same_score(score_events(model, profile, shuffled, now), score_events(model, profile, evs, now))


@FAST
@given(models(), profiles(), event_lists(), moments(), st.data())
def test_one_at_a_time_through_stored_states_equals_all_at_once(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime, data: st.DataObject
) -> None:
    stops = set(data.draw(st.lists(st.integers(0, len(evs)), max_size=6)))
    tally = Tally.from_state(model, None)
    for index, event in enumerate(evs):
        if index in stops:
            # what the capture side does between two requests: keep the state as JSON on the lead row
            tally = Tally.from_state(model, json.loads(json.dumps(tally.state())))
        tally.add(event)
    tally = Tally.from_state(model, json.loads(json.dumps(tally.state())))
    assert_same_score(score(model, profile, tally, now), score_events(model, profile, evs, now))


@FAST
@given(models(), profiles(), event_lists(), moments(), st.data())
def test_merged_parts_equal_the_whole(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime, data: st.DataObject
) -> None:
    owners = data.draw(st.lists(st.integers(0, 2), min_size=len(evs), max_size=len(evs)))
    parts = [Tally(model) for _ in range(3)]
    for owner, event in zip(owners, evs):
        parts[owner].add(event)
    merged = Tally(model)
    for part in data.draw(st.permutations(parts)):
        merged.merge(part)
    assert_same_score(score(model, profile, merged, now), score_events(model, profile, evs, now))
    into_first = parts[0].copy()
    into_first.merge(parts[1])
    into_first.merge(parts[2])
    assert_same_score(score(model, profile, into_first, now), score_events(model, profile, evs, now))


@settings(max_examples=30, deadline=None)
@given(models(), st.integers(1, 6))
def test_the_state_stays_small_however_many_events(model: ScoringModel, seed: int) -> None:
    tally = Tally(model)
    start = LAST - timedelta(days=400)
    paths = ("/pricing", "/careers", "/blog/x", "/", None)
    props = ({"campaign": "spring"}, {"campaign": "autumn"}, {})
    evs = [
        Event(("page_view", "demo_request", "email_click")[i % 3], start + timedelta(minutes=i * seed),
              paths[(i * seed) % 5], props[(i // 5) % 3])
        for i in range(2000)
    ]  # fmt: skip
    for event in evs:
        tally.add(event)
    size = len(json.dumps(tally.state()))
    window_times = sum(rule.window.count for rule in model.engagement if rule.window is not None)
    assert size <= 40 + 70 * len(model.engagement) + 25 * window_times
    # the precompiled matchers count exactly the events each rule's own test accepts
    for rule in model.engagement:
        assert tally.count(rule.id) == sum(1 for event in evs if rule.matches(event))


@FAST
@given(_DOCUMENTS, profiles(), event_lists(), moments(), st.integers(1, 30))
def test_new_points_and_caps_keep_stored_tallies_valid(
    document: dict, profile: Profile, evs: list[Event], now: datetime, bump: int
) -> None:
    """A tally depends on which events count and how they decay, not on points or caps."""
    model = parse_model(document)
    tally = Tally(model)
    for event in evs:
        tally.add(event)
    changed = model_document(model)
    for rule in changed["engagement"]:
        rule["points"] = max(-100, min(100, rule["points"] + bump))
        rule["cap"] = bump
    repriced = parse_model(changed)
    assert repriced.tally_key == model.tally_key
    kept = Tally.from_state(repriced, tally.state())
    assert_same_score(score(repriced, profile, kept, now), score_events(repriced, profile, evs, now))


@FAST
@given(models(), event_lists(), st.data())
def test_the_state_as_json_text_is_exactly_what_json_dumps_writes(
    model: ScoringModel, evs: list[Event], data: st.DataObject
) -> None:
    """The bulk re-score stores ``state_json()``; readers decode it as they decoded ``json.dumps(state())``."""
    tally = Tally(model)
    for event in evs:
        tally.add(event)
    if data.draw(st.booleans()):
        tally = Tally.from_state(model, json.loads(json.dumps(tally.state())))
    assert tally.state_json() == json.dumps(tally.state())


def test_a_state_json_cannot_write_falls_back_on_json_dumps() -> None:
    """Infinity is no JSON number; ``repr`` would write ``inf``, json.dumps writes ``Infinity``."""
    model = parse_model(
        {"name": "m", "engagement": [{"id": "d", "label": "D", "event": "page_view", "points": 1, "half_life_days": 7}]}
    )
    tally = Tally.from_state(model, {"model": model.tally_key, "rules": {"d": [1, 1.5e9, float("inf")]}})
    assert (
        tally.state_json()
        == json.dumps(tally.state())
        == f'{{"model": "{model.tally_key}", "rules": {{"d": [1, 1500000000.0, Infinity]}}}}'
    )
