"""The engine on small hand-written models: decay, caps, windows, filters, fit checks, completeness, tallies."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scoring.document import ModelError, parse_model
from scoring.engine import Contribution, Tally, score, score_events
from scoring.inputs import Event, Profile
from scoring.model import ScoringModel

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NOBODY = Profile(fields={})


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def model(*engagement: dict[str, Any], fit: list[dict[str, Any]] | None = None, **top: Any) -> ScoringModel:
    rules = [{"id": f"rule_{i}", "label": f"Rule {i}", **rule} for i, rule in enumerate(engagement)]
    document: dict[str, Any] = {"name": "Test", "engagement": rules, "fit": fit or [], **top}
    return parse_model(document)


def points(result: Any, rule: str) -> float:
    found = [c.points for c in result.contributions if c.rule == rule]
    return found[0] if found else 0.0


# --- decay ------------------------------------------------------------------------------------


def test_an_event_loses_half_its_points_per_half_life() -> None:
    demo = model({"event": "demo_request", "points": 40, "half_life_days": 90})
    for age, expected in ((0, 40.0), (90, 20.0), (180, 10.0), (45, 40 * 0.5**0.5)):
        result = score_events(demo, NOBODY, [Event("demo_request", days_ago(age))], NOW)
        assert result.engagement == pytest.approx(expected, rel=1e-12)


def test_without_a_half_life_points_never_fade() -> None:
    signup = model({"event": "newsletter_signup", "points": 3})
    result = score_events(signup, NOBODY, [Event("newsletter_signup", days_ago(2000))], NOW)
    assert result.engagement == 3.0
    assert result.contributions[0].detail == "×1, latest 5 years ago"


def test_a_cap_limits_the_sum_and_says_so() -> None:
    pricing = model({"event": "page_view", "path": "/pricing*", "points": 10, "cap": 30, "half_life_days": 14})
    visits = [Event("page_view", NOW - timedelta(hours=h), "/pricing") for h in range(10)]
    result = score_events(pricing, NOBODY, visits, NOW)
    (contribution,) = result.contributions
    assert result.engagement == 30.0
    assert (contribution.points, contribution.count, contribution.capped) == (30.0, 10, True)
    assert contribution.detail == "×10, latest just now, half-life 14 days, capped at 30"
    # built by the engine's fast path, it is an ordinary frozen dataclass all the same
    built = Contribution("rule_0", "Rule 0", "engagement", 30.0, 10, True, contribution.detail)
    assert contribution == built and hash(contribution) == hash(built) and repr(contribution) == repr(built)
    assert result == score_events(pricing, NOBODY, list(reversed(visits)), NOW)
    with pytest.raises(dataclasses.FrozenInstanceError):
        contribution.points = 1.0  # type: ignore[misc]


def test_a_capped_burst_stays_at_the_cap_until_its_decayed_sum_falls_below_it() -> None:
    pricing = model({"event": "page_view", "points": 10, "cap": 30, "half_life_days": 14})
    visits = [Event("page_view", days_ago(0)) for _ in range(6)]  # 60 points, capped at 30
    tally = Tally(pricing)
    for event in visits:
        tally.add(event)
    assert score(pricing, NOBODY, tally, NOW + timedelta(days=13)).engagement == 30.0
    assert score(pricing, NOBODY, tally, NOW + timedelta(days=28)).engagement == pytest.approx(15.0)


def test_a_score_taken_before_the_latest_event_counts_no_event_above_its_full_points() -> None:
    demo = model({"event": "demo_request", "points": 40, "half_life_days": 1})
    result = score_events(demo, NOBODY, [Event("demo_request", NOW + timedelta(days=3))], NOW)
    assert result.engagement == 40.0


# --- windows ----------------------------------------------------------------------------------

BURST = {"event": "page_view", "path": "/pricing*", "points": 20, "window": {"count": 3, "days": 7}}


@pytest.mark.parametrize(
    ("ages", "expected"),
    [
        ((6, 3, 0), 20.0),  # three visits within the last week
        ((6.5, 0.5, 0.1, 0.2), 20.0),  # more than three is still the bonus, once
        ((3, 0), 0.0),  # twice is not enough
        ((20, 10, 0), 0.0),  # three times, but spread over three weeks
        ((9, 8, 8), 0.0),  # a burst that ended more than a week ago
    ],
)
def test_a_window_rule_awards_its_points_once_while_the_window_holds(ages: tuple[float, ...], expected: float) -> None:
    burst = model(BURST)
    result = score_events(burst, NOBODY, [Event("page_view", days_ago(age), "/pricing") for age in ages], NOW)
    assert result.engagement == expected


def test_a_window_holds_for_its_length_after_the_burst_then_stops() -> None:
    burst = model(BURST)
    tally = Tally(burst)
    for age in (2, 1, 0):
        tally.add(Event("page_view", days_ago(age), "/pricing"))
    assert score(burst, NOBODY, tally, NOW + timedelta(days=4, hours=23)).engagement == 20.0
    assert score(burst, NOBODY, tally, NOW + timedelta(days=5, hours=1)).engagement == 0.0
    (contribution,) = score(burst, NOBODY, tally, NOW).contributions
    assert contribution.count == 3 and contribution.detail == "×3 within 7 days, latest just now"


# --- matching ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "counts"),
    [("/pricing", True), ("/pricing/enterprise", True), ("/pricing-2026", True), ("/en/pricing", False),
     ("/Pricing", False), (None, False)],
)  # fmt: skip
def test_a_path_glob_matches_url_paths(path: str | None, counts: bool) -> None:
    pricing = model({"event": "page_view", "path": "/pricing*", "points": 10})
    assert score_events(pricing, NOBODY, [Event("page_view", NOW, path)], NOW).engagement == (10.0 if counts else 0.0)


def test_a_glob_with_a_slash_needs_something_after_it() -> None:
    blog = model({"event": "page_view", "path": "/blog/*", "points": 1})
    seen = [Event("page_view", NOW, path) for path in ("/blog", "/blog/", "/blog/post", "/blog/2026/post")]
    assert score_events(blog, NOBODY, seen, NOW).contributions[0].count == 3


def test_property_filters_compare_values_like_answers() -> None:
    clicks = model({"event": "email_click", "props": {"campaign": "spring", "step": 2}, "points": 5})
    sent = [
        Event("email_click", NOW, props={"campaign": "spring", "step": 2}),
        Event("email_click", NOW, props={"campaign": "spring", "step": 2.0, "extra": True}),
        Event("email_click", NOW, props={"campaign": "spring", "step": "2"}),
        Event("email_click", NOW, props={"campaign": "spring"}),
        Event("email_click", NOW),
    ]
    assert score_events(clicks, NOBODY, sent, NOW).engagement == 10.0


def test_one_event_counts_for_every_rule_it_matches() -> None:
    both = model(
        {"event": "page_view", "path": "/pricing*", "points": 10},
        {"event": "page_view", "points": 1},
        {"event": "page_view", "path": "/careers*", "points": -5, "cap": 5},
    )
    result = score_events(both, NOBODY, [Event("page_view", NOW, "/pricing")], NOW)
    assert {c.rule: c.points for c in result.contributions} == {"rule_0": 10.0, "rule_1": 1.0}
    assert [rule.id for rule in both.matching_rules(Event("page_view", NOW, "/pricing"))] == ["rule_0", "rule_1"]


def test_events_no_rule_names_change_nothing() -> None:
    pricing = model({"event": "page_view", "points": 10})
    tally = Tally(pricing)
    tally.add(Event("video_play", NOW))
    assert tally.state()["rules"] == {}


# --- negatives and the 0 floor --------------------------------------------------------------------

NEGATIVE = (
    {"event": "page_view", "path": "/careers*", "points": -15, "cap": 30, "half_life_days": 60},
    {"event": "demo_request", "points": 40, "half_life_days": 90},
)


def test_negative_points_lower_the_group_but_never_below_zero() -> None:
    mixed = model(*NEGATIVE)
    careers = [Event("page_view", days_ago(1), "/careers") for _ in range(5)]
    only_careers = score_events(mixed, NOBODY, careers, NOW)
    assert only_careers.engagement == 0.0
    assert points(only_careers, "rule_0") == -30.0  # capped, and still explained
    demo = Event("demo_request", NOW)
    assert score_events(mixed, NOBODY, [demo], NOW).engagement == 40.0
    assert score_events(mixed, NOBODY, [*careers, demo], NOW).engagement == pytest.approx(40 - 30)


def test_a_job_seeker_who_comes_back_as_a_buyer_is_not_trapped() -> None:
    mixed = model(*NEGATIVE)
    weeks_of_careers = [Event("page_view", days_ago(d), "/careers") for d in range(1, 60)]
    result = score_events(mixed, NOBODY, [*weeks_of_careers, Event("demo_request", NOW)], NOW)
    # 59 careers visits pull at most their cap, so the demo request still shows
    assert points(result, "rule_0") == -30.0
    assert result.engagement == pytest.approx(10.0)


def test_a_negative_engagement_rule_needs_a_cap_so_it_cannot_bury_a_lead() -> None:
    with pytest.raises(ModelError) as refused:
        model({"event": "page_view", "path": "/careers*", "points": -15, "half_life_days": 60})
    assert refused.value.problems == [
        "engagement[0].cap: is required for negative points, so they can never bury a lead that engages again"
    ]
    # a window rule awards its points once, so it is bounded already
    model({"event": "page_view", "points": -15, "window": {"count": 3, "days": 1}})


# --- fit --------------------------------------------------------------------------------------

FIT = [
    {"id": "mid_size", "label": "51-200 employees", "field": "company_size", "min": 51, "max": 200, "points": 20},
    {"id": "decider", "label": "Decision maker", "field": "decision_role", "equals": "decision_maker", "points": 20},
    {"id": "bant", "label": "Budget set", "field": "budget_range", "in": ["20k_50k", "gt_50k"], "points": 10},
    {
        "id": "title",
        "label": "Senior title",
        "field": "job_title",
        "mentions": ["head", "vice president"],
        "points": 10,
    },
    {"id": "need", "label": "Lead quality", "field": "challenges", "equals": "lead_quality", "points": 10},
    {"id": "phone", "label": "Phone given", "field": "phone", "known": True, "points": 5},
    {"id": "target", "label": "Target account", "email_domain": "targets", "points": 25},
    {"id": "freemail", "label": "Free-mail address", "email_domain": "free_mail", "points": -10},
]


def fit_model() -> ScoringModel:
    return model({"event": "page_view", "points": 1}, fit=FIT, domains={"targets": ["acme.com", "Globex.COM"]})


@pytest.mark.parametrize(
    ("fields", "email", "expected"),
    [
        ({"company_size": 120}, None, {"mid_size": 20.0}),
        ({"company_size": 51.0}, None, {"mid_size": 20.0}),
        ({"company_size": 201}, None, {}),
        ({"company_size": "120"}, None, {}),  # a text is not a number
        ({"company_size": True}, None, {}),
        ({"decision_role": "decision_maker"}, None, {"decider": 20.0}),
        ({"budget_range": "gt_50k"}, None, {"bant": 10.0}),
        ({"budget_range": "lt_5k"}, None, {}),
        ({"job_title": "Head of Sales"}, None, {"title": 10.0}),
        ({"job_title": "VICE PRESIDENT, Nordics"}, None, {"title": 10.0}),
        ({"job_title": "Headhunter"}, None, {}),
        ({"challenges": ["too_few_leads", "lead_quality"]}, None, {"need": 10.0}),
        ({"challenges": []}, None, {}),
        ({"phone": "+45 12 34 56 78"}, None, {"phone": 5.0}),
        ({"phone": None}, None, {}),
        ({}, "ann@acme.com", {"target": 25.0}),
        ({}, "bo@eu.acme.com", {"target": 25.0}),
        ({}, "cy@globex.com", {"target": 25.0}),
        ({}, "di@notacme.com", {}),
        ({}, "ed@gmail.com", {"freemail": -10.0}),
        ({}, "not-an-address", {}),
    ],
)
def test_fit_rules(fields: dict[str, Any], email: str | None, expected: dict[str, float]) -> None:
    result = score(fit_model(), Profile(fields=fields, email=email), Tally(fit_model()), NOW)
    assert {c.rule: c.points for c in result.contributions} == expected
    assert result.fit == max(0.0, sum(expected.values()))


def test_fit_explains_with_the_value_that_matched() -> None:
    result = score(fit_model(), Profile({"company_size": 120, "job_title": "Head of Sales"}, "a@eu.acme.com"),
                   Tally(fit_model()), NOW)  # fmt: skip
    details = {c.rule: c.detail for c in result.contributions}
    assert details == {
        "target": "e-mail domain eu.acme.com is on the targets list",
        "mid_size": "company_size = 120",
        "title": "job_title = Head of Sales",
    }
    assert [c.rule for c in result.contributions] == ["target", "mid_size", "title"]


def test_unknown_is_not_zero_completeness_tells_them_apart() -> None:
    weights = sum(abs(rule["points"]) for rule in FIT)  # 110
    fits = fit_model()
    new_lead = score(fits, Profile({"company_size": 120, "decision_role": "decision_maker"}), Tally(fits), NOW)
    assert new_lead.fit == 40.0
    assert new_lead.completeness == pytest.approx(40 / weights)
    answered_badly = Profile(
        {"company_size": 5, "decision_role": "user", "budget_range": "lt_5k", "job_title": "Assistant",
         "challenges": ["manual_work"], "phone": "12345678"},
        email="ann@other.dk",
    )  # fmt: skip
    known_bad = score(fits, answered_badly, Tally(fits), NOW)
    assert known_bad.fit == 5.0 and known_bad.completeness == 1.0  # only the phone number scored
    unknown = score(fits, NOBODY, Tally(fits), NOW)
    assert unknown.fit == 0.0 and unknown.completeness == 0.0


def test_completeness_of_a_model_without_fit_rules_is_complete() -> None:
    assert score_events(model({"event": "call", "points": 5}), NOBODY, [], NOW).completeness == 1.0


def test_weights_shape_the_total() -> None:
    weighted = model({"event": "call", "points": 40}, fit=FIT[:1], weights={"fit": 0.5, "engagement": 2})
    result = score_events(weighted, Profile({"company_size": 100}), [Event("call", NOW)], NOW)
    assert (result.fit, result.engagement, result.total) == (20.0, 40.0, 90.0)
    doubled = score_events(weighted, Profile({"company_size": 100}), [Event("call", NOW), Event("call", NOW)], NOW)
    assert doubled.total == 100.0


# --- disqualifiers ------------------------------------------------------------------------------


def test_a_disqualifier_is_a_reason_listed_first_not_a_deduction() -> None:
    blocked = model(
        {"event": "demo_request", "points": 40},
        fit=FIT[:2],
        domains={"rivals": ["rival.io"]},
        disqualifiers=[
            {"id": "competitor", "label": "Works for a competitor", "email_domain": "rivals"},
            {"id": "student", "label": "Student address", "email_domain": "student"},
            {"id": "unsubscribed", "label": "Asked not to be contacted", "field": "contact_ok", "equals": False},
        ],
    )
    profile = Profile({"company_size": 100, "decision_role": "decision_maker", "contact_ok": False}, "x@labs.rival.io")
    result = score_events(blocked, profile, [Event("demo_request", NOW)], NOW)
    assert result.total == 80.0
    assert result.disqualified == ("Works for a competitor", "Asked not to be contacted")
    assert [(c.rule, c.group, c.points) for c in result.contributions[:2]] == [
        ("competitor", "disqualifier", 0.0),
        ("unsubscribed", "disqualifier", 0.0),
    ]
    assert result.contributions[0].detail == "e-mail domain labs.rival.io is on the rivals list"


@pytest.mark.parametrize(
    ("email", "student"),
    [("a@mit.edu", True), ("a@ox.ac.uk", True), ("a@unsw.edu.au", True), ("a@student.aau.dk", True),
     ("a@stud.ntnu.no", True), ("a@studenti.example.ro", True), ("a@acme.com", False), ("a@education.com", False),
     ("a@ac.uk", False), ("a@student.com", False), ("a@edu.dk", False)],
)  # fmt: skip
def test_student_addresses(email: str, student: bool) -> None:
    checked = model(
        {"event": "call", "points": 1}, disqualifiers=[{"id": "s", "label": "Student", "email_domain": "student"}]
    )
    assert score_events(checked, Profile({}, email), [], NOW).disqualified == (("Student",) if student else ())


# --- tallies ------------------------------------------------------------------------------------


def test_naive_times_are_refused_rather_than_guessed() -> None:
    calls = model({"event": "call", "points": 5})
    with pytest.raises(ValueError, match="timezone-aware"):
        Tally(calls).add(Event("call", datetime(2026, 1, 1)))
    with pytest.raises(ValueError, match="timezone-aware"):
        score(calls, NOBODY, Tally(calls), datetime(2026, 1, 1))


def test_a_state_from_nothing_or_another_model_starts_empty() -> None:
    calls = model({"event": "call", "points": 5, "half_life_days": 30})
    other = model({"event": "call", "points": 5, "half_life_days": 60})
    tally = Tally(calls)
    tally.add(Event("call", NOW))
    for state in (None, tally.state(), {"something": "else"}, []):
        assert Tally.from_state(other, state).state() == {"model": other.tally_key, "rules": {}}  # type: ignore[arg-type]
    assert Tally.from_state(calls, tally.state()).state() == tally.state()


@pytest.mark.parametrize(
    "entry",
    [[0, 1.0, 1.0], [1, "x", 1.0], [1, 1.0], [True, 1.0, 1.0], "1", [1, 1.0, 1.0, 1.0]],
)
def test_a_damaged_state_of_this_model_is_an_error_not_a_silent_reset(entry: Any) -> None:
    calls = model({"event": "call", "points": 5, "half_life_days": 30})
    with pytest.raises(ValueError, match="damaged tally state for rule 'rule_0'"):
        Tally.from_state(calls, {"model": calls.tally_key, "rules": {"rule_0": entry}})


def test_a_damaged_window_state_is_an_error() -> None:
    burst = model(BURST)
    for times in ([], [1.0, 2.0, 3.0, 4.0], ["x"]):
        with pytest.raises(ValueError):
            Tally.from_state(burst, {"model": burst.tally_key, "rules": {"rule_0": [3, times]}})


def test_tallies_of_models_that_count_differently_do_not_mix() -> None:
    calls = model({"event": "call", "points": 5})
    pages = model({"event": "page_view", "points": 5})
    with pytest.raises(ValueError):
        Tally(calls).merge(Tally(pages))
    with pytest.raises(ValueError):
        score(calls, NOBODY, Tally(pages), NOW)


def test_a_state_is_plain_json_with_epoch_seconds() -> None:
    mixed = model(BURST, {"event": "call", "points": 5, "half_life_days": 30}, {"event": "call", "points": 1})
    tally = Tally(mixed)
    for age in (3, 2, 1, 0.5):
        tally.add(Event("page_view", days_ago(age), "/pricing"))
    tally.add(Event("call", days_ago(30)))
    tally.add(Event("call", days_ago(0)))
    state = json.loads(json.dumps(tally.state()))
    assert state["rules"]["rule_0"] == [4, [days_ago(a).timestamp() for a in (2, 1, 0.5)]]
    assert state["rules"]["rule_1"] == [2, NOW.timestamp(), pytest.approx(1.5)]
    assert state["rules"]["rule_2"] == [2, NOW.timestamp()]


def test_merging_keeps_the_other_tally_unchanged() -> None:
    calls = model({"event": "call", "points": 5, "half_life_days": 30})
    mine, theirs = Tally(calls), Tally(calls)
    mine.add(Event("call", days_ago(30)))
    theirs.add(Event("call", NOW))
    before = theirs.state()
    reverse = theirs.copy()
    reverse.merge(mine)
    mine.merge(theirs)
    assert theirs.state() == before
    assert score(calls, NOBODY, mine, NOW).engagement == pytest.approx(7.5)
    assert score(calls, NOBODY, reverse, NOW).engagement == pytest.approx(7.5)


def test_a_site_with_endless_unique_paths_keeps_counting_and_bounded_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import scoring.model

    monkeypatch.setattr(scoring.model, "MAX_ROUTES", 8)
    pages = model({"event": "page_view", "path": "/blog/*", "points": 1}, {"event": "page_view", "points": 0.5})
    tally = Tally(pages)
    for i in range(50):
        tally.add(Event("page_view", NOW, f"/blog/post-{i}"))
        tally.add(Event("page_view", NOW, f"/shop/item-{i}"))
    assert (tally.count("rule_0"), tally.count("rule_1")) == (50, 100)
    assert len(pages.routes["page_view"]) <= 8
