"""A sequence file with a mistake that would silently break the wheel is refused at import."""

from __future__ import annotations

from typing import Any

import pytest

from profiling.document import DocumentError, load


def document(*questions: dict[str, Any]) -> dict[str, Any]:
    return {"name": "Checks", "stages": [{"key": "basics", "label": "Basics", "questions": list(questions)}]}


KIND = {"key": "kind", "type": "radio", "label": "Kind", "options": [{"value": "b2b"}, {"value": "b2c"}]}
SIZE = {"key": "size", "type": "number", "label": "Size"}


def problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(DocumentError) as refused:
        load(doc)
    return refused.value.problems


def test_a_condition_must_name_a_field_asked_earlier() -> None:
    late = {"key": "b", "type": "text", "label": "B", "when": {"field": "kind", "equals": "b2b"}}
    assert problems(document(late, KIND)) == [
        "stages[0].questions[0].when[0].field: 'kind' is not asked by any earlier question"
    ]
    typo = {"key": "b", "type": "text", "label": "B", "when": {"field": "knid", "equals": "b2b"}}
    assert "'knid' is not asked" in problems(document(KIND, typo))[0]


def test_a_condition_value_must_be_one_of_the_options() -> None:
    wrong = {"key": "b", "type": "text", "label": "B", "when": {"field": "kind", "in": ["b2b", "enterprise"]}}
    assert problems(document(KIND, wrong)) == [
        "stages[0].questions[1].when[0].in: 'enterprise' is not an option of 'kind' (b2b, b2c)"
    ]


def test_numeric_tests_need_a_number_question() -> None:
    wrong = {"key": "b", "type": "text", "label": "B", "when": {"field": "kind", "gte": 50}}
    assert "compares numbers, but 'kind' is a radio question" in problems(document(KIND, wrong))[0]
    right = {"key": "b", "type": "text", "label": "B", "when": {"field": "size", "gte": 50}}
    assert load(document(SIZE, right)).question("b") is not None


def test_empty_things_are_reported_not_dropped() -> None:
    assert problems(document(KIND, {})) == [
        "stages[0].questions[1]: is empty: a question needs at least a key, a type and a label"
    ]
    assert problems(document({"key": "a", "type": "text", "label": {}})) == [
        "stages[0].questions[0].label: is required"
    ]
    assert problems({"name": "x", "stages": [{"key": "s", "label": "S", "questions": []}]}) == [
        "stages: needs at least one question"
    ]


def test_more_required_choices_than_options_is_refused() -> None:
    multi = {"key": "m", "type": "multi-select", "label": "M", "min_choices": 3, "options": [{"value": "a"}]}
    assert problems(document(multi)) == ["stages[0].questions[0].min_choices: is more than the 1 options offered"]


def test_a_consent_version_that_yaml_read_as_a_date_says_so() -> None:
    consent = {"key": "c", "type": "consent", "label": "OK?", "consent_version": 2}
    assert "quote it in YAML" in problems(document(consent))[0]
