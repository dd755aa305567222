"""Rate limits on the public API, per client address and site.

Each app gets its own :class:`Limiter` (tests and multi-tenant hosts build
several apps in one process, and a shared limiter would share their settings).
Limits are attached to the already-registered view functions, because a
Flask-Limiter route limit is enforced by the wrapper its decorator returns.

Where the counters live is ``LEADWHEEL_RATELIMIT_STORAGE``: ``memory://`` (one
process only: each process counts on its own), ``database`` (the app's own
database, shared by every process on it: capture/web/limit_storage.py) or any
storage URI of the ``limits`` library, such as ``redis://host:6379/0``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from capture.config import Config
from capture.privacy.addresses import client_digest
from capture.web import limit_storage

#: the ``LEADWHEEL_RATELIMIT_STORAGE`` value for counters in the app's own database
DATABASE = "database"


def storage_of(app: Flask, config: Config) -> tuple[str, dict[str, object]]:
    """The storage URI and its options for Flask-Limiter: the database storage gets the app's database."""
    if config.ratelimit_storage_uri == DATABASE:
        return limit_storage.URI, {"database": app.extensions["leadwheel"].db}
    return config.ratelimit_storage_uri, {}


def client() -> str:
    """The client, as a keyed daily digest of its address: counters never hold an IP address."""
    return client_digest(get_remote_address(), current_app.config["SECRET_KEY"])


def client_and_site() -> str:
    site = request.view_args.get("site_key", "") if request.view_args else ""
    return f"{client()}|{site}"


def limit_routes(app: Flask, config: Config) -> Limiter | None:
    """Wrap the public routes in their limits; with limits turned off, leave them unwrapped (no cost per call)."""
    if not config.ratelimit_enabled:
        return None
    storage_uri, storage_options = storage_of(app, config)
    limiter = Limiter(
        key_func=client_and_site,
        app=app,
        storage_uri=storage_uri,
        storage_options=storage_options,  # type: ignore[arg-type]  # passed on to the storage as they are
        headers_enabled=True,
    )
    routes = (
        ("api.ask", config.ratelimit_ask, "POST"),
        ("api.answer", config.ratelimit_answer, "POST"),
        ("api.identify", config.ratelimit_answer, "POST"),
        ("api.identify_ticket", config.ratelimit_ask, "POST"),
        ("api.browser_events", config.ratelimit_events, "POST"),
        ("api.system_events", config.ratelimit_system, "POST"),
        ("api.lead_outcomes", config.ratelimit_system, "POST"),
        ("api.sales_lead", config.ratelimit_system, "GET"),
        ("api.give_consent", config.ratelimit_answer, "POST"),
        ("api.read_consent", config.ratelimit_ask, "GET"),
        ("api.lead_consent", config.ratelimit_system, "POST"),
        ("api.lead_export", config.ratelimit_system, "POST"),
        ("api.lead_erase", config.ratelimit_system, "POST"),
    )
    for endpoint, limit, method in routes:
        _wrap(app, endpoint, limiter.limit(limit, methods=[method]))
    # One budget of refused tokens per client across all token routes: guessing tokens
    # is slowed down without counting a good token's calls against it.
    failures = limiter.shared_limit(
        config.ratelimit_token_failures,
        scope="api-token-failures",
        key_func=client,
        deduct_when=_token_refused,
    )
    for endpoint, _limit, _method in routes:
        if endpoint in TOKEN_ROUTES:
            _wrap(app, endpoint, failures)
    return limiter


def _wrap(app: Flask, endpoint: str, decorate: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    """Put a limit around a view already registered, so the routes stay declared without it."""
    view: Callable[..., Any] = app.view_functions[endpoint]
    app.view_functions[endpoint] = decorate(view)


#: the routes of back-end systems, which carry an API token
TOKEN_ROUTES = frozenset(
    {
        "api.system_events",
        "api.lead_outcomes",
        "api.sales_lead",
        "api.lead_consent",
        "api.lead_export",
        "api.lead_erase",
    }
)


def _token_refused(response: Response) -> bool:
    """A failed authentication: no token, or one that is not (or no longer) valid."""
    return response.status_code == 401
