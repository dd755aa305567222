"""The OpenAPI 3.1 document of the public API (kept in openapi.yaml beside this file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml


@cache
def document() -> dict[str, Any]:
    return yaml.safe_load((Path(__file__).parent / "openapi.yaml").read_text(encoding="utf-8"))  # type: ignore[no-any-return]
