"""``leadwheel user``: workbench users from the terminal (the first admin starts here).

Passwords are read from a prompt, or from standard input with ``--password-stdin``;
never from the command line, where they would land in shell history and ``ps``.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from capture.cli.support import database_url, session_for
from capture.workbench.accounts import AccountError, create_user, disable, enable, find_user, set_password, set_role
from capture.workbench.permissions import ROLES

_stdin_option = click.option(
    "--password-stdin", is_flag=True, help="Read the password from standard input (one line) instead of a prompt."
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


class _Accounts:
    """AccountError as the one-line error every command gives."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, AccountError):
            raise click.ClickException(str(exc)) from None


@click.group()
def user() -> None:
    """People who sign in to the workbench (/workbench)."""


@user.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@_stdin_option
def user_create(email: str, role: str, password_stdin: bool) -> None:
    """Create a user who can sign in at /workbench with EMAIL and the password given."""
    from capture.services import utc_now

    password = _password(password_stdin)
    with _Accounts(), session_for(database_url()) as session:
        created = create_user(session, email, password, role, utc_now())
        address = created.email
    click.echo(f"created {address} ({role})")


@user.command("list")
def user_list() -> None:
    """Users with their role and whether they are disabled."""
    from capture.db.models import User

    with session_for(database_url()) as session:
        for row in session.scalars(select(User).order_by(User.email)):
            click.echo(f"{row.email}\t{row.role}\t{'disabled' if row.disabled_at else 'active'}")


@user.command("disable")
@click.argument("email")
def user_disable(email: str) -> None:
    """Stop EMAIL signing in; every session of theirs ends now."""
    from capture.services import utc_now

    with _Accounts(), session_for(database_url()) as session:
        disable(find_user(session, email), utc_now())
    click.echo(f"disabled {email}")


@user.command("enable")
@click.argument("email")
def user_enable(email: str) -> None:
    """Let a disabled user sign in again."""
    with _Accounts(), session_for(database_url()) as session:
        enable(find_user(session, email))
    click.echo(f"enabled {email}")


@user.command("reset-password")
@click.argument("email")
@_stdin_option
def user_reset_password(email: str, password_stdin: bool) -> None:
    """Give EMAIL a new password; their sessions end."""
    password = _password(password_stdin)
    with _Accounts(), session_for(database_url()) as session:
        set_password(find_user(session, email), password)
    click.echo(f"new password set for {email}")


@user.command("role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def user_role(email: str, role: str) -> None:
    """Change EMAIL's role."""
    with _Accounts(), session_for(database_url()) as session:
        set_role(find_user(session, email), role)
    click.echo(f"{email} is now {role}")
