"""Pydantic building blocks the sequence and scoring declarations share.

Kept apart from :mod:`profiling.schema_support` so the plain helpers there stay free of
pydantic; both profiling/ and scoring/ build on this module, never the other way round.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from profiling.schema_support import CONTROL_CHARACTERS, KEY_PATTERN, LOCALE_PATTERN, did_you_mean

#: JSON Schema (ECMA-262) and pydantic both read this: no control character but tab and newline.
NO_CONTROL = f"^[^{CONTROL_CHARACTERS}]*$"
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


def _path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for step in loc:
        if step == "[key]":
            continue  # the problem is the key itself, which the path already names
        path += f"[{step}]" if isinstance(step, int) else (f".{step}" if path else str(step))
    return path


def problems_of(error: ValidationError, known_keys: Iterable[str]) -> list[str]:
    """The "path: message" problems of a pydantic validation, in the loaders' words.

    Our validators raise ``ValueError("must be ...")``, which reads as it is; pydantic's own
    messages ("Input should be a valid list") become "must be a valid list"; an unknown key
    is "not a known setting", with a hint from ``known_keys`` when one is close.
    """
    problems: list[str] = []
    for detail in error.errors(include_url=False, include_input=False):
        path = _path(detail["loc"])
        least = detail.get("ctx", {}).get("min_length")
        if detail["type"] == "extra_forbidden":
            message = "is not a known setting" + did_you_mean(detail["loc"][-1], known_keys)
        elif detail["type"] == "missing":
            message = "is required"
        elif detail["type"] in ("dict_type", "model_type", "model_attributes_type"):
            message = "must be a mapping"
        elif detail["type"] == "string_too_short":
            message = "must be a non-empty text" if least == 1 else f"must be at least {least} characters long"
        elif detail["type"] == "too_short":
            message = f"must list at least {least} {'value' if least == 1 else 'values'}"
        elif detail["type"] == "list_type":
            message = "must be a list"
        elif detail["type"] == "value_error":
            message = detail["msg"].removeprefix("Value error, ")
        else:
            message = detail["msg"].replace("Input should be", "must be", 1)
        problems.append(f"{path}: {message}" if path else message)
    return problems
