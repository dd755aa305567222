"""The published JSON Schemas (docs/schemas/) are what the declarations generate, and every example obeys them.

Editors (through the ``yaml-language-server`` line each example starts with) and the admin
UI validate against these files, so a stale file or an example that only the loader accepts
would mislead both.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from profiling.document import loads
from scoring.document import load_model
from scoring.routing import load_routing
from scoring.schema import schema_files

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "docs" / "schemas"
EXAMPLES = [
    *sorted((ROOT / "docs" / "examples").glob("*.yaml")),
    ROOT / "scoring" / "defaults" / "default.yaml",
    ROOT / "docs" / "routing.example.yaml",
]
LOADERS = {
    "sequence.schema.json": loads,
    "scoring-model.schema.json": load_model,
    "routing.schema.json": load_routing,
}
HEADER = re.compile(r"^# yaml-language-server: \$schema=(\S+)\n")


def validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("name", sorted(schema_files()))
def test_the_committed_schema_is_what_the_declaration_generates(name: str) -> None:
    committed = (SCHEMAS / name).read_text(encoding="utf-8")
    assert committed == schema_files()[name], f"docs/schemas/{name} is stale: run scripts/build-schemas"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda path: path.name)
def test_every_example_names_its_schema_obeys_it_and_loads(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    header = HEADER.match(text)
    assert header, f"{path} must start with a yaml-language-server $schema line"
    schema_path = (path.parent / header.group(1)).resolve()
    assert schema_path.parent == SCHEMAS and schema_path.exists()
    errors = [error.message for error in validator(schema_path.name).iter_errors(yaml.safe_load(text))]
    assert errors == []
    LOADERS[schema_path.name](text)


@pytest.mark.parametrize(
    ("name", "document"),
    [
        (
            "sequence.schema.json",
            {
                "name": "x",
                "stages": [{"key": "s", "label": "S", "questions": [{"key": "q", "type": "text", "lable": "Q"}]}],
            },
        ),  # fmt: skip
        (
            "sequence.schema.json",
            {
                "name": "x",
                "stages": [{"key": "s", "label": "S", "questions": [{"key": "q", "type": "dropdown", "label": "Q"}]}],
            },
        ),  # fmt: skip
        (
            "scoring-model.schema.json",
            {"name": "m", "fit": [{"id": "Big", "label": "L", "field": "f", "known": True, "points": 5}]},
        ),  # fmt: skip
        (
            "scoring-model.schema.json",
            {"name": "m", "engagement": [{"id": "e", "label": "L", "event": "page_view", "points": 500}]},
        ),  # fmt: skip
        ("routing.schema.json", {"format": "leadwheel/routing@1", "teams": {"a": []}}),
        ("routing.schema.json", {"account_owners": {}}),
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(name: str, document: dict[str, Any]) -> None:
    assert list(validator(name).iter_errors(document)), "the schema would let an editor accept a broken document"
    with pytest.raises(ValueError):
        LOADERS[name](json.dumps(document))


def test_the_schemas_offer_the_keys_an_editor_completes() -> None:
    sequence = json.loads((SCHEMAS / "sequence.schema.json").read_text(encoding="utf-8"))
    question = sequence["$defs"]["QuestionDocument"]
    assert {"key", "type", "label", "options", "when", "freshness_days"} <= set(question["properties"])
    assert question["additionalProperties"] is False
    assert "multi-select" in json.dumps(question["properties"]["type"])
