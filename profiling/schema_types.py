"""Pydantic building blocks the sequence, scoring and routing declarations share.

Kept apart from :mod:`profiling.schema_support` so the plain helpers there stay free of
pydantic; both profiling/ and scoring/ build on this module, never the other way round.

The declarations are the validators: :func:`problems_of` turns a pydantic validation into
the loaders' "path: message" problems. Pydantic's own words become ours by error type
(``bool_type`` is "must be true or false"); a field with words of its own says so with
:func:`worded`; a check across fields raises :func:`refuse` with a path under its part.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from profiling.schema_support import (
    CONTROL_CHARACTERS,
    KEY_PATTERN,
    LOCALE_PATTERN,
    MAX_HINTS,
    did_you_mean,
)

#: JSON Schema (ECMA-262) and pydantic both read this: no control character but tab and newline.
NO_CONTROL = f"^[^{CONTROL_CHARACTERS}]*$"
#: Numbers beyond this are typos, and past 2**53 they stop surviving a float round trip.
MAX_NUMBER = 10**15

#: A problem's path below the part that found it: field names and list indexes.
Where = tuple[str | int, ...]


def not_blank(text: str) -> str:
    """A text of only spaces says nothing: refused as empty."""
    if not text.strip():
        raise ValueError("must be a non-empty text")
    return text


def refuse(problems: Iterable[tuple[Where, str]]) -> None:
    """Raise every ``(where, message)`` at once, each at its path below the part being validated."""
    details = [
        InitErrorDetails(type=PydanticCustomError("problem", message), loc=where, input=None)
        for where, message in problems
    ]
    if details:
        raise ValidationError.from_exception_data("document", details)


def again(detail: Any) -> InitErrorDetails:
    """One error of a caught validation, to raise again (pydantic has no other way to add to them)."""
    context = {key: value for key, value in detail.get("ctx", {}).items() if key != "error"}
    error = PydanticCustomError(detail["type"], detail["msg"], context or None)
    return InitErrorDetails(type=error, loc=detail["loc"], input=detail.get("input"))


def worded(**messages: str) -> WrapValidator:
    """A field's own words for pydantic's errors of it, by error type (``any`` for every type).

    ``worded(too_short="needs at least one stage")``: the words may name the error's context
    (``{le}``). Errors inside the field's value (a list's entries) keep theirs.
    """

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            first = errors[0]
            words = messages.get(first["type"], messages.get("any"))
            if words is None or first["loc"] != () or any(error["loc"] != () for error in errors):
                raise
            raise PydanticCustomError("worded", words.format(**first.get("ctx", {}))) from None

    return WrapValidator(validate)


def _kept_if_whole(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    checked = handler(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else checked


Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN.pattern)]
Locale = Annotated[str, StringConstraints(pattern=LOCALE_PATTERN.pattern)]
#: A number as written (1000 stays 1000 in an export); true/false is not a number.
Number = Annotated[
    float,
    Field(ge=-MAX_NUMBER, le=MAX_NUMBER, allow_inf_nan=False),
    WrapValidator(_kept_if_whole),
    worded(
        greater_than_equal=f"is out of range (at most {MAX_NUMBER:.0e} either way)",
        less_than_equal=f"is out of range (at most {MAX_NUMBER:.0e} either way)",
    ),
]
#: A value a field can be compared with: a text, a number or true/false.
Scalar = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=NO_CONTROL)] | bool | Number
SCALAR_WORDS = "must be a short text, a number or true/false"


def _one_kind(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A compared value that is none of its kinds is told so once: pydantic would report each kind's
    error at a path of its own (``equals.bool``). A number keeps the number's words ("is out of range")."""
    try:
        return handler(value)
    except ValidationError as exc:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            own = [error for error in exc.errors(include_url=False) if not error["type"].endswith("_type")]
            if own:
                raise ValidationError.from_exception_data(
                    "value", [again({**error, "loc": ()}) for error in own]
                ) from None
        raise PydanticCustomError("scalar", SCALAR_WORDS) from None


#: A :data:`Scalar` with one message for a value of no kind it has.
Compared = Annotated[Scalar, WrapValidator(_one_kind)]


class Declared(BaseModel):
    """A part of a document: strict (``"yes"`` is not true, ``"3"`` not 3), unknown keys refused with a hint."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=True)
    #: what a key this part does not know is called, after the key's path
    unknown_key: ClassVar[str] = "is not a known setting"
    #: keys this part does not have though a writer may expect them, and why (a fit rule has no cap)
    not_here: ClassVar[Mapping[str, str]] = {}
    #: what an empty mapping is told (when unsaid, each required key is missing)
    empty: ClassVar[str] = ""

    @classmethod
    def keys(cls) -> frozenset[str]:
        """The keys this part of a document may have, as a document spells them."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items())

    @model_validator(mode="before")
    @classmethod
    def _not_empty(cls, data: Any) -> Any:
        if cls.empty and isinstance(data, Mapping) and not data:
            raise ValueError(cls.empty)
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _name_unknown_keys(cls, data: Any, handler: ModelWrapValidatorHandler[Self]) -> Self:
        """Pydantic's "extra inputs" of this part, in its words, with a "did you mean" for a typo."""
        try:
            return handler(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            extra = [e for e in errors if e["type"] == "extra_forbidden" and len(e["loc"]) == 1]
            if not extra:
                raise
            keys = cls.keys() if len(extra) <= MAX_HINTS else ()
            details = [
                InitErrorDetails(
                    type=PydanticCustomError("unknown_key", cls._unknown(e["loc"][0], keys)),
                    loc=e["loc"],
                    input=e["input"],
                )
                if e in extra
                else again(e)
                for e in errors
            ]
            raise ValidationError.from_exception_data(cls.__name__, details) from None

    @classmethod
    def _unknown(cls, key: str | int, keys: Iterable[str]) -> str:
        return cls.not_here.get(str(key)) or cls.unknown_key + did_you_mean(key, keys)


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


def shown(number: Any) -> str:
    """A number as a message writes it: 25, not 25.0."""
    return str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)


def _one_of(detail: Any) -> str:
    """A Literal's words: "must be 'leadwheel/sequence@1'", "must be one of text, email (did you mean 'text'?)"."""
    expected = detail["ctx"]["expected"]
    values = re.findall(r"'([^']*)'", expected)
    if not values:
        return f"must be {expected.lower()}"  # Literal[True]
    if len(values) == 1:
        return f"must be '{values[0]}'"
    return "must be one of " + ", ".join(values) + did_you_mean(detail.get("input"), values)


#: pydantic's error types in the loaders' words (a text is formatted with the error's context)
WORDS: dict[str, str | Callable[[Any], str]] = {
    "missing": "is required",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "model_attributes_type": "must be a mapping",
    "list_type": "must be a list",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "float_type": "must be a number",
    "string_type": "must be a text",
    "string_too_long": "is longer than {max_length} characters",
    "too_long": "at most {max_length} entries",
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "literal_error": _one_of,
    "string_too_short": lambda d: (
        "must be a non-empty text"
        if d["ctx"]["min_length"] == 1
        else f"must be at least {d['ctx']['min_length']} characters long"
    ),
    "too_short": lambda d: (
        f"must list at least {d['ctx']['min_length']} value{'s' if d['ctx']['min_length'] != 1 else ''}"
    ),
    "value_error": lambda d: d["msg"].removeprefix("Value error, "),
}
#: a text that does not match one of these patterns is told what the pattern means
PATTERNS: Mapping[str, str] = {
    KEY_PATTERN.pattern: "must be lower-case letters, digits and _ , starting with a letter",
    LOCALE_PATTERN.pattern: "is not a locale code such as en, da, nb or ro",
    NO_CONTROL: "contains a control character",
}


def _message(detail: Any) -> str:
    if detail["type"] == "string_pattern_mismatch" and detail["ctx"]["pattern"] in PATTERNS:
        return PATTERNS[detail["ctx"]["pattern"]]
    words = WORDS.get(detail["type"])
    if words is None:  # our own (worded, refuse, unknown keys), or one we have no words for
        return str(detail["msg"]).replace("Input should be", "must be", 1)
    if callable(words):
        return words(detail)
    return words.format(**{key: shown(value) for key, value in detail.get("ctx", {}).items()})


def problems_of(error: ValidationError) -> list[str]:
    """The "path: message" problems of a pydantic validation, in the loaders' words."""
    problems: list[str] = []
    for detail in error.errors(include_url=False):
        path, message = _path(detail["loc"]), _message(detail)
        problems.append(f"{path}: {message}" if path else message)
    return problems
