"""Cells for CSV files a spreadsheet will open: nothing anyone typed into a form runs as a formula."""

from __future__ import annotations

from typing import Any

#: how a spreadsheet would read a cell as a formula (CSV injection)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """Text a spreadsheet shows as text: a cell that would start a formula gets a leading '."""
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(_FORMULA_STARTS) else text


def read_cell(text: str) -> str:
    """A cell as :func:`safe_cell` wrote it, back to what was typed."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_STARTS) else text
