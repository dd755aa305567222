"""Sequence documents: dump and load are inverse, and a bad document is refused with every problem and its path."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from profiling.document import DocumentError, dump, dumps, load, loads
from profiling.sequence import Sequence
from tests.profiling.strategies import sequences

RICH = sequences(rich=True)
TYPES = "text, textarea, email, tel, number, select, multi-select, radio, checkbox, consent"


def problems(raw: Any) -> list[str]:
    with pytest.raises(DocumentError) as refused:
        load(raw)
    return refused.value.problems


def document(*questions: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"name": "Checks", "stages": [{"key": "basics", "label": "Basics", "questions": list(questions)}], **top}


EMAIL = {"key": "email", "type": "email", "label": "E-mail"}
KIND = {"key": "kind", "type": "radio", "label": "Kind", "options": [{"value": "b2b"}, {"value": "b2c"}]}


# --- round trips --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(RICH)
def test_load_of_dump_gives_the_sequence_back(sequence: Sequence) -> None:
    assert load(dump(sequence)) == sequence


@settings(max_examples=60, deadline=None)
@given(RICH, st.sampled_from(["yaml", "json"]))
def test_dumps_then_loads_gives_the_sequence_back(sequence: Sequence, fmt: str) -> None:
    text = dumps(sequence, fmt)
    assert loads(text, f"exported.{fmt}") == sequence
    assert loads(text) == sequence, "JSON is YAML too: a file without a .json name is read as YAML"
    assert dumps(loads(text), fmt) == text


# --- refusals -----------------------------------------------------------------------------------


def test_a_bad_document_reports_every_problem_with_its_path() -> None:
    doc = document(
        EMAIL,
        {"key": "size", "type": "dropdown", "label": "Size"},
        {"key": "agree", "type": "consent", "label": "You may e-mail me."},
        settings={"questions_per_visit": 0},
    )
    doc["stages"].append(
        {"key": "need", "label": "Need", "questions": [{"key": "budget", "type": "number", "label": "B", "min": "low"}]}
    )
    assert problems(doc) == [
        "settings.questions_per_visit: is too small",
        f"stages[0].questions[1].type: must be one of {TYPES}",
        "stages[0].questions[2].consent_version: is required for a consent question",
        "stages[1].questions[0].min: must be a number",
    ]


def test_an_empty_or_non_mapping_document_is_refused() -> None:
    assert problems({}) == ["the document is empty"]
    assert problems([]) == ["must be a mapping"]
    assert problems({"name": "No stages"}) != []
    with pytest.raises(DocumentError):
        loads("name: [unclosed")
    with pytest.raises(DocumentError):
        loads("{", "broken.json")


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        (document(EMAIL, colour="red"), "colour"),
        (document(EMAIL, settings={"per_visit": 2}), "settings.per_visit"),
        ({"name": "X", "stages": [{"key": "s", "label": "S", "questions": [EMAIL], "colour": 1}]}, "stages[0].colour"),
        (document({**EMAIL, "lable": "E-mail"}), "stages[0].questions[0].lable"),
        (document(KIND, {**EMAIL, "when": {"field": "kind", "equal": "b2b"}}), "stages[0].questions[1].when[0].equal"),
        # The reference says the loader rejects every key it does not know; an option's are not checked.
        (
            document({**KIND, "options": [{"value": "b2b", "lable": "Business"}]}),
            "stages[0].questions[0].options[0].lable",
        ),
    ],
    ids=["top level", "settings", "stage", "question", "condition", "option"],
)
def test_unknown_keys_are_rejected(doc: dict[str, Any], path: str) -> None:
    found = problems(doc)
    assert any(problem.startswith(f"{path}: ") for problem in found), found


@pytest.mark.parametrize(
    "pattern",
    [
        "DK[0-9",
        "(unclosed",
        "*leading",
        "a{2,1}",
        # Python's re raises OverflowError, not re.error, for a repeat count this large
        "a{4294967296}",
        # and RecursionError for groups nested this deep
        "(" * 5000 + ")" * 5000,
    ],
    ids=["set", "group", "nothing to repeat", "bad range", "huge repeat", "deep nesting"],
)
def test_an_invalid_regular_expression_is_refused(pattern: str) -> None:
    found = problems(document({"key": "vat", "type": "text", "label": "VAT", "pattern": pattern}))
    assert len(found) == 1 and found[0].startswith("stages[0].questions[0].pattern: "), found


def test_a_consent_question_needs_a_consent_version_as_text() -> None:
    agree = {"key": "agree", "type": "consent", "label": "You may e-mail me."}
    assert problems(document(agree)) == ["stages[0].questions[0].consent_version: is required for a consent question"]
    dated = "name: X\nstages:\n- key: s\n  label: S\n  questions:\n  - {key: agree, type: consent, label: OK, "
    with pytest.raises(DocumentError, match=r"consent_version: must be a text"):
        loads(dated + "consent_version: 2026-01-15}\n")
    assert loads(dated + "consent_version: '2026-01-15'}\n").stages[0].questions[0].consent is not None
    assert problems(document({**EMAIL, "consent_version": "1"})) == [
        "stages[0].questions[0].consent_version: only a consent question has one"
    ]


def test_a_condition_on_the_question_s_own_field_is_refused() -> None:
    size = {"key": "size", "type": "number", "label": "Size"}
    again = {
        "key": "size_again",
        "field": "size",
        "type": "number",
        "label": "Size?",
        "when": {"field": "size", "gte": 1},
    }
    assert problems(document(size, again)) == [
        "stages[0].questions[1].when[0].field: a question cannot depend on its own answer"
    ]
    alone = {**size, "when": {"field": "size", "known": True}}
    assert "stages[0].questions[0].when[0].field: a question cannot depend on its own answer" in problems(
        document(alone)
    )


HUGE = "1" + "0" * 400  # a JSON integer literal: Python reads it as an int too large for a float
SIZE = {"key": "size", "type": "number", "label": "Size"}
CITY = {"key": "city", "type": "text", "label": "City"}


@pytest.mark.parametrize(
    "doc",
    [
        document(SIZE, CITY, settings={"questions_per_visit": "HUGE"}),
        document(SIZE, {**CITY, "freshness_days": "HUGE"}),
        document({**SIZE, "min": "HUGE"}),
        document({**CITY, "max_length": "HUGE"}),
        document(SIZE, {**CITY, "when": {"field": "size", "gte": "HUGE"}}),
    ],
    ids=["questions_per_visit", "freshness_days", "min", "max_length", "condition gte"],
)
def test_a_huge_number_in_a_json_file_is_a_document_error(doc: dict[str, Any]) -> None:
    with pytest.raises(DocumentError):
        loads(json.dumps(doc).replace('"HUGE"', HUGE), "huge.json")


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029", "\ufeff", "\x1b", "\t"], ids=repr)
def test_a_text_with_a_control_or_separator_character_survives_a_yaml_round_trip_or_is_refused(char: str) -> None:
    """Bug for U+0085 (NEL): PyYAML's emitter writes it raw inside a quoted scalar and reads it back as a space."""
    doc = document({**CITY, "label": f"City{char}", "help": f"{char}Where?"})
    try:
        sequence = load(doc)
    except DocumentError:
        return
    assert loads(dumps(sequence, "yaml")) == sequence
    assert loads(dumps(sequence, "json"), "export.json") == sequence


# --- garbage never crashes the loader -----------------------------------------------------------

KEYS = (
    "format", "name", "description", "default_locale", "settings", "thank_you", "stages", "questions_per_visit",
    "email_first", "snooze_visits", "max_reasks", "key", "label", "questions", "field", "type", "help", "options",
    "when", "freshness_days", "consent_version", "skippable", "required", "min_length", "max_length", "min", "max",
    "pattern", "min_choices", "max_choices", "value", "equals", "not_equals", "in", "not_in", "gte", "gt", "lte",
    "lt", "contains", "known", "en", "da",
)  # fmt: skip
WORDS = ("leadwheel/sequence@1", "en", "b2b", "text", "number", "select", "consent", "multi-select", "(", "a{9}")
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 51, 2**63, -(2**63), 2**1100]),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(WORDS + KEYS),
)
GARBAGE = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


def load_or_refuse(raw: Any) -> None:
    try:
        result = load(raw)
    except DocumentError as refused:
        assert refused.problems and all(isinstance(p, str) and p for p in refused.problems)
    else:
        assert isinstance(result, Sequence)


@settings(max_examples=300, deadline=None)
@given(GARBAGE)
@example({"name": "G", "settings": {"max_reasks": 2**1100}})  # an integer beyond a float's range, as JSON allows
def test_garbage_is_a_sequence_or_a_document_error(raw: Any) -> None:
    load_or_refuse(raw)


@settings(max_examples=300, deadline=None)
@given(GARBAGE.map(lambda raw: {"name": "G", "stages": [{"key": "s", "label": "S", "questions": [raw]}]}))
@example({"name": "G", "stages": [{"key": "s", "label": "S", "questions": [{"key": "a", "freshness_days": 2**1100}]}]})
def test_a_garbage_question_is_a_sequence_or_a_document_error(raw: Any) -> None:
    load_or_refuse(raw)


def _nodes(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(node, dict):
        for key, child in node.items():
            found += _nodes(child, (*path, key))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            found += _nodes(child, (*path, index))
    return found


@settings(max_examples=150, deadline=None)
@given(sequences(rich=False, max_questions_per_stage=3), st.data())
def test_a_valid_document_with_one_part_replaced_by_garbage_is_a_sequence_or_a_document_error(
    sequence: Sequence, data: st.DataObject
) -> None:
    raw = copy.deepcopy(dump(sequence))
    for _ in range(data.draw(st.integers(1, 3), label="changes")):
        path = data.draw(st.sampled_from(_nodes(raw)[1:]), label="path")
        parent = raw
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and data.draw(st.booleans(), label="delete"):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(GARBAGE, label="garbage")
    load_or_refuse(raw)
