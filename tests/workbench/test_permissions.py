"""Roles as data: what each role may do, as the issue lists it."""

from __future__ import annotations

import pytest

from capture.workbench.permissions import ACTIONS, ROLES, UnknownPermission, can


def test_admin_may_do_everything() -> None:
    assert all(can("admin", domain, action) for domain, actions in ACTIONS.items() for action in actions)


@pytest.mark.parametrize(
    ("role", "domain", "action", "allowed"),
    [
        ("marketer", "sequences", "publish", True),
        ("marketer", "leads", "export", True),
        ("marketer", "sites", "view", True),
        ("marketer", "sites", "manage", False),
        ("marketer", "users", "manage", False),
        ("sales", "leads", "view", True),
        ("sales", "leads", "export", False),
        ("sales", "sequences", "view", False),
        ("sales", "sites", "view", False),
        ("viewer", "sequences", "view", True),
        ("viewer", "sequences", "edit", False),
        ("viewer", "leads", "export", False),
        ("viewer", "sites", "manage", False),
    ],
)
def test_grants(role: str, domain: str, action: str, allowed: bool) -> None:
    assert can(role, domain, action) is allowed


def test_no_role_and_unknown_role_may_do_nothing() -> None:
    assert not can(None, "sites", "view")
    assert not can("owner", "sites", "view")


def test_a_misspelt_permission_is_an_error_not_a_denial() -> None:
    with pytest.raises(UnknownPermission):
        can("admin", "site", "view")
    assert set(ROLES) == {"admin", "marketer", "sales", "viewer"}
