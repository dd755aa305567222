"""Refusals: the one way the shell says no, mapped to the API's error shape.

Every refusal carries a stable ``code`` for programs, a ``message`` for people
and, for validation, a ``fields`` mapping of question key to messages.
"""

from __future__ import annotations

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
