"""Sign-in: one answer for unknown and wrong, lockout on the clock, a new session, safe cookies, sign-out, CSRF."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any

from capture.workbench.accounts import ACCOUNT_LIMIT, ADDRESS_LIMIT, WINDOW
from tests.conftest import Clock
from tests.workbench.conftest import PASSWORD, csrf_token, email_of, sign_in


def _message(response: Any) -> str:
    page = response.get_data(as_text=True)
    return page[page.index('role="alert"') :].split("</p>")[0]


def test_unknown_user_and_wrong_password_get_the_same_answer(app: Any, users: dict[str, int]) -> None:
    wrong = sign_in(app.test_client(), email_of("admin"), "not the password at all")
    unknown = sign_in(app.test_client(), "nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert _message(wrong) == _message(unknown)
    assert "not right" in _message(wrong)


def test_a_good_sign_in_lands_on_the_workbench(app: Any, users: dict[str, int]) -> None:
    client = app.test_client()
    response = sign_in(client, "ADMIN@example.com ")
    assert response.status_code == 302 and response.headers["Location"] == "/workbench/"
    assert "admin@example.com" in client.get("/workbench/").get_data(as_text=True)


def test_next_only_leads_within_the_workbench(app: Any, users: dict[str, int]) -> None:
    client = app.test_client()
    token = csrf_token(client)
    data = {"csrf_token": token, "email": email_of("admin"), "password": PASSWORD}
    response = client.post("/workbench/sign-in?next=//evil.example/x", data=data)
    assert response.headers["Location"] == "/workbench/"


def test_an_account_is_locked_after_repeated_failures_until_the_window_passes(
    app: Any, users: dict[str, int], clock: Clock
) -> None:
    for _ in range(ACCOUNT_LIMIT):
        assert sign_in(app.test_client(), email_of("marketer"), "guess guess guess").status_code == 401
    locked = sign_in(app.test_client(), email_of("marketer"))  # even the right password
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in _message(locked)
    # other accounts are not locked by it
    assert sign_in(app.test_client(), email_of("sales")).status_code == 302
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert sign_in(app.test_client(), email_of("marketer")).status_code == 302


def test_an_unknown_account_locks_like_a_known_one(app: Any, users: dict[str, int]) -> None:
    for _ in range(ACCOUNT_LIMIT):
        sign_in(app.test_client(), "ghost@example.com", "guess guess guess")
    assert sign_in(app.test_client(), "ghost@example.com", "guess guess guess").status_code == 429


def test_an_address_guessing_across_accounts_is_locked(app: Any, users: dict[str, int], clock: Clock) -> None:
    for n in range(ADDRESS_LIMIT):
        sign_in(app.test_client(), f"someone{n}@example.com", "guess guess guess")
    assert sign_in(app.test_client(), email_of("admin")).status_code == 429
    other = app.test_client()
    token = csrf_token(other)
    response = other.post(
        "/workbench/sign-in",
        data={"csrf_token": token, "email": email_of("admin"), "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert response.status_code == 302
    clock.advance(seconds=WINDOW.total_seconds() + 1)
    assert sign_in(app.test_client(), email_of("admin")).status_code == 302


def _session_cookie(client: Any) -> str | None:
    cookie = client.get_cookie("leadwheel_session")
    return cookie.value if cookie is not None else None


def test_the_session_is_new_at_sign_in(app: Any, users: dict[str, int]) -> None:
    client = app.test_client()
    before_token = csrf_token(client)
    before = _session_cookie(client)
    sign_in(client, email_of("admin"))
    assert _session_cookie(client) != before
    # the form token of the anonymous session no longer works
    refused = client.post("/workbench/users", data={"csrf_token": before_token, "email": "x@example.com"})
    assert refused.status_code == 400


def test_session_cookie_flags(app: Any, users: dict[str, int]) -> None:
    client = app.test_client()
    client.get("/workbench/sign-in")
    token = csrf_token(client)
    response = client.post(
        "/workbench/sign-in", data={"csrf_token": token, "email": email_of("admin"), "password": PASSWORD}
    )
    header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("leadwheel_session="))
    morsel = SimpleCookie(header)["leadwheel_session"]
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"] == "Lax"


def test_secure_can_be_turned_off_for_the_plain_http_demo(config: Any, clock: Clock) -> None:
    from dataclasses import replace

    from capture.web.app import create_app

    app = create_app(replace(config, extra={"cookie_secure": False}), clock=clock)
    try:
        client = app.test_client()
        response = client.get("/workbench/sign-in")
        header = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("leadwheel_session="))
        assert "Secure" not in header and "HttpOnly" in header
    finally:
        app.extensions["leadwheel"].db.dispose()


def test_sign_out_ends_the_session(signed_in: Callable[[str | None], Any]) -> None:
    client = signed_in("admin")
    token = csrf_token(client, "/workbench/")
    assert client.post("/workbench/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/workbench/").headers["Location"].startswith("/workbench/sign-in")


def test_a_post_without_its_token_is_refused_with_a_readable_page(signed_in: Callable[[str | None], Any]) -> None:
    client = signed_in("admin")
    response = client.post("/workbench/sites/new", data={"name": "Evil", "origins": "https://evil.example"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "This form has expired" in response.get_data(as_text=True)
    assert "Evil" not in client.get("/workbench/sites").get_data(as_text=True)
    # sign-in and sign-out need it too
    anonymous = signed_in(None)
    assert (
        anonymous.post("/workbench/sign-in", data={"email": email_of("admin"), "password": PASSWORD}).status_code == 400
    )
    assert client.post("/workbench/sign-out").status_code == 400


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(
    app: Any, signed_in: Callable[[str | None], Any], users: dict[str, int]
) -> None:
    marketer = signed_in("marketer")
    assert marketer.get("/workbench/sites").status_code == 200
    admin = signed_in("admin")
    token = csrf_token(admin, "/workbench/users")
    assert admin.post(f"/workbench/users/{users['marketer']}/disable", data={"csrf_token": token}).status_code == 302
    assert marketer.get("/workbench/sites").status_code == 302
    assert sign_in(app.test_client(), email_of("marketer")).status_code == 401
