"""The workbench's own pages: home, Sites and Users."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from capture.db.models import Form, Site, User
from capture.demo.host_site import snippet
from capture.sites.publishing import PublishingError, create_site, normalise_origin
from capture.workbench import workbench
from capture.workbench.accounts import AccountError, create_user, disable, enable, set_role
from capture.workbench.auth import requires, services, signed_in
from capture.workbench.forms import (
    ActionForm,
    ConsentForm,
    OriginsForm,
    RoleForm,
    SiteForm,
    UserForm,
    origins_of,
)
from capture.workbench.permissions import can


@workbench.route("/")
@signed_in
def home() -> str:
    return render_template("workbench/home.html")


# --- sites --------------------------------------------------------------------------------------


@workbench.route("/sites")
@requires("sites", "view")
def sites() -> str:
    with services().db.read() as db:
        rows = [
            (s.id, s.name, s.public_key, list(s.allowed_origins)) for s in db.scalars(select(Site).order_by(Site.name))
        ]
    return render_template("workbench/sites.html", sites=rows)


@workbench.route("/sites/new", methods=["GET", "POST"])
@requires("sites", "manage")
def site_new() -> Any:
    form = SiteForm()
    if form.validate_on_submit():
        svc = services()
        try:
            with svc.db.write() as db:
                site = create_site(db, form.name.data or "", origins_of(form.origins.data or ""), svc.clock())
                site_id = site.id
        except PublishingError as exc:
            form.origins.errors = [*form.origins.errors, str(exc)]
        else:
            return redirect(url_for("workbench.site", site_id=site_id))
    return render_template("workbench/site_new.html", form=form), 422 if form.errors else 200


def _site_page(site_id: int, form: OriginsForm, consent: ConsentForm | None = None) -> str:
    forms_host = services().config.public_url or request.host_url.rstrip("/")
    with services().db.read() as db:
        site = db.get(Site, site_id)
        if site is None:
            abort(404)
        shown = {
            "id": site.id,
            "name": site.name,
            "public_key": site.public_key,
            "origins": list(site.allowed_origins),
            "consent_policy": site.consent_policy,
            "double_opt_in": site.marketing_double_opt_in,
        }
        snippets = [
            (f.name, f.slug, snippet(forms_host, site.public_key, f.slug, site.consent_policy == "required"))
            for f in db.scalars(select(Form).where(Form.site_id == site.id).order_by(Form.slug))
        ]
    if not form.origins.data and not form.errors:
        form.origins.data = "\n".join(shown["origins"])
    if consent is None:
        consent = ConsentForm(formdata=None, policy=shown["consent_policy"], double_opt_in=shown["double_opt_in"])
    return render_template("workbench/site.html", site=shown, snippets=snippets, form=form, consent=consent)


@workbench.route("/sites/<int:site_id>")
@requires("sites", "view")
def site(site_id: int) -> str:
    return _site_page(site_id, OriginsForm(formdata=None))


@workbench.route("/sites/<int:site_id>/origins", methods=["POST"])
@requires("sites", "manage")
def site_origins(site_id: int) -> Any:
    form = OriginsForm()
    if form.validate_on_submit():
        try:
            origins = sorted({normalise_origin(raw) for raw in origins_of(form.origins.data or "")})
            if not origins:
                raise PublishingError(_("a site needs at least one allowed origin"))
            with services().db.write() as db:
                found = db.get(Site, site_id)
                if found is None:
                    abort(404)
                found.allowed_origins = origins
            return redirect(url_for("workbench.site", site_id=site_id))
        except PublishingError as exc:
            form.origins.errors = [*form.origins.errors, str(exc)]
    return _site_page(site_id, form), 422


@workbench.route("/sites/<int:site_id>/consent", methods=["POST"])
@requires("sites", "manage")
def site_consent(site_id: int) -> Any:
    """Set whether the site needs consent before tracking, and whether marketing consent needs double opt-in."""
    consent = ConsentForm()
    if not consent.validate_on_submit():
        return _site_page(site_id, OriginsForm(formdata=None), consent), 422
    with services().db.write() as db:
        found = db.get(Site, site_id)
        if found is None:
            abort(404)
        found.consent_policy = consent.policy.data or "required"
        found.marketing_double_opt_in = bool(consent.double_opt_in.data)
    services().catalog.clear()  # this process at once; the others within the catalogue's lifetime
    return redirect(url_for("workbench.site", site_id=site_id))


# --- users --------------------------------------------------------------------------------------


#: the one grant a user can hold beyond their role (capture/workbench/permissions.py GRANTABLE)
EXPORT = "leads:export"


def _row(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "role": user.role,
        "disabled": user.disabled_at is not None,
        "exports": EXPORT in (user.grants or ()),
        "exports_by_role": can(user.role, "leads", "export"),
    }


def _users() -> list[dict[str, Any]]:
    with services().db.read() as db:
        return [_row(u) for u in db.scalars(select(User).order_by(User.email))]


@workbench.route("/users")
@requires("users", "manage")
def users(form: UserForm | None = None, status: int = 200) -> Any:
    return render_template("workbench/users.html", users=_users(), form=form or UserForm(formdata=None)), status


@workbench.route("/users", methods=["POST"])
@requires("users", "manage")
def user_create() -> Any:
    form = UserForm()
    if form.validate_on_submit():
        svc = services()
        try:
            with svc.db.write() as db:
                create_user(db, form.email.data or "", form.password.data or "", form.role.data or "", svc.clock())
        except AccountError as exc:
            form.email.errors = [*form.email.errors, str(exc)]
        else:
            return redirect(url_for("workbench.users"))
    return users(form, 422)


def _change(user_id: int, change: Any) -> Any:
    with services().db.write() as db:
        user = db.get(User, user_id)
        if user is None:
            abort(404)
        if user.session_token == current_user.session_token:
            abort(409)  # one's own role or access: another admin changes it, so no one locks themselves out
        change(user)
        row = _row(user)
    if request.headers.get("HX-Request"):
        return render_template("workbench/user_row.html", user=row)
    return redirect(url_for("workbench.users"))


@workbench.route("/users/<int:user_id>/role", methods=["POST"])
@requires("users", "manage")
def user_role(user_id: int) -> Any:
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    return _change(user_id, lambda user: set_role(user, form.role.data or ""))


@workbench.route("/users/<int:user_id>/disable", methods=["POST"])
@requires("users", "manage")
def user_disable(user_id: int) -> Any:
    ActionForm()
    now = services().clock()
    return _change(user_id, lambda user: disable(user, now))


@workbench.route("/users/<int:user_id>/enable", methods=["POST"])
@requires("users", "manage")
def user_enable(user_id: int) -> Any:
    return _change(user_id, enable)


@workbench.route("/users/<int:user_id>/export", methods=["POST"])
@requires("users", "manage")
def user_export(user_id: int) -> Any:
    """Let a user whose role does not export leads export them (a salesperson feeding the CRM), or stop it."""
    ActionForm()

    def toggle(user: User) -> None:
        held = list(user.grants or ())
        user.grants = [g for g in held if g != EXPORT] if EXPORT in held else [*held, EXPORT]

    return _change(user_id, toggle)
