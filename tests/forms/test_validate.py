"""Answers are checked, normalised and typed the way a visitor and a marketer expect."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forms import form_for, validate_answers
from forms.messages import CATALOG
from profiling.document import load
from profiling.sequence import CORE_LOCALES, Question, QuestionType

QUESTIONS: dict[str, Any] = {
    "name": {"type": "text", "label": {"en": "Name", "da": "Navn"}, "min_length": 2},
    "notes": {"type": "textarea", "label": "Notes", "max_length": 40},
    "email": {"type": "email", "label": "E-mail", "required": True},
    "phone": {"type": "tel", "label": "Phone"},
    "size": {"type": "number", "label": "Employees", "min": 1, "max": 5000},
    "budget": {"type": "select", "label": "Budget", "options": [{"value": "s", "label": "S"}, {"value": "l"}]},
    "kind": {"type": "radio", "label": "Kind", "options": [{"value": "b2b"}, {"value": "b2c"}]},
    "topics": {
        "type": "multi-select",
        "label": "Topics",
        "max_choices": 2,
        "options": [{"value": "a"}, {"value": "b"}, {"value": "c"}],
    },
    "decides": {"type": "checkbox", "label": "I decide"},
    "agree": {"type": "consent", "label": "You may e-mail me.", "required": True, "consent_version": "1"},
    "vat": {"type": "text", "label": "VAT number", "pattern": "DK[0-9]{8}"},
}


def questions(*keys: str) -> list[Question]:
    document = {
        "name": "Form test",
        "stages": [{"key": "all", "label": "All", "questions": [{"key": k, **QUESTIONS[k]} for k in keys]}],
    }
    return [q for _, q in load(document).questions()]


def check(keys: tuple[str, ...] | str, answers: dict[str, Any], locale: str = "en") -> Any:
    return validate_answers(questions(*((keys,) if isinstance(keys, str) else keys)), answers, locale, "en")


def codes(result: Any) -> dict[str, str]:
    return {key: errors[0].code for key, errors in result.errors.items()}


def test_text_is_trimmed_nfc_and_free_of_control_characters() -> None:
    decomposed = unicodedata.normalize("NFD", "  Søren Å\x00\x1b  ")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    result = check("name", {"name": decomposed})
    assert result.values == {"name": "Søren Å"}


def test_a_textarea_keeps_its_line_breaks() -> None:
    assert check("notes", {"notes": " one\r\ntwo\rthree\x07 "}).values == {"notes": "one\ntwo\nthree"}


def test_text_over_the_length_cap_is_refused_not_cut() -> None:
    assert check("notes", {"notes": "x" * 40}).values == {"notes": "x" * 40}
    result = check("notes", {"notes": "x" * 41})
    assert codes(result) == {"notes": "too_long"} and "40" in result.errors["notes"][0].message


def test_every_text_type_has_a_default_cap() -> None:
    result = check("name", {"name": "x" * 201})
    assert codes(result) == {"name": "too_long"}


def test_numbers_are_stored_as_numbers_the_way_people_write_them() -> None:
    for written, stored in [("1 000", 1000), ("2,5", 2.5), ("12.0", 12), (7.0, 7), (42, 42), ("+3", 3)]:
        value = check("size", {"size": written}).values["size"]
        assert value == stored and type(value) is type(stored), written


@pytest.mark.parametrize("bad", ["abc", "1,000.5,2", "NaN", "Infinity", True, [1], {"n": 1}, "1e400"])
def test_things_that_are_not_numbers_are_refused(bad: Any) -> None:
    result = check("size", {"size": bad})
    assert codes(result) == {"size": "number"}
    assert len(result.errors["size"]) == 1, "a non-number is not also reported as out of range"


def test_number_range() -> None:
    assert codes(check("size", {"size": 0})) == {"size": "below_min"}
    assert codes(check("size", {"size": "5001"})) == {"size": "above_max"}
    assert check("size", {"size": 5000}).values == {"size": 5000}


def test_choices_must_be_offered_options() -> None:
    assert check(("budget", "kind"), {"budget": "l", "kind": "b2c"}).values == {"budget": "l", "kind": "b2c"}
    assert codes(check(("budget", "kind"), {"budget": "xl", "kind": ["b2b"]})) == {"budget": "choice", "kind": "choice"}


def test_multi_select_is_a_list_without_repeats() -> None:
    assert check("topics", {"topics": ["b", "a", "b"]}).values == {"topics": ["b", "a"]}
    assert check("topics", {"topics": "c"}).values == {"topics": ["c"]}
    assert codes(check("topics", {"topics": ["a", "z"]})) == {"topics": "choice"}
    assert codes(check("topics", {"topics": ["a", "b", "c"]})) == {"topics": "too_many_choices"}
    assert codes(check("topics", {"topics": [1, 2]})) == {"topics": "choice"}


def test_checkbox_is_true_or_false() -> None:
    assert check("decides", {"decides": False}).values == {"decides": False}
    assert check("decides", {"decides": True}).values == {"decides": True}
    assert codes(check("decides", {"decides": "yes"})) == {"decides": "yes_or_no"}
    assert check("decides", {}).values == {}


def test_a_required_consent_must_be_given() -> None:
    assert check("agree", {"agree": True}).values == {"agree": True}
    assert codes(check("agree", {"agree": False})) == {"agree": "consent_required"}
    assert codes(check("agree", {})) == {"agree": "required"}


def test_email_and_phone_formats() -> None:
    assert check(("email", "phone"), {"email": " ada@example.com ", "phone": "+45 12 34 56 78"}).values == {
        "email": "ada@example.com",
        "phone": "+45 12 34 56 78",
    }
    result = check(("email", "phone"), {"email": "ada@", "phone": "call me"})
    assert codes(result) == {"email": "email", "phone": "tel"}


def test_a_pattern_must_match_the_whole_answer() -> None:
    assert check("vat", {"vat": "DK12345678"}).values == {"vat": "DK12345678"}
    assert codes(check("vat", {"vat": "DK12345678 and more"})) == {"vat": "pattern"}


def test_blank_answers_count_as_unanswered() -> None:
    assert check(("name", "topics", "size"), {"name": "   ", "topics": [], "size": ""}).values == {}
    assert codes(check("email", {"email": " \t "})) == {"email": "required"}


def test_one_bad_answer_means_no_values_at_all() -> None:
    result = check(("name", "email"), {"name": "Ada", "email": "nope"})
    assert result.values == {} and not result.ok


def test_wrong_shapes_get_a_clear_message() -> None:
    result = check(("name", "email"), {"name": ["Ada"], "email": 5})
    assert codes(result) == {"name": "text_expected", "email": "text_expected"}


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "Please answer this question."),
        ("da", "Besvar venligst dette spørgsmål."),
        ("nb-NO", "Svar på dette spørsmålet."),
        ("ro", "Vă rugăm să răspundeți la această întrebare."),
        ("fr", "Please answer this question."),
    ],
)
def test_messages_speak_the_visitors_language(locale: str, expected: str) -> None:
    assert check("email", {}, locale=locale).errors["email"][0].message == expected


def test_every_message_exists_in_every_core_language() -> None:
    for code, texts in CATALOG.items():
        assert set(CORE_LOCALES) <= set(texts), code


def test_the_form_renders_localised_and_escaped_for_previews() -> None:
    document = {
        "name": "Preview",
        "stages": [
            {
                "key": "s",
                "label": "S",
                "questions": [
                    {"key": "name", "type": "text", "label": {"en": "<b>Name</b>", "da": "Navn & efternavn"}},
                    {"key": "data", "type": "radio", "label": "Data", "options": [{"value": "x", "label": "<i>"}]},
                ],
            }
        ],
    }
    qs = [q for _, q in load(document).questions()]
    form = form_for(qs, "da", "en")()
    html = f"{form['name'].label}{form['data']()}"
    assert "Navn &amp; efternavn" in html and "&lt;i&gt;" in html and "<i>" not in html
    assert form_for(qs, "da", "en") is form_for(qs, "da", "en"), "built once per question list and locale"
    assert "&lt;b&gt;Name&lt;/b&gt;" in str(form_for(qs, "en", "en")()["name"].label)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=5), inner, max_size=5),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(answers=st.fixed_dictionaries({}, optional={key: json_values for key in QUESTIONS}))
def test_any_json_gets_values_or_errors_never_an_exception(answers: dict[str, Any]) -> None:
    result = check(tuple(QUESTIONS), answers)
    assert result.ok == (not result.errors)
    assert not (result.values and result.errors), "all or nothing"
    for key, errors in result.errors.items():
        assert key in QUESTIONS and errors and all(e.message and e.code for e in errors)
    json.dumps(result.values)  # what is stored is plain JSON
    for key, value in result.values.items():
        if isinstance(value, str):
            assert value == value.strip() and unicodedata.is_normalized("NFC", value)
            assert not [c for c in value if unicodedata.category(c) == "Cc" and c not in "\n\t"]
            assert len(value) <= (QUESTIONS[key].get("max_length") or 254)


def _valid(question: Question) -> st.SearchStrategy[Any]:
    qtype = question.type
    if qtype in (QuestionType.TEXT, QuestionType.TEXTAREA):
        return st.text(min_size=question.rules.min_length or 1, max_size=question.max_length or 50).filter(
            lambda t: t.strip() == t and t.isprintable() and unicodedata.is_normalized("NFC", t)
        )
    if qtype is QuestionType.NUMBER:
        return st.integers(1, 5000) | st.floats(1, 5000)
    if qtype is QuestionType.MULTI_SELECT:
        return st.lists(st.sampled_from(question.option_values), min_size=1, max_size=2, unique=True)
    if qtype in (QuestionType.SELECT, QuestionType.RADIO):
        return st.sampled_from(question.option_values)
    return st.booleans()


TYPED = questions("name", "notes", "size", "budget", "kind", "topics", "decides")


@settings(max_examples=200, deadline=None)
@given(answers=st.fixed_dictionaries({q.key: _valid(q) for q in TYPED}))
def test_valid_answers_come_back_typed_and_unchanged(answers: dict[str, Any]) -> None:
    result = validate_answers(TYPED, answers, "en", "en")
    assert result.ok, result.errors
    for key, value in answers.items():
        stored = result.values[key]
        assert stored == value
        if isinstance(value, float) and value.is_integer():
            assert type(stored) is int


def test_a_form_kept_between_submissions_carries_nothing_from_one_to_the_next() -> None:
    """Validation reuses bound forms; each submission must still see only its own values and errors."""
    qs = questions("name", "size", "topics", "agree")
    wrong = {"name": "A", "size": "lots", "topics": ["a", "b", "c"], "agree": False}
    right = {"name": "Ada", "size": "1 200", "topics": ["b"], "agree": True}
    for _ in range(3):
        refused = validate_answers(qs, wrong, "en", "en")
        assert codes(refused) == {"name": "too_short", "size": "number", "topics": "too_many_choices",
                                  "agree": "consent_required"}  # fmt: skip
        accepted = validate_answers(qs, right, "en", "en")
        assert accepted.ok and accepted.values == {"name": "Ada", "size": 1200, "topics": ["b"], "agree": True}
        partly = validate_answers(qs, {"agree": True}, "en", "en")
        assert partly.ok and partly.values == {"agree": True}, "nothing left over from the last submission"
    assert len(form_for(qs, "en", "en")._idle) == 1, "one bound form, kept and lent again"
