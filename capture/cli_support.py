"""What every ``leadwheel`` command needs: settings, the database, and errors as one clear line."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from capture.config import Config, ConfigError
from capture.db import Database
from capture.publishing import PublishingError

T = TypeVar("T")

#: PostgreSQL's SQLSTATEs for a table or column that is not there
_UNDEFINED = frozenset({"42P01", "42703"})
NO_SCHEMA = "The database at DATABASE_URL has no Leadwheel schema, or an older one: run `leadwheel db upgrade` first."


class LeadwheelGroup(click.Group):
    """The command group: a database without the schema (or behind it) is one line saying what to run."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            if schema_missing(exc):
                raise click.ClickException(NO_SCHEMA) from None
            raise


def schema_missing(exc: DBAPIError) -> bool:
    """Whether the statement failed on a table or column the migrations would have made."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _UNDEFINED:
        return True
    message = str(exc.orig)
    return message.startswith(("no such table", "no such column")) or "has no column named" in message


def config_or_exit(demo: bool = False) -> Config:
    try:
        return Config.from_env(demo=demo)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or Config().database_url


@contextmanager
def session_for(url: str) -> Iterator[Session]:
    """A write session; an operator's mistake (a PublishingError) becomes a one-line error."""
    db = Database(url)
    try:
        with db.write() as session:
            yield session
    except PublishingError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


def read_document(path: Path, parse: Callable[[str], T], invalid: type[ValueError], what: str) -> T:
    """Read and parse a YAML/JSON document file; every problem it has becomes one clear error.

    ``invalid`` is the parser's error type, which carries a ``problems`` list.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    try:
        return parse(text)
    except invalid as exc:
        lines = "\n".join(f"  - {problem}" for problem in getattr(exc, "problems", [str(exc)]))
        raise click.ClickException(f"{path} is not a valid {what}:\n{lines}") from None
