"""The demo's admin: made on the demo's first run, with a random password kept beside its database."""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select

from capture.db.engine import Database
from capture.db.models import User
from capture.services import utc_now
from capture.workbench.accounts import create_user, enable, set_password

DEMO_ADMIN = "admin@northwind.example"


def ensure_demo_admin(database_url: str, data: Path) -> tuple[str, str]:
    """(e-mail, password) of the demo's admin; the password file (mode 600) survives restarts."""
    password_file = data / "admin-password"
    if not password_file.exists():
        password_file.write_text(secrets.token_urlsafe(12), encoding="utf-8")
        password_file.chmod(0o600)
    password = password_file.read_text(encoding="utf-8").strip()
    db = Database(database_url)
    try:
        with db.write() as session:
            user = session.scalar(select(User).where(User.email == DEMO_ADMIN))
            if user is None:
                create_user(session, DEMO_ADMIN, password, "admin", utc_now())
            else:  # the file is the truth: a demo whose admin was changed by hand is set back
                set_password(user, password)
                user.role = "admin"
                enable(user)
    finally:
        db.dispose()
    return DEMO_ADMIN, password
