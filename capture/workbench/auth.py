"""Signing in and out, who is signed in, and the check every page makes."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from capture.db.models import User
from capture.privacy.addresses import client_digest
from capture.workbench import LOCALES, NAV, workbench
from capture.workbench.accounts import sign_in as check_sign_in
from capture.workbench.forms import LocaleForm, RoleForm, SignInForm, SignOutForm
from capture.workbench.permissions import can
from capture.workbench.vendored import HTMX_INTEGRITY

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SignedIn(UserMixin):
    """The signed-in user as a request sees it: a copy, detached from any database session."""

    user_id: int
    email: str
    role: str
    locale: str | None
    session_token: str
    grants: tuple[str, ...] = ()

    def get_id(self) -> str:
        # the session names the token, not the id: a password reset or disable replaces it
        return self.session_token

    @classmethod
    def of(cls, user: User) -> SignedIn:
        return cls(user.id, user.email, user.role, user.locale, user.session_token, tuple(user.grants or ()))


def services() -> Any:
    return current_app.extensions["leadwheel"]


def init_login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "workbench.sign_in"
    manager.login_message = None
    manager.session_protection = "strong"

    def load(token: str) -> SignedIn | None:
        with services().db.read() as db:
            user = db.scalar(select(User).where(User.session_token == token, User.disabled_at.is_(None)))
            return SignedIn.of(user) if user is not None else None

    manager.user_loader(load)

    @app.context_processor
    def helpers() -> dict[str, Any]:
        return {
            "can": allowed,
            "navigation": navigation,
            "sign_out_form": SignOutForm,
            "locale_form": LocaleForm,
            "role_form": lambda user: RoleForm(formdata=None, role=user["role"]),
            "current_locale": lambda: str(get_locale() or "en"),
            "htmx_integrity": HTMX_INTEGRITY,
        }


def allowed(domain: str, action: str) -> bool:
    """The template helper: show a control only to whom may use it."""
    if not current_user.is_authenticated:
        return False
    return can(current_user.role, domain, action, current_user.grants)


def navigation() -> list[tuple[str, str, bool]]:
    """(url, label, current) of each entry built and allowed."""
    shown = []
    for entry in NAV:
        if entry.endpoint in current_app.view_functions and allowed(entry.domain, entry.action):
            url = url_for(entry.endpoint)
            shown.append((url, _(entry.label), request.path.startswith(url)))
    return shown


def requires(domain: str, action: str) -> Callable[[F], F]:
    """A route for who may do ``action`` in ``domain``: anonymous users go to sign in, others get 403."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not can(current_user.role, domain, action, current_user.grants):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, guarded)

    return decorate


def signed_in(view: F) -> F:
    """A route for anyone signed in."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return view(*args, **kwargs)

    return cast(F, guarded)


def locale() -> str | None:
    """The user's chosen language, else the browser's best match, else English."""
    if current_user and current_user.is_authenticated and current_user.locale in LOCALES:
        return str(current_user.locale)
    return request.accept_languages.best_match(LOCALES) or "en"


def protect() -> None:
    """Every POST of the workbench carries its form's CSRF token (the API's routes have no cookies to protect)."""
    current_app.extensions["leadwheel_csrf"].protect()


def csrf_refused(_exc: CSRFError) -> tuple[str, int]:
    return render_template("workbench/refused.html", reason="csrf"), 400


def refused(exc: HTTPException) -> tuple[str, int]:
    """A page, not the API's JSON: 403 (not allowed), 404, 409 (one's own account) and the like."""
    status = exc.code or 500
    reason = {403: "forbidden", 404: "not_found", 409: "own_account"}.get(status, "bad_request")
    return render_template("workbench/refused.html", reason=reason), status


def workbench_pages(blueprint: Blueprint) -> None:
    """What makes a blueprint the workbench's: CSRF on every change, refusals as pages (the API's are JSON)."""
    blueprint.before_request(protect)
    blueprint.register_error_handler(CSRFError, csrf_refused)
    blueprint.register_error_handler(HTTPException, refused)


workbench_pages(workbench)


def _safe_next(target: str | None) -> str:
    """Only a path of this workbench: never an open redirect."""
    if target and target.startswith("/workbench") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("workbench.home")


@workbench.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Any:
    form = SignInForm()
    failed = None
    if form.validate_on_submit():
        svc = services()
        with svc.db.write() as db:
            result = check_sign_in(
                db,
                form.email.data or "",
                form.password.data or "",
                client_digest(request.remote_addr or "", current_app.config["SECRET_KEY"]),
                svc.clock(),
            )
            who = SignedIn.of(result.user) if result.user is not None else None
        if who is not None:
            target = _safe_next(request.args.get("next"))
            session.clear()  # a new session at sign-in: nothing from before (a planted id, an old token) carries over
            session["sid"] = secrets.token_urlsafe(16)
            login_user(who)
            return redirect(target)
        failed = "locked" if result.locked else "wrong"
    status = 429 if failed == "locked" else 401 if failed else 200
    return render_template("workbench/sign_in.html", form=form, failed=failed), status


@workbench.route("/sign-out", methods=["POST"])
def sign_out() -> Response:
    logout_user()
    session.clear()
    return redirect(url_for("workbench.sign_in"))


@workbench.route("/locale", methods=["POST"])
def set_locale() -> Response:
    """Remember the language: on the account when signed in."""
    form = LocaleForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        with services().db.write() as db:
            user = db.scalar(select(User).where(User.session_token == current_user.session_token))
            if user is not None:
                user.locale = form.locale.data
    return redirect(_safe_next(request.form.get("next")))
