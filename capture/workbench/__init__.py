"""The marketer's workbench: server-rendered pages at ``/workbench``.

``init_workbench(app)`` mounts it: sessions (Flask-Login), CSRF on every form
(Flask-WTF), English and Danish (Flask-Babel), and the security headers every
workbench response carries. Pages plug in as blueprints of their own and add
an entry to ``NAV``; an entry is shown once its endpoint exists and the user may use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, request

HERE = Path(__file__).resolve().parent
LOCALES = ("en", "da")

#: strict: no inline script or style, nothing from elsewhere, never in a frame
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

workbench = Blueprint(
    "workbench",
    __name__,
    url_prefix="/workbench",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)


def N_(message: str) -> str:
    """Marks a msgid for extraction (pybabel -k N_) where it is translated later, when shown."""
    return message


@dataclass(frozen=True)
class NavEntry:
    endpoint: str
    #: a msgid; translated when shown
    label: str
    domain: str
    action: str


#: The workbench's navigation, in order. Pages still to come are listed with the endpoint they
#: will have: they appear once a blueprint registers it.
NAV: list[NavEntry] = [
    NavEntry("workbench_sequences.index", N_("Sequences"), "sequences", "view"),
    NavEntry("workbench_simulator.index", N_("Simulator"), "sequences", "view"),
    NavEntry("workbench_leads.index", N_("Leads"), "leads", "view"),
    NavEntry("workbench.sites", N_("Sites"), "sites", "view"),
    NavEntry("workbench.users", N_("Users"), "users", "manage"),
    NavEntry("workbench_scoring.index", N_("Scoring"), "sequences", "view"),
    NavEntry("workbench_funnel.index", N_("Funnel"), "leads", "view"),
    NavEntry("workbench_handoffs.index", N_("Hand-offs"), "leads", "view"),
]


def secure_cookies(config_extra: dict[str, Any]) -> bool:
    """Secure cookies unless turned off for plain http (the demo, LEADWHEEL_COOKIE_SECURE=off)."""
    if "cookie_secure" in config_extra:
        return bool(config_extra["cookie_secure"])
    return os.environ.get("LEADWHEEL_COOKIE_SECURE", "on") != "off"


def init_workbench(app: Flask) -> None:
    from flask_babel import Babel
    from flask_wtf.csrf import CSRFProtect

    from capture.workbench import auth, views  # noqa: F401 - their routes join the blueprint

    services = app.extensions["leadwheel"]
    app.config.update(
        SESSION_COOKIE_SECURE=secure_cookies(services.config.extra),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="leadwheel_session",
        WTF_CSRF_CHECK_DEFAULT=False,  # the API has no cookies to protect; the workbench checks in before_request
        WTF_CSRF_SSL_STRICT=False,  # SameSite=Lax and the token already bind the form to this site
    )
    csrf = CSRFProtect(app)
    app.extensions["leadwheel_csrf"] = csrf
    Babel(
        app,
        locale_selector=auth.locale,
        default_translation_directories=str(HERE / "translations"),
    )
    auth.init_login(app)
    app.register_blueprint(workbench)
    from capture.workbench.leads.pages import workbench_leads
    from capture.workbench.sequences.pages import workbench_sequences
    from capture.workbench.sequences.simulator import workbench_simulator

    app.register_blueprint(workbench_sequences)
    app.register_blueprint(workbench_leads)
    app.register_blueprint(workbench_simulator)

    @app.after_request
    def headers(response: Response) -> Response:
        if request.path == "/workbench" or request.path.startswith("/workbench/"):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Content-Type-Options"] = "nosniff"
            if not request.path.startswith("/workbench/static/"):
                response.headers["Cache-Control"] = "no-store"
                response.vary.add("Cookie")
        return response
