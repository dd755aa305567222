"""The wheel explains itself: the reasons it gives are those of the plan it makes, for every question."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from profiling.document import load
from profiling.sequence import Sequence
from profiling.wheel import Knowledge, Known, Reason, Snooze, explain, next_questions
from tests.profiling.test_wheel import NOW, SEQUENCES, knowledge_for


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_the_explained_plan_is_the_live_plan_and_every_question_has_a_reason(data: st.DataObject) -> None:
    sequence: Sequence = data.draw(SEQUENCES)
    knowledge = data.draw(knowledge_for(sequence))
    plan, why = explain(sequence, knowledge, NOW)
    assert plan == next_questions(sequence, knowledge, NOW)
    assert set(why) == {question.key for _, question in sequence.questions()}
    asked = {key for key, note in why.items() if note.reason in (Reason.ASKED, Reason.STALE)}
    assert asked == {question.key for question in plan.questions}


WHEEL = {
    "format": "leadwheel/sequence@1",
    "name": "Explained",
    "default_locale": "en",
    "settings": {"questions_per_visit": 2, "snooze_visits": 2, "max_reasks": 1},
    "stages": [
        {
            "key": "basics",
            "label": {"en": "Basics"},
            "questions": [
                {"key": "email", "type": "email", "label": {"en": "E-mail"}},
                {"key": "kind", "type": "radio", "label": {"en": "For"},
                 "options": [{"value": "b2b", "label": {"en": "Work"}}, {"value": "b2c", "label": {"en": "Me"}}]},
                {"key": "company", "type": "text", "label": {"en": "Company"},
                 "when": {"field": "kind", "equals": "b2b"}},
                {"key": "phone", "type": "tel", "label": {"en": "Phone"}, "freshness_days": 30},
                {"key": "city", "type": "text", "label": {"en": "City"}},
            ],
        }
    ],
}  # fmt: skip


def test_each_reason_a_marketer_reads() -> None:
    sequence = load(WHEEL)
    knowledge = Knowledge(
        fields={
            "email": Known("ada@example.com", NOW - timedelta(days=1)),
            "kind": Known("b2c", NOW - timedelta(days=1)),
            "phone": Known("+45 1234", NOW - timedelta(days=40)),  # older than its 30 days
        },
        snoozes={"city": Snooze(skips=1, last_visit=3)},
        visit=4,
    )
    plan, why = explain(sequence, knowledge, NOW)
    assert [q.key for q in plan.questions] == ["phone"]
    assert why["email"].reason is Reason.KNOWN and why["kind"].reason is Reason.KNOWN
    assert why["company"].reason is Reason.CONDITION  # a B2C visitor
    assert why["phone"].reason is Reason.STALE
    assert why["city"].reason is Reason.SNOOZED and why["city"].until_visit == 5

    fresh = Knowledge(visit=1)
    plan, why = explain(sequence, fresh, NOW)
    assert [q.key for q in plan.questions] == ["email", "kind"]
    assert why["phone"].reason is Reason.QUEUED and why["company"].reason is Reason.CONDITION
