"""Workbench users and sign-in: passwords, roles, lockout after repeated failures.

Failures are counted per account and per client address within a window, on the
app's clock. An unknown e-mail is counted and answered exactly like a wrong
password, so the sign-in page does not tell which addresses have accounts.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from capture.db.models import SignInFailure, User
from capture.workbench.permissions import ROLES

#: failures per account within WINDOW before it is locked (until the oldest leaves the window)
ACCOUNT_LIMIT: Final = 5
#: failures per client address within WINDOW: a guesser spreading over many accounts
ADDRESS_LIMIT: Final = 20
WINDOW: Final = timedelta(minutes=15)
MIN_PASSWORD: Final = 12
#: a hash to check unknown accounts' passwords against, so they take as long as known ones
_DUMMY_HASH: Final = generate_password_hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """A request about users that cannot be carried out; the message says why."""


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"'{raw}' is not an e-mail address") from exc


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")


def check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"a role is one of {', '.join(ROLES)}, not '{role}'")


def create_user(session: Session, email: str, password: str, role: str, now: datetime) -> User:
    address = normalise_email(email)
    check_role(role)
    check_password(password)
    if session.scalar(select(User.id).where(User.email == address)) is not None:
        raise AccountError(f"a user with the e-mail {address} exists already")
    user = User(
        email=address,
        password_hash=generate_password_hash(password),
        role=role,
        locale=None,
        session_token=secrets.token_urlsafe(32),
        created_at=now,
        disabled_at=None,
    )
    session.add(user)
    session.flush()
    return user


def find_user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise AccountError(f"no user has the e-mail {email.strip()}")
    return user


def set_password(user: User, password: str) -> None:
    """A new password; every session the user had ends with the old one."""
    check_password(password)
    user.password_hash = generate_password_hash(password)
    user.session_token = secrets.token_urlsafe(32)


def set_role(user: User, role: str) -> None:
    check_role(role)
    user.role = role


def disable(user: User, now: datetime) -> None:
    """The user can no longer sign in, and is signed out everywhere."""
    if user.disabled_at is None:
        user.disabled_at = now
    user.session_token = secrets.token_urlsafe(32)


def enable(user: User) -> None:
    user.disabled_at = None


@dataclass(frozen=True)
class SignIn:
    #: the user signed in, or None when refused
    user: User | None
    #: refused because of too many failures (rather than a wrong e-mail or password)
    locked: bool = False


def sign_in(session: Session, email: str, password: str, address: str, now: datetime) -> SignIn:
    """Check a sign-in; a refusal is recorded against the account and the address."""
    account = "email:" + email.strip().lower()[:250]
    client = "address:" + address[:250]
    since = now - WINDOW
    if _failures(session, account, since) >= ACCOUNT_LIMIT or _failures(session, client, since) >= ADDRESS_LIMIT:
        return SignIn(user=None, locked=True)
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    valid = check_password_hash(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not valid or user.disabled_at is not None:
        session.add_all([SignInFailure(subject=account, failed_at=now), SignInFailure(subject=client, failed_at=now)])
        session.execute(delete(SignInFailure).where(SignInFailure.failed_at < since))  # keeps the table small
        return SignIn(user=None)
    session.execute(delete(SignInFailure).where(SignInFailure.subject == account))
    return SignIn(user=user)


def _failures(session: Session, subject: str, since: datetime) -> int:
    query = select(func.count()).where(SignInFailure.subject == subject, SignInFailure.failed_at >= since)
    return session.scalar(query) or 0
