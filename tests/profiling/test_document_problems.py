"""What an editor gets for a sequence text as it is typed: each problem's path, line, message and severity."""

from __future__ import annotations

from profiling.document import DocumentProblem, check, problems

WHEEL = """\
name: Problems
stages:
  - key: basics
    label: {en: Basics, da: Grundlæggende}
    questions:
      - {key: email, type: email, label: {en: E-mail, da: E-mail}}
      - key: company
        type: text
        label: {en: Company, da: Firma}
"""


def test_a_clean_document_has_no_problems() -> None:
    assert problems(WHEEL) == []


def test_a_misspelt_key_is_an_error_on_its_line_with_a_hint() -> None:
    found = problems(WHEEL.replace("        type: text\n", "        tpye: text\n"))
    assert (
        DocumentProblem(
            path="stages[0].questions[1].tpye",
            line=8,
            message="is not a known question setting (did you mean 'type'?)",
            severity="error",
        )
        in found
    )
    assert all(problem.severity == "error" for problem in found)


def test_a_missing_translation_is_a_warning_on_the_line_of_the_label() -> None:
    found = problems(WHEEL.replace("label: {en: Company, da: Firma}", "label: Company"))
    assert found == [DocumentProblem("stages[0].questions[1].label", 9, 'no "da" translation', "warning")]


def test_the_warnings_read_as_check_prints_them() -> None:
    text = WHEEL.replace("label: {en: Company, da: Firma}", "label: Company")
    _, warnings = check(text)
    assert [str(problem) for problem in problems(text)] == warnings


def test_text_that_is_not_yaml_is_one_error_for_the_whole_document() -> None:
    found = problems("name: [unclosed\n")
    assert len(found) == 1
    assert found[0].path == "" and found[0].line is None and found[0].severity == "error"
    assert found[0].message.startswith("not valid YAML")


def test_a_json_document_gets_lines_too() -> None:
    text = '{\n  "name": "J",\n  "stages": [\n    {"key": "b", "label": "B", "questions": [], "colour": 1}\n  ]\n}\n'
    found = problems(text, "wheel.json")
    assert DocumentProblem("stages[0].colour", 4, "is not a known stage setting", "error") in found
