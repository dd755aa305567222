"""Scoring-model and routing files name the line of each problem and hint at misspelt keys."""

from __future__ import annotations

import pytest

from scoring.document import ModelError, load_model
from scoring.routing import RoutingError, load_routing

MODEL = """\
format: leadwheel/scoring@1
name: Hints
thresholds: {mql: 25, sql: 75}
fit:
  - id: big
    label: A big company
    field: company_size
    min: 100
    points: 20
engagement:
  - id: pricing
    label: Viewed pricing
    event: page_view
    path: /pricing*
    points: 5
"""

ROUTING = """\
format: leadwheel/routing@1
account_owners: {bigco.example: anna@ours.example}
rules:
  - {field: country, in: [dk], team: nordics}
teams: {nordics: [cia@ours.example]}
default_team: nordics
"""


def model_problems(text: str) -> list[str]:
    with pytest.raises(ModelError) as error:
        load_model(text)
    return error.value.problems


def routing_problems(text: str) -> list[str]:
    with pytest.raises(RoutingError) as error:
        load_routing(text)
    return error.value.problems


def test_the_model_text_is_valid_to_begin_with() -> None:
    assert load_model(MODEL).name == "Hints"
    assert load_routing(ROUTING).default_team == "nordics"


def test_a_model_problem_names_its_line() -> None:
    problems = model_problems(MODEL.replace("    points: 5\n", "    points: 500\n"))
    assert problems == ["line 15: engagement[0].points: must be at most 100"]


def test_a_misspelt_model_key_gets_a_hint() -> None:
    problems = model_problems(MODEL.replace("    label: Viewed pricing", "    lable: Viewed pricing"))
    assert "line 12: engagement[0].lable: is not a known engagement rule setting (did you mean 'label'?)" in problems
    problems = model_problems(MODEL.replace("thresholds: {mql: 25, sql: 75}", "treshholds: {mql: 25}"))
    assert "line 3: treshholds: is not a known top-level key (did you mean 'thresholds'?)" in problems


def test_a_routing_problem_names_its_line_even_under_a_dotted_domain() -> None:
    problems = routing_problems(ROUTING.replace("anna@ours.example", "''"))
    assert problems == ["line 2: account_owners.bigco.example: must be a person (an e-mail address or CRM id)"]
    problems = routing_problems(ROUTING.replace("bigco.example:", "bigco:"))
    assert problems == ["line 2: account_owners.bigco: must map a domain such as acme.com to a person"]
    problems = routing_problems(ROUTING.replace("team: nordics}", "taem: nordics}"))
    assert "line 4: rules[0].taem: is not a known setting (did you mean 'team'?)" in problems
