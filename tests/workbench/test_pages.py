"""Sites and Users pages, headers on every page, and Danish."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from capture.db.models import Site, User
from capture.demo.host_site import snippet
from capture.sites.publishing import publish
from profiling.document import loads
from tests.conftest import EXAMPLES
from tests.workbench.conftest import csrf_token

TRANSLATIONS = Path(__file__).resolve().parents[2] / "capture" / "workbench" / "translations"


def _site(app: Any, name: str = "Northwind", origins: tuple[str, ...] = ("https://northwind.example",)) -> Site:
    from capture.sites.publishing import create_site

    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        site = create_site(session, name, list(origins), services.clock())
        session.expunge(site)
        return site


def test_creating_a_site_validates_origins_like_the_cli(signed_in: Callable[[str | None], Any], app: Any) -> None:
    client = signed_in("admin")
    token = csrf_token(client, "/workbench/sites/new")
    refused = client.post(
        "/workbench/sites/new", data={"csrf_token": token, "name": "Bad", "origins": "ftp://x.example"}
    )
    assert refused.status_code == 422
    assert "is not an origin such as https://www.example.com" in refused.get_data(as_text=True)
    made = client.post(
        "/workbench/sites/new",
        data={
            "csrf_token": token,
            "name": "Northwind",
            "origins": "https://Northwind.example:443/shop\nhttp://localhost:8080",
        },
    )
    assert made.status_code == 302
    with app.extensions["leadwheel"].db.read() as session:
        site = session.scalars(select(Site)).one()
        assert site.allowed_origins == ["http://localhost:8080", "https://northwind.example"]
    assert "Northwind" in client.get("/workbench/sites").get_data(as_text=True)


def test_editing_origins(signed_in: Callable[[str | None], Any], app: Any) -> None:
    site = _site(app)
    client = signed_in("admin")
    page = f"/workbench/sites/{site.id}"
    token = csrf_token(client, page)
    bad = client.post(f"{page}/origins", data={"csrf_token": token, "origins": "not an origin"})
    assert bad.status_code == 422 and "not an origin" in bad.get_data(as_text=True)
    ok = client.post(f"{page}/origins", data={"csrf_token": token, "origins": "https://a.example\nhttps://b.example"})
    assert ok.status_code == 302
    with app.extensions["leadwheel"].db.read() as session:
        assert session.get(Site, site.id).allowed_origins == ["https://a.example", "https://b.example"]


def test_each_form_has_the_snippet_the_docs_show(signed_in: Callable[[str | None], Any], app: Any) -> None:
    site = _site(app)
    services = app.extensions["leadwheel"]
    with services.db.write() as session:
        publish(
            session,
            session.get(Site, site.id),
            "wheel",
            loads((EXAMPLES / "demo.yaml").read_text(), "demo.yaml"),
            services.clock(),
        )
    page = signed_in("viewer").get(f"/workbench/sites/{site.id}").get_data(as_text=True)
    # a new site requires consent: its snippet says so
    expected = snippet("http://localhost", site.public_key, "wheel", consent_required=True)
    code = re.search(r'<code class="snippet">(.*?)</code>', page, re.S)
    assert code is not None
    from html import unescape

    assert unescape(code.group(1)) == expected


def test_output_is_escaped(signed_in: Callable[[str | None], Any], app: Any) -> None:
    _site(app, name='<script>alert("x")</script>')
    page = signed_in("admin").get("/workbench/sites").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_users_are_created_and_their_role_changed_with_htmx(
    signed_in: Callable[[str | None], Any], app: Any, users: dict[str, int]
) -> None:
    client = signed_in("admin")
    token = csrf_token(client, "/workbench/users")
    short = client.post(
        "/workbench/users", data={"csrf_token": token, "email": "new@example.com", "password": "short", "role": "sales"}
    )
    assert short.status_code == 422
    made = client.post(
        "/workbench/users",
        data={"csrf_token": token, "email": "New@Example.com", "password": "a long enough password", "role": "sales"},
    )
    assert made.status_code == 302
    with app.extensions["leadwheel"].db.read() as session:
        new = session.scalar(select(User).where(User.email == "new@example.com"))
        assert new is not None and new.role == "sales" and "a long enough password" not in new.password_hash
    row = client.post(
        f"/workbench/users/{new.id}/role",
        data={"role": "marketer"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert row.status_code == 200
    assert row.get_data(as_text=True).lstrip().startswith(f'<tr id="user-{new.id}">')
    assert '<option selected value="marketer">' in row.get_data(as_text=True)


def test_an_admin_cannot_lock_themselves_out(signed_in: Callable[[str | None], Any], users: dict[str, int]) -> None:
    client = signed_in("admin")
    token = csrf_token(client, "/workbench/users")
    assert client.post(f"/workbench/users/{users['admin']}/disable", data={"csrf_token": token}).status_code == 409
    assert client.get("/workbench/users").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/workbench/sign-in",
        "/workbench/",
        "/workbench/sites",
        "/workbench/sites/new",
        "/workbench/users",
        "/workbench/sites/999",
    ],
)
def test_security_headers_on_every_page(signed_in: Callable[[str | None], Any], path: str) -> None:
    response = signed_in("admin").get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in response.headers["Cache-Control"]
    page = response.get_data(as_text=True)
    assert "<style" not in page and " style=" not in page
    assert re.search(r"<script(?![^>]*\ssrc=)", page) is None, "an inline script"


def test_htmx_is_served_with_its_pinned_integrity(signed_in: Callable[[str | None], Any]) -> None:
    import base64
    import hashlib

    from capture.workbench.vendored import HTMX_INTEGRITY

    client = signed_in("viewer")
    page = client.get("/workbench/").get_data(as_text=True)
    src = re.search(r'<script src="([^"]+)" integrity="([^"]+)"', page)
    assert src is not None and src.group(2) == HTMX_INTEGRITY
    body = client.get(src.group(1)).data
    assert "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode() == HTMX_INTEGRITY
    script = (Path(__file__).resolve().parents[2] / "scripts" / "vendor-js").read_text()
    assert f'FILE_SHA384="{HTMX_INTEGRITY}"' in script


def test_danish_from_the_browser_and_from_the_user(signed_in: Callable[[str | None], Any], app: Any) -> None:
    anonymous = signed_in(None)
    page = anonymous.get("/workbench/sign-in", headers={"Accept-Language": "da,en;q=0.5"}).get_data(as_text=True)
    assert '<html lang="da">' in page and "Log ind" in page and "Adgangskode" in page
    client = signed_in("admin")
    assert "Sign out" in client.get("/workbench/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    token = csrf_token(client, "/workbench/")
    client.post("/workbench/locale", data={"csrf_token": token, "locale": "da", "next": "/workbench/"})
    home = client.get("/workbench/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Log ud" in home and "Brugere" in home


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    folder = TRANSLATIONS / "da" / "LC_MESSAGES"
    with open(folder / "messages.po", "rb") as po, open(folder / "messages.mo", "rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    expected = {m.id: m.string for m in source if m.id and m.string and not m.fuzzy}
    actual = {m.id: m.string for m in compiled if m.id}
    assert actual == expected, "run: pybabel compile -d capture/workbench/translations"


def test_every_marked_string_has_a_danish_translation() -> None:
    from babel.messages.extract import extract_from_dir

    root = TRANSLATIONS.parent
    method_map = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
    marked = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(root), method_map, keywords={"_": None, "gettext": None, "_l": None, "N_": None}
        )
    }
    with open(TRANSLATIONS / "da" / "LC_MESSAGES" / "messages.po", "rb") as po:
        translated = {m.id for m in read_po(po) if m.id and m.string}
    assert len(marked) > 40  # the extraction found the templates
    assert marked - translated == set()
