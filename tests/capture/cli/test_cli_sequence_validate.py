"""``leadwheel sequence validate``: problems with their lines exit 1, missing translations are warnings and exit 0."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from capture.cli.main import main

WHEEL = """\
name: Warnings
stages:
  - key: basics
    label: {en: Basics, da: Grundlæggende}
    questions:
      - {key: email, type: email, label: E-mail}
"""


def validate(tmp_path: Path, text: str) -> tuple[int, str, str]:
    path = tmp_path / "wheel.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["sequence", "validate", str(path)], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_missing_translations_are_printed_as_warnings_and_the_file_is_still_valid(tmp_path: Path) -> None:
    code, out, err = validate(tmp_path, WHEEL)
    assert code == 0
    assert "valid, 1 stages, 1 questions" in out
    assert 'warning: line 6: stages[0].questions[0].label: no "da" translation' in err


def test_a_fully_translated_file_has_no_warnings(tmp_path: Path) -> None:
    code, _, err = validate(tmp_path, WHEEL.replace("label: E-mail", "label: {en: E-mail, da: E-mail}"))
    assert code == 0 and "warning" not in err


def test_problems_exit_1_with_their_lines_and_hints(tmp_path: Path) -> None:
    code, _, err = validate(tmp_path, WHEEL.replace("type: email", "tpye: email"))
    assert code == 1
    assert "line 6: stages[0].questions[0].tpye: is not a known question setting (did you mean 'type'?)" in err
