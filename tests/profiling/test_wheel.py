"""The knowledge wheel's selection rule, as properties over random sequences plus a few worked examples.

The rule, as these tests state it. A question is *open* on a visit when

- it applies: every condition holds on the latest known values;
- its field is unknown, or stale: answered ``freshness_days`` or more days ago (per question);
- it is not declined for good (skipped more than ``max_reasks`` times);
- it is not snoozed: skipped on visit *v*, it stays out while the visit is below *v* + ``snooze_visits``.

Open questions queue in this order: first those never skipped, in sequence order, except that with
``email_first`` the never-skipped ``email`` questions come before every other never-skipped one;
then those that were skipped and have come back, in sequence order. The plan walks that queue,
leaves out a question whose field is already in the plan, and stops at ``questions_per_visit``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forms import validate_answers
from profiling.document import DocumentError, load
from profiling.sequence import Condition, Operator, Question, QuestionType, Sequence
from profiling.wheel import Knowledge, Known, Plan, Snooze, Status, next_questions
from tests.profiling.strategies import sequences, value_for

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SEQUENCES = sequences(rich=False)


# --- the rule, written out independently of profiling/wheel.py ----------------------------------


def _same(known: Any, wanted: Any) -> bool:
    if isinstance(known, bool) or isinstance(wanted, bool):
        return isinstance(known, bool) and isinstance(wanted, bool) and known == wanted
    return bool(known == wanted)  # 50 == 50.0 in Python already


def holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    """The documented meaning of a condition (docs/sequence-format.md, Conditions)."""
    if condition.field not in values:
        return False
    known, wanted, op = values[condition.field], condition.value, condition.operator
    if op is Operator.KNOWN:
        return True
    if op is Operator.CONTAINS:
        return isinstance(known, list) and wanted in known
    if op is Operator.EQUALS:
        return _same(known, wanted)
    if op is Operator.NOT_EQUALS:
        return not _same(known, wanted)
    if op is Operator.IN:
        return any(_same(known, item) for item in wanted)
    if op is Operator.NOT_IN:
        return not any(_same(known, item) for item in wanted)
    if isinstance(known, bool) or not isinstance(known, (int, float)):
        return False
    compare = {
        Operator.GT: known > wanted,
        Operator.GTE: known >= wanted,
        Operator.LT: known < wanted,
        Operator.LTE: known <= wanted,
    }
    return bool(compare[op])


def applies(question: Question, values: Mapping[str, Any]) -> bool:
    return all(holds(condition, values) for condition in question.conditions)


def fresh(question: Question, knowledge: Knowledge, now: datetime) -> bool:
    """Known, and answered less than ``freshness_days`` ago (if the question has one)."""
    known = knowledge.fields.get(question.field)
    if known is None:
        return False
    return question.freshness_days is None or now - known.answered_at < timedelta(days=question.freshness_days)


def declined(question: Question, knowledge: Knowledge, sequence: Sequence) -> bool:
    snooze = knowledge.snoozes.get(question.key)
    return snooze is not None and snooze.skips > sequence.settings.max_reasks


def snoozed(question: Question, knowledge: Knowledge, sequence: Sequence) -> bool:
    snooze = knowledge.snoozes.get(question.key)
    return snooze is not None and knowledge.visit < snooze.last_visit + sequence.settings.snooze_visits


def is_open(question: Question, sequence: Sequence, knowledge: Knowledge, now: datetime) -> bool:
    return (
        applies(question, knowledge.values())
        and not fresh(question, knowledge, now)
        and not declined(question, knowledge, sequence)
        and not snoozed(question, knowledge, sequence)
    )


def queue(sequence: Sequence, knowledge: Knowledge, now: datetime) -> list[Question]:
    """Every open question, in the order the rule takes them."""
    open_ = [q for _, q in sequence.questions() if is_open(q, sequence, knowledge, now)]
    never_skipped = [q for q in open_ if q.key not in knowledge.snoozes]
    returning = [q for q in open_ if q.key in knowledge.snoozes]
    if sequence.settings.email_first:
        emails = [q for q in never_skipped if q.type is QuestionType.EMAIL]
        never_skipped = emails + [q for q in never_skipped if q.type is not QuestionType.EMAIL]
    return never_skipped + returning


def expected_questions(sequence: Sequence, knowledge: Knowledge, now: datetime) -> list[Question]:
    chosen: list[Question] = []
    for question in queue(sequence, knowledge, now):
        if len(chosen) == sequence.settings.questions_per_visit:
            break
        if question.field not in {q.field for q in chosen}:
            chosen.append(question)
    return chosen


def keys(plan: Plan) -> list[str]:
    return [q.key for q in plan.questions]


# --- random knowledge about a lead --------------------------------------------------------------


@st.composite
def knowledge_for(draw: st.DrawFn, sequence: Sequence) -> Knowledge:
    """Some fields known (some of them near or past their freshness), some questions skipped."""
    visit = draw(st.integers(1, 8))
    by_field: dict[str, list[Question]] = {}
    for _, question in sequence.questions():
        by_field.setdefault(question.field, []).append(question)
    fields = {}
    for name, questions in by_field.items():
        if draw(st.booleans()):
            source = draw(st.sampled_from(questions))
            age = timedelta(days=draw(st.integers(0, 70)), seconds=draw(st.sampled_from([0, 0, 1, 3600])))
            fields[name] = Known(value=draw(value_for(source)), answered_at=NOW - age)
    snoozes = {}
    for _, question in sequence.questions():
        if draw(st.integers(0, 3)) == 0:
            skips = draw(st.integers(1, sequence.settings.max_reasks + 2))
            snoozes[question.key] = Snooze(skips=skips, last_visit=draw(st.integers(1, visit)))
    return Knowledge(fields=fields, snoozes=snoozes, visit=visit)


@st.composite
def situations(draw: st.DrawFn) -> tuple[Sequence, Knowledge, Plan]:
    sequence = draw(SEQUENCES)
    knowledge = draw(knowledge_for(sequence))
    return sequence, knowledge, next_questions(sequence, knowledge, NOW)


# --- one visit ----------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(situations())
def test_a_plan_never_asks_a_known_and_fresh_field(situation: tuple[Sequence, Knowledge, Plan]) -> None:
    _, knowledge, plan = situation
    for question in plan.questions:
        assert not fresh(question, knowledge, NOW), f"{question.key} asks {question.field!r}, which is known and fresh"


@settings(max_examples=100, deadline=None)
@given(situations())
def test_a_plan_asks_at_most_n_questions_that_apply_with_distinct_fields(
    situation: tuple[Sequence, Knowledge, Plan],
) -> None:
    sequence, knowledge, plan = situation
    assert len(plan.questions) <= sequence.settings.questions_per_visit
    values = knowledge.values()
    for question in plan.questions:
        assert applies(question, values), f"{question.key}: a condition does not hold on {values}"
        assert not declined(question, knowledge, sequence), f"{question.key} was declined for good"
        assert not snoozed(question, knowledge, sequence), f"{question.key} is still snoozed"
    fields = [q.field for q in plan.questions]
    assert len(fields) == len(set(fields)), f"two questions fill the same field: {fields}"


@settings(max_examples=100, deadline=None)
@given(situations())
def test_a_plan_takes_the_first_open_questions_in_the_documented_order(
    situation: tuple[Sequence, Knowledge, Plan],
) -> None:
    """The plan is exactly the greedy walk over :func:`queue` (see the module docstring).

    So: never-skipped questions in sequence order (e-mail questions first with ``email_first``),
    returning skipped ones after all of them, none left out while there was room for it.
    """
    sequence, knowledge, plan = situation
    assert keys(plan) == [q.key for q in expected_questions(sequence, knowledge, NOW)]
    order = [q.key for _, q in sequence.questions()]
    new = [q for q in plan.questions if q.key not in knowledge.snoozes]
    back = [q for q in plan.questions if q.key in knowledge.snoozes]
    assert list(plan.questions) == new + back, "a returning question is ahead of a never-skipped one"
    assert back == sorted(back, key=lambda q: order.index(q.key))
    if sequence.settings.email_first:
        emails = [q for q in new if q.type is QuestionType.EMAIL]
        assert new[: len(emails)] == emails
        new = new[len(emails) :]
    assert new == sorted(new, key=lambda q: order.index(q.key))


@settings(max_examples=100, deadline=None)
@given(situations())
def test_status_and_progress_per_stage(situation: tuple[Sequence, Knowledge, Plan]) -> None:
    sequence, knowledge, plan = situation
    values = knowledge.values()
    applicable = [q for _, q in sequence.questions() if applies(q, values)]
    waiting = [
        q
        for q in applicable
        if not fresh(q, knowledge, NOW) and not declined(q, knowledge, sequence) and snoozed(q, knowledge, sequence)
    ]
    if plan.questions:
        assert plan.status is Status.ASKING
    elif waiting:
        assert plan.status is Status.WAITING
    else:
        assert plan.status is Status.COMPLETE
        for question in applicable:
            assert fresh(question, knowledge, NOW) or declined(question, knowledge, sequence)

    assert [p.stage for p in plan.stages] == list(sequence.stages)
    for progress in plan.stages:
        stage_applicable = [q for q in progress.stage.questions if applies(q, values)]
        known = [q for q in stage_applicable if fresh(q, knowledge, NOW)]
        gone = [q for q in stage_applicable if not fresh(q, knowledge, NOW) and declined(q, knowledge, sequence)]
        assert (progress.total, progress.known, progress.declined) == (len(stage_applicable), len(known), len(gone))
        assert progress.done == (len(known) + len(gone) == len(stage_applicable))
    # The stage on screen is the first question's; with none, the first applicable stage not done.
    applicable_stages = [i for i, p in enumerate(plan.stages) if p.total]
    if plan.questions:
        assert plan.questions[0] in plan.stages[plan.current_stage].stage.questions
    else:
        not_done = [i for i in applicable_stages if not plan.stages[i].done]
        assert plan.current_stage == (not_done or applicable_stages or [0])[-1 if not not_done else 0]
    # "Step X of Y" counts only the stages that apply to this visitor.
    if applicable_stages:
        assert [p.stage for p in plan.steps] == [plan.stages[i].stage for i in applicable_stages]
        assert plan.steps[plan.step - 1] is plan.stages[plan.current_stage]


# --- many visits --------------------------------------------------------------------------------


def answered(knowledge: Knowledge, values: Mapping[str, Any], now: datetime) -> Knowledge:
    fields = dict(knowledge.fields)
    fields.update({name: Known(value, now) for name, value in values.items()})
    return replace(knowledge, fields=fields)


@settings(max_examples=80, deadline=None)
@given(SEQUENCES, st.data())
def test_answering_everything_asked_completes_within_one_visit_per_question(
    sequence: Sequence, data: st.DataObject
) -> None:
    """At most (number of questions) visits ask something; the visit after the last answers is COMPLETE."""
    count = sum(1 for _ in sequence.questions())
    knowledge = Knowledge()
    now = NOW
    for visit in range(1, count + 2):
        knowledge = replace(knowledge, visit=visit)
        plan = next_questions(sequence, knowledge, now)
        if plan.status is Status.COMPLETE:
            break
        assert plan.status is Status.ASKING and plan.questions, "nothing was skipped, so nothing can wait"
        assert all(q.field not in knowledge.fields for q in plan.questions), "asks a field answered an hour ago"
        values = {q.field: data.draw(value_for(q), label=q.key) for q in plan.questions}
        knowledge = answered(knowledge, values, now)
        now += timedelta(hours=1)
    else:
        raise AssertionError(f"not complete after {count} visits that each answered everything asked")
    assert plan.questions == ()
    values = knowledge.values()
    for _, question in sequence.questions():
        if applies(question, values):
            assert question.field in knowledge.fields, f"{question.key} applies but its field is unknown"
    assert all(progress.done for progress in plan.stages)


@settings(max_examples=80, deadline=None)
@given(SEQUENCES, st.data())
def test_a_skipped_question_waits_its_snooze_and_is_asked_at_most_max_reasks_plus_one_times(
    sequence: Sequence, data: st.DataObject
) -> None:
    rule = sequence.settings
    count = sum(1 for _ in sequence.questions())
    # each visit either asks (an answer fills a field, a skip uses up one of max_reasks + 1 asks)
    # or waits for a snooze, which lasts at most snooze_visits visits
    limit = (count + count * (rule.max_reasks + 1)) * max(1, rule.snooze_visits) + 1
    knowledge = Knowledge()
    asked: dict[str, list[int]] = {}
    skipped: dict[str, list[int]] = {}
    for visit in range(1, limit + 1):
        knowledge = replace(knowledge, visit=visit)
        plan = next_questions(sequence, knowledge, NOW)
        if plan.status is Status.COMPLETE:
            break
        if plan.status is Status.WAITING:
            assert not plan.questions
            continue
        values = {}
        snoozes = dict(knowledge.snoozes)
        for question in plan.questions:
            asked.setdefault(question.key, []).append(visit)
            if question.skippable and data.draw(st.booleans(), label=f"skip {question.key} on visit {visit}"):
                skipped.setdefault(question.key, []).append(visit)
                before = snoozes.get(question.key)
                snoozes[question.key] = Snooze(skips=(before.skips if before else 0) + 1, last_visit=visit)
            else:
                values[question.field] = data.draw(value_for(question), label=question.key)
        knowledge = replace(answered(knowledge, values, NOW), snoozes=snoozes)
    else:
        raise AssertionError(f"not complete after {limit} visits")

    for key, visits in asked.items():
        assert len(visits) <= rule.max_reasks + 1, f"{key} asked on visits {visits}"
        for skip in skipped.get(key, []):
            later = [v for v in visits if v > skip]
            if later:
                assert later[0] >= skip + rule.snooze_visits, f"{key} skipped on visit {skip}, asked on {later[0]}"
    values = knowledge.values()
    for _, question in sequence.questions():
        if applies(question, values):
            assert question.field in knowledge.fields or declined(question, knowledge, sequence), question.key


@settings(max_examples=60, deadline=None)
@given(SEQUENCES, st.integers(0, 70), st.sampled_from([0, 1, 12]), st.data())
def test_an_answer_older_than_its_freshness_is_asked_again(
    sequence: Sequence, days: int, hours: int, data: st.DataObject
) -> None:
    knowledge = Knowledge()
    for visit in range(1, 30):
        knowledge = replace(knowledge, visit=visit)
        plan = next_questions(sequence, knowledge, NOW)
        if plan.status is Status.COMPLETE:
            break
        knowledge = answered(knowledge, {q.field: data.draw(value_for(q)) for q in plan.questions}, NOW)
    assert plan.status is Status.COMPLETE
    later = NOW + timedelta(days=days, hours=hours)
    knowledge = replace(knowledge, visit=knowledge.visit + 1)
    plan = next_questions(sequence, knowledge, later)

    values = knowledge.values()
    stale_fields = {
        q.field
        for _, q in sequence.questions()
        if applies(q, values) and q.freshness_days is not None and later - NOW >= timedelta(days=q.freshness_days)
    }
    assert {q.field for q in plan.questions} <= stale_fields
    assert len(plan.questions) == min(len(stale_fields), sequence.settings.questions_per_visit)
    assert plan.status is (Status.ASKING if stale_fields else Status.COMPLETE)


@settings(max_examples=60, deadline=None)
@given(SEQUENCES, st.data())
def test_the_strategy_draws_answers_the_forms_layer_accepts_unchanged(sequence: Sequence, data: st.DataObject) -> None:
    """A check on ``value_for`` itself: the values the simulations answer with are real answers."""
    question = data.draw(st.sampled_from([q for _, q in sequence.questions()]))
    value = data.draw(value_for(question))
    result = validate_answers([question], {question.key: value}, "en", "en")
    assert result.ok, result.errors
    assert result.values == {question.key: value}


# --- worked examples ----------------------------------------------------------------------------


def sequence_of(*stages: list[dict[str, Any]], **settings_: Any) -> Sequence:
    return load(
        {
            "name": "Example",
            "settings": {"questions_per_visit": 2, "email_first": True, "snooze_visits": 2, "max_reasks": 1}
            | settings_,
            "stages": [
                {"key": f"stage{i}", "label": f"Stage {i}", "questions": questions}
                for i, questions in enumerate(stages)
            ],
        }
    )


KIND = {"key": "customer_type", "type": "radio", "label": "For", "options": [{"value": "b2b"}, {"value": "b2c"}]}
B2B = {"field": "customer_type", "equals": "b2b"}
B2C = {"field": "customer_type", "equals": "b2c"}
PATHS = sequence_of(
    [
        {"key": "first_name", "type": "text", "label": "First name"},
        {"key": "email", "type": "email", "label": "E-mail", "skippable": False},
        KIND,
    ],
    [
        {"key": "company_size", "type": "number", "label": "Employees", "when": B2B},
        {"key": "household_size", "type": "number", "label": "People at home", "when": B2C},
        {
            "key": "company_budget",
            "field": "budget",
            "type": "select",
            "label": "Budget",
            "options": [{"value": "lt_5k"}, {"value": "5k_plus"}],
            "when": B2B,
        },
        {
            "key": "home_budget",
            "field": "budget",
            "type": "select",
            "label": "Budget",
            "options": [{"value": "lt_300"}, {"value": "300_plus"}],
            "when": B2C,
        },
        {
            "key": "procurement",
            "type": "textarea",
            "label": "How do you buy?",
            "when": [B2B, {"field": "company_size", "gte": 50}],
        },
    ],
)


def know(**values: Any) -> dict[str, Known]:
    return {name: Known(value, NOW) for name, value in values.items()}


def plan_for(sequence: Sequence, **values: Any) -> Plan:
    """The first visit's plan when ``values`` are known (answered just now)."""
    return next_questions(sequence, Knowledge(fields=know(**values)), NOW)


def test_first_visit_asks_the_email_first_then_the_basics_in_order() -> None:
    plan = plan_for(PATHS)
    assert keys(plan) == ["email", "first_name"]
    assert plan.status is Status.ASKING and plan.current_stage == 0


def test_path_questions_wait_until_the_customer_type_is_known() -> None:
    plan = plan_for(PATHS, first_name="Ada", email="ada@example.com")
    assert keys(plan) == ["customer_type"]
    assert plan.stages[1].total == 0, "no need question applies while the customer type is unknown"


def test_b2b_and_b2c_visitors_get_their_own_questions() -> None:
    basics = {"first_name": "Ada", "email": "ada@example.com"}
    b2b = plan_for(PATHS, **basics, customer_type="b2b")
    b2c = plan_for(PATHS, **basics, customer_type="b2c")
    assert keys(b2b) == ["company_size", "company_budget"]
    assert keys(b2c) == ["household_size", "home_budget"]
    assert (b2b.stages[1].total, b2c.stages[1].total) == (2, 2)
    assert b2b.current_stage == b2c.current_stage == 1


@pytest.mark.parametrize(("size", "then"), [(49, Status.COMPLETE), (50, Status.ASKING)])
def test_procurement_is_asked_only_from_50_employees(size: int, then: Status) -> None:
    known = {"first_name": "Ada", "email": "a@example.com", "customer_type": "b2b", "budget": "lt_5k"}
    plan = plan_for(PATHS, **known, company_size=size)
    assert plan.status is then
    assert keys(plan) == (["procurement"] if then is Status.ASKING else [])


def test_a_b2c_budget_answer_fills_the_field_for_both_budget_questions() -> None:
    known = {"first_name": "Ada", "email": "a@example.com", "customer_type": "b2c", "household_size": 2}
    assert keys(plan_for(PATHS, **known)) == ["home_budget"]
    done = plan_for(PATHS, **known, budget="lt_300")
    assert done.status is Status.COMPLETE and done.stages[1].known == 2


def test_two_questions_filling_one_field_are_never_asked_together() -> None:
    sequence = sequence_of(
        [
            {"key": "budget_a", "field": "budget", "type": "text", "label": "Budget?"},
            {"key": "budget_b", "field": "budget", "type": "text", "label": "Budget, again?"},
            {"key": "city", "type": "text", "label": "City"},
        ],
        questions_per_visit=3,
    )
    assert keys(plan_for(sequence)) == ["budget_a", "city"]
    assert keys(plan_for(sequence, budget="1k")) == ["city"]


EMAIL_LATE = [
    [{"key": "first_name", "type": "text", "label": "Name"}, {"key": "city", "type": "text", "label": "City"}],
    [{"key": "email", "type": "email", "label": "E-mail"}],
]


def test_email_first_moves_the_email_question_ahead_while_the_email_is_unknown() -> None:
    first = sequence_of(*EMAIL_LATE, email_first=True)
    assert keys(plan_for(first)) == ["email", "first_name"]
    assert keys(plan_for(first, email="ada@example.com")) == ["first_name", "city"]


def test_without_email_first_the_email_question_waits_its_turn() -> None:
    in_order = sequence_of(*EMAIL_LATE, email_first=False)
    assert keys(plan_for(in_order)) == ["first_name", "city"]
    assert keys(plan_for(in_order, first_name="Ada", city="Aarhus")) == ["email"]


def test_a_skipped_email_question_comes_back_behind_the_others() -> None:
    sequence = sequence_of(*EMAIL_LATE, email_first=True)
    knowledge = Knowledge(snoozes={"email": Snooze(skips=1, last_visit=1)}, visit=3)
    assert keys(next_questions(sequence, knowledge, NOW)) == ["first_name", "city"]
    knowledge = replace(knowledge, fields=know(first_name="Ada"))
    assert keys(next_questions(sequence, knowledge, NOW)) == ["city", "email"]


def test_a_skip_on_visit_3_is_left_out_on_visit_4_and_offered_on_visit_5() -> None:
    sequence = sequence_of([{"key": "phone", "type": "tel", "label": "Phone"}], snooze_visits=2, max_reasks=1)
    snoozes = {"phone": Snooze(skips=1, last_visit=3)}
    waiting = next_questions(sequence, Knowledge(snoozes=snoozes, visit=4), NOW)
    assert waiting.status is Status.WAITING and waiting.questions == ()
    back = next_questions(sequence, Knowledge(snoozes=snoozes, visit=5), NOW)
    assert keys(back) == ["phone"]
    gone = next_questions(sequence, Knowledge(snoozes={"phone": Snooze(skips=2, last_visit=5)}, visit=9), NOW)
    assert gone.status is Status.COMPLETE and gone.stages[0].declined == 1 and gone.stages[0].done


def test_with_max_reasks_0_one_skip_is_final() -> None:
    sequence = sequence_of([{"key": "phone", "type": "tel", "label": "Phone"}], max_reasks=0)
    plan = next_questions(sequence, Knowledge(snoozes={"phone": Snooze(skips=1, last_visit=1)}, visit=2), NOW)
    assert plan.status is Status.COMPLETE


@pytest.mark.parametrize(("age", "asked"), [(timedelta(days=89, hours=23), False), (timedelta(days=90), True)])
def test_a_timeline_answered_90_days_ago_is_asked_again(age: timedelta, asked: bool) -> None:
    sequence = sequence_of(
        [{"key": "timeline", "type": "radio", "label": "When?", "options": [{"value": "3m"}], "freshness_days": 90}]
    )
    knowledge = Knowledge(fields={"timeline": Known("3m", NOW - age)}, visit=2)
    plan = next_questions(sequence, knowledge, NOW)
    assert keys(plan) == (["timeline"] if asked else [])
    assert plan.stages[0].known == (0 if asked else 1)


def test_a_freshness_the_loader_accepts_never_crashes_the_wheel() -> None:
    """Bug: freshness_days has no upper bound in the loader, but timedelta(days=...) stops at 999999999."""
    document = {
        "name": "Long memory",
        "stages": [
            {
                "key": "basics",
                "label": "Basics",
                "questions": [{"key": "city", "type": "text", "label": "City", "freshness_days": 1_000_000_000}],
            }
        ],
    }
    try:
        sequence = load(document)
    except DocumentError:
        return  # refusing it at import is a fine fix too
    plan = next_questions(sequence, Knowledge(fields=know(city="Aarhus")), NOW)
    assert plan.status is Status.COMPLETE


# --- what is known after an answer (the service plans the next questions from this) -------------


def test_learning_an_answer_replaces_an_older_value_and_keeps_the_rest() -> None:
    before = Knowledge(fields=know(city="Aarhus", size=10), visit=3)
    after = before.learn({"size": 250, "role": "cto"}, [], NOW, visit=3)
    assert after.values() == {"city": "Aarhus", "size": 250, "role": "cto"}
    assert after.fields["size"].answered_at == NOW
    assert before.values() == {"city": "Aarhus", "size": 10}, "knowledge is immutable"


def test_learning_never_lets_an_older_answer_undo_a_newer_one() -> None:
    """A slow tab posts after a newer answer was stored: the store keeps the newer; so must the plan."""
    later = NOW + timedelta(minutes=5)
    before = Knowledge(fields={"size": Known(value=500, answered_at=later)})
    assert before.learn({"size": 20}, [], NOW, visit=1).values() == {"size": 500}


def test_learning_a_not_now_counts_the_skip_on_this_visit() -> None:
    before = Knowledge(snoozes={"budget": Snooze(skips=1, last_visit=2)}, visit=4)
    after = before.learn({}, ["budget", "timeline"], NOW, visit=4)
    assert after.snoozes == {"budget": Snooze(skips=2, last_visit=4), "timeline": Snooze(skips=1, last_visit=4)}
    assert after.visit == 4
