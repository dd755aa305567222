"""The explanation a score is stored with, encoded by hand for the bulk re-score: exactly json.dumps's text."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import given, settings

from capture.qualifying.scores import explanation, explanation_json
from scoring.engine import Contribution, Score, score_events
from scoring.inputs import Event, Profile
from scoring.model import ScoringModel
from tests.scoring.strategies import event_lists, models, moments, profiles


@settings(max_examples=150, deadline=None)
@given(models(), profiles(), event_lists(), moments())
def test_the_explanation_text_is_what_json_dumps_writes(
    model: ScoringModel, profile: Profile, evs: list[Event], now: datetime
) -> None:
    result = score_events(model, profile, evs, now)
    assert explanation_json(result) == json.dumps(explanation(result))


def contribution(**changes: object) -> Contribution:
    values: dict[str, object] = {
        "rule": "r", "label": "L", "group": "fit", "points": 1.5, "count": 1, "capped": False, "detail": "d",
    }  # fmt: skip
    values.update(changes)
    return Contribution(**values)  # type: ignore[arg-type]


def test_labels_and_details_are_escaped_as_json_dumps_escapes_them() -> None:
    odd = 'Søren\'s "Ω" \\ team\n\x1f\u2028 😀'
    result = Score(
        fit=1.0, engagement=0.0, total=1.0, completeness=1 / 3, disqualified=(odd, "Competitor"),
        contributions=(
            contribution(rule=odd, label=odd, detail=odd, capped=True),
            contribution(rule="r2", label="×4", group="engagement", points=-0.0, count=12, detail="×12, latest"),
            contribution(rule="r2", label="other label, same rule", points=1e-7),
        ),
    )  # fmt: skip
    assert explanation_json(result) == json.dumps(explanation(result))


def test_what_repr_would_write_differently_falls_back_on_json_dumps() -> None:
    for odd in (
        contribution(points=float("nan")),
        contribution(points=float("inf")),
        contribution(points=2),  # an int where a float is meant
        contribution(count=True),
    ):
        result = Score(fit=0.0, engagement=0.0, total=0.0, completeness=float("-inf"), disqualified=(),
                       contributions=(odd,))  # fmt: skip
        assert explanation_json(result) == json.dumps(explanation(result))
    result = Score(fit=0.0, engagement=0.0, total=0.0, completeness=float("nan"), disqualified=(), contributions=())
    assert (
        explanation_json(result)
        == json.dumps(explanation(result))
        == ('{"completeness": NaN, "intent": 0.0, "disqualified": [], "contributions": []}')
    )
    result = Score(fit=0.0, engagement=0.0, total=0.0, completeness=1.0, disqualified=(), contributions=(), intent=0)
    assert explanation_json(result) == json.dumps(explanation(result))  # an int where a float is meant
