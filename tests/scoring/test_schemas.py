"""The published JSON Schemas (docs/schemas/) are what the declarations generate, and every example obeys them.

Editors (through the ``yaml-language-server`` line each example starts with) and the admin
UI validate against these files, so a stale file or an example that only the loader accepts
would mislead both.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings

from profiling.document import dump, loads
from profiling.schema import SequenceDocument
from profiling.sequence import Sequence
from scoring.document import load_model, model_document, parse_model
from scoring.model import ScoringModel
from scoring.routing import load_routing
from scoring.schema import ScoringModelDocument, schema_files
from tests.profiling.strategies import sequences
from tests.scoring.strategies import model_documents, models

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


@functools.cache
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


@settings(max_examples=60, deadline=None)
@given(sequences(rich=True))
def test_the_sequence_schema_accepts_every_valid_sequence(sequence: Sequence) -> None:
    """An editor must never flag a document that the loader accepts (the schema is no stricter)."""
    document = dump(sequence)
    assert [error.message for error in validator("sequence.schema.json").iter_errors(document)] == []
    SequenceDocument.model_validate(document)


@settings(max_examples=60, deadline=None)
@given(models())
def test_the_model_schema_accepts_every_valid_model(model: ScoringModel) -> None:
    document = model_document(model)
    assert [error.message for error in validator("scoring-model.schema.json").iter_errors(document)] == []
    ScoringModelDocument.model_validate(document)


@settings(max_examples=60, deadline=None)
@given(model_documents())
def test_the_model_schema_accepts_every_document_the_loader_accepts(document: dict[str, Any]) -> None:
    parse_model(document)
    assert [error.message for error in validator("scoring-model.schema.json").iter_errors(document)] == []
