"""What the scoring core knows about a lead: its answers and its e-mail address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Profile:
    """The latest known value of each profile field, and the lead's e-mail address.

    A field that is absent (or ``None``) is *unknown*, never "zero": fit rules on
    it award nothing, and :attr:`scoring.engine.Score.completeness` says how much
    of the model's fit criteria is still unknown.
    """

    #: field name -> latest value: str, int, float, bool or list[str] (a multi-select answer)
    fields: Mapping[str, Any]
    #: lower-cased; rules on the e-mail domain (target accounts, free-mail, student, competitor) read it
    email: str | None = None

    def known(self, name: str) -> bool:
        """Whether the field has a value (``None`` counts as unknown)."""
        return self.fields.get(name) is not None
