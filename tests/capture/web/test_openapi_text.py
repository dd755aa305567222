"""The OpenAPI document says what the code does: schemas hold real keywords and properties, texts name real calls."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from capture.web.openapi import document

EMBED_JS = Path(__file__).resolve().parents[3] / "static" / "embed.js"

#: JSON Schema 2020-12 keywords plus OpenAPI 3.1's own (discriminator, xml, externalDocs, example).
SCHEMA_KEYWORDS = frozenset(
    """
    $id $schema $ref $anchor $dynamicRef $dynamicAnchor $vocabulary $comment $defs
    allOf anyOf oneOf not if then else dependentSchemas prefixItems items contains
    properties patternProperties additionalProperties propertyNames unevaluatedItems unevaluatedProperties
    type const enum multipleOf maximum exclusiveMaximum minimum exclusiveMinimum maxLength minLength pattern
    maxItems minItems uniqueItems maxContains minContains maxProperties minProperties required dependentRequired
    format contentEncoding contentMediaType contentSchema
    title description default deprecated readOnly writeOnly examples
    discriminator xml externalDocs example
    """.split()
)
_SUBSCHEMA = ("items", "additionalProperties", "not", "contains", "propertyNames", "if", "then", "else")
_SUBSCHEMAS = ("allOf", "anyOf", "oneOf", "prefixItems")


def schemas_in(schema: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """A schema and every schema nested in it, each with where it is."""
    if not isinstance(schema, dict):
        return
    yield where, schema
    for name, sub in (schema.get("properties") or {}).items():
        yield from schemas_in(sub, f"{where}.properties.{name}")
    for key in _SUBSCHEMA:
        yield from schemas_in(schema.get(key), f"{where}.{key}")
    for key in _SUBSCHEMAS:
        for index, sub in enumerate(schema.get(key) or []):
            yield from schemas_in(sub, f"{where}.{key}[{index}]")


_WHOLE = object()


def every_schema(node: Any = _WHOLE, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object of the document: components and each `schema:` of a parameter or body."""
    node = document() if node is _WHOLE else node
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "schema":
                yield from schemas_in(value, f"{where}.schema")
            elif key == "schemas" and where == ".components":
                for name, schema in value.items():
                    yield from schemas_in(schema, f"{where}.schemas.{name}")
            else:
                yield from every_schema(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from every_schema(value, f"{where}[{index}]")


def test_every_schema_uses_only_schema_keywords() -> None:
    """An unquoted comma in a YAML flow mapping makes the rest of a description a key of its own."""
    found = list(every_schema())
    assert len(found) > 50
    strays = [
        f"{where}: {sorted(set(schema) - SCHEMA_KEYWORDS)}" for where, schema in found if set(schema) - SCHEMA_KEYWORDS
    ]
    assert not strays, "\n".join(strays)


def test_every_property_is_a_named_schema() -> None:
    bad = [
        f"{where}.properties.{name!r}"
        for where, schema in every_schema()
        for name, sub in (schema.get("properties") or {}).items()
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(name)) or not isinstance(sub, dict)
    ]
    assert not bad, "\n".join(bad)


def test_the_browser_events_answer_has_exactly_the_documented_properties(client: Any, publish_form: Any) -> None:
    published = publish_form()
    operation = document()["paths"]["/api/v1/sites/{site_key}/events"]["post"]
    schema = operation["responses"]["202"]["content"]["application/json"]["schema"]
    event = {"id": secrets.token_hex(16), "type": "page_view", "url": "https://www.example.com/pricing"}
    answered = client.post(
        f"/api/v1/sites/{published.site_key}/events",
        json={"events": [event, event | {"id": secrets.token_hex(16)}]},
        headers={"Origin": published.origin},
    )
    assert answered.status_code == 202, answered.get_json()
    body = answered.get_json()
    assert set(body) == set(schema["properties"]) == set(schema["required"])
    assert body["accepted"] == 2 and body["duplicates"] == 0


def test_the_events_text_names_how_the_snippet_really_sends() -> None:
    text = document()["paths"]["/api/v1/sites/{site_key}/events"]["post"]["description"]
    snippet = EMBED_JS.read_text(encoding="utf-8")
    for call in ("sendBeacon", "keepalive", "XMLHttpRequest"):
        if call in text:
            assert call in snippet, f"the OpenAPI text says the snippet uses {call}; static/embed.js does not"
    assert "keepalive" in text and "text/plain" in text
