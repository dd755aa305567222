"""Workbench fixtures: one user per role, and a client signed in as any of them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from capture.workbench.accounts import create_user
from capture.workbench.permissions import ROLES

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def email_of(role: str) -> str:
    return f"{role}@example.com"


@pytest.fixture
def users(app: Any) -> dict[str, int]:
    """One active user per role, ``role@example.com`` with PASSWORD; their ids by role."""
    services = app.extensions["leadwheel"]
    ids = {}
    with services.db.write() as session:
        for role in ROLES:
            ids[role] = create_user(session, email_of(role), PASSWORD, role, services.clock()).id
    return ids


def csrf_token(client: Any, path: str = "/workbench/sign-in") -> str:
    page = client.get(path)
    found = TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: Any, email: str, password: str = PASSWORD, **headers: str) -> Any:
    token = csrf_token(client)
    return client.post(
        "/workbench/sign-in",
        data={"csrf_token": token, "email": email, "password": password},
        headers=headers,
    )


@pytest.fixture
def signed_in(app: Any, users: dict[str, int]) -> Callable[[str | None], Any]:
    """A fresh test client signed in with ``role`` (None: anonymous)."""

    def make(role: str | None) -> Any:
        client = app.test_client()
        if role is not None:
            response = sign_in(client, email_of(role))
            assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return make
