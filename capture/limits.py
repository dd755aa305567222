"""Rate limits on the public API, per client address and site.

Each app gets its own :class:`Limiter` (tests and multi-tenant hosts build
several apps in one process, and a shared limiter would share their settings).
Limits are attached to the already-registered view functions, because a
Flask-Limiter route limit is enforced by the wrapper its decorator returns.
"""

from __future__ import annotations

from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from capture.config import Config


def client_and_site() -> str:
    site = request.view_args.get("site_key", "") if request.view_args else ""
    return f"{get_remote_address()}|{site}"


def limit_routes(app: Flask, config: Config) -> Limiter | None:
    """Wrap the public routes in their limits; with limits turned off, leave them unwrapped (no cost per call)."""
    if not config.ratelimit_enabled:
        return None
    limiter = Limiter(
        key_func=client_and_site,
        app=app,
        storage_uri=config.ratelimit_storage_uri,
        headers_enabled=True,
    )
    routes = (
        ("api.ask", config.ratelimit_ask),
        ("api.answer", config.ratelimit_answer),
        ("api.identify", config.ratelimit_answer),
        ("api.browser_events", config.ratelimit_events),
        ("api.system_events", config.ratelimit_system),
        ("api.lead_outcomes", config.ratelimit_system),
    )
    for endpoint, limit in routes:
        app.view_functions[endpoint] = limiter.limit(limit, methods=["POST"])(app.view_functions[endpoint])
    return limiter
