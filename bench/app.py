"""The WSGI app the benchmark serves: Leadwheel as configured from the environment, plus a baseline.

``POST /bench/bare`` is the "bare Flask JSON endpoint in the same server": it
reads the body under the same ``MAX_CONTENT_LENGTH`` as the API, parses it as
JSON and answers with a small ``jsonify`` object. Everything else (gunicorn,
workers, the rate limiter's hooks, error handlers) is shared with the real
routes, so ``ask / bare`` measures what Leadwheel itself adds per request.

    gunicorn -k gthread --threads 4 -w 2 bench.app:app
"""

from __future__ import annotations

import json
import os

from flask import Response, jsonify, request

from capture.config import Config
from capture.web.app import create_app

app = create_app(Config.from_env())


@app.after_request
def _tag_worker(response: Response) -> Response:
    """Which gunicorn worker answered: keep-alive connections stick to the worker that accepted
    them, and a run where one worker got every connection measures one CPU, not the server."""
    response.headers["X-Bench-Worker"] = str(os.getpid())
    return response


@app.post("/bench/bare")
def bare() -> Response | tuple[Response, int]:
    raw = request.get_data(cache=False)  # over MAX_CONTENT_LENGTH: 413, as on the API
    try:
        body = json.loads(raw) if raw else {}
    except (json.JSONDecodeError, UnicodeDecodeError):
        return jsonify({"error": "malformed_json"}), 400
    if not isinstance(body, dict):
        return jsonify({"error": "not_an_object"}), 400
    return jsonify({"ok": True, "keys": sorted(body)})
