"""The shipped B2B model: it reads what the B2B sequence asks and scores the seeds' scenarios as marketers expect."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from profiling.document import loads
from profiling.sequence import QuestionType
from scoring.document import default_b2b_model, model_document, parse_model
from scoring.engine import Score, score_events
from scoring.events import Event
from scoring.lifecycle import Stage, next_stage
from scoring.model import Check, ScoringModel
from scoring.profile import Profile

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
B2B_SEQUENCE = loads((ROOT / "docs" / "examples" / "b2b.yaml").read_text(encoding="utf-8"))
EVENT_TYPES = {"page_view", "demo_request", "offer_request", "offer_download", "download", "newsletter_signup",
               "webinar_signup", "email_open", "email_click", "call"}  # fmt: skip

#: A lead that fits: a mid-size company, a decision maker with a budget, buying soon.
GOOD_FIT = Profile(
    fields={"company_size": 120, "job_title": "Head of Sales", "decision_role": "decision_maker",
            "budget_range": "20k_50k", "buying_timeline": "3m"},
    email="ann@northwind.example",
)  # fmt: skip
ANONYMOUS_COMPANY = Profile(fields={}, email="bo@northwind.example")


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def page(path: str, at: datetime) -> Event:
    return Event("page_view", at, path)


def with_lists(**lists: list[str]) -> ScoringModel:
    document = model_document(default_b2b_model())
    document["domains"].update(lists)
    return parse_model(document)


def rules(result: Score) -> dict[str, float]:
    return {c.rule: c.points for c in result.contributions}


# --- it fits the B2B sequence ---------------------------------------------------------------------


def test_it_reads_only_fields_the_b2b_sequence_asks() -> None:
    asked = {question.field for _, question in B2B_SEQUENCE.questions()}
    model = default_b2b_model()
    assert model.fields <= asked
    assert set(model.sql_gate.any_known) <= model.fields
    assert {
        "company_size",
        "job_title",
        "decision_role",
        "budget_range",
        "buying_timeline",
        "challenges",
    } <= model.fields


def test_its_values_are_options_of_the_questions_they_test() -> None:
    questions = {question.field: question for _, question in B2B_SEQUENCE.questions()}
    for rule in default_b2b_model().fit:
        criterion = rule.criterion
        if criterion.field is None:
            continue
        question = questions[criterion.field]
        if criterion.check in (Check.EQUALS, Check.IN) and question.options:
            assert set(criterion.values) <= set(question.option_values), rule.id
        if criterion.check is Check.RANGE:
            assert question.type is QuestionType.NUMBER, rule.id
        if criterion.check is Check.MENTIONS:
            assert question.type is QuestionType.TEXT, rule.id


def test_it_counts_the_standard_events_and_pages() -> None:
    model = default_b2b_model()
    assert model.event_types == EVENT_TYPES
    assert {rule.path for rule in model.engagement if rule.path} == {"/pricing*", "/careers*", "/blog/*", "/demo*"}
    assert (model.thresholds.mql, model.thresholds.sql) == (25, 75)
    assert all(rule.label.isascii() for rule in (*model.fit, *model.engagement, *model.disqualifiers))


def test_its_points_follow_the_seeds() -> None:
    engagement = {rule.id: rule for rule in default_b2b_model().engagement}
    assert engagement["offer_request"].points == 20
    assert engagement["offer_download"].points == 40
    assert engagement["demo_request"].points >= 40
    assert engagement["careers_page"].points < 0
    low = ("blog", "newsletter_signup", "webinar_signup", "email_open", "email_click", "download")
    assert all(engagement[name].points <= 5 for name in low)
    # profile criteria in round numbers up to 50
    assert all(rule.points % 5 == 0 and 0 < abs(rule.points) <= 50 for rule in default_b2b_model().fit)


# --- the seeds' scenarios -------------------------------------------------------------------------


def test_the_pricing_page_three_times_in_a_week_is_high_intent() -> None:
    model = default_b2b_model()
    burst = [page("/pricing", ago(days=5)), page("/pricing/enterprise", ago(days=2)), page("/pricing", ago(hours=3))]
    result = score_events(model, ANONYMOUS_COMPANY, burst, NOW)
    assert rules(result)["pricing_burst"] == 20.0
    assert result.engagement > 45
    assert next_stage(model, Stage.ENGAGED, result) is Stage.MQL
    # the same three visits spread over two months are interest, not intent
    spread = [page("/pricing", ago(days=60)), page("/pricing", ago(days=30)), page("/pricing", ago(days=1))]
    slow = score_events(model, ANONYMOUS_COMPANY, spread, NOW)
    assert "pricing_burst" not in rules(slow)
    assert slow.engagement < 25
    assert next_stage(model, Stage.ENGAGED, slow) is Stage.ENGAGED


def test_top_of_funnel_clicks_alone_do_not_make_an_mql() -> None:
    """Seed 002: ten opened mails and two clicks on content that moves nothing is not a lead."""
    model = default_b2b_model()
    clicks = [Event("email_open", ago(days=d)) for d in range(10)] + [Event("email_click", ago(days=d)) for d in (1, 4)]
    blog = [page(f"/blog/post-{i}", ago(days=i)) for i in range(8)]
    result = score_events(model, ANONYMOUS_COMPANY, [*clicks, *blog, Event("newsletter_signup", ago(days=20))], NOW)
    # each kind is held down by its cap: blog 5, clicks 3.8, opens 3, newsletter 2.8
    assert rules(result) == {"blog": 5.0, "email_click": 3.8, "email_open": 3.0, "newsletter_signup": 2.8}
    assert result.engagement < model.thresholds.mql
    assert next_stage(model, Stage.ENGAGED, result) is Stage.ENGAGED


def test_the_careers_page_lowers_engagement() -> None:
    model = default_b2b_model()
    visits = [page("/pricing", ago(days=1)), Event("webinar_signup", ago(days=3))]
    without = score_events(model, GOOD_FIT, visits, NOW)
    with_careers = score_events(model, GOOD_FIT, [*visits, page("/careers/open-positions", ago(days=1))], NOW)
    assert with_careers.engagement < without.engagement
    assert rules(with_careers)["careers_page"] == pytest.approx(-15 * 0.5 ** (1 / 60), abs=0.05)
    assert with_careers.fit == without.fit


def test_a_competitor_is_disqualified_whatever_the_points() -> None:
    model = with_lists(competitors=["rival.example"])
    rival = Profile(fields=dict(GOOD_FIT.fields), email="spy@nordic.rival.example")
    everything = [Event("demo_request", ago(days=1)), Event("offer_download", ago(days=1)), Event("call", NOW)]
    everything += [page("/pricing", ago(days=d)) for d in (0, 1, 2)]
    result = score_events(model, rival, everything, NOW)
    assert result.total == 100.0
    assert result.disqualified == ("Works for a competitor",)
    assert result.contributions[0].rule == "competitor"
    for current in (None, Stage.ENGAGED, Stage.MQL, Stage.SQL):
        assert next_stage(model, current, result) is Stage.ENGAGED


def test_a_student_address_is_disqualified() -> None:
    model = default_b2b_model()
    student = Profile(fields=dict(GOOD_FIT.fields), email="kim@student.ku.dk")
    result = score_events(model, student, [Event("demo_request", NOW)], NOW)
    assert result.disqualified == ("Student or school e-mail address",)
    assert next_stage(model, None, result) is Stage.ENGAGED


def test_an_old_burst_fades_after_months() -> None:
    model = default_b2b_model()
    burst = [page("/pricing", ago(days=180, hours=h)) for h in range(6)] + [Event("demo_request", ago(days=180))]
    then = score_events(model, ANONYMOUS_COMPANY, burst, ago(days=180))
    assert then.engagement == 90.0
    assert rules(then) == {"pricing_page": 30.0, "pricing_burst": 20.0, "demo_request": 40.0}
    assert next_stage(model, Stage.ENGAGED, then) is Stage.MQL
    now = score_events(model, ANONYMOUS_COMPANY, burst, NOW)
    assert rules(now) == {"demo_request": 10.0}  # two half-lives of 90 days; pricing (14 days) is all but gone
    assert 10.0 < now.engagement < 10.1
    # six months of silence later the lead is back with marketing
    assert next_stage(model, Stage.MQL, now) is Stage.ENGAGED


def test_sql_is_never_reached_on_clicks_alone() -> None:
    model = default_b2b_model()
    frenzy = [Event(kind, ago(hours=h)) for h in range(3) for kind in ("demo_request", "offer_download", "call")]
    frenzy += [page("/pricing", ago(hours=h)) for h in range(5)]
    result = score_events(model, ANONYMOUS_COMPANY, frenzy, NOW)
    assert result.total == 100.0 and result.fit == 0.0
    assert next_stage(model, Stage.ENGAGED, result) is Stage.MQL
    answered = score_events(model, GOOD_FIT, frenzy, NOW)
    assert next_stage(model, Stage.ENGAGED, answered) is Stage.SQL


def test_a_good_fit_with_an_offer_download_goes_straight_to_sql() -> None:
    model = default_b2b_model()
    result = score_events(model, GOOD_FIT, [Event("offer_download", ago(days=2))], NOW)
    assert result.fit == 90.0  # size 20 + title 10 + decides 20 + budget 20 + 3 months 20
    assert next_stage(model, Stage.ENGAGED, result) is Stage.SQL


def test_a_target_account_scores_its_fit_from_the_email_domain() -> None:
    model = with_lists(target_accounts=["northwind.example"], customers=["globex.example"])
    assert rules(score_events(model, ANONYMOUS_COMPANY, [], NOW)) == {"target_account": 25.0}
    customer = score_events(model, Profile({}, "it@eu.globex.example"), [], NOW)
    assert rules(customer) == {"existing_customer": 10.0}
    assert rules(score_events(model, Profile({}, "me@gmail.com"), [], NOW)) == {"free_mail": -10.0}


def test_a_new_lead_with_two_good_answers_is_unknown_not_a_bad_fit() -> None:
    model = default_b2b_model()
    two_answers = score_events(model, Profile({"company_size": 300, "decision_role": "decision_maker"}), [], NOW)
    assert two_answers.fit == 40.0
    assert two_answers.completeness == pytest.approx(75 / 235)  # size rules 45 + role rules 30, of 235
    everything_known_badly = Profile(
        {"company_size": 3, "job_title": "Intern", "decision_role": "user", "budget_range": "not_set",
         "budget_status": "not_yet", "buying_timeline": "later", "switching_supplier": "no", "challenges": []},
        email="x@gmail.com",
    )  # fmt: skip
    bad = score_events(model, everything_known_badly, [], NOW)
    assert bad.fit == 0.0 and bad.completeness == 1.0


def test_the_explanation_lists_every_reason_largest_first() -> None:
    model = default_b2b_model()
    events = [Event("offer_request", ago(days=1)), page("/blog/a", ago(days=2)), page("/careers", ago(days=1))]
    result = score_events(model, GOOD_FIT, events, NOW)
    listed = [(c.rule, c.group, c.points) for c in result.contributions]
    assert listed == [
        ("budget_large", "fit", 20.0),
        ("company_size_core", "fit", 20.0),
        ("decision_maker", "fit", 20.0),
        ("timeline_3m", "fit", 20.0),
        ("offer_request", "engagement", 19.8),
        ("careers_page", "engagement", -14.8),
        ("senior_title", "fit", 10.0),
        ("blog", "engagement", 1.0),
    ]
    offer = next(c for c in result.contributions if c.rule == "offer_request")
    assert offer.detail == "×1, latest 1 day ago, half-life 60 days"


def test_filling_in_the_domain_lists_changes_nothing_else() -> None:
    document: dict[str, Any] = copy.deepcopy(model_document(default_b2b_model()))
    document["domains"]["competitors"] = ["rival.example"]
    model = parse_model(document)
    assert model.tally_key == default_b2b_model().tally_key
    assert model != default_b2b_model()
