"""JSON written by orjson where it can, by the standard library where it cannot.

Every ask and answer encodes its response, and every answer its lead's
profile document (capture/leads/profile_doc.py): with ``json.dumps`` the answer's
1.3 KB response alone cost ~37 µs on 2026-12-03, with orjson ~3 µs. Reading
stays with ``json.loads``: orjson reads an integer beyond 64 bits as a float,
and a visitor's number must come back as it was given.

orjson writes compact UTF-8 (no ``\\uXXXX`` escapes: the responses say
``charset=utf-8``, as JSON must be) and refuses what JSON cannot say exactly
(integers beyond 64 bits, for one): those values go to ``json.dumps``, so
anything the standard library wrote is still written.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def dumps(value: Any) -> str:
    """``value`` as JSON text: what ``json.dumps`` would write, without its spaces."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:
        return json.dumps(value)


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON for responses (``jsonify``), written by orjson.

    Flask's own rules stay: dates as HTTP dates through its ``default``, keys in
    the order given unless ``sort_keys``, and indented output (the debugger's)
    from the standard library.
    """

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if kwargs.get("indent") is not None:
            return super().dumps(obj, **kwargs)
        option = _OPTIONS | orjson.OPT_SORT_KEYS if kwargs.get("sort_keys", self.sort_keys) else _OPTIONS
        try:
            return orjson.dumps(obj, default=self.default, option=option).decode()
        except TypeError:
            return super().dumps(obj, **kwargs)


#: deeper than any request the API documents; nesting beyond it is refused, not recursed into
MAX_DEPTH = 32
#: digits of an integer literal: more than any number a form or a CRM sends
MAX_INT_DIGITS = 64


class NotStrictJSON(ValueError):
    """A body that is JSON to ``json.loads`` but not to the databases or to a webhook's receiver."""


def _refuse_constant(name: str) -> Any:
    raise NotStrictJSON(f"{name} is not a JSON number.")


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):  # 1e999: Infinity by another name
        raise NotStrictJSON(f"The number {text[:20]} is too large.")
    return number


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise NotStrictJSON(f"Integers may have at most {MAX_INT_DIGITS} digits.")
    return int(text)


def _check_text(text: str) -> None:
    if "\x00" in text:
        raise NotStrictJSON("Text may not contain the NUL character.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise NotStrictJSON("Text may not contain a lone surrogate (\\ud800-\\udfff).") from None


def _check_value(value: Any, depth: int) -> None:
    """Every string (keys too) storable as text in both databases; nesting bounded."""
    if isinstance(value, str):
        _check_text(value)
        return
    if not isinstance(value, (dict, list)):
        return
    if depth >= MAX_DEPTH:
        raise NotStrictJSON(f"JSON may be nested at most {MAX_DEPTH} levels deep.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_value(item, depth + 1)
    else:
        for item in value:
            _check_value(item, depth + 1)


def loads_strict(raw: bytes | str) -> Any:
    """A request body read as strict JSON, or :class:`NotStrictJSON` saying why not.

    ``json.loads`` alone accepts what the shell cannot keep: ``NaN`` and
    ``Infinity`` (stored on SQLite, then sent in a webhook body no receiver can
    parse), NUL and lone surrogates (refused by PostgreSQL, unencodable as
    UTF-8), and it recurses once per nesting level (a body nested 30,000 deep
    raised ``RecursionError``). Each of these is refused here, for every route.
    """
    try:
        value = json.loads(raw, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)
    except NotStrictJSON:
        raise
    except RecursionError:
        raise NotStrictJSON(f"JSON may be nested at most {MAX_DEPTH} levels deep.") from None
    except (ValueError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        raise NotStrictJSON("The request body is not valid JSON.") from None
    _check_value(value, 0)
    return value
