"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from capture.config import Config
from capture.db.json_text import JSONProvider
from capture.services import Services, utc_now
from capture.web.errors import Refused, traceback_without_values

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def create_app(config: Config | None = None, *, clock: Callable[[], datetime] = utc_now) -> Flask:
    """Build the service. Migrations are *not* run here: see ``leadwheel db upgrade``."""
    config = config or Config.from_env()
    app = Flask(__name__, static_folder=None)
    app.json = JSONProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=config.max_body_bytes,
        SECRET_KEY=config.secret_keys[-1],
    )
    app.json.sort_keys = False  # answers keep the order questions are asked in
    services = Services.build(config, clock)
    app.extensions["leadwheel"] = services

    if config.trusted_proxies:
        n = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from capture.privacy.consent_page import consent_page
    from capture.web.api import api
    from capture.web.assets import assets
    from capture.web.confirm_page import confirm
    from capture.web.limits import limit_routes

    app.register_blueprint(api)
    app.register_blueprint(assets)
    app.register_blueprint(confirm)
    app.register_blueprint(consent_page)
    app.extensions["leadwheel_limiter"] = limit_routes(app, config)  # the limiter is only weakly held otherwise
    from capture.workbench import init_workbench

    init_workbench(app)
    _register_errors(app)

    return app


def _error(status: int, code: str, message: str, fields: dict[str, object] | None = None) -> tuple[Response, int]:
    return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(Refused)
    def refused(exc: Refused) -> tuple[Response, int]:
        return jsonify(exc.body()), exc.status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response | tuple[Response, int]:
        status = exc.code or 500
        if status == 413:
            message = f"The request body is larger than {app.config['MAX_CONTENT_LENGTH'] // 1024} KB."
        else:
            message = exc.description or exc.name
        response, status = _error(status, _HTTP_CODES.get(status, "http_error"), message)
        # Retry-After from the rate limiter's response, Allow from a 405's own headers
        carried = dict(exc.get_headers())
        if exc.response is not None:
            carried.update(exc.response.headers)
        for header in ("Retry-After", "Allow"):
            if header in carried:
                response.headers[header] = carried[header]
        return response, status

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response, int]:
        # not log.exception: its messages would quote the request's data (see traceback_without_values)
        log.error("unhandled error on %s %s\n%s", request.method, request.path, traceback_without_values(exc))
        return _error(500, "internal_error", "Something went wrong on our side; nothing was stored.")
