"""Every workbench route for every role: anonymous → sign-in page, forbidden → 403 and no control for it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from capture.workbench.permissions import ROLES, can
from tests.workbench.conftest import csrf_token

#: (method, path, permission or None for "anyone signed in")
ROUTES: list[tuple[str, str, tuple[str, str] | None]] = [
    ("GET", "/workbench/", None),
    ("GET", "/workbench/sites", ("sites", "view")),
    ("GET", "/workbench/sites/new", ("sites", "manage")),
    ("POST", "/workbench/sites/new", ("sites", "manage")),
    ("GET", "/workbench/sites/{site}", ("sites", "view")),
    ("POST", "/workbench/sites/{site}/origins", ("sites", "manage")),
    ("POST", "/workbench/sites/{site}/consent", ("sites", "manage")),
    ("GET", "/workbench/users", ("users", "manage")),
    ("POST", "/workbench/users", ("users", "manage")),
    ("POST", "/workbench/users/{viewer}/role", ("users", "manage")),
    ("POST", "/workbench/users/{viewer}/disable", ("users", "manage")),
    ("POST", "/workbench/users/{viewer}/enable", ("users", "manage")),
    ("POST", "/workbench/users/{viewer}/export", ("users", "manage")),
    ("GET", "/workbench/leads/", ("leads", "view")),
    ("GET", "/workbench/leads/{lead}", ("leads", "view")),
    ("GET", "/workbench/leads/export.csv", ("leads", "export")),
    ("GET", "/workbench/simulator/", ("sequences", "view")),
    ("GET", "/workbench/sequences/", ("sequences", "view")),
    ("GET", "/workbench/sequences/{form}", ("sequences", "view")),
    ("GET", "/workbench/sequences/{form}/questions/email", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/questions/email", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/questions/email/move", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/questions/email/delete", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/questions", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/discard", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/publish", ("sequences", "publish")),
    ("POST", "/workbench/sequences/{form}/versions/1/revert", ("sequences", "publish")),
    ("GET", "/workbench/sequences/{form}/translations", ("sequences", "view")),
    ("GET", "/workbench/sequences/{form}/translations.csv", ("sequences", "view")),
    ("POST", "/workbench/sequences/{form}/translations", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/settings", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/stages", ("sequences", "edit")),
    ("POST", "/workbench/sequences/{form}/stages/basics/delete", ("sequences", "edit")),
]


def test_the_table_covers_every_workbench_route(app: Any) -> None:
    listed = {
        (
            method,
            path.replace("{site}", "<int:site_id>")
            .replace("{viewer}", "<int:user_id>")
            .replace("{lead}", "<int:lead_id>")
            .replace("{form}", "<int:form_id>")
            .replace("/questions/email", "/questions/<key>")
            .replace("/versions/1/", "/versions/<int:version>/")
            .replace("/stages/basics/", "/stages/<key>/"),
        )
        for method, path, _ in ROUTES
    }
    routed = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/workbench")
        and rule.endpoint.startswith(("workbench.", "workbench_"))
        and rule.endpoint not in ("workbench.static", "workbench.sign_in", "workbench.sign_out", "workbench.set_locale")
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routed == listed


@pytest.fixture
def site_id(app: Any) -> int:
    from capture.sites.publishing import create_site

    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        return create_site(session, "Northwind", ["https://northwind.example"], services.clock()).id


@pytest.fixture
def form_id(app: Any, site_id: int) -> int:
    from capture.db.models import Site
    from capture.sites.publishing import publish
    from profiling.document import load
    from tests.capture.conftest import SMALL_WHEEL

    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        return publish(session, session.get(Site, site_id), "wheel", load(SMALL_WHEEL), services.clock()).form.id


@pytest.fixture
def lead_id(app: Any, site_id: int) -> int:
    from capture.db.models import Lead

    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        lead = Lead(
            email="ada@example.com", site_id=site_id, last_seen_at=services.clock(), created_at=services.clock()
        )
        session.add(lead)
        session.flush()
        return lead.id


def _call(client: Any, method: str, path: str, **form: str) -> Any:
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": csrf_token(client, "/workbench/sign-in"), **form})


@pytest.mark.parametrize(("method", "path", "permission"), ROUTES)
def test_anonymous_users_are_sent_to_sign_in(
    signed_in: Callable[[str | None], Any],
    users: dict[str, int],
    site_id: int,
    lead_id: int,
    form_id: int,
    method: str,
    path: str,
    permission: Any,
) -> None:
    client = signed_in(None)
    response = _call(client, method, path.format(site=site_id, viewer=users["viewer"], lead=lead_id, form=form_id))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/workbench/sign-in")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_it_may_and_403_for_the_rest(
    signed_in: Callable[[str | None], Any], users: dict[str, int], site_id: int, lead_id: int, form_id: int, role: str
) -> None:
    client = signed_in(role)
    for method, template, permission in ROUTES:
        path = template.format(site=site_id, viewer=users["viewer"], lead=lead_id, form=form_id)
        response = _call(client, method, path, role="viewer", origins="https://northwind.example", where="up")
        allowed = permission is None or can(role, *permission)
        if allowed:
            # a user changing their own account is refused with 409 (viewer's own routes)
            assert response.status_code in (200, 302, 409, 422), (role, method, path, response.status_code)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
            page = response.get_data(as_text=True)
            assert "Not allowed" in page
            assert f'href="{path}"' not in page


@pytest.mark.parametrize("role", ROLES)
def test_navigation_and_controls_show_only_what_the_role_may_use(
    signed_in: Callable[[str | None], Any], users: dict[str, int], site_id: int, role: str
) -> None:
    client = signed_in(role)
    home = client.get("/workbench/").get_data(as_text=True)
    assert ('href="/workbench/sites"' in home) is can(role, "sites", "view")
    assert ('href="/workbench/users"' in home) is can(role, "users", "manage")
    if can(role, "sites", "view"):
        sites = client.get("/workbench/sites").get_data(as_text=True)
        assert ('href="/workbench/sites/new"' in sites) is can(role, "sites", "manage")
        site = client.get(f"/workbench/sites/{site_id}").get_data(as_text=True)
        assert (f'action="/workbench/sites/{site_id}/origins"' in site) is can(role, "sites", "manage")


def test_pages_not_built_yet_are_not_in_the_navigation(signed_in: Callable[[str | None], Any]) -> None:
    home = signed_in("admin").get("/workbench/").get_data(as_text=True)
    for later in ("Scoring", "Funnel", "Hand-offs"):
        assert f">{later}</a>" not in home


def test_every_change_is_refused_without_its_csrf_token(
    signed_in: Callable[[str | None], Any], users: dict[str, int], site_id: int, lead_id: int, app: Any
) -> None:
    """Whatever blueprint a workbench page comes from: a POST without the token changes nothing."""
    client = signed_in("admin")
    posts = {
        rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/workbench") and "POST" in rule.methods
    }
    assert posts, "no workbench form to check"
    for rule in sorted(posts):
        path = re.sub(r"<int:\w+>", str(site_id), rule).replace("<key>", "email")
        response = client.post(path, data={"role": "viewer", "origins": "https://x.example"})
        assert response.status_code == 400, (rule, response.status_code)
