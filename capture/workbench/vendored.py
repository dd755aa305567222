"""The JavaScript the workbench serves from its own static folder, pinned (see scripts/vendor-js)."""

from __future__ import annotations

from typing import Final

HTMX_VERSION: Final = "2.0.11"
#: the integrity attribute of htmx's <script>: the browser refuses a file that differs
HTMX_INTEGRITY: Final = "sha384-2OatzQy1H+Zd/IIrjr1TcuDGqLXeHhbooAyJY1KdQMKnr4LZ22k31GBLdYKHmVjg"
