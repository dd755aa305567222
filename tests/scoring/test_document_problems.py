"""What an editor gets for a scoring-model or routing text: each problem's path, line and message."""

from __future__ import annotations

from profiling.schema_support import DocumentProblem
from scoring.document import model_problems
from scoring.routing import routing_problems

MODEL = """\
format: leadwheel/scoring@1
name: Problems
thresholds: {mql: 25, sql: 75}
fit:
  - id: big
    label: A big company
    field: company_size
    min: 100
    points: 20
"""

ROUTING = """\
format: leadwheel/routing@1
rules:
  - {field: country, in: [dk], team: nordics}
teams: {nordics: [cia@ours.example]}
default_team: nordics
"""


def test_documents_that_load_have_no_problems() -> None:
    assert model_problems(MODEL) == []
    assert routing_problems(ROUTING) == []


def test_a_misspelt_model_key_is_an_error_on_its_line_with_a_hint() -> None:
    found = model_problems(MODEL.replace("    points: 20", "    pionts: 20"))
    hinted = [problem for problem in found if problem.path == "fit[0].pionts"]
    assert len(hinted) == 1
    assert hinted[0].line == 9 and hinted[0].severity == "error"
    assert "(did you mean 'points'?)" in hinted[0].message


def test_a_misspelt_routing_key_is_an_error_on_its_line_with_a_hint() -> None:
    found = routing_problems(ROUTING.replace("default_team:", "default_taem:"))
    assert DocumentProblem("default_taem", 5, "is not a known setting (did you mean 'default_team'?)", "error") in found


def test_text_that_is_not_yaml_is_one_error_without_a_path() -> None:
    (problem,) = model_problems("name: [unclosed\n")
    assert problem.path == "" and problem.severity == "error"
    assert problem.message.startswith("not valid YAML")
