"""JSON written by orjson where it can, by the standard library where it cannot.

Every ask and answer encodes its response, and every answer its lead's
profile document (capture/lead_profile.py): with ``json.dumps`` the answer's
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
