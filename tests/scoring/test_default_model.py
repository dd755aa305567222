"""The shipped default model: it reads the example sequence's fields (both paths) and scores the seeds' scenarios."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from scoring.document import default_model, model_document, parse_model
from scoring.engine import Score, score_events
from scoring.inputs import Event, Profile
from scoring.lifecycle import LifecycleStage, next_stage, qualified_stage
from scoring.model import Check, ScoringModel

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
EVENT_TYPES = {"page_view", "demo_request", "offer_request", "offer_download", "download", "newsletter_signup",
               "webinar_signup", "email_open", "email_click", "call"}  # fmt: skip
#: The example sequence's fields and option values (the contract between the sequence and this model):
#: None for free text and numbers, the options for a choice, (True, False) for a checkbox.
B2B, B2C = "b2b", "b2c"
EXAMPLE_FIELDS: dict[str, tuple[Any, ...] | None] = {
    "email": None, "first_name": None, "customer_type": (B2B, B2C), "buying_timeline": ("3m", "6m", "12m", "later"),
    "marketing_consent": (True, False),
    "existing_customer": ("yes", "no"), "bought_before": ("yes", "no"), "looking_for": None,
    "offer_request": (True, False),
    "company_name": None, "job_title": None, "company_size": None, "challenges": None,
    "switching_supplier": ("yes", "no"), "budget_range": ("lt_5k", "5k_20k", "20k_50k", "gt_50k", "unknown"),
    "decision_role": ("decision_maker", "influencer", "user", "other"), "demo_request": (True, False),
}  # fmt: skip
B2B_ONLY = {"company_name", "job_title", "company_size", "challenges", "switching_supplier", "budget_range",
            "decision_role", "demo_request"}  # fmt: skip
B2C_ONLY = {"existing_customer", "bought_before", "looking_for", "offer_request"}

#: Who a B2B lead is, and nothing it told us about buying: a mid-size company's head of sales.
WHO_ONLY = {"customer_type": B2B, "company_size": 200, "job_title": "Sales Manager"}
#: A B2B lead that fits and told us its budget, authority and timeline.
GOOD_FIT = Profile(
    fields={"customer_type": B2B, "company_size": 120, "job_title": "Head of Sales", "decision_role": "decision_maker",
            "budget_range": "20k_50k", "buying_timeline": "3m"},
    email="ann@northwind.example",
)  # fmt: skip
ANONYMOUS_COMPANY = Profile(fields={}, email="bo@northwind.example")


def ago(days: float = 0, hours: float = 0) -> datetime:
    return NOW - timedelta(days=days, hours=hours)


def page(path: str, at: datetime) -> Event:
    return Event("page_view", at, path)


def with_lists(**lists: list[str]) -> ScoringModel:
    document = model_document(default_model())
    document["domains"].update(lists)
    return parse_model(document)


def rules(result: Score) -> dict[str, float]:
    return {c.rule: c.points for c in result.contributions}


def stage_of(
    fields: dict[str, Any], events: list[Event] | None = None, email: str = "x@acme.example"
) -> LifecycleStage:
    model = default_model()
    return qualified_stage(model, score_events(model, Profile(fields, email), events or [], NOW))


# --- it fits the example sequence ----------------------------------------------------------------


def test_it_reads_only_fields_of_the_example_sequence() -> None:
    model = default_model()
    assert model.fields <= set(EXAMPLE_FIELDS)
    assert set(model.sql_gate.any_known) <= model.fields
    both_paths = {"company_size", "job_title", "decision_role", "budget_range", "buying_timeline", "challenges",
                  "existing_customer", "bought_before", "looking_for", "offer_request", "demo_request"}  # fmt: skip
    assert both_paths <= model.fields


def test_its_values_are_options_of_the_fields_they_test() -> None:
    model = default_model()
    for rule in (*model.fit, *model.intent, *model.disqualifiers):
        criterion = rule.criterion
        if criterion.field is None:
            continue
        options = EXAMPLE_FIELDS[criterion.field]
        if criterion.check in (Check.EQUALS, Check.IN) and options is not None:
            assert set(criterion.values) <= set(options), rule.id
        if criterion.check in (Check.RANGE, Check.MENTIONS):
            assert options is None, rule.id


def test_each_paths_rules_apply_to_that_path_only() -> None:
    """B2B rules read B2B answers and are for B2B leads; the same for B2C."""
    model = default_model()
    for rule in (*model.fit, *model.intent, *model.disqualifiers):
        for only, segment in ((B2B_ONLY, B2B), (B2C_ONLY, B2C)):
            if rule.criterion.field in only:
                assert rule.when is not None, rule.id
                assert [(c.field, c.operator.value, c.value) for c in rule.when.conditions] == [
                    ("customer_type", "equals", segment)
                ], rule.id


def test_it_counts_the_standard_events_and_pages() -> None:
    model = default_model()
    assert model.event_types == EVENT_TYPES
    assert {rule.path for rule in model.engagement if rule.path} == {"/pricing*", "/careers*", "/blog/*", "/demo*"}
    assert (model.thresholds.mql, model.thresholds.sql) == (25, 75)
    assert all(rule.label.isascii() for rule in (*model.fit, *model.engagement, *model.disqualifiers))


def test_its_points_follow_the_seeds() -> None:
    engagement = {rule.id: rule for rule in default_model().engagement}
    assert engagement["offer_request"].points == 20
    assert engagement["offer_download"].points == 40
    assert engagement["demo_request"].points >= 40
    assert engagement["careers_page"].points < 0
    low = ("blog", "newsletter_signup", "webinar_signup", "email_open", "email_click", "download")
    assert all(engagement[name].points <= 5 for name in low)
    # profile criteria in round numbers up to 50
    assert all(rule.points % 5 == 0 and 0 < abs(rule.points) <= 50 for rule in default_model().fit)


# --- the seeds' scenarios -------------------------------------------------------------------------


def test_the_pricing_page_three_times_in_a_week_is_high_intent() -> None:
    model = default_model()
    burst = [page("/pricing", ago(days=5)), page("/pricing/enterprise", ago(days=2)), page("/pricing", ago(hours=3))]
    result = score_events(model, ANONYMOUS_COMPANY, burst, NOW)
    assert rules(result)["pricing_burst"] == 20.0
    assert result.engagement > 45
    assert next_stage(model, LifecycleStage.ENGAGED, result) is LifecycleStage.MQL
    # the same three visits spread over two months are interest, not intent
    spread = [page("/pricing", ago(days=60)), page("/pricing", ago(days=30)), page("/pricing", ago(days=1))]
    slow = score_events(model, ANONYMOUS_COMPANY, spread, NOW)
    assert "pricing_burst" not in rules(slow)
    assert slow.engagement < 25
    assert next_stage(model, LifecycleStage.ENGAGED, slow) is LifecycleStage.ENGAGED


def test_top_of_funnel_clicks_alone_do_not_make_an_mql() -> None:
    """Seed 002: ten opened mails and two clicks on content that moves nothing is not a lead."""
    model = default_model()
    clicks = [Event("email_open", ago(days=d)) for d in range(10)] + [Event("email_click", ago(days=d)) for d in (1, 4)]
    blog = [page(f"/blog/post-{i}", ago(days=i)) for i in range(8)]
    result = score_events(model, ANONYMOUS_COMPANY, [*clicks, *blog, Event("newsletter_signup", ago(days=20))], NOW)
    # each kind is held down by its cap: blog 5, clicks 3.8, opens 3, newsletter 2.8
    assert rules(result) == {"blog": 5.0, "email_click": 3.8, "email_open": 3.0, "newsletter_signup": 2.8}
    assert result.engagement < model.thresholds.mql
    assert next_stage(model, LifecycleStage.ENGAGED, result) is LifecycleStage.ENGAGED


def test_the_careers_page_lowers_engagement() -> None:
    model = default_model()
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
    for current in (None, LifecycleStage.ENGAGED, LifecycleStage.MQL, LifecycleStage.SQL):
        assert next_stage(model, current, result) is LifecycleStage.ENGAGED


def test_a_student_address_is_disqualified() -> None:
    model = default_model()
    student = Profile(fields=dict(GOOD_FIT.fields), email="kim@student.ku.dk")  # a B2B lead
    result = score_events(model, student, [Event("demo_request", NOW)], NOW)
    assert result.disqualified == ("Student or school e-mail address",)
    assert next_stage(model, None, result) is LifecycleStage.ENGAGED


def test_an_old_burst_fades_after_months() -> None:
    model = default_model()
    burst = [page("/pricing", ago(days=180, hours=h)) for h in range(6)] + [Event("demo_request", ago(days=180))]
    then = score_events(model, ANONYMOUS_COMPANY, burst, ago(days=180))
    assert then.engagement == 90.0
    assert rules(then) == {"pricing_page": 30.0, "pricing_burst": 20.0, "demo_request": 40.0}
    assert next_stage(model, LifecycleStage.ENGAGED, then) is LifecycleStage.MQL
    now = score_events(model, ANONYMOUS_COMPANY, burst, NOW)
    assert rules(now) == {"demo_request": 10.0}  # two half-lives of 90 days; pricing (14 days) is all but gone
    assert 10.0 < now.engagement < 10.1
    # six months of silence later the lead is back with marketing
    assert next_stage(model, LifecycleStage.MQL, now) is LifecycleStage.ENGAGED


def test_sql_is_never_reached_on_clicks_alone() -> None:
    model = default_model()
    frenzy = [Event(kind, ago(hours=h)) for h in range(3) for kind in ("demo_request", "offer_download", "call")]
    frenzy += [page("/pricing", ago(hours=h)) for h in range(5)]
    result = score_events(model, ANONYMOUS_COMPANY, frenzy, NOW)
    assert result.total == 100.0 and result.fit == 0.0
    assert next_stage(model, LifecycleStage.ENGAGED, result) is LifecycleStage.MQL
    answered = score_events(model, GOOD_FIT, frenzy, NOW)
    assert next_stage(model, LifecycleStage.ENGAGED, answered) is LifecycleStage.SQL


def test_a_good_fit_with_an_offer_download_goes_straight_to_sql() -> None:
    model = default_model()
    result = score_events(model, GOOD_FIT, [Event("offer_download", ago(days=2))], NOW)
    assert result.fit == 30.0  # size 20 + title 10
    assert result.intent == 60.0  # decides 20 + budget 20 + 3 months 20
    assert next_stage(model, LifecycleStage.ENGAGED, result) is LifecycleStage.SQL


def test_a_target_account_scores_its_fit_from_the_email_domain() -> None:
    model = with_lists(target_accounts=["northwind.example"], customers=["globex.example"])
    b2b = {"customer_type": B2B}
    assert rules(score_events(model, Profile(b2b, "bo@northwind.example"), [], NOW)) == {"target_account": 25.0}
    customer = score_events(model, Profile({}, "it@eu.globex.example"), [], NOW)
    assert rules(customer) == {"customer_domain": 10.0}
    assert rules(score_events(model, Profile(b2b, "me@gmail.com"), [], NOW)) == {"free_mail": -10.0}


def test_a_new_lead_with_two_good_answers_is_unknown_not_a_bad_fit() -> None:
    model = default_model()
    fields = {"customer_type": B2B, "company_size": 300, "decision_role": "decision_maker"}
    two_answers = score_events(model, Profile(fields), [], NOW)
    assert (two_answers.fit, two_answers.intent) == (20.0, 20.0)
    # of the B2B fit rules (size 45, title 10, target 25, free mail 10, customer 10), the size rules are known
    assert two_answers.completeness == pytest.approx(45 / 100)
    everything_known_badly = Profile(
        {"customer_type": B2B, "company_size": 3, "job_title": "Office assistant", "decision_role": "user",
         "budget_range": "unknown", "buying_timeline": "later", "switching_supplier": "no", "challenges": []},
        email="x@gmail.com",
    )  # fmt: skip
    bad = score_events(model, everything_known_badly, [], NOW)
    assert bad.fit == 0.0 and bad.completeness == 1.0


def test_the_explanation_lists_every_reason_largest_first() -> None:
    model = default_model()
    events = [Event("offer_request", ago(days=1)), page("/blog/a", ago(days=2)), page("/careers", ago(days=1))]
    result = score_events(model, GOOD_FIT, events, NOW)
    listed = [(c.rule, c.group, c.points) for c in result.contributions]
    assert listed == [
        ("company_size_core", "fit", 20.0),
        ("budget_large", "intent", 20.0),
        ("decision_maker", "intent", 20.0),
        ("timeline_3m", "intent", 20.0),
        ("offer_request", "engagement", 19.8),
        ("careers_page", "engagement", -14.8),
        ("senior_title", "fit", 10.0),
        ("blog", "engagement", 1.0),
    ]
    offer = next(c for c in result.contributions if c.rule == "offer_request")
    assert offer.detail == "×1, latest 1 day ago, half-life 60 days"


# --- qualification needs intent -------------------------------------------------------------------


def test_who_a_lead_is_never_makes_it_an_mql() -> None:
    """Company size 200 and a manager's title is fit 30, above the MQL threshold: still only engaged."""
    assert stage_of(WHO_ONLY) is LifecycleStage.ENGAGED
    model = with_lists(target_accounts=["acme.example"])
    result = score_events(model, Profile(WHO_ONLY, "cy@acme.example"), [], NOW)
    assert result.fit == 55.0 and result.total == 55.0
    assert next_stage(model, None, result) is LifecycleStage.ENGAGED


def test_a_buying_timeline_or_behaviour_shows_the_interest_an_mql_needs() -> None:
    assert stage_of({**WHO_ONLY, "buying_timeline": "3m"}) is LifecycleStage.MQL
    assert stage_of(WHO_ONLY, [page("/pricing", NOW)]) is LifecycleStage.MQL
    # a top-of-funnel trickle below the gate's 10 points of interest is not enough
    assert (
        stage_of(WHO_ONLY, [Event("email_open", ago(hours=1)), Event("email_click", ago(hours=1))])
        is LifecycleStage.ENGAGED
    )


def test_answers_alone_are_not_an_sql_without_behaviour() -> None:
    """BANT answers with a total of 90 and no engagement: an MQL until the lead does something."""
    model = default_model()
    told = score_events(model, GOOD_FIT, [], NOW)
    assert told.total == 90.0 and told.engagement == 0.0
    assert qualified_stage(model, told) is LifecycleStage.MQL
    assert stage_of(dict(GOOD_FIT.fields), [page("/pricing", NOW)]) is LifecycleStage.SQL


def test_the_forms_demo_request_is_a_hand_raise() -> None:
    """Ticking "I would like a demo" is intent and stands in for behaviour: straight to SQL."""
    model = default_model()
    result = score_events(model, Profile({**GOOD_FIT.fields, "demo_request": True}), [], NOW)
    assert ("demo_requested", "intent", 30.0) in [(c.rule, c.group, c.points) for c in result.contributions]
    assert result.engagement == 0.0
    assert qualified_stage(model, result) is LifecycleStage.SQL
    assert stage_of({**GOOD_FIT.fields, "demo_request": False}) is LifecycleStage.MQL


def test_a_demo_request_event_is_a_hand_raise_too() -> None:
    """A fit lead with a timeline who requests a demo on the site: evidence of intent and behaviour at once."""
    fields = {**WHO_ONLY, "buying_timeline": "6m"}
    assert stage_of(fields, [Event("demo_request", ago(hours=1))]) is LifecycleStage.SQL
    # the same points from webinars and pricing views without a hand-raise: intent 10 is below the gate's 20
    browsing = [page("/pricing", ago(hours=h)) for h in range(3)] + [Event("webinar_signup", ago(days=1))]
    assert stage_of(fields, browsing) is LifecycleStage.MQL


def test_a_b2c_lead_is_scored_by_the_b2c_rules() -> None:
    model = default_model()
    fields = {"customer_type": B2C, "existing_customer": "yes", "looking_for": ["espresso"], "offer_request": True,
              "buying_timeline": "3m", "company_size": 5000, "job_title": "CEO"}  # fmt: skip
    result = score_events(model, Profile(fields, "mia@gmail.com"), [], NOW)
    assert rules(result) == {"existing_customer": 20.0, "timeline_3m": 20.0, "offer_requested": 20.0,
                             "looking_for": 10.0}  # fmt: skip
    # no free-mail penalty, no company size, no title for a private buyer; the offer request is a hand-raise
    assert qualified_stage(model, result) is LifecycleStage.MQL  # 70, below 75
    assert stage_of(fields, [page("/pricing", NOW)], "mia@gmail.com") is LifecycleStage.SQL


def test_a_b2b_lead_is_not_scored_by_the_b2c_rules() -> None:
    fields = {"customer_type": B2B, "existing_customer": "yes", "looking_for": ["espresso"], "offer_request": True}
    result = score_events(default_model(), Profile(fields), [], NOW)
    assert rules(result) == {}


def test_a_lead_that_has_not_said_b2b_or_b2c_gets_only_the_shared_rules() -> None:
    fields = {"company_size": 200, "existing_customer": "yes", "buying_timeline": "3m"}
    result = score_events(default_model(), Profile(fields, "kim@gmail.com"), [], NOW)
    assert rules(result) == {"timeline_3m": 20.0}


@pytest.mark.parametrize(
    "title", ["Marketing Intern", "Praktikant", "Stagiar vânzări", "Graduate Trainee", "Student assistant", "Elev"]
)
def test_a_student_or_intern_title_disqualifies_a_b2b_lead(title: str) -> None:
    model = default_model()
    fields = {**GOOD_FIT.fields, "job_title": title}
    result = score_events(model, Profile(fields), [Event("demo_request", NOW)], NOW)
    assert result.disqualified == ("Student, intern or trainee",)
    assert qualified_stage(model, result) is LifecycleStage.ENGAGED


def test_internal_and_international_titles_are_not_interns() -> None:
    fields = {**GOOD_FIT.fields, "job_title": "Head of International Sales, Internal Audit"}
    assert not score_events(default_model(), Profile(fields), [], NOW).disqualified


def test_a_student_address_does_not_disqualify_a_private_buyer() -> None:
    model = default_model()
    b2c = score_events(model, Profile({"customer_type": B2C}, "kim@student.ku.dk"), [], NOW)
    assert b2c.disqualified == ()
    b2b = score_events(model, Profile({"customer_type": B2B}, "kim@student.ku.dk"), [], NOW)
    assert b2b.disqualified == ("Student or school e-mail address",)


def test_filling_in_the_domain_lists_changes_nothing_else() -> None:
    document: dict[str, Any] = copy.deepcopy(model_document(default_model()))
    document["domains"]["competitors"] = ["rival.example"]
    model = parse_model(document)
    assert model.tally_key == default_model().tally_key
    assert model != default_model()
