"""``leadwheel user``: the first admin from the terminal, passwords never on the command line."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from capture.cli.main import main
from tests.workbench.conftest import sign_in


@pytest.fixture
def run(config: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", config.database_url)

    def invoke(*args: str, input: str | None = None) -> Any:
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_create_a_user_who_can_then_sign_in(run: Any, app: Any) -> None:
    made = run(
        "user", "create", "Boss@Example.com", "--role", "admin", "--password-stdin", input="a long enough password\n"
    )
    assert made.exit_code == 0, made.output
    assert "created boss@example.com (admin)" in made.output
    assert sign_in(app.test_client(), "boss@example.com", "a long enough password").status_code == 302
    listed = run("user", "list")
    assert "boss@example.com\tadmin\tactive" in listed.output


def test_the_password_is_asked_for_twice_when_not_on_stdin(run: Any) -> None:
    made = run(
        "user",
        "create",
        "m@example.com",
        "--role",
        "marketer",
        input="a long enough password\na long enough password\n",
    )
    assert made.exit_code == 0, made.output
    assert "a long enough password" not in made.output


def test_there_is_no_password_option(run: Any) -> None:
    result = CliRunner().invoke(main, ["user", "create", "x@example.com", "--role", "admin", "--password", "secret"])
    assert result.exit_code == 2


def test_mistakes_are_one_line(run: Any) -> None:
    assert (
        "at least 12 characters"
        in run("user", "create", "x@example.com", "--role", "admin", "--password-stdin", input="short\n").output
    )
    run("user", "create", "x@example.com", "--role", "admin", "--password-stdin", input="a long enough password\n")
    again = run(
        "user", "create", "X@example.com", "--role", "viewer", "--password-stdin", input="a long enough password\n"
    )
    assert again.exit_code == 1 and "exists already" in again.output
    assert "no user has the e-mail" in run("user", "disable", "nobody@example.com").output
    assert run("user", "create", "y@example.com", "--role", "owner", "--password-stdin", input="x\n").exit_code == 2


def test_disable_enable_reset_and_role(run: Any, app: Any) -> None:
    run("user", "create", "s@example.com", "--role", "sales", "--password-stdin", input="first long password\n")
    assert run("user", "disable", "s@example.com").exit_code == 0
    assert "s@example.com\tsales\tdisabled" in run("user", "list").output
    assert sign_in(app.test_client(), "s@example.com", "first long password").status_code == 401
    run("user", "enable", "s@example.com")
    assert (
        run("user", "reset-password", "s@example.com", "--password-stdin", input="second long password\n").exit_code
        == 0
    )
    assert sign_in(app.test_client(), "s@example.com", "first long password").status_code == 401
    assert sign_in(app.test_client(), "s@example.com", "second long password").status_code == 302
    assert run("user", "role", "s@example.com", "viewer").exit_code == 0
    assert "s@example.com\tviewer\tactive" in run("user", "list").output


def test_the_demo_admin_can_sign_in_and_keeps_its_password(config: Any, app: Any, tmp_path: Any) -> None:
    from capture.workbench.demo import ensure_demo_admin

    email, password = ensure_demo_admin(config.database_url, tmp_path)
    assert ensure_demo_admin(config.database_url, tmp_path) == (email, password)
    assert (tmp_path / "admin-password").stat().st_mode & 0o077 == 0
    assert sign_in(app.test_client(), email, password).status_code == 302
