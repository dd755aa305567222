"""The snippet's files (``static/embed.js``, ``static/embed.css``), served to any site.

They are loaded by ``<script src>`` and ``<link rel=stylesheet>`` from pages on
other origins, so they are public and cacheable. A short max-age lets a fix
reach every site within minutes without versioned URLs in customers' snippets.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

#: the top-level static/ folder; capture/web/static links to it, so an installed wheel carries the files
STATIC = Path(__file__).resolve().parent / "static"
MAX_AGE_SECONDS = 300

assets = Blueprint("assets", __name__)


@assets.get("/static/<path:name>")
def static_file(name: str) -> Response:
    if "/" in name:  # static/src holds the snippet's readable source, built into the files served here
        abort(404)
    response = send_from_directory(STATIC, name, max_age=MAX_AGE_SECONDS)  # refuses paths outside STATIC
    response.headers["Access-Control-Allow-Origin"] = "*"  # lets hosts use Subresource Integrity
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"  # loadable by pages with COEP
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
