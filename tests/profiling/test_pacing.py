"""Pacing: a visit asks at most ``questions_per_visit`` questions in all, however the visitor answers.

Streams of submissions are generated over random sequences: each shown question is answered,
snoozed ("not now") or left blank, and the visitor reloads in between. Within one visit, a visitor
who never asks for more sees at most N distinct questions; after the visit gap the next batch
comes; asking for more gives batches of at most N, and only where the sequence offers it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from profiling.sequence import Condition, Operator, Question, QuestionType, Sequence, Settings, Stage
from profiling.wheel import Knowledge, Plan, Status, next_questions
from tests.profiling.strategies import sequences, value_for

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
SEQUENCES = sequences(rich=False)


def submit(plan: Plan, knowledge: Knowledge, data: st.DataObject, at: datetime) -> Knowledge:
    """The visitor answers, snoozes or leaves blank each question on screen, and submits (as the shell learns it)."""
    answers: dict[str, Any] = {}
    skipped: list[str] = []
    for question in plan.questions:
        choices = ["answer"]
        if question.skippable:
            choices.append("skip")
        if not question.rules.required:
            choices.append("blank")
        what = data.draw(st.sampled_from(choices), label=f"{question.key} on visit {knowledge.visit}")
        if what == "answer":
            answers[question.field] = data.draw(value_for(question), label=question.key)
        elif what == "skip":
            skipped.append(question.key)
    shown = [question.key for question in plan.questions]
    return knowledge.learn(answers, skipped, at, knowledge.visit, shown)


def one_visit(
    sequence: Sequence, knowledge: Knowledge, data: st.DataObject, at: datetime, more: bool = False
) -> tuple[Knowledge, list[Plan]]:
    """Ask, submit, reload, until the wheel asks nothing more on this visit."""
    plans = []
    for _ in range(sum(1 for _ in sequence.questions()) + 2):
        plan = next_questions(sequence, knowledge, at, more=more)
        if data.draw(st.booleans(), label="reload"):  # a reload (or another tab) before submitting changes nothing
            assert next_questions(sequence, knowledge, at + timedelta(seconds=5), more=more) == plan
        plans.append(plan)
        if not plan.questions:
            return knowledge, plans
        knowledge = submit(plan, knowledge, data, at)
        at += timedelta(seconds=30)
    raise AssertionError("the visit never stopped asking")


@settings(max_examples=150, deadline=None)
@given(SEQUENCES, st.data())
def test_a_visit_asks_at_most_n_distinct_questions(sequence: Sequence, data: st.DataObject) -> None:
    n = sequence.settings.questions_per_visit
    knowledge, plans = one_visit(sequence, Knowledge(), data, NOW)
    asked = {question.key for plan in plans for question in plan.questions}
    assert len(asked) <= n, f"{len(asked)} questions on one visit of {n}"
    assert sum(len(plan.questions) for plan in plans) == len(asked), "a question came twice in one visit"
    last = plans[-1]
    assert not any(plan.on_request for plan in plans)
    if last.status is Status.PAUSED:
        assert len(knowledge.shown) >= n or last.more is False
        assert last.more == (
            sequence.settings.more_on_request
            and len(knowledge.shown) >= n
            and bool(next_questions(sequence, knowledge, NOW, more=True).questions)
        )


@settings(max_examples=100, deadline=None)
@given(SEQUENCES, st.data())
def test_after_the_visit_gap_the_next_batch_comes(sequence: Sequence, data: st.DataObject) -> None:
    first, plans = one_visit(sequence, Knowledge(), data, NOW)
    if plans[-1].status is not Status.PAUSED:
        return  # the first visit asked everything there was
    # The shell counts a new visit after the gap; nothing shown on the last one counts against it.
    later = first.learn({}, [], NOW + timedelta(hours=2), first.visit + 1)
    assert later.shown == frozenset()
    plan = next_questions(sequence, later, NOW + timedelta(hours=2))
    if plan.status is not Status.WAITING:  # everything open may be snoozed for a visit or two
        assert plan.status is Status.ASKING and 0 < len(plan.questions) <= sequence.settings.questions_per_visit


@settings(max_examples=100, deadline=None)
@given(SEQUENCES, st.data())
def test_more_gives_batches_of_at_most_n_only_where_the_sequence_offers_it(
    sequence: Sequence, data: st.DataObject
) -> None:
    n = sequence.settings.questions_per_visit
    knowledge, plans = one_visit(sequence, Knowledge(), data, NOW, more=True)
    quota = [plan for plan in plans if plan.questions and not plan.on_request]
    extra = [plan for plan in plans if plan.on_request]
    assert sum(len(plan.questions) for plan in quota) <= n
    assert all(len(plan.questions) <= n for plan in extra)
    if not sequence.settings.more_on_request:
        assert not extra, "more is ignored where the sequence does not offer it"
    else:
        assert plans[-1].status is not Status.PAUSED or not plans[-1].more, "more stopped while more was offered"
    asked = [question.key for plan in plans for question in plan.questions]
    assert len(asked) == len(set(asked)), "a question came twice in one visit"


# --- worked examples ----------------------------------------------------------------------------


def text_question(key: str) -> Question:
    return Question(key=key, field=key, type=QuestionType.TEXT, labels={"en": key})


WHEEL = Sequence(
    name="Paced",
    default_locale="en",
    stages=(
        Stage("basics", {"en": "Basics"}, tuple(text_question(k) for k in ("a", "b", "c"))),
        Stage("need", {"en": "Need"}, tuple(text_question(k) for k in ("d", "e", "f", "g"))),
    ),
    settings=Settings(questions_per_visit=2, more_on_request=True),
)


def test_the_quota_spans_the_visit_and_more_takes_the_next_batch() -> None:
    first = next_questions(WHEEL, Knowledge(), NOW)
    assert [q.key for q in first.questions] == ["a", "b"] and not first.on_request
    after = Knowledge().learn({"a": "x"}, ["b"], NOW, 1, ["a", "b"])
    paused = next_questions(WHEEL, after, NOW)
    assert (paused.status, paused.questions, paused.more) == (Status.PAUSED, (), True)
    more = next_questions(WHEEL, after, NOW, more=True)
    assert [q.key for q in more.questions] == ["c", "d"] and more.on_request
    plain = replace(WHEEL, settings=Settings(questions_per_visit=2))
    assert next_questions(plain, after, NOW, more=True).status is Status.PAUSED
    assert next_questions(plain, after, NOW).more is False
    next_visit = after.learn({}, [], NOW, 2)
    assert next_visit.shown == frozenset()
    assert [q.key for q in next_questions(WHEEL, next_visit, NOW).questions] == ["c", "d"]


def test_one_question_left_blank_is_not_asked_again_on_that_visit() -> None:
    after = Knowledge().learn({"a": "x"}, [], NOW, 1, ["a"])  # "b" would be next; a quota of 2 leaves one
    plan = next_questions(WHEEL, after, NOW)
    assert [q.key for q in plan.questions] == ["b"]
    blank = after.learn({}, [], NOW, 1, ["b"])
    assert next_questions(WHEEL, blank, NOW).status is Status.PAUSED


def test_progress_names_the_stage_of_the_questions_on_screen() -> None:
    """A snoozed basics question leaves basics not done; the need questions on screen are still the need step."""
    snoozed = Knowledge().learn({"a": 1, "c": 3}, ["b"], NOW, 1, ["a", "b", "c"])
    plan = next_questions(WHEEL, replace(snoozed, visit=2, shown=frozenset()), NOW)
    assert [q.key for q in plan.questions] == ["d", "e"]
    assert plan.stages[plan.current_stage].stage.key == "need" and (plan.step, len(plan.steps)) == (2, 2)


def test_steps_count_only_the_stages_that_apply() -> None:
    kind = Question(key="kind", field="kind", type=QuestionType.TEXT, labels={"en": "kind"})
    b2c = replace(text_question("household"), conditions=(Condition("kind", Operator.EQUALS, "b2c"),))
    wheel = replace(
        WHEEL,
        stages=(
            Stage("basics", {"en": "Basics"}, (kind,)),
            Stage("home", {"en": "Home"}, (b2c,)),
            WHEEL.stages[1],
        ),
    )
    plan = next_questions(wheel, Knowledge().learn({"kind": "b2b"}, [], NOW, 1), NOW)
    assert [p.stage.key for p in plan.steps] == ["basics", "need"]
    assert plan.stages[plan.current_stage].stage.key == "need" and plan.step == 2
