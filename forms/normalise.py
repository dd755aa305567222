"""Turning what a browser sent into the value a profile keeps.

Text arrives in every Unicode shape (a Danish "å" may be one code point or
two); without NFC the same answer would compare unequal to itself and break
conditions and e-mail merges. Control characters have no place in a profile
and can corrupt CSV exports or logs, so they go; a textarea keeps its line
breaks. Numbers become numbers so conditions like ``company_size >= 50`` and
scoring can compare them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal, InvalidOperation

from profiling.schema_support import CONTROL_CHARACTERS

#: Numbers beyond this are not answers a person types into a form.
MAX_ABS_NUMBER = 10**15
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009_']")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_BREAKS = re.compile(r"[\t\n\r]")
#: Unicode categories Cc (but tab and line feed, which a textarea keeps) and Cs (lone surrogates).
_CONTROLS = re.compile(f"[{CONTROL_CHARACTERS}\\ud800-\\udfff]")


def clean_text(value: str, *, multiline: bool = False) -> str:
    """NFC, no control characters (line breaks kept in ``multiline``), trimmed."""
    text = unicodedata.normalize("NFC", value)
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    else:
        text = _BREAKS.sub(" ", text)
    return _CONTROLS.sub("", text).strip()


def parse_number(raw: str | int | float) -> int | float | None:
    """A number from JSON or from what a person typed, or ``None`` if it is not one.

    "1 000", "2,5" (a Danish, Norwegian or Romanian decimal comma) and "2.5"
    are read the way their writers mean them; a comma is taken as a decimal
    separator only when there is no dot. Whole values come back as ``int``.
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, (int, float)):
        if isinstance(raw, float) and not math.isfinite(raw):
            return None
        number = Decimal(raw) if isinstance(raw, int) else Decimal(repr(raw))
    else:
        text = _SPACES.sub("", unicodedata.normalize("NFKC", raw))
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")
        if not _NUMBER.match(text):
            return None
        try:
            number = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return None
    if abs(number) > MAX_ABS_NUMBER:
        return None
    if number == number.to_integral_value():
        return int(number)
    return float(number)
