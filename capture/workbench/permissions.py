"""Who may do what in the workbench: roles and permissions as data, one check.

A permission is a domain and an action (``sites``, ``manage``). Roles are sets of
permissions; nothing else in the workbench names a role, so a new role or a
changed grant is an edit here and nowhere else. Plain Python: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

#: every action of every domain; a permission not listed here is a typo, not a denial
ACTIONS: Final[dict[str, tuple[str, ...]]] = {
    "sequences": ("view", "edit", "publish"),
    "leads": ("view", "export"),
    "sites": ("view", "manage"),
    "users": ("manage",),
}

ALL: Final[frozenset[tuple[str, str]]] = frozenset((d, a) for d, actions in ACTIONS.items() for a in actions)

#: admin all; marketer sequences and leads (and reads sites, for their snippets); sales reads
#: leads (no export); viewer reads
GRANTS: Final[dict[str, frozenset[tuple[str, str]]]] = {
    "admin": ALL,
    "marketer": frozenset(
        {("sequences", a) for a in ACTIONS["sequences"]}
        | {("leads", a) for a in ACTIONS["leads"]}
        | {("sites", "view")}
    ),
    "sales": frozenset({("leads", "view")}),
    "viewer": frozenset({("sequences", "view"), ("leads", "view"), ("sites", "view")}),
}

ROLES: Final[tuple[str, ...]] = tuple(GRANTS)


class UnknownPermission(KeyError):
    """A check that names a domain or action that does not exist: a programming error."""


#: what an admin may grant one user beyond their role (a salesperson who exports for the CRM)
GRANTABLE: Final[frozenset[str]] = frozenset({"leads:export"})


def can(role: str | None, domain: str, action: str, grants: Iterable[str] = ()) -> bool:
    """Whether someone with ``role`` (None: not signed in) and ``grants`` may do ``action`` in ``domain``."""
    if (domain, action) not in ALL:
        raise UnknownPermission(f"{domain}:{action}")
    if role is None:
        return False
    return (domain, action) in GRANTS.get(role, frozenset()) or f"{domain}:{action}" in set(grants) & GRANTABLE
