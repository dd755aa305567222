"""Pydantic building blocks the sequence and scoring declarations share.

Kept apart from :mod:`profiling.schema_support` so the plain helpers there stay free of
pydantic; both profiling/ and scoring/ build on this module, never the other way round.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from profiling.schema_support import KEY_PATTERN, LOCALE_PATTERN

#: JSON Schema (ECMA-262) and pydantic both read this: no control character but tab and newline.
NO_CONTROL = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f]*$"
#: Numbers beyond this are typos, and past 2**53 they stop surviving a float round trip.
MAX_NUMBER = 10**15

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN.pattern)]
Locale = Annotated[str, StringConstraints(pattern=LOCALE_PATTERN.pattern)]
Number = Annotated[float, Field(ge=-MAX_NUMBER, le=MAX_NUMBER, allow_inf_nan=False)]
#: A value a field can be compared with: a text, a number or true/false.
Scalar = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_CONTROL)] | bool | Number


class Declared(BaseModel):
    """A part of a document: unknown keys are refused (the loaders add a "did you mean")."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    @classmethod
    def keys(cls) -> frozenset[str]:
        """The keys this part of a document may have, as a document spells them."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items())


def json_schema(model: type[BaseModel], schema_id: str, title: str) -> dict[str, Any]:
    """The published JSON Schema of a document format (docs/schemas/)."""
    schema = model.model_json_schema(by_alias=True, mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": schema_id,
        "title": title,
        **{key: value for key, value in schema.items() if key != "title"},
    }
