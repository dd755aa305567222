"""Refusals: the one way the shell says no, mapped to the API's error shape.

Every refusal carries a stable ``code`` for programs, a ``message`` for people
and, for validation, a ``fields`` mapping of question key to messages.
"""

from __future__ import annotations

import traceback
from typing import Any


class Refused(Exception):
    def __init__(self, status: int, code: str, message: str, fields: dict[str, Any] | None = None):
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields or {}
        super().__init__(message)

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "fields": self.fields}}


def not_found(code: str, message: str) -> Refused:
    return Refused(404, code, message)


def invalid(code: str, message: str, fields: dict[str, Any] | None = None) -> Refused:
    return Refused(422, code, message, fields)


def traceback_without_values(exc: BaseException) -> str:
    """``exc``'s traceback, its causes' too, with every exception's type but none of its messages.

    A failed request's messages quote what it carried: SQLAlchemy appends the
    statement's parameters (event urls, props, visitor ids, notes) and
    PostgreSQL's DETAIL repeats a duplicate key's value (an e-mail address).
    Logs are kept longer and read by more people than the database, so they get
    where it failed (the frames, the SQL statement with its placeholders, the
    SQLSTATE) and never what was sent.
    """
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and all(link is not seen for seen in chain):
        chain.append(link)
        link = link.__cause__ or link.__context__
    parts: list[str] = []
    for link in reversed(chain):  # oldest first, as Python prints a chain
        if parts:
            parts.append("\nwhich led to:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(
            f"{type(link).__module__}.{type(link).__qualname__} (message withheld: it may quote personal data)\n"
        )
        statement = getattr(link, "statement", None)
        if isinstance(statement, str):
            parts.append(f"  SQL: {statement}\n")
        sqlstate = getattr(getattr(link, "orig", None), "sqlstate", None) or getattr(link, "sqlstate", None)
        if isinstance(sqlstate, str):
            parts.append(f"  SQLSTATE: {sqlstate}\n")
    return "".join(parts)
