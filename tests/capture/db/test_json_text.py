"""JSON out through orjson: what the standard library wrote is still written, and reads back the same."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask, jsonify

from capture.db import json_text
from capture.db.json_text import JSONProvider

VALUES: list[Any] = [
    {"name": "Søren <b>", "size": 120, "share": 0.1, "tags": ["a", "æ"], "none": None, "yes": True},
    10**30,  # beyond 64 bits: orjson refuses it, the standard library writes it exactly
    {"nested": {"big": -(10**25), "emoji": "😀"}},
    {1: "int key", "b": [1.5e300, -0.0]},
]


@pytest.mark.parametrize("value", VALUES)
def test_dumps_reads_back_as_the_standard_library_writes_it(value: Any) -> None:
    assert json.loads(json_text.dumps(value)) == json.loads(json.dumps(value))


@dataclass
class Point:
    x: int
    at: datetime


def test_responses_keep_flasks_rules_for_dates_order_and_other_types() -> None:
    app = Flask(__name__)
    app.json = JSONProvider(app)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    at = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
    body = {"z": 1, "a": at, "price": Decimal("9.90"), "point": Point(1, at), "big": 10**30, "label": "Grundlæggende"}
    with app.app_context():
        response = jsonify(body)
    assert response.mimetype == "application/json"
    text = response.get_data(as_text=True)
    assert list(json.loads(text)) == ["z", "a", "price", "point", "big", "label"]  # the order given
    assert json.loads(text) == {
        "z": 1, "a": "Thu, 03 Dec 2026 09:30:00 GMT", "price": "9.90",
        "point": {"x": 1, "at": "Thu, 03 Dec 2026 09:30:00 GMT"}, "big": 10**30, "label": "Grundlæggende",
    }  # fmt: skip
    app.json.sort_keys = True  # type: ignore[attr-defined]
    with app.app_context():
        assert list(json.loads(jsonify({"b": 1, "a": 2}).get_data())) == ["a", "b"]


def test_the_debuggers_indented_output_still_comes_from_the_standard_library() -> None:
    app = Flask(__name__)
    app.json = JSONProvider(app)
    assert app.json.dumps({"a": 1}, indent=2) == '{\n  "a": 1\n}'
