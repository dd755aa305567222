"""What a marketer sees when a sequence file is wrong or incomplete: the line, a hint, the missing translations."""

from __future__ import annotations

import json

import pytest

from profiling.document import DocumentError, check, dumps, loads

WHEEL = """\
format: leadwheel/sequence@1
name: Hints
default_locale: en
stages:
  - key: basics
    label: {en: Basics, nb: Grunnleggende}
    questions:
      - key: email
        type: email
        label: {en: E-mail, nb: E-post}
      - key: kind
        type: radio
        label: {en: Kind, nb: Type}
        help: Business or home?
        options:
          - {value: b2b, label: {en: Business, nb: Bedrift}}
          - {value: b2c}
        when: {field: email, known: true}
"""


def refused(text: str, filename: str = "") -> list[str]:
    with pytest.raises(DocumentError) as error:
        loads(text, filename)
    return error.value.problems


def test_each_problem_names_the_yaml_line_it_is_on() -> None:
    text = WHEEL.replace("        type: radio\n", "        type: dropdown\n").replace("known: true", "known: false")
    problems = refused(text)
    assert (
        "line 12: stages[0].questions[1].type: must be one of text, textarea, email, tel, number, select, "
        "multi-select, radio, checkbox, consent" in problems
    )
    assert "line 18: stages[0].questions[1].when[0].known: must be true" in problems


def test_a_missing_key_points_at_the_part_that_lacks_it() -> None:
    text = WHEEL.replace("        label: {en: Kind, nb: Type}\n", "")
    assert refused(text) == ["line 11: stages[0].questions[1].label: is required"]


def test_a_misspelt_key_gets_a_did_you_mean_hint() -> None:
    text = WHEEL.replace("        help:", "        hlep:").replace("default_locale:", "default_locle:")
    problems = refused(text)
    assert "line 3: default_locle: is not a known setting (did you mean 'default_locale'?)" in problems
    assert "line 14: stages[0].questions[1].hlep: is not a known question setting (did you mean 'help'?)" in problems


def test_a_key_like_no_known_one_gets_no_hint() -> None:
    problems = refused(WHEEL.replace("        help:", "        zzzz:"))
    assert problems == ["line 14: stages[0].questions[1].zzzz: is not a known question setting"]


def test_a_misspelt_test_or_type_gets_a_hint_too() -> None:
    problems = refused(WHEEL.replace("known: true", "knwn: true").replace("type: radio", "type: radi"))
    assert problems[0].endswith("(did you mean 'radio'?)")
    test = next(problem for problem in problems if ".knwn" in problem)
    assert test.startswith("line 18: stages[0].questions[1].when[0].knwn: is not a test")
    assert test.endswith("(did you mean 'known'?)")


def test_json_files_get_their_lines_as_well() -> None:
    sequence = loads(WHEEL)
    lines = dumps(sequence, "json").replace('"type": "radio"', '"type": "dial"')
    problems = refused(lines, "wheel.json")
    expected = next(n for n, line in enumerate(lines.splitlines(), 1) if '"dial"' in line)
    assert problems[0].startswith(f"line {expected}: stages[0].questions[1].type: must be one of")


def test_a_problem_without_a_place_in_the_file_has_no_line() -> None:
    problems = refused("format: leadwheel/sequence@1\nstages: []\n")
    assert problems == ["name: is required", "line 2: stages: needs at least one stage"]


def test_missing_translations_are_warnings_with_path_and_line() -> None:
    sequence, warnings = check(WHEEL)
    assert sequence.name == "Hints"
    assert warnings == ['line 14: stages[0].questions[1].help: no "nb" translation']


def test_an_option_without_a_label_shows_its_value_and_needs_no_translation() -> None:
    _, warnings = check(WHEEL.replace("        help: Business or home?\n", ""))
    assert warnings == []


def test_every_locale_the_document_uses_is_asked_of_every_text() -> None:
    text = WHEEL.replace("{en: E-mail, nb: E-post}", "{en: E-mail, nb: E-post, da: E-mail}")
    _, warnings = check(text)
    assert 'line 6: stages[0].label: no "da" translation' in warnings
    assert 'line 13: stages[0].questions[1].label: no "da" translation' in warnings
    assert 'line 14: stages[0].questions[1].help: no "nb" translation' in warnings
    assert 'line 14: stages[0].questions[1].help: no "da" translation' in warnings
    assert 'line 16: stages[0].questions[1].options[0].label: no "da" translation' in warnings


def test_a_document_in_one_language_has_no_warnings() -> None:
    doc = json.loads(json.dumps({"name": "One", "stages": [{"key": "s", "label": "S", "questions": [
        {"key": "email", "type": "email", "label": "E-mail", "help": "We write rarely"}]}]}))  # fmt: skip
    assert check(json.dumps(doc))[1] == []


def test_a_flood_of_unknown_keys_is_reported_without_hints_and_quickly() -> None:
    """Hints are for typos; thousands of unknown keys must not cost a difflib search each."""
    flood = "".join(f"extra_setting_{i}: 1\n" for i in range(5000))
    problems = refused(WHEEL + flood)
    assert len(problems) == 5000
    assert problems[0] == "line 19: extra_setting_0: is not a known setting"
